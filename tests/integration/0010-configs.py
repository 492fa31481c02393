#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Dynamic configuration on a real 3-broker kcluster, without restarts:

- kconfigs --alter of a topic (IncrementalAlterConfigs) writes Kafka's
  znodes (/config/topics/<t> and a config_change_ notification); every
  broker applies it: a batch above the new max.message.bytes is refused
  with MESSAGE_TOO_LARGE by each partition's leader, and accepted again
  after --delete-config; every broker describes the value with its source;
- a per-broker config (/config/brokers/<id>) changes only that broker; a
  cluster default (/config/brokers/<default>) log.segment.bytes makes the
  logs of topics without an override roll on every broker; both show in
  confluent-kafka's DescribeConfigs with their sources;
- validate_only (confluent-kafka's AlterConfigs) changes nothing; a bad
  key, a bad value, a broker key that cannot change at run time and an
  unknown topic are refused with Kafka's error codes and exit status 1;
- replication throttling: a follower that was down catches up
  measurably slower under a leader+follower throttle than without;
- every Kafka 2.8 key is accepted as Kafka accepts it: a broker key the
  broker does not act on (sasl.kerberos.min.time.before.relogin, its
  listener override) can be altered per broker, and is refused as the
  cluster default with Kafka's error; thread pools change within Kafka's
  half-to-double rule; a read-only key, a password key without
  password.encoder.secret and an unknown topic key are refused with
  Kafka's errors, while an unknown broker key is kept as a custom config
  (described as sensitive, without a value); DescribeConfigs v3 (on a
  plain socket) gives every key with its type and, for a key not acted
  on, documentation saying so;
- a broker started from a properties file naming every Kafka 2.8 key
  (etc/kbroker.properties with every line uncommented) and a listener
  override logs no warning but for one truly unknown key, and names the
  keys it does not act on in one line.
"""

import glob
import json
import os
import socket
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import Broker, wait_for  # noqa: E402
from ktool import tool  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402


def kconfigs(*args, rc=0):
    return tool("kconfigs", *args, rc=rc, timeout=60)


def broker_addr(c, b):
    return "127.0.0.1:%d" % c.broker_port(b)


def topic_entry(c, b, topic, key):
    """(value, source) of a topic key as broker b describes it."""
    out = kconfigs("--bootstrap-server", broker_addr(c, b), "--describe",
                   "--topic", topic, "--all", "--json").stdout
    for e in json.loads(out):
        if e["name"] == key:
            return e["value"], e["source"]
    raise AssertionError("%s not described by broker %d" % (key, b))


def last_change(zk):
    kids = sorted(zk.get_children("/config/changes"))
    return json.loads(zk.get("/config/changes/" + kids[-1])[0])


def leaders(zk, topic, n):
    return {p: json.loads(zk.get("/brokers/topics/%s/partitions/%d/state"
                                 % (topic, p))[0])["leader"] for p in range(n)}


def produce(c, topic, partition, size, n=1):
    """Errors (None for success) of n values of size bytes, acks=all, one
    batch each."""
    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all",
                  "linger.ms": 0, "message.max.bytes": 10000000,
                  "batch.num.messages": 1, "compression.type": "none",
                  "retries": 0})
    errs = []
    for _ in range(n):
        p.produce(topic, b"x" * size, partition=partition,
                  on_delivery=lambda e, m: errs.append(e))
        p.poll(0)
    p.flush(60)
    assert len(errs) == n, errs
    return errs


def describe_broker(admin, bid, key):
    r = ConfigResource("BROKER", str(bid))
    e = admin.describe_configs([r])[r].result(timeout=30).get(key)
    return (e.value, e.source, e.is_read_only) if e is not None else (None,)


def check_topic_alter(c, zk, admin):
    B = c.bootstrap
    fs = admin.create_topics([NewTopic("cfg", 3, 3)])
    fs["cfg"].result(timeout=30)
    wait_for(lambda: all(v >= 0 for v in leaders(zk, "cfg", 3).values()),
             what="cfg leaders")
    lead = leaders(zk, "cfg", 3)
    assert sorted(lead.values()) == [1, 2, 3], lead

    r = kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg",
                 "--add-config", "max.message.bytes=2000, retention.ms = 3600000")
    assert r.stdout.strip() == "Completed updating config for topic cfg.", r.stdout
    assert json.loads(zk.get("/config/topics/cfg")[0]) == \
        {"version": 1, "config": {"max.message.bytes": "2000",
                                  "retention.ms": "3600000"}}
    assert last_change(zk) == {"version": 2, "entity_path": "topics/cfg"}
    for b in (1, 2, 3):
        wait_for(lambda: topic_entry(c, b, "cfg", "max.message.bytes") ==
                 ("2000", "DYNAMIC_TOPIC_CONFIG"), timeout=20,
                 what="broker %d describing the override" % b)
        assert topic_entry(c, b, "cfg", "retention.ms") == \
            ("3600000", "DYNAMIC_TOPIC_CONFIG")
    out = kconfigs("--bootstrap-server", B, "--describe", "--topic", "cfg").stdout
    assert out.splitlines()[0] == "Dynamic configs for topic cfg are:", out
    assert ("  max.message.bytes=2000 sensitive=false synonyms="
            "{DYNAMIC_TOPIC_CONFIG:max.message.bytes=2000, "
            "DEFAULT_CONFIG:message.max.bytes=1048588}") in out.splitlines(), out

    # every leader refuses a 5000-byte batch now, without a restart
    def all_refused():
        return all(produce(c, "cfg", p, 5000)[0] is not None and
                   produce(c, "cfg", p, 5000)[0].name() == "MSG_SIZE_TOO_LARGE"
                   for p in range(3))
    wait_for(all_refused, timeout=20, what="MESSAGE_TOO_LARGE on every leader")
    assert all(e is None for p in range(3) for e in produce(c, "cfg", p, 500))

    kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg",
             "--delete-config", "max.message.bytes")
    assert json.loads(zk.get("/config/topics/cfg")[0]) == \
        {"version": 1, "config": {"retention.ms": "3600000"}}
    for b in (1, 2, 3):
        wait_for(lambda: topic_entry(c, b, "cfg", "max.message.bytes") ==
                 ("1048588", "DEFAULT_CONFIG"), timeout=20,
                 what="broker %d back to the default" % b)
    wait_for(lambda: all(produce(c, "cfg", p, 5000)[0] is None for p in range(3)),
             timeout=20, what="5000-byte batches accepted again")
    # deleting what is not set changes nothing and fails
    r = kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg",
                 "--delete-config", "max.message.bytes", rc=1)
    assert "Invalid config(s): max.message.bytes" in r.stderr, r.stderr


def check_broker_alter(c, zk, admin):
    B = c.bootstrap
    lead = leaders(zk, "cfg", 3)
    by_broker = {v: p for p, v in lead.items()}

    # per-broker: only broker 2 gets the smaller message.max.bytes
    kconfigs("--bootstrap-server", B, "--alter", "--broker", "2",
             "--add-config", "message.max.bytes=3000")
    assert json.loads(zk.get("/config/brokers/2")[0]) == \
        {"version": 1, "config": {"message.max.bytes": "3000"}}
    assert last_change(zk) == {"version": 2, "entity_path": "brokers/2"}
    wait_for(lambda: describe_broker(admin, 2, "message.max.bytes")[:2] ==
             ("3000", 2), timeout=20, what="broker 2 message.max.bytes")
    assert describe_broker(admin, 2, "message.max.bytes")[2] is False
    assert describe_broker(admin, 1, "message.max.bytes")[:2] == ("1048588", 5)
    assert describe_broker(admin, 1, "num.partitions")[2] is True
    assert describe_broker(admin, 1, "num.io.threads")[2] is False
    wait_for(lambda: produce(c, "cfg", by_broker[2], 5000)[0] is not None,
             timeout=20, what="broker 2 refusing 5000 bytes")
    assert produce(c, "cfg", by_broker[2], 5000)[0].name() == "MSG_SIZE_TOO_LARGE"
    assert produce(c, "cfg", by_broker[1], 5000)[0] is None
    out = kconfigs("--bootstrap-server", B, "--describe", "--broker", "2").stdout
    assert ("  message.max.bytes=3000 sensitive=false synonyms="
            "{DYNAMIC_BROKER_CONFIG:message.max.bytes=3000, "
            "DEFAULT_CONFIG:message.max.bytes=1048588}") in out.splitlines(), out
    kconfigs("--bootstrap-server", B, "--alter", "--broker", "2",
             "--delete-config", "message.max.bytes")
    wait_for(lambda: produce(c, "cfg", by_broker[2], 5000)[0] is None,
             timeout=20, what="broker 2 accepting 5000 bytes again")

    # cluster default: a small log.segment.bytes rolls every broker's logs
    # of a topic that does not override segment.bytes
    admin.create_topics([NewTopic("roll", 1, 3)])["roll"].result(timeout=30)
    wait_for(lambda: leaders(zk, "roll", 1)[0] >= 0, what="roll leader")
    kconfigs("--bootstrap-server", B, "--alter", "--broker-defaults",
             "--add-config", "log.segment.bytes=20000,log.retention.ms=7200000")
    assert json.loads(zk.get("/config/brokers/<default>")[0]) == \
        {"version": 1, "config": {"log.segment.bytes": "20000",
                                  "log.retention.ms": "7200000"}}
    assert last_change(zk) == {"version": 2, "entity_path": "brokers/<default>"}
    for b in (1, 2, 3):
        wait_for(lambda: topic_entry(c, b, "roll", "segment.bytes") ==
                 ("20000", "DYNAMIC_DEFAULT_BROKER_CONFIG"), timeout=20,
                 what="broker %d inheriting the default" % b)
        # a topic override still wins over the broker default
        assert topic_entry(c, b, "cfg", "retention.ms") == \
            ("3600000", "DYNAMIC_TOPIC_CONFIG")
    errs = produce(c, "roll", 0, 1000, n=100)
    assert all(e is None for e in errs), errs

    def segments(b):
        return len(glob.glob(os.path.join(c.dir, "broker-%d-data" % b,
                                          "roll-0", "*.log")))
    for b in (1, 2, 3):
        wait_for(lambda: segments(b) >= 3, timeout=20,
                 what="broker %d rolling roll-0 at 20000 bytes" % b)
    out = kconfigs("--bootstrap-server", B, "--describe",
                   "--broker-defaults").stdout
    assert out.splitlines()[0] == "Default configs for brokers in the cluster are:"
    assert any(line.startswith("  log.segment.bytes=20000 ")
               for line in out.splitlines()), out
    kconfigs("--bootstrap-server", B, "--alter", "--broker-defaults",
             "--delete-config", "log.segment.bytes,log.retention.ms")
    for b in (1, 2, 3):
        wait_for(lambda: topic_entry(c, b, "roll", "segment.bytes") ==
                 ("1073741824", "DEFAULT_CONFIG"), timeout=20,
                 what="broker %d back to the default segment size" % b)


def check_refusals(c, zk, admin):
    B = c.bootstrap
    before = zk.get("/config/topics/cfg")[0]
    nchanges = len(zk.get_children("/config/changes"))
    # validate_only through confluent-kafka's AlterConfigs
    r = ConfigResource("TOPIC", "cfg", set_config={"retention.ms": "1000"})
    admin.alter_configs([r], validate_only=True)[r].result(timeout=30)
    r = ConfigResource("TOPIC", "cfg", set_config={"retention.ms": "x"})
    try:
        admin.alter_configs([r], validate_only=True)[r].result(timeout=30)
        raise AssertionError("a bad value passed validation")
    except Exception as e:
        assert "INVALID_REQUEST" in str(e), e
    assert zk.get("/config/topics/cfg")[0] == before
    assert len(zk.get_children("/config/changes")) == nchanges
    assert topic_entry(c, 1, "cfg", "retention.ms") == \
        ("3600000", "DYNAMIC_TOPIC_CONFIG")

    cases = [
        (["--topic", "cfg", "--add-config", "no.such.key=1"], "INVALID_CONFIG"),
        (["--topic", "cfg", "--add-config", "retention.ms=soon"], "INVALID_REQUEST"),
        (["--topic", "cfg", "--add-config", "cleanup.policy=[delete,shred]"],
         "INVALID_REQUEST"),
        (["--topic", "cfg", "--add-config",
          "leader.replication.throttled.replicas=0-1"], "INVALID_REQUEST"),
        (["--broker", "1", "--add-config", "num.partitions=4"], "INVALID_REQUEST"),
        (["--broker-defaults", "--add-config", "message.max.bytes=-5"],
         "INVALID_REQUEST"),
        (["--topic", "nosuch", "--add-config", "retention.ms=1"],
         "UNKNOWN_TOPIC_OR_PARTITION"),
    ]
    for args, err in cases:
        r = kconfigs("--bootstrap-server", B, "--alter", *args, rc=1)
        assert err in r.stderr, (args, r.stderr)
    r = kconfigs("--bootstrap-server", B, "--alter", "--broker", "1",
                 "--add-config", "num.partitions=4,log.dirs=/x", rc=1)
    assert "Cannot update these configs dynamically: " \
        "Set(num.partitions, log.dirs)" in r.stderr, r.stderr
    assert zk.get("/config/topics/cfg")[0] == before
    assert len(zk.get_children("/config/changes")) == nchanges
    # usage errors
    kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg",
             "--add-config", "a=b=c", rc=2)
    kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg", rc=2)
    # users (SCRAM credentials, 0025) and clients (quotas, 0031) are
    # served; ips (connection quotas) are not
    kconfigs("--bootstrap-server", B, "--describe", "--entity-type", "ips", rc=2)


def catch_up_seconds(c, zk, topic, nbytes):
    """Stop broker 2, write nbytes to topic (leader 1), start broker 2 and
    time how long until it is back in the ISR."""
    c.stop("broker", 2)
    wait_for(lambda: 2 not in json.loads(zk.get(
        "/brokers/topics/%s/partitions/0/state" % topic)[0])["isr"],
        what="broker 2 out of the ISR")
    p = Producer({"bootstrap.servers": broker_addr(c, 1), "acks": "1",
                  "linger.ms": 5, "compression.type": "none"})
    chunk = os.urandom(10000)
    for _ in range(nbytes // len(chunk)):
        while True:
            try:
                p.produce(topic, chunk, partition=0)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    assert p.flush(60) == 0
    t0 = time.monotonic()
    c.start("broker", 2)
    wait_for(lambda: 2 in json.loads(zk.get(
        "/brokers/topics/%s/partitions/0/state" % topic)[0])["isr"],
        timeout=90, what="broker 2 back in the ISR")
    return time.monotonic() - t0


def check_throttle(c, zk, admin):
    B = c.bootstrap
    tool("ktopics", "--create", "--topic", "thr", "--replica-assignment", "1:2",
         bootstrap=B, timeout=60)
    wait_for(lambda: json.loads(zk.get(
        "/brokers/topics/thr/partitions/0/state")[0])["isr"] == [1, 2],
        what="thr in sync")
    nbytes = 6 * 1000 * 1000
    free = catch_up_seconds(c, zk, "thr", nbytes)
    kconfigs("--bootstrap-server", B, "--alter", "--topic", "thr", "--add-config",
             "leader.replication.throttled.replicas=[0:1],"
             "follower.replication.throttled.replicas=[0:2]")
    kconfigs("--bootstrap-server", B, "--alter", "--broker-defaults",
             "--add-config", "leader.replication.throttled.rate=1000000,"
             "follower.replication.throttled.rate=1000000")
    for b in (1, 2, 3):
        wait_for(lambda: describe_broker(admin, b, "leader.replication.throttled.rate")
                 [:2] == ("1000000", 3), timeout=20,
                 what="broker %d describing the throttle" % b)
    throttled = catch_up_seconds(c, zk, "thr", nbytes)
    print("catch-up of %d bytes: %.1fs unthrottled, %.1fs at 1 MB/s"
          % (nbytes, free, throttled))
    # 6 MB at about 1 MB/s takes several seconds; unthrottled it is a
    # broker start and a few fetches
    assert throttled >= 3.0 and throttled > free + 2.0, (free, throttled)
    kconfigs("--bootstrap-server", B, "--alter", "--broker-defaults",
             "--delete-config", "leader.replication.throttled.rate,"
             "follower.replication.throttled.rate")


def describe_v3(c, b, rtype, name, keys=None):
    """DescribeConfigs v3 with synonyms and documentation, on a plain
    socket: {name: (value, read_only, source, sensitive, type, doc)}."""
    def string(v):
        v = v.encode()
        return struct.pack(">h", len(v)) + v
    body = struct.pack(">i", 1) + struct.pack(">b", rtype) + string(name)
    if keys is None:
        body += struct.pack(">i", -1)
    else:
        body += struct.pack(">i", len(keys)) + b"".join(string(k) for k in keys)
    body += b"\x01\x01"
    req = struct.pack(">hhi", 32, 3, 7) + string("0010-configs") + body
    s = socket.create_connection(("127.0.0.1", c.broker_port(b)), timeout=30)
    try:
        s.sendall(struct.pack(">i", len(req)) + req)
        size = b""
        while len(size) < 4:
            size += s.recv(4 - len(size))
        n = struct.unpack(">i", size)[0]
        data = b""
        while len(data) < n:
            chunk = s.recv(n - len(data))
            assert chunk, "connection closed"
            data += chunk
    finally:
        s.close()
    pos = [0]

    def take(fmt):
        v = struct.unpack_from(fmt, data, pos[0])
        pos[0] += struct.calcsize(fmt)
        return v[0]

    def nstring():
        ln = take(">h")
        if ln < 0:
            return None
        v = data[pos[0]:pos[0] + ln].decode()
        pos[0] += ln
        return v
    assert take(">i") == 7                      # correlation id
    take(">i")                                  # throttle
    assert take(">i") == 1
    err, msg = take(">h"), nstring()
    take(">b")
    nstring()
    out = {}
    for _ in range(take(">i")):
        k, v = nstring(), nstring()
        ro, src, sens = take(">b"), take(">b"), take(">b")
        for _ in range(take(">i")):
            nstring(), nstring(), take(">b")
        ctype, doc = take(">b"), nstring()
        out[k] = (v, bool(ro), src, bool(sens), ctype, doc)
    return err, msg, out


def alter_error(admin, res):
    try:
        admin.alter_configs([res])[res].result(timeout=30)
        return None
    except Exception as e:      # confluent_kafka.KafkaException
        return repr(e.args[0]) + " " + str(e)


INERT_NOTE = ("Accepted so that a Kafka configuration loads unchanged; "
              "not acted on yet.")


def check_kafka_keys(c, zk, admin):
    B = c.bootstrap
    nchanges = len(zk.get_children("/config/changes"))
    # a key the broker does not act on, per broker: as on Kafka (kconfigs
    # is IncrementalAlterConfigs; confluent-kafka's alter_configs the
    # AlterConfigs that replaces the entity)
    kconfigs("--bootstrap-server", B, "--alter", "--broker", "1", "--add-config",
             "sasl.kerberos.min.time.before.relogin=120000,"
             "listener.name.plaintext.sasl.kerberos.min.time.before.relogin=90000,"
             "my.custom.key=hello,num.io.threads=4")
    stored = json.loads(zk.get("/config/brokers/1")[0])["config"]
    assert stored == {"sasl.kerberos.min.time.before.relogin": "120000",
                      "listener.name.plaintext.sasl.kerberos.min.time.before.relogin":
                      "90000", "my.custom.key": "hello", "num.io.threads": "4"}, stored
    assert len(zk.get_children("/config/changes")) == nchanges + 1

    def described():
        err, msg, e = describe_v3(c, 1, 4, "1")
        assert err == 0, msg
        return e
    wait_for(lambda: described()["sasl.kerberos.min.time.before.relogin"][0] ==
             "120000", timeout=20, what="broker 1 describing the new value")
    e = described()
    v, ro, src, sens, ctype, doc = e["sasl.kerberos.min.time.before.relogin"]
    assert (v, ro, src, sens, ctype) == ("120000", False, 2, False, 5), e
    assert doc.endswith(INERT_NOTE), doc
    # the listener override: read-only as a name, typed by its base key
    assert e["listener.name.plaintext.sasl.kerberos.min.time.before.relogin"][:5] == \
        ("90000", True, 2, False, 5), e
    # a custom key: kept, shown without its value, type unknown
    assert e["my.custom.key"][:5] == (None, True, 2, True, 0), e
    assert e["num.io.threads"][:3] == ("4", False, 2), e
    # every key Kafka lists for a broker, acted on or not, password ones
    # without a value
    for k in ("num.partitions", "ssl.keystore.password", "transaction.max.timeout.ms",
              "authorizer.class.name", "zookeeper.ssl.protocol", "metric.reporters"):
        assert k in e, k
    assert e["ssl.keystore.password"][3] is True and e["ssl.keystore.password"][0] is None
    assert e["ssl.keystore.password"][4] == 9
    assert e["offsets.topic.replication.factor"][4] == 4          # SHORT
    assert e["create.topic.policy.class.name"][4] == 8            # CLASS
    assert not e["num.partitions"][5].endswith(INERT_NOTE), e["num.partitions"]
    assert e["num.network.threads"][5].endswith(
        "A dynamic update is accepted and stored, as Kafka does, but not acted "
        "on: the value read at start stays in force."), e["num.network.threads"]
    assert "process.roles" not in e        # Kafka's internal keys are not listed

    # refused as Kafka refuses them, nothing written
    before = zk.get("/config/brokers/1")[0]
    nchanges = len(zk.get_children("/config/changes"))
    # the cluster default (confluent-kafka refuses an empty broker name, so
    # through kconfigs' IncrementalAlterConfigs)
    for kv, text in (
            ("sasl.kerberos.min.time.before.relogin=120000",
             "Cannot update these configs at default cluster level, broker id must "
             "be specified: Set(sasl.kerberos.min.time.before.relogin)"),
            ("listener.name.plaintext.ssl.keystore.location=/k",
             "Cannot update these configs at default cluster level, broker id must "
             "be specified: Set(listener.name.plaintext.ssl.keystore.location)")):
        r = kconfigs("--bootstrap-server", B, "--alter", "--broker-defaults",
                     "--add-config", kv, rc=1)
        assert "INVALID_REQUEST" in r.stderr and text in r.stderr, r.stderr
    cases = [
        (ConfigResource("BROKER", "1", set_config={"ssl.keystore.location": "/k"}),
         "INVALID_REQUEST", "These security configs can be dynamically updated "
         "only per-listener using the listener prefix: Set(ssl.keystore.location)"),
        (ConfigResource("BROKER", "1", set_config={
            "listener.name.plaintext.ssl.keystore.password": "pw"}),
         "INVALID_REQUEST", "Password encoder secret not configured"),
        (ConfigResource("BROKER", "1", set_config={"num.io.threads": "100"}),
         "INVALID_REQUEST", "Invalid dynamic configuration"),
        (ConfigResource("BROKER", "1", set_config={"zookeeper.connect": "x:1"}),
         "INVALID_REQUEST", "Cannot update these configs dynamically: "
         "Set(zookeeper.connect)"),
        (ConfigResource("BROKER", "1", set_config={
            "sasl.kerberos.min.time.before.relogin": "soon"}), "INVALID_REQUEST",
         "Invalid value soon for configuration sasl.kerberos.min.time.before.relogin: "
         "Not a number of type LONG"),
        (ConfigResource("TOPIC", "cfg", set_config={"no.such.key": "1"}),
         "INVALID_CONFIG", "Unknown topic config name: no.such.key"),
    ]
    for res, code, text in cases:
        err = alter_error(admin, res)
        assert err is not None, (res, "accepted")
        assert code in err and text in err, (res, err)
    assert zk.get("/config/brokers/1")[0] == before
    assert len(zk.get_children("/config/changes")) == nchanges
    # clients check broker names themselves; a plain socket does not
    err, msg, e = describe_v3(c, 1, 4, "one")
    assert (err, msg, e) == (42, "Broker id must be an integer, but it is: one", {})
    err, msg, e = describe_v3(c, 1, 4, "2")
    assert err == 42 and msg == ("Unexpected broker id, expected 1 or empty string, "
                                 "but received 2"), msg

    # a topic key the broker does not act on: set and described as Kafka
    kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg",
             "--add-config", "preallocate=true,message.downconversion.enable=false")
    wait_for(lambda: describe_v3(c, 2, 2, "cfg", ["preallocate"])[2]
             .get("preallocate", (None,))[0] == "true", timeout=20,
             what="preallocate described")
    err, msg, e = describe_v3(c, 2, 2, "cfg")
    assert err == 0 and len(e) == 26, (err, msg, sorted(e))
    assert e["preallocate"][:5] == ("true", False, 1, False, 1), e["preallocate"]
    assert e["preallocate"][5].endswith(INERT_NOTE), e["preallocate"]
    assert not e["retention.ms"][5].endswith(INERT_NOTE), e["retention.ms"]
    assert e["message.format.version"][0] == "2.8-IV1", e["message.format.version"]
    kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg", "--delete-config",
             "preallocate,message.downconversion.enable")
    kconfigs("--bootstrap-server", B, "--alter", "--broker", "1", "--delete-config",
             "sasl.kerberos.min.time.before.relogin,my.custom.key,num.io.threads,"
             "listener.name.plaintext.sasl.kerberos.min.time.before.relogin")
    assert json.loads(zk.get("/config/brokers/1")[0])["config"] == {}


def check_kafka_properties(c, zk, work):
    """A broker from a file with every Kafka key (the shipped file with
    every line uncommented), a listener override and one unknown key."""
    shipped = os.path.join(os.environ.get("top_srcdir", "."), "etc",
                           "kbroker.properties")
    # these first: the info line names the keys in the file's order
    extra = {"listener.name.plaintext.sasl.enabled.mechanisms": "PLAIN",
             "sasl.kerberos.min.time.before.relogin": "60000"}
    with open(shipped) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("#") and not line.startswith("# ") and "=" in line:
                k, v = line[1:].split("=", 1)
                if k[:1].islower():
                    extra[k] = v
            elif line[:1].islower() and "=" in line:
                k, v = line.split("=", 1)
                extra[k] = v
    assert len(extra) >= 230, len(extra)
    # (Kafka refuses inter.broker.listener.name beside
    # security.inter.broker.protocol: the file names both, commented out)
    for k in ("broker.id", "listeners", "advertised.listeners", "log.dirs", "log.dir",
              "zookeeper.connect", "zookeeper.connection.timeout.ms",
              "inter.broker.listener.name"):
        extra.pop(k, None)
    extra["no.such.kafka.key"] = "1"
    b = Broker(os.path.join(work, "kafka-props"), c.zk_connect, broker_id=9,
               extra=extra)
    b.start()
    try:
        out = b.output()
        warnings = [line for line in out.splitlines() if "unknown configuration key" in line]
        assert len(warnings) == 1 and "no.such.kafka.key" in warnings[0], warnings
        inert = [line for line in out.splitlines()
                 if "Kafka keys set but not acted on:" in line]
        assert len(inert) == 1, out
        line = inert[0].split("not acted on: ", 1)[1]
        assert line.startswith("listener.name.plaintext.sasl.enabled.mechanisms, "
                               "sasl.kerberos.min.time.before.relogin, "), line
        named = line.split(" and ")[0].split(", ")
        assert "num.partitions" not in named and "no.such.kafka.key" not in named
        assert "broker.id.generation.enable" in named, named
        n = int(inert[0].split("Kafka keys set")[0].split()[-1])
        more = int(line.split(" and ")[1].split()[0]) if " and " in line else 0
        # (the count falls as keys come to be acted on: 138 with TLS, SASL
        # PLAIN, the connection limits and producer-id expiry built)
        assert n > 100 and len(named) + more == n, (n, len(named), more)
    finally:
        assert b.stop() == 0


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=1) as c:
            zk = c.zk()
            admin = AdminClient({"bootstrap.servers": c.bootstrap})
            run_steps((check_topic_alter, check_broker_alter, check_refusals,
                       check_kafka_keys, check_throttle), c, zk, admin)
            run_steps((check_kafka_properties,), c, zk, work)


if __name__ == "__main__":
    main()
