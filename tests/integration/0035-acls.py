#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Kafka 2.8's ACL authorizer (issue 20) on a real 2-broker cluster with a
SASL_PLAINTEXT listener (PLAIN users admin, alice, bob, carol) and real
clients (confluent-kafka, kafka-python), ACLs made with kacls:

- kacls --add/--list/--remove round trips (text and --json), and the
  znodes they leave read with a real ZooKeeper client (kazoo): literal
  ACLs in /kafka-acl/<Type>/<name>, prefixed ones in
  /kafka-acl-extended/prefixed/<Type>/<name>, with Kafka's JSON, and the
  change notifications /kafka-acl-changes/acl_changes_N ("TOPIC:name") and
  /kafka-acl-extended-changes/acl_changes_N (Kafka's JSON event);
- a per-API matrix, allowed and denied with Kafka's error codes: produce
  (Write), consume (Read on the group and the topic), admin create
  topics, delete topics, alter and describe configs, describe and list
  groups; Metadata lists only the topics the principal may describe;
- prefixed and wildcard ("*") patterns, User:*, DENY over ALLOW,
  super.users (admin is allowed everything without ACLs);
- KIP-430's authorized operations from the ACLs (Metadata v10,
  DescribeCluster, DescribeGroups v3);
- a change made through broker 1 is enforced by broker 2 within a
  second (its change-notification watcher);
- without Alter on the cluster, CreateAcls is refused with
  CLUSTER_AUTHORIZATION_FAILED;
- kcontroller (authorizer.class.name=acl, no super users) refuses its
  listener's requests without an ACL on the cluster, and serves them once
  kacls adds one (its own change watch).

The controller and the replica fetchers use the plaintext INTERNAL
listener, whose principal is User:ANONYMOUS, which super.users names (as
a Kafka cluster with a plaintext inter-broker listener must); the tools
use the plaintext CLIENT listener likewise.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402

MAP = "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT"
USERS = {"admin": "admin-secret", "alice": "alice-pw", "bob": "bob-pw",
         "carol": "carol-pw"}
JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'username="admin" password="admin-secret" ' +
        " ".join('user_%s="%s"' % kv for kv in USERS.items()) + ";")

TOPIC_AUTHZ = 29
GROUP_AUTHZ = 30
CLUSTER_AUTHZ = 31


def sasl(c, user, boot=None):
    return {"bootstrap.servers": boot or c.bootstraps["SASL_PLAINTEXT"],
            "security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "PLAIN",
            "sasl.username": user, "sasl.password": USERS[user]}


def all_acls(boot):
    r = tool("kacls", "--list", "--json", bootstrap=boot)
    return sorted(json.dumps(b, sort_keys=True) for b in json.loads(r.stdout))


def kacls(c, *args, rc=0, boot=None, sync=True):
    """kacls; after an --add or --remove, wait until every broker's cache
    (DescribeAcls answers from it) holds the same ACLs, as a client that
    may meet any broker must (each broker applies a change when its watch
    fires, as Kafka's do)."""
    r = tool("kacls", *args, rc=rc, bootstrap=boot or c.bootstrap)
    if sync and rc == 0 and ("--add" in args or "--remove" in args):
        brokers = c.bootstrap.split(",")
        wait_for(lambda: len({tuple(all_acls(b)) for b in brokers}) == 1, 30,
                 "every broker's ACLs")
    return r


def produce(c, user, topic, n=5):
    """Produce n records as user: None, or the first delivery error code."""
    from confluent_kafka import Producer

    errs = []
    p = Producer(dict(sasl(c, user), **{"message.timeout.ms": 20000,
                                        "acks": "all"}))
    for i in range(n):
        p.produce(topic, value=b"v%d" % i,
                  on_delivery=lambda e, m: errs.append(e) if e else None)
    p.flush(60)
    return errs[0].code() if errs else None


def consume(c, user, topic, group, n=5, timeout=40):
    """Consume as user in group: ("ok", count) or ("error", code)."""
    from confluent_kafka import Consumer

    cons = Consumer(dict(sasl(c, user), **{"group.id": group,
                                           "auto.offset.reset": "earliest",
                                           "enable.auto.commit": False}))
    cons.subscribe([topic])
    got, deadline = 0, time.monotonic() + timeout
    try:
        while got < n and time.monotonic() < deadline:
            m = cons.poll(1.0)
            if m is None:
                continue
            if m.error() is not None:
                if m.error().code() in (TOPIC_AUTHZ, GROUP_AUTHZ):
                    return ("error", m.error().code())
                print("consume %s/%s/%s: %s" % (user, topic, group, m.error()))
                continue
            got += 1
        if got >= n:
            cons.commit(asynchronous=False)
        return ("ok", got)
    except Exception as e:  # commit refused
        return ("error", e.args[0].code())
    finally:
        cons.close()


def admin_error(fut):
    """A future's Kafka error code, or None when it succeeded."""
    try:
        fut.result(60)
        return None
    except Exception as e:
        return e.args[0].code()


def check_kacls_and_znodes(c, zk):
    r = kacls(c, "--add", "--allow-principal", "User:alice", "--producer",
              "--topic", "orders")
    assert "Added 3 ACLs" in r.stdout, r.stdout
    data, _ = zk.get("/kafka-acl/Topic/orders")
    doc = json.loads(data)
    assert doc["version"] == 1 and list(doc) == ["version", "acls"], doc
    assert sorted(a["operation"] for a in doc["acls"]) == ["Create", "Describe", "Write"]
    for a in doc["acls"]:
        assert list(a) == ["principal", "permissionType", "operation", "host"], a
        assert a["principal"] == "User:alice" and a["host"] == "*"
        assert a["permissionType"] == "Allow"
    # byte for byte as Kafka's Json.encodeAsBytes writes it: compact
    assert data.decode().startswith('{"version":1,"acls":[{"principal":"User:alice",'
                                    '"permissionType":"Allow","operation":'), data
    changes = zk.get_children("/kafka-acl-changes")
    assert changes and all(n.startswith("acl_changes_") for n in changes), changes
    assert any(zk.get("/kafka-acl-changes/" + n)[0] == b"TOPIC:orders"
               for n in changes), changes

    kacls(c, "--add", "--allow-principal", "User:alice", "--operation", "Write",
          "--topic", "pay-", "--resource-pattern-type", "prefixed")
    data, _ = zk.get("/kafka-acl-extended/prefixed/Topic/pay-")
    assert json.loads(data)["acls"] == [{"principal": "User:alice",
                                         "permissionType": "Allow",
                                         "operation": "Write", "host": "*"}]
    ext = zk.get_children("/kafka-acl-extended-changes")
    events = [json.loads(zk.get("/kafka-acl-extended-changes/" + n)[0]) for n in ext]
    assert {"version": 1, "resourceType": "TOPIC", "name": "pay-",
            "patternType": "PREFIXED"} in events, events

    # --list: Kafka's text and our JSON; match finds the prefix too
    r = kacls(c, "--list", "--topic", "orders")
    assert "Current ACLs for resource `ResourcePattern(resourceType=TOPIC, " \
           "name=orders, patternType=LITERAL)`:" in r.stdout, r.stdout
    assert "(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)" \
        in r.stdout, r.stdout
    r = kacls(c, "--list", "--topic", "pay-in", "--resource-pattern-type", "match",
              "--json")
    got = json.loads(r.stdout)
    assert got == [{"resourceType": "Topic", "name": "pay-", "patternType": "Prefixed",
                    "principal": "User:alice", "host": "*", "operation": "Write",
                    "permissionType": "Allow"}], got

    # add and remove round trip
    kacls(c, "--add", "--allow-principal", "User:carol", "--operation", "Read",
          "--group", "tmp")
    assert zk.exists("/kafka-acl/Group/tmp")
    r = kacls(c, "--remove", "--allow-principal", "User:carol", "--operation",
              "Read", "--group", "tmp", "--force")
    assert "Removed 1 ACL" in r.stdout, r.stdout
    assert zk.exists("/kafka-acl/Group/tmp") is None
    assert json.loads(kacls(c, "--list", "--group", "tmp", "--json").stdout) == []
    # without --force, "n" removes nothing
    kacls(c, "--add", "--allow-principal", "User:carol", "--operation", "Read",
          "--group", "tmp2")
    r = tool("kacls", "--remove", "--group", "tmp2", bootstrap=c.bootstrap, rc=1,
             input="n\n")
    assert zk.exists("/kafka-acl/Group/tmp2"), r.stderr
    # a usage error
    kacls(c, "--add", "--topic", "x", rc=2)


def check_produce(c, zk):
    # alice may write "orders" (literal) and any "pay-*" (prefixed)
    assert produce(c, "alice", "orders") is None
    assert produce(c, "alice", "pay-in") is None
    # bob has no ACL on them: denied, with Kafka's code
    assert produce(c, "bob", "orders") == TOPIC_AUTHZ
    # nor alice on another topic (ACLs exist elsewhere, none here)
    assert produce(c, "alice", "other") == TOPIC_AUTHZ
    # super.users: admin needs none
    assert produce(c, "admin", "other") is None
    # kafka-python: the same refusal from Produce itself (with Describe,
    # so the topic is in its all-topics Metadata; without it the topic is
    # simply not there, as with Kafka, and the client waits)
    kacls(c, "--add", "--allow-principal", "User:bob", "--operation", "Describe",
          "--topic", "other")
    from kafka import KafkaProducer
    from kafka.errors import TopicAuthorizationFailedError
    p = KafkaProducer(bootstrap_servers=c.bootstraps["SASL_PLAINTEXT"].split(","),
                      security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                      sasl_plain_username="bob", sasl_plain_password="bob-pw",
                      max_block_ms=20000)
    try:
        p.send("other", b"x").get(30)
        raise AssertionError("bob produced to other")
    except TopicAuthorizationFailedError:
        pass
    finally:
        p.close()


def check_consume(c, zk):
    # bob: Read on the topic but not on the group
    kacls(c, "--add", "--allow-principal", "User:bob", "--operation", "Read",
          "--topic", "orders")
    got = consume(c, "bob", "orders", "billing")
    assert got == ("error", GROUP_AUTHZ), got
    # Read on the group too: consumes and commits
    kacls(c, "--add", "--allow-principal", "User:bob", "--operation", "Read",
          "--group", "billing")
    got = consume(c, "bob", "orders", "billing")
    assert got == ("ok", 5), got
    # carol: the group but not the topic
    kacls(c, "--add", "--allow-principal", "User:carol", "--consumer", "--topic",
          "pay-in", "--group", "cgroup")
    got = consume(c, "carol", "orders", "cgroup")
    assert got == ("error", TOPIC_AUTHZ), got
    got = consume(c, "carol", "pay-in", "cgroup")
    assert got == ("ok", 5), got
    # kafka-python: a group it may not read
    from kafka import KafkaConsumer
    from kafka.errors import GroupAuthorizationFailedError
    kc = KafkaConsumer("orders", group_id="elsewhere",
                       bootstrap_servers=c.bootstraps["SASL_PLAINTEXT"].split(","),
                       security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                       sasl_plain_username="bob", sasl_plain_password="bob-pw",
                       auto_offset_reset="earliest", consumer_timeout_ms=20000)
    try:
        for _ in kc:
            raise AssertionError("bob read in group elsewhere")
        raise AssertionError("no group authorization error")
    except GroupAuthorizationFailedError:
        pass
    finally:
        kc.close()
    # groups: bob may describe billing (Read implies Describe), not cgroup
    from confluent_kafka.admin import AdminClient
    a = AdminClient(sasl(c, "bob"))
    fs = a.describe_consumer_groups(["billing", "cgroup"]) \
        if hasattr(a, "describe_consumer_groups") else None
    if fs is not None:
        assert admin_error(fs["billing"]) is None
        assert admin_error(fs["cgroup"]) == GROUP_AUTHZ
    listed = a.list_groups(timeout=30) if hasattr(a, "list_groups") else None
    if listed is not None:
        names = {g.id for g in listed}
        assert "billing" in names and "cgroup" not in names, names


def check_admin(c, zk):
    from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

    a = AdminClient(sasl(c, "alice"))
    # Create on "orders" only (--producer): a new topic elsewhere is refused
    f = a.create_topics([NewTopic("alice-new", 1, 1)])
    assert admin_error(f["alice-new"]) == TOPIC_AUTHZ
    kacls(c, "--add", "--allow-principal", "User:alice", "--operation", "Create",
          "--operation", "Delete", "--operation", "AlterConfigs", "--topic", "alice-",
          "--resource-pattern-type", "prefixed")
    f = a.create_topics([NewTopic("alice-new", 1, 1)])
    assert admin_error(f["alice-new"]) is None
    # configs: AlterConfigs implies DescribeConfigs
    res = ConfigResource("topic", "alice-new", set_config={"retention.ms": "3600000"})
    assert admin_error(a.alter_configs([res])[res]) is None
    res = ConfigResource("topic", "alice-new")
    assert admin_error(a.describe_configs([res])[res]) is None
    res = ConfigResource("topic", "orders", set_config={"retention.ms": "3600000"})
    assert admin_error(a.alter_configs([res])[res]) == TOPIC_AUTHZ
    res = ConfigResource("topic", "orders")
    assert admin_error(a.describe_configs([res])[res]) == TOPIC_AUTHZ
    res = ConfigResource("broker", "1")
    assert admin_error(a.describe_configs([res])[res]) == CLUSTER_AUTHZ
    # delete: not "orders", yes "alice-new"
    assert admin_error(a.delete_topics(["orders"])["orders"]) == TOPIC_AUTHZ
    assert admin_error(a.delete_topics(["alice-new"])["alice-new"]) is None
    # kafka-python's admin: CreateTopics refused for bob
    from kafka.admin import KafkaAdminClient, NewTopic as KNewTopic
    ka = KafkaAdminClient(bootstrap_servers=c.bootstraps["SASL_PLAINTEXT"].split(","),
                          security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                          sasl_plain_username="bob", sasl_plain_password="bob-pw")
    try:
        r = ka.create_topics([KNewTopic("bob-new", 1, 1)], validate_only=True)
        codes = [t[1] for t in r.topic_errors]
        assert codes == [TOPIC_AUTHZ], r
    except Exception as e:  # newer kafka-python raises instead
        assert "TopicAuthorizationFailed" in type(e).__name__, e
    finally:
        ka.close()
    # CreateAcls (kafka-python's admin) without Alter on the cluster
    from kafka.admin import (ACL, ACLOperation, ACLPermissionType, ResourcePattern,
                             ResourceType)
    from kafka.errors import ClusterAuthorizationFailedError

    def create_acl_as(user):
        k = KafkaAdminClient(bootstrap_servers=c.bootstraps["SASL_PLAINTEXT"].split(","),
                             security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN",
                             sasl_plain_username=user, sasl_plain_password=USERS[user])
        try:
            acl = ACL("User:alice", "*", ACLOperation.READ, ACLPermissionType.ALLOW,
                      ResourcePattern(ResourceType.TOPIC, "x"))
            return k.create_acls([acl])
        finally:
            k.close()
    r = create_acl_as("alice")
    assert not r["succeeded"] and r["failed"][0][1] is ClusterAuthorizationFailedError, r
    assert zk.exists("/kafka-acl/Topic/x") is None
    # admin (a super user) may
    r = create_acl_as("admin")
    assert r["succeeded"] and not r["failed"], r
    assert zk.exists("/kafka-acl/Topic/x")


def check_metadata(c, zk):
    from confluent_kafka.admin import AdminClient

    for t in ("orders", "pay-in", "hidden", "open"):
        tool("ktopics", "--create", "--if-not-exists", "--topic", t, "--partitions", "1",
             "--replication-factor", "2", bootstrap=c.bootstrap)
    seen = set(AdminClient(sasl(c, "carol")).list_topics(timeout=30).topics)
    # carol: --consumer on pay-in only
    assert "pay-in" in seen and "orders" not in seen and "hidden" not in seen, seen
    seen = set(AdminClient(sasl(c, "admin")).list_topics(timeout=30).topics)
    assert {"orders", "pay-in", "hidden"} <= seen, seen
    # a topic named explicitly and not describable: TOPIC_AUTHORIZATION_FAILED
    md = AdminClient(sasl(c, "carol")).list_topics("hidden", timeout=30)
    assert md.topics["hidden"].error.code() == TOPIC_AUTHZ, md.topics
    # wildcard: Describe on every topic for User:* shows them all to carol
    kacls(c, "--add", "--allow-principal", "User:*", "--operation", "Describe",
          "--topic", "*")
    wait_for(lambda: "hidden" in AdminClient(sasl(c, "carol")).list_topics(
        timeout=30).topics, 30, "the wildcard ACL")
    # DENY over ALLOW: deny carol Describe on "hidden"
    kacls(c, "--add", "--deny-principal", "User:carol", "--operation", "Describe",
          "--topic", "hidden")
    wait_for(lambda: "hidden" not in AdminClient(sasl(c, "carol")).list_topics(
        timeout=30).topics, 30, "the DENY")
    assert "open" in AdminClient(sasl(c, "carol")).list_topics(timeout=30).topics


def sasl_wire(c, user, host=None, port=None):
    """A kwire connection to a SASL listener (broker 1's unless named),
    authenticated as user with PLAIN (SaslHandshake v1, SaslAuthenticate
    v1)."""
    import kwire

    if host is None:
        host, _, port = c.bootstraps["SASL_PLAINTEXT"].split(",")[0].rpartition(":")
    w = kwire.Wire(int(port), host=host)
    r = w.call(17, 1, {"mechanism": "PLAIN"})
    assert r["error_code"] == 0, r
    tok = b"\0" + user.encode() + b"\0" + USERS[user].encode()
    r = w.call(36, 1, {"auth_bytes": tok})
    assert r["error_code"] == 0, r
    return w


def check_authorized_operations(c, zk):
    """KIP-430: the operations the principal is allowed, as bits of the
    AclOperation codes (READ 3, WRITE 4, CREATE 5, DELETE 6, ALTER 7,
    DESCRIBE 8, CLUSTER_ACTION 9, DESCRIBE_CONFIGS 10, ALTER_CONFIGS 11,
    IDEMPOTENT_WRITE 12), from the ACLs: Metadata v10 (cluster and
    topics), DescribeCluster, DescribeGroups v3, on the wire (neither
    confluent-kafka 1.7 nor kafka-python 2.0.2 can ask: the latter decodes
    DescribeGroups v3 answers with the v2 schema and drops the field).
    carol has Read on pay-in and the group cgroup, Describe on every topic
    ("*") but hidden (denied), nothing on the cluster."""
    tool("ktopics", "--create", "--if-not-exists", "--topic", "ops-t", "--partitions", "1",
         "--replication-factor", "2", bootstrap=c.bootstrap)
    bit = {"read": 1 << 3, "write": 1 << 4, "describe": 1 << 8}
    cluster_all = 0x1fa0    # CREATE ALTER DESCRIBE CLUSTER_ACTION ..CONFIGS IDEMPOTENT_WRITE
    topic_all = 0xdf8

    def metadata(user):
        with sasl_wire(c, user) as w:
            r = w.call(3, 10, {"topics": [{"name": t} for t in ("pay-in", "ops-t", "hidden")],
                               "allow_auto_topic_creation": False,
                               "include_cluster_authorized_operations": True,
                               "include_topic_authorized_operations": True})
            d = w.call(60, 0, {"include_cluster_authorized_operations": True})
        ops = {t["name"]: (t["error_code"], t["topic_authorized_operations"])
               for t in r["topics"]}
        return r["cluster_authorized_operations"], ops, d["cluster_authorized_operations"]

    cl, ops, dc = metadata("carol")
    # no Describe on the cluster: 0 (Kafka 2.8), not the operations
    assert cl == 0 and dc == 0, (cl, dc)
    assert ops["pay-in"] == (0, bit["read"] | bit["describe"]), ops
    assert ops["ops-t"] == (0, bit["describe"]), ops
    assert ops["hidden"] == (TOPIC_AUTHZ, -2**31), ops
    cl, ops, dc = metadata("admin")     # a super user: everything
    assert cl == cluster_all and dc == cluster_all, (cl, dc)
    assert ops["ops-t"] == (0, topic_all) and ops["hidden"] == (0, topic_all), ops

    kacls(c, "--add", "--allow-principal", "User:carol", "--operation", "Describe",
          "--cluster")
    kacls(c, "--add", "--allow-principal", "User:carol", "--operation", "Write",
          "--topic", "ops-t")
    want = (bit["describe"], (0, bit["write"] | bit["describe"]))
    wait_for(lambda: (lambda m: (m[0], m[1]["ops-t"]))(metadata("carol")) == want, 30,
             "carol's new operations")
    assert metadata("carol")[2] == bit["describe"]

    def describe_group(user, group, ops):
        with sasl_wire(c, user) as w:
            f = w.call(10, 1, {"key": group, "key_type": 0})
        assert f["error_code"] == 0, f
        with sasl_wire(c, user, f["host"], f["port"]) as w:
            r = w.call(15, 3, {"groups": [group], "include_authorized_operations": ops})
        g = r["groups"][0]
        return g["error_code"], g["authorized_operations"]

    assert describe_group("carol", "cgroup", True) == (0, bit["read"] | bit["describe"])
    assert describe_group("carol", "cgroup", False) == (0, -2**31)
    assert describe_group("admin", "cgroup", True) == (0, bit["read"] | bit["describe"] |
                                                       1 << 6)
    # check_controller expects the cluster's ACLs to be its own
    kacls(c, "--remove", "--allow-principal", "User:carol", "--operation", "Describe",
          "--cluster", "--force")


def check_propagation(c, zk):
    """An ACL added through broker 1 is enforced by broker 2 within a
    second: DescribeAcls on broker 2 answers from its cache, which only its
    change-notification watcher fills."""
    import kwire

    b1, b2 = c.bootstrap.split(",")[:2]
    filt = {"resource_type_filter": 2, "resource_name_filter": "fresh",
            "pattern_type_filter": 3, "principal_filter": None, "host_filter": None,
            "operation": 1, "permission_type": 1}

    def until_seen(boot, want, since):
        """Poll a broker's DescribeAcls on one connection (each poll a
        round trip, not a process) until it has want entries."""
        host, _, port = boot.rpartition(":")
        with kwire.Wire(int(port), host=host) as w:
            while True:
                r = w.call(29, 1, filt)
                assert r["error_code"] == 0, r
                if sum(len(x["acls"]) for x in r["resources"]) == want:
                    return time.monotonic() - since
                assert time.monotonic() - since < 10, "never reached %s" % boot
                time.sleep(0.005)

    kacls(c, "--add", "--allow-principal", "User:bob", "--operation", "Write",
          "--topic", "fresh", boot=b1, sync=False)
    took = until_seen(b2, 1, time.monotonic())
    print("propagation to broker 2: %.3fs after kacls returned" % took)
    assert took < 1.0, took
    # and enforced there: bob may write "fresh" through broker 2 only
    tool("ktopics", "--create", "--if-not-exists", "--topic", "fresh", "--partitions",
         "1", "--replication-factor", "2", bootstrap=c.bootstrap)
    assert produce(c, "bob", "fresh") is None
    # removed through broker 2, refused through broker 1 within a second
    kacls(c, "--remove", "--allow-principal", "User:bob", "--operation", "Write",
          "--topic", "fresh", "--force", boot=b2, sync=False)
    took = until_seen(b1, 0, time.monotonic())
    print("removal seen by broker 1: %.3fs after kacls returned" % took)
    assert took < 1.0, took
    assert produce(c, "bob", "fresh") == TOPIC_AUTHZ


def check_controller(c, zk):
    """kcontroller authorizes its listener with the same ACLs: without an
    ACL on the cluster, ListPartitionReassignments (Describe) and
    AlterPartitionReassignments (Alter) are CLUSTER_AUTHORIZATION_FAILED
    for the plaintext listener's User:ANONYMOUS; an ACL added with kacls
    reaches the controller through its own change watch."""
    import kwire

    ctl = json.loads(zk.get("/controller")[0])
    host, _, port = ctl["endpoints"][0].rpartition("//")[2].rpartition(":")
    host = host or "127.0.0.1"

    def list_err():
        with kwire.Wire(int(port), host=host) as w:
            return w.call(46, 0, {"timeout_ms": 1000, "topics": None})["error_code"]
    assert list_err() == CLUSTER_AUTHZ
    kacls(c, "--add", "--allow-principal", "User:ANONYMOUS", "--allow-host",
          "127.0.0.1", "--operation", "Describe", "--operation", "ClusterAction",
          "--cluster")
    t0 = time.monotonic()
    wait_for(lambda: list_err() == 0, 30, "the controller applying the ACL")
    print("controller applied the ACL %.3fs after the brokers" % (time.monotonic() - t0))
    with kwire.Wire(int(port), host=host) as w:
        r = w.call(45, 0, {"timeout_ms": 1000, "topics": []})
        assert r["error_code"] == CLUSTER_AUTHZ, r
    # another host is not 127.0.0.1: the ACL names the host
    r = kacls(c, "--list", "--cluster", "--json")
    assert {b["host"] for b in json.loads(r.stdout)} == {"127.0.0.1"}, r.stdout


def main():
    with tempfile.TemporaryDirectory() as work:
        bset = {"listener.security.protocol.map": MAP,
                "inter.broker.listener.name": "INTERNAL",
                "sasl.enabled.mechanisms": "PLAIN",
                "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
                "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
                "super.users": "User:admin;User:ANONYMOUS",
                "auto.create.topics.enable": "false"}
        with Cluster(work, brokers=2, controllers=1,
                     listeners=["CLIENT", "INTERNAL", "SASL_PLAINTEXT"], broker_set=bset,
                     controller_set={"inter.broker.listener.name": "INTERNAL",
                                     "authorizer.class.name": "acl"}) as c:
            for t in ("orders", "pay-in", "other"):
                tool("ktopics", "--create", "--topic", t, "--partitions", "2",
                     "--replication-factor", "2", bootstrap=c.bootstrap)
            zk = c.zk()
            run_steps((check_kacls_and_znodes, check_produce, check_consume,
                       check_admin, check_metadata, check_authorized_operations,
                       check_propagation,
                       check_controller), c, zk)


if __name__ == "__main__":
    main()
