#!/usr/bin/python3
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
  measurably slower under a leader+follower throttle than without.
"""

import glob
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import build_path, wait_for, zk_client  # noqa: E402

from confluent_kafka import Producer  # noqa: E402
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402


def kconfigs(*args, rc=0):
    r = subprocess.run([build_path("tools", "kconfigs")] + list(args),
                       capture_output=True, text=True, timeout=60)
    if rc is not None and r.returncode != rc:
        raise AssertionError("kconfigs %s exited %d (wanted %d)\nstdout: %s\n"
                             "stderr: %s" % (" ".join(args), r.returncode, rc,
                                             r.stdout, r.stderr))
    return r


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
    assert describe_broker(admin, 1, "num.io.threads")[2] is True
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
        (["--broker", "1", "--add-config", "num.io.threads=4"], "INVALID_REQUEST"),
        (["--broker-defaults", "--add-config", "message.max.bytes=-5"],
         "INVALID_REQUEST"),
        (["--topic", "nosuch", "--add-config", "retention.ms=1"],
         "UNKNOWN_TOPIC_OR_PARTITION"),
    ]
    for args, err in cases:
        r = kconfigs("--bootstrap-server", B, "--alter", *args, rc=1)
        assert err in r.stderr, (args, r.stderr)
    r = kconfigs("--bootstrap-server", B, "--alter", "--broker", "1",
                 "--add-config", "num.io.threads=4", rc=1)
    assert "Cannot update these configs dynamically" in r.stderr, r.stderr
    assert zk.get("/config/topics/cfg")[0] == before
    assert len(zk.get_children("/config/changes")) == nchanges
    # usage errors
    kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg",
             "--add-config", "a=b=c", rc=2)
    kconfigs("--bootstrap-server", B, "--alter", "--topic", "cfg", rc=2)
    kconfigs("--bootstrap-server", B, "--describe", "--entity-type", "users", rc=2)


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
    subprocess.run([build_path("tools", "ktopics"), "--bootstrap-server", B,
                    "--create", "--topic", "thr", "--replica-assignment", "1:2"],
                   check=True, capture_output=True, timeout=60)
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


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=1) as c:
            zk = zk_client(c.zk_connect)
            admin = AdminClient({"bootstrap.servers": c.bootstrap})
            try:
                for step in (check_topic_alter, check_broker_alter,
                             check_refusals, check_throttle):
                    t0 = time.monotonic()
                    step(c, zk, admin)
                    print("ok: %s (%.1fs)" % (step.__name__, time.monotonic() - t0))
            except BaseException:
                print(c.logs())
                raise
            finally:
                zk.stop()


if __name__ == "__main__":
    main()
