#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Every Kafka 2.8 API key answered, at Kafka 2.8's versions, on a 2-broker
kcluster.

- ApiVersions lists what a ZooKeeper-mode Kafka 2.8 broker lists, at its
  ranges, minus the features not built yet;
- on ONE plain connection, every API key Kafka 2.8 has, at every version
  the broker serves, gets an answer that decodes exactly (tests/lib/kwire.py,
  a Python codec of its own) with Kafka's error where the feature is off
  (SECURITY_DISABLED for the ACL APIs, ILLEGAL_SASL_STATE, ...) or not
  built (UNSUPPORTED_VERSION); after that DescribeAcls then DeleteTopics on
  the same connection still work (Sarama's admin client failed DeleteTopic
  after a ListAcls closed its connection); an unknown key or version
  closes the connection, as Kafka;
- CreateTopics v7 returns the topic id and configuration, Metadata v10
  shows that id, DeleteTopics v6 deletes by id; the controller gives a
  topic znode without an id one, brokers keep it in partition.metadata;
- groups: confluent-kafka's list_groups and kafka-python's admin show
  Kafka's states ("Empty", "Stable") and, DescribeGroups v3, the group's
  authorized operations; librdkafka's ListConsumerGroups (ListGroups v4
  with a state filter), DescribeConsumerGroups and ListConsumerGroupOffsets
  of a whole group (OffsetFetch v7, whose empty topic list librdkafka
  encodes as null); a librdkafka consumer at its highest versions
  (OffsetFetch v7) resumes at its committed offsets;
- JoinGroup v7 / SyncGroup v5 on a plain socket: protocol type and name in
  the answers, SyncGroup refused without them or with another protocol.
"""

import logging
import os
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import wait_for, zk_client  # noqa: E402
import kwire  # noqa: E402
import rdkafka_admin  # noqa: E402

from confluent_kafka import Consumer, Producer  # noqa: E402
from confluent_kafka.admin import AdminClient  # noqa: E402

NONE, UNSUPPORTED_VERSION, ILLEGAL_SASL_STATE = 0, 35, 34
LOG_DIR_NOT_FOUND = 57
NOT_CONTROLLER, INVALID_REQUEST, SECURITY_DISABLED = 41, 42, 54
TOKEN_NOT_ALLOWED, UNKNOWN_TOPIC_ID = 64, 100

# A ZooKeeper-mode Kafka 2.8 broker's ApiVersions (key: min, max).
KAFKA28 = {0: (0, 9), 1: (0, 12), 2: (0, 6), 3: (0, 11), 4: (0, 5), 5: (0, 3),
           6: (0, 7), 7: (0, 3), 8: (0, 8), 9: (0, 7), 10: (0, 3), 11: (0, 7),
           12: (0, 4), 13: (0, 4), 14: (0, 5), 15: (0, 5), 16: (0, 4), 17: (0, 1),
           18: (0, 3), 19: (0, 7), 20: (0, 6), 21: (0, 2), 22: (0, 4), 23: (0, 4),
           24: (0, 3), 25: (0, 3), 26: (0, 3), 27: (0, 1), 28: (0, 3), 29: (0, 2),
           30: (0, 2), 31: (0, 2), 32: (0, 4), 33: (0, 2), 34: (0, 2), 35: (0, 2),
           36: (0, 2), 37: (0, 3), 38: (0, 2), 39: (0, 2), 40: (0, 2), 41: (0, 2),
           42: (0, 2), 43: (0, 2), 44: (0, 1), 45: (0, 0), 46: (0, 0), 47: (0, 0),
           48: (0, 1), 49: (0, 1), 50: (0, 0), 51: (0, 0), 56: (0, 0), 57: (0, 0),
           60: (0, 0), 61: (0, 0)}
# not advertised until built: DescribeProducers (InitProducerId is served for idempotent producers, a
# null transactional id here; the SCRAM credential APIs 50 and 51 are
# served: deleting user u's credential answers RESOURCE_NOT_FOUND; the
# client quota APIs 48 and 49 are served, 49 with validate_only here;
# DeleteRecords, DescribeLogDirs, the transaction coordinator's APIs and
# WriteTxnMarkers and TxnOffsetCommit are served; AlterReplicaLogDirs is
# served: "/nowhere" is no log dir of the broker)
NOT_BUILT = {61}
KRAFT_ONLY = {52, 53, 54, 55, 58, 59, 62, 63, 64}

# The error every error slot of the answer holds.
REFUSED = {7: NOT_CONTROLLER, 17: ILLEGAL_SASL_STATE, 36: ILLEGAL_SASL_STATE,
           29: SECURITY_DISABLED, 30: SECURITY_DISABLED, 31: SECURITY_DISABLED,
           38: TOKEN_NOT_ALLOWED, 39: TOKEN_NOT_ALLOWED, 40: TOKEN_NOT_ALLOWED,
           41: TOKEN_NOT_ALLOWED, 56: NOT_CONTROLLER, 57: INVALID_REQUEST,
           34: LOG_DIR_NOT_FOUND}
REFUSED.update({k: UNSUPPORTED_VERSION for k in NOT_BUILT | KRAFT_ONLY})

ONE_TOPIC = [{"name": "nowhere", "partitions": [0]}]
# a consumer protocol subscription v0: no topics, null user data
SUBSCRIPTION = struct.pack(">hii", 0, 0, -1)


def harmless(key):
    """A request of key that changes nothing in the cluster (empty lists,
    fenced controller epoch 0, an empty group id), or one item where the
    answer has per-item errors to check."""
    return {
        0: {"acks": 1, "timeout_ms": 1000},
        1: {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0},
        2: {"replica_id": -1},
        3: {"allow_auto_topic_creation": False},
        7: {"broker_id": 99},
        8: {"group_id": "kwire-none"},
        9: {"group_id": "kwire-none"},
        10: {"key": "kwire-none"},
        11: {"group_id": "", "session_timeout_ms": 10000, "protocol_type": "consumer"},
        17: {"mechanism": "PLAIN"},
        18: {"client_software_name": "kwire", "client_software_version": "1.0"},
        21: {"topics": [{"name": "nowhere",
                         "partitions": [{"partition_index": 0, "offset": 0}]}]},
        22: {"transactional_id": None},
        24: {"transactional_id": "t", "topics": ONE_TOPIC},
        25: {"transactional_id": "t", "group_id": "g"},
        26: {"transactional_id": "t"},
        27: {"markers": [{"producer_id": 1, "topics": [{"name": "nowhere",
                                                         "partition_indexes": [0]}]}]},
        28: {"transactional_id": "t", "group_id": "g", "topics": [
            {"name": "nowhere", "partitions": [{"partition_index": 0}]}]},
        30: {"creations": [{"resource_type": 2, "resource_name": "x", "principal": "User:a",
                            "host": "*", "operation": 3, "permission_type": 3}]},
        31: {"filters": [{"resource_type_filter": 1}]},
        34: {"dirs": [{"path": "/nowhere", "topics": ONE_TOPIC}]},
        35: {"topics": None},
        39: {"hmac": b"x"}, 40: {"hmac": b"x"},
        43: {"topic_partitions": []},
        47: {"group_id": "kwire-none"},
        49: {"entries": [{"entity": [{"entity_type": "user", "entity_name": "u"}],
                          "ops": [{"key": "producer_byte_rate", "value": 1.0}]}],
             "validate_only": True},
        51: {"deletions": [{"name": "u", "mechanism": 1}]},
        61: {"topics": [{"name": "nowhere", "partition_indexes": [0]}]},
    }.get(key, {})


def check_api_versions(port):
    w = kwire.Wire(port)
    r = w.call(18, 3, harmless(18))
    assert r["error_code"] == NONE, r
    got = {a["api_key"]: (a["min_version"], a["max_version"]) for a in r["api_keys"]}
    want = {k: v for k, v in KAFKA28.items() if k not in NOT_BUILT}
    assert got == want, (sorted(set(got.items()) ^ set(want.items())))
    w.close()
    return got


def every_key_on_one_connection(port, advertised, victim):
    w = kwire.Wire(port)
    answered = 0
    for key in sorted(kwire.SCHEMAS):
        api = kwire.SCHEMAS[key]
        lo, hi = advertised.get(key, (api.vmin, api.vmax))
        for v in range(lo, hi + 1):
            try:
                r = w.call(key, v, harmless(key))
            except (kwire.DecodeError, kwire.Closed) as e:
                raise AssertionError("%s v%d: %s" % (api.name, v, e))
            errs = kwire.errors_in(r)
            if key in REFUSED:
                assert errs and all(e == REFUSED[key] for e in errs), (api.name, v, r)
            answered += 1
    assert answered >= 240, answered     # 65 keys, every version served
    # the same connection serves on: DescribeAcls, then a DeleteTopics
    r = w.call(29, 1, {"resource_type_filter": 1})
    assert r["error_code"] == SECURITY_DISABLED, r
    assert r["error_message"] == "No Authorizer is configured on the broker", r
    r = w.call(20, 5, {"topic_names": [victim], "timeout_ms": 60000})
    assert r["responses"][0]["error_code"] == NONE, r
    r = w.call(3, 4, {"topics": [{"name": victim}], "allow_auto_topic_creation": False})
    assert r["topics"][0]["error_code"] == 3, r     # UNKNOWN_TOPIC_OR_PARTITION
    w.close()
    print("0019: %d key/version pairs answered on one connection" % answered)


def closed_as_kafka(port):
    # a key Kafka 2.8 does not have, and a version above Kafka's
    for key, ver in ((65, 0), (3, 12), (18 + 1000, 0)):
        w = kwire.Wire(port)
        w.corr += 1
        w.send_raw(kwire.header_v1(key, ver, w.corr, "x") + b"\x00" * 8)
        assert w.closed_by_peer(), (key, ver)
        w.close()


def topic_ids(c, port):
    w = kwire.Wire(port)
    r = w.call(19, 7, {"topics": [{"name": "by-id", "num_partitions": 2,
                                   "replication_factor": 2,
                                   "configs": [{"name": "retention.ms",
                                                "value": "3600000"}]}],
                       "timeout_ms": 60000})
    t = r["topics"][0]
    assert t["error_code"] == NONE and t["num_partitions"] == 2, t
    assert t["replication_factor"] == 2 and t["topic_id"] != bytes(16), t
    cfg = {x["name"]: x for x in t["configs"]}
    assert cfg["retention.ms"]["value"] == "3600000", cfg["retention.ms"]
    assert cfg["retention.ms"]["config_source"] == 1        # topic override
    assert cfg["cleanup.policy"]["value"] == "delete", cfg["cleanup.policy"]
    assert cfg["cleanup.policy"]["config_source"] == 5      # Kafka's default
    tid = t["topic_id"]
    # the same id everywhere: the znode, Metadata v10 of both brokers
    zk = zk_client(c.zk_connect)
    import json
    data = json.loads(zk.get("/brokers/topics/by-id")[0])
    assert kwire_id(data["topic_id"]) == tid, data
    for b in (1, 2):
        wb = kwire.Wire(c.broker_port(b))
        wait_for(lambda: wb.call(3, 10, {"topics": [{"name": "by-id"}],
                                         "allow_auto_topic_creation": False})
                 ["topics"][0]["topic_id"] == tid, 60, "topic id on broker %d" % b)
        wb.close()
    # every replica keeps it in partition.metadata (LeaderAndIsr v5)
    for b in (1, 2):
        for p in (0, 1):
            path = os.path.join(c.dir, "broker-%d-data" % b, "by-id-%d" % p,
                                "partition.metadata")
            wait_for(lambda: os.path.exists(path), 60, path)
            with open(path) as f:
                assert f.read() == "version: 0\ntopic_id: %s" % data["topic_id"], path
    # a topic znode without an id (an older tool's) gets one from the
    # controller, which the brokers then show
    zk.create("/brokers/topics/legacy",
              json.dumps({"version": 1, "partitions": {"0": [1, 2]}}).encode())
    legacy = wait_for(lambda: json.loads(zk.get("/brokers/topics/legacy")[0])
                      .get("topic_id"), 60, "the controller's topic id")
    wait_for(lambda: w.call(3, 11, {"topics": [{"name": "legacy"}],
                                    "allow_auto_topic_creation": False})
             ["topics"][0]["topic_id"] == kwire_id(legacy), 60, "legacy's id")
    zk.stop()
    # DeleteTopics v6 by id; an unknown id; name and id together
    r = w.call(20, 6, {"topics": [{"name": None, "topic_id": tid}], "timeout_ms": 60000})
    assert r["responses"] == [{"name": "by-id", "topic_id": tid, "error_code": NONE,
                               "error_message": None}], r
    r = w.call(20, 6, {"topics": [{"name": None, "topic_id": tid}], "timeout_ms": 60000})
    assert r["responses"][0]["error_code"] == UNKNOWN_TOPIC_ID, r
    assert r["responses"][0]["name"] is None, r
    r = w.call(20, 6, {"topics": [{"name": "legacy", "topic_id": tid},
                                  {"name": "legacy"}], "timeout_ms": 60000})
    assert [x["error_code"] for x in r["responses"]] == [INVALID_REQUEST] * 2, r
    # Metadata v10 refuses ids
    r = w.call(3, 10, {"topics": [{"name": "legacy", "topic_id": tid}]})
    assert r["topics"][0]["error_code"] == INVALID_REQUEST, r
    w.close()


def kwire_id(s):
    import base64
    return base64.urlsafe_b64decode(s + "==")


def consume(consumer, n, timeout=90):
    got = 0
    end = time.monotonic() + timeout
    while got < n and time.monotonic() < end:
        m = consumer.poll(0.5)
        if m is not None and not m.error():
            got += 1
    assert got == n, (got, n)


def groups(c):
    B = c.bootstrap
    p = Producer({"bootstrap.servers": B})
    for i in range(30):
        p.produce("gt", value=b"v%d" % i, partition=i % 3)
    assert p.flush(60) == 0
    # g-empty: consumed, committed, left
    lines = []

    class Grab(logging.Handler):
        def emit(self, rec):
            lines.append(rec.getMessage())

    log = logging.getLogger("rdkafka-debug")
    log.addHandler(Grab())
    log.setLevel(logging.DEBUG)
    ce = Consumer({"bootstrap.servers": B, "group.id": "g-empty",
                   "auto.offset.reset": "earliest", "enable.auto.commit": False,
                   "debug": "protocol", "logger": log})
    ce.subscribe(["gt"])
    consume(ce, 30)
    ce.commit(asynchronous=False)
    ce.close()
    # librdkafka asked for the committed offsets at its highest version
    assert any("OffsetFetchRequest (v7" in x for x in lines), \
        [x for x in lines if "OffsetFetch" in x][:5]
    # g-stable: a member that stays
    cs = Consumer({"bootstrap.servers": B, "group.id": "g-stable",
                   "auto.offset.reset": "earliest"})
    cs.subscribe(["gt"])
    consume(cs, 30)
    stop = threading.Event()

    def keep_polling():
        while not stop.is_set():
            cs.poll(0.2)
    poller = threading.Thread(target=keep_polling, daemon=True)
    poller.start()
    try:
        # confluent-kafka (librdkafka's list_groups: ListGroups v0 +
        # DescribeGroups v0)
        def states():
            gs = AdminClient({"bootstrap.servers": B}).list_groups(timeout=30)
            return {g.id: g.state for g in gs if g.id.startswith("g-")}
        wait_for(lambda: states() == {"g-empty": "Empty", "g-stable": "Stable"}, 90,
                 "confluent-kafka's group states")
        # kafka-python: ListGroups v2, DescribeGroups v3 with authorized
        # operations (READ, DELETE, DESCRIBE: Kafka's without an authorizer)
        from kafka import KafkaAdminClient
        ka = KafkaAdminClient(bootstrap_servers=B, request_timeout_ms=60000)
        listed = dict(ka.list_consumer_groups())
        assert listed["g-empty"] == "consumer" and listed["g-stable"] == "consumer", listed
        # (kafka-python 2.0.2's v3 schema drops the per-group
        # authorized_operations, with Kafka too; checked on the wire below)
        desc = {d.group: d for d in ka.describe_consumer_groups(
            ["g-empty", "g-stable"], include_authorized_operations=True)}
        assert desc["g-empty"].state == "Empty" and desc["g-stable"].state == "Stable", desc
        assert desc["g-stable"].protocol == "range", desc
        assert len(desc["g-stable"].members) == 1, desc
        offs = ka.list_consumer_group_offsets("g-empty")
        assert sorted(o.offset for o in offs.values()) == [10, 10, 10], offs
        ka.close()
        # librdkafka's admin API: ListGroups v4 states and its filter,
        # DescribeGroups, OffsetFetch v7 for a whole group
        with rdkafka_admin.Admin(B) as a:
            got = a.list_groups()
            assert got.get("g-empty") == "Empty" and got.get("g-stable") == "Stable", got
            assert "g-stable" not in a.list_groups(["Empty"]), got
            only = a.list_groups(["Stable"])
            assert "g-stable" in only and "g-empty" not in only, only
            assert a.list_groups(["PreparingRebalance", "Dead"]) == {}, got
            d = a.describe_groups(["g-empty", "g-stable", "g-none"])
            assert d == {"g-empty": ("Empty", 0), "g-stable": ("Stable", 1),
                         "g-none": ("Dead", 0)}, d
            assert a.list_offsets("g-empty") == {("gt", p): 10 for p in range(3)}
        # ListGroups v4 on the wire, filtered
        w = kwire.Wire(c.broker_port(1))
        seen = {}
        for b in (1, 2):
            wb = kwire.Wire(c.broker_port(b))
            r = wb.call(16, 4, {"states_filter": ["Stable"]})
            assert r["error_code"] == NONE, r
            seen.update({g["group_id"]: g["group_state"] for g in r["groups"]})
            wb.close()
        assert seen.get("g-stable") == "Stable" and "g-empty" not in seen, seen
        w.close()
        # DescribeGroups v3+ authorized operations: READ, DELETE, DESCRIBE,
        # all a group has (Kafka without an authorizer); only when asked
        coord = kwire.Wire(c.broker_port(1)).call(10, 3, {"key": "g-stable"})
        w = kwire.Wire(coord["port"])
        for v in (3, 4, 5):
            r = w.call(15, v, {"groups": ["g-stable"],
                               "include_authorized_operations": True})
            g = r["groups"][0]
            assert g["error_code"] == NONE and g["group_state"] == "Stable", r
            assert g["authorized_operations"] == 0x148, r
            r = w.call(15, v, {"groups": ["g-stable"]})
            assert r["groups"][0]["authorized_operations"] == -2147483648, r
        w.close()
    finally:
        stop.set()
        poller.join()
        cs.close()
    # a librdkafka consumer resumes at the committed offsets (OffsetFetch v7)
    p.produce("gt", value=b"after", partition=0)
    assert p.flush(60) == 0
    ce = Consumer({"bootstrap.servers": B, "group.id": "g-empty",
                   "auto.offset.reset": "earliest"})
    ce.subscribe(["gt"])
    end = time.monotonic() + 90
    m = None
    while time.monotonic() < end:
        m = ce.poll(0.5)
        if m is not None and not m.error():
            break
    assert m is not None and m.value() == b"after" and m.offset() == 10, m
    ce.close()


def join_v7_sync_v5(c):
    """A member on a plain socket at JoinGroup v7 / SyncGroup v5."""
    w = kwire.Wire(c.broker_port(1))
    r = w.call(10, 3, {"key": "g-wire", "key_type": 0})
    wait_for(lambda: w.call(10, 3, {"key": "g-wire"})["error_code"] == NONE, 60,
             "a coordinator")
    r = w.call(10, 3, {"key": "g-wire"})
    w.close()
    w = kwire.Wire(r["port"])
    join = {"group_id": "g-wire", "session_timeout_ms": 10000,
            "rebalance_timeout_ms": 10000, "protocol_type": "consumer",
            "protocols": [{"name": "range", "metadata": SUBSCRIPTION},
                          {"name": "roundrobin", "metadata": SUBSCRIPTION}]}
    r = w.call(11, 7, dict(join, member_id=""))
    assert r["error_code"] == 79, r                 # MEMBER_ID_REQUIRED
    assert r["protocol_name"] is None and r["protocol_type"] is None, r
    me = r["member_id"]
    r = w.call(11, 7, dict(join, member_id=me))
    assert r["error_code"] == NONE, r
    assert r["protocol_type"] == "consumer" and r["protocol_name"] == "range", r
    gen = r["generation_id"]
    sync = {"group_id": "g-wire", "generation_id": gen, "member_id": me,
            "assignments": [{"member_id": me, "assignment": b"\x00\x01"}]}
    # v5: protocol type and name are mandatory, and must be the group's
    r = w.call(14, 5, sync)
    assert r["error_code"] == 23, r                 # INCONSISTENT_GROUP_PROTOCOL
    r = w.call(14, 5, dict(sync, protocol_type="consumer", protocol_name="roundrobin"))
    assert r["error_code"] == 23, r
    r = w.call(14, 5, dict(sync, protocol_type="consumer", protocol_name="range"))
    assert r["error_code"] == NONE and r["assignment"] == b"\x00\x01", r
    assert r["protocol_type"] == "consumer" and r["protocol_name"] == "range", r
    r = w.call(12, 4, {"group_id": "g-wire", "generation_id": gen, "member_id": me})
    assert r["error_code"] == NONE, r
    r = w.call(13, 4, {"group_id": "g-wire", "members": [{"member_id": me}]})
    assert r["error_code"] == NONE and r["members"][0]["error_code"] == NONE, r
    w.close()


def main():
    with tempfile.TemporaryDirectory() as work, Cluster(work, brokers=2, controllers=1) as c:
        port = c.broker_port(1)
        admin = AdminClient({"bootstrap.servers": c.bootstrap})
        from confluent_kafka.admin import NewTopic
        for f in admin.create_topics([NewTopic("gt", 3, 2), NewTopic("victim", 1, 2)],
                                     operation_timeout=60).values():
            f.result(60)
        advertised = check_api_versions(port)
        every_key_on_one_connection(port, advertised, "victim")
        closed_as_kafka(port)
        topic_ids(c, port)
        groups(c)
        join_v7_sync_v5(c)
    print("0019: OK")


if __name__ == "__main__":
    main()
