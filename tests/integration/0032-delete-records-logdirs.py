#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""DeleteRecords and DescribeLogDirs against a real 2-broker kcluster whose
brokers each have two log directories (JBOD):

- new partitions go to the log dir holding the fewest, so both dirs of
  each broker fill;
- DeleteRecords (a raw request: neither the installed confluent-kafka nor
  kafka-python has an admin call for it) and kdelete-records move the
  log start offset of an RF 2 partition: the answer comes once both
  replicas have it (low_watermark), the segments below it are gone on both
  brokers and their log-start-offset-checkpoint holds it; an offset past
  the high watermark is OFFSET_OUT_OF_RANGE, -1 means the high watermark,
  __consumer_offsets refuses (INVALID_TOPIC_EXCEPTION), a follower
  NOT_LEADER_OR_FOLLOWER;
- a consumer from the beginning starts at the new offset from either
  replica: after a clean leader change, and after the leader was killed
  (-9) and the restarted one leads again;
- klog-dirs --describe prints Kafka's JSON line: every log dir of every
  broker, each replica's size equal to its .log files' bytes on disk;
- a log dir that fails (a follower's segment roll finds its partition
  directory removed) goes offline as a whole: klog-dirs shows
  KafkaStorageException for it, the metrics count it
  (kafka_log_logmanager_offlinelogdirectorycount, offlinereplicacount), the
  controller handles the LogDirEventNotification and moves the dir's
  partitions to broker 1 alone (which serves them), the metadata lists
  broker 2's replicas there in offline_replicas, they answer
  KAFKA_STORAGE_ERROR, and its other dir keeps serving.
"""

import glob
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402
from kwire import Wire  # noqa: E402

TOPIC = "dr"
N = 300
OFFSET_OUT_OF_RANGE, NOT_LEADER, INVALID_TOPIC = 1, 6, 17


def dirs_of(c, b):
    base = c.data_dir(b)
    return [base, base + "-2"]


def give_two_dirs(c):
    """Each broker restarted with a second, empty log dir."""
    for b in (1, 2):
        c.set_log_dirs(b, dirs_of(c, b))


def metadata(c):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": c.bootstrap}).list_topics(timeout=30)


def part_state(c, p):
    """(leader, sorted ISR) as a broker's Metadata says; (None, []) from a
    broker that does not know the partition yet (one just restarted,
    before the controller's UpdateMetadata reached it)."""
    t = metadata(c).topics.get(TOPIC)
    if t is None or p not in t.partitions:
        return None, []
    md = t.partitions[p]
    return md.leader, sorted(md.isrs)


def wait_full_isr(c, p):
    """Both replicas in the ISR under a leader; returns the leader."""
    def full():
        s = part_state(c, p)
        return s if s[1] == [1, 2] and s[0] is not None and s[0] > 0 else None
    return wait_for(full, 120, "%s-%d: both replicas in sync" % (TOPIC, p))[0]


def produce(c, p, n, start):
    from confluent_kafka import Producer

    # small batches: a segment (segment.bytes=4096) holds several
    pr = Producer({"bootstrap.servers": c.bootstrap, "acks": "all",
                   "linger.ms": 5, "batch.num.messages": 20})
    errs = []
    for i in range(start, start + n):
        pr.produce(TOPIC, value=b"%d" % i, partition=p,
                   on_delivery=lambda e, m: errs.append(e) if e else None)
    assert pr.flush(120) == 0
    assert not errs, errs[:3]


def first_value(c, p):
    """A consumer from the beginning: the offset and value it reads first."""
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "unused",
                     "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        cons.assign([TopicPartition(TOPIC, p, -2)])  # OFFSET_BEGINNING
        for _ in range(120):
            m = cons.poll(1.0)
            if m is not None and not m.error():
                return m.offset(), int(m.value())
        raise AssertionError("%s-%d: nothing read from the beginning" % (TOPIC, p))
    finally:
        cons.close()


def delete_raw(c, broker, topic, p, offset, version=1):
    with Wire(c.broker_port(broker)) as w:
        r = w.call(21, version, {"topics": [{"name": topic, "partitions": [
            {"partition_index": p, "offset": offset}]}], "timeout_ms": 30000})
    res = r["topics"][0]["partitions"][0]
    return res["error_code"], res["low_watermark"]


def seg_bases(c, b, p):
    """Base offsets of the .log files of TOPIC-p on broker b (any dir)."""
    out = []
    for d in dirs_of(c, b):
        for f in glob.glob(os.path.join(d, "%s-%d" % (TOPIC, p), "*.log")):
            out.append(int(os.path.basename(f)[:-4]))
    return sorted(out)


def checkpoint_start(c, b, p):
    for d in dirs_of(c, b):
        path = os.path.join(d, "log-start-offset-checkpoint")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            for line in f.read().splitlines()[2:]:
                t, q, off = line.split(" ")
                if t == TOPIC and int(q) == p:
                    return int(off)
    return None


def check_deleted_everywhere(c, p, offset):
    for b in (1, 2):
        wait_for(lambda: checkpoint_start(c, b, p) == offset, 60,
                 "broker %d: %s-%d's log start %d checkpointed" % (b, TOPIC, p, offset))
        bases = seg_bases(c, b, p)
        assert bases and bases[0] <= offset, (b, bases)
        assert len([x for x in bases if x <= offset]) == 1, \
            "broker %d: segments below %d remain: %s" % (b, offset, bases)


def jbod_placement(c):
    give_two_dirs(c)
    tool("ktopics", "--create", "--topic", TOPIC, "--partitions", "4",
         "--replication-factor", "2", "--config", "segment.bytes=4096",
         bootstrap=c.bootstrap)
    for p in range(4):
        wait_full_isr(c, p)
    for b in (1, 2):
        counts = [len(glob.glob(os.path.join(d, TOPIC + "-*"))) for d in dirs_of(c, b)]
        assert counts == [2, 2], "broker %d: %s" % (b, counts)


def delete_records_raw(c):
    produce(c, 0, N, 0)
    leader = wait_full_isr(c, 0)
    follower = 3 - leader
    assert delete_raw(c, leader, TOPIC, 0, N + 1)[0] == OFFSET_OUT_OF_RANGE
    assert delete_raw(c, follower, TOPIC, 0, 10)[0] == NOT_LEADER
    assert delete_raw(c, leader, "__consumer_offsets", 0, 0)[0] == INVALID_TOPIC
    err, low = delete_raw(c, leader, TOPIC, 0, 120)
    # answered once both replicas moved: the low watermark is the offset
    assert (err, low) == (0, 120), (err, low)
    check_deleted_everywhere(c, 0, 120)
    assert first_value(c, 0) == (120, 120)
    # an older offset changes nothing
    assert delete_raw(c, leader, TOPIC, 0, 50, version=2) == (0, 120)


def delete_records_tool(c):
    produce(c, 1, N, 1000)
    wait_full_isr(c, 1)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump({"partitions": [{"topic": TOPIC, "partition": 1, "offset": -1},
                                  {"topic": TOPIC, "partition": 2, "offset": 5}],
                   "version": 1}, f)
    r = tool("kdelete-records", "--offset-json-file", f.name, rc=1,
             bootstrap=c.bootstrap)
    lines = r.stdout.splitlines()
    assert lines[:2] == ["Executing records delete operation",
                         "Records delete operation completed:"], r.stdout
    assert "partition: %s-1\tlow_watermark: %d" % (TOPIC, N) in lines, r.stdout
    # partition 2 is empty: offset 5 is past its high watermark
    assert any(x.startswith("partition: %s-2\terror: OFFSET_OUT_OF_RANGE" % TOPIC)
               for x in lines), r.stdout
    check_deleted_everywhere(c, 1, N)
    produce(c, 1, 5, 5000)
    assert first_value(c, 1) == (N, 5000)
    with open(f.name, "w") as g:
        g.write('{"partitions":[{"topic":"x","partition":0,"offset":1},'
                '{"topic":"x","partition":0,"offset":2}]}')
    r = tool("kdelete-records", "--offset-json-file", f.name, rc=1,
             bootstrap=c.bootstrap)
    assert "duplicate topic partitions" in r.stderr, r.stderr
    tool("kdelete-records", "--offset-json-file", f.name, rc=2)
    os.unlink(f.name)


def survives_leader_changes_and_restarts(c):
    leader = wait_full_isr(c, 0)
    # a clean leader change: the follower serves from 120 too
    c.stop("broker", leader)
    wait_for(lambda: part_state(c, 0)[0] == 3 - leader, 120, "leader moved")
    assert first_value(c, 0) == (120, 120)
    c.start("broker", leader)
    # the other one killed: the restarted broker leads, from its checkpoint
    other = wait_full_isr(c, 0)
    c.kill("broker", other)
    wait_for(lambda: part_state(c, 0)[0] == 3 - other, 120, "leader moved")
    assert first_value(c, 0) == (120, 120)
    assert first_value(c, 1) == (N, 5000)
    c.start("broker", other)
    wait_full_isr(c, 0)
    wait_full_isr(c, 1)
    # and back: the killed broker restarted (unclean) keeps the start too
    c.kill("broker", 3 - other)
    wait_for(lambda: part_state(c, 0)[0] == other, 120, "leader moved back")
    assert first_value(c, 0) == (120, 120)
    assert first_value(c, 1) == (N, 5000)
    c.start("broker", 3 - other)
    for p in range(4):
        wait_full_isr(c, p)


def describe_log_dirs(c):
    r = tool("klog-dirs", "--describe", bootstrap=c.bootstrap)
    lines = r.stdout.splitlines()
    assert lines[0] == "Querying brokers for log directories information", r.stdout
    assert lines[1] == "Received log directory information from brokers 1,2", r.stdout
    doc = json.loads(lines[2])
    assert doc["version"] == 1 and [b["broker"] for b in doc["brokers"]] == [1, 2], doc
    seen = 0
    for b in doc["brokers"]:
        assert sorted(d["logDir"] for d in b["logDirs"]) == sorted(dirs_of(c, b["broker"])), b
        for d in b["logDirs"]:
            assert d["error"] is None, d
            for p in d["partitions"]:
                files = glob.glob(os.path.join(d["logDir"], p["partition"], "*.log"))
                assert files, p
                size = sum(os.stat(x).st_size for x in files)
                assert p["size"] == size, (b["broker"], d["logDir"], p, size)
                assert p["offsetLag"] == 0 and p["isFuture"] is False, p
                seen += p["partition"].startswith(TOPIC + "-")
    assert seen == 8, doc   # 4 partitions x 2 replicas
    r = tool("klog-dirs", "--describe", "--broker-list", "2", "--topic-list", "nothing",
             bootstrap=c.bootstrap)
    doc = json.loads(r.stdout.splitlines()[2])
    assert [b["broker"] for b in doc["brokers"]] == [2], doc
    assert all(d["partitions"] == [] for d in doc["brokers"][0]["logDirs"]), doc
    tool("klog-dirs", "--bootstrap-server", c.bootstrap, rc=2)


def scrape(c, broker, name):
    import urllib.request

    with urllib.request.urlopen(c.metrics[("broker", broker)], timeout=30) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def log_dirs_json(c, *args):
    return json.loads(tool("klog-dirs", "--describe", *args,
                           bootstrap=c.bootstrap).stdout.splitlines()[2])


def failed_dir_goes_offline(c):
    """Broker 2's second dir fails (a follower's segment roll finds its
    partition directory gone): the whole dir goes offline, the other keeps
    serving."""
    from confluent_kafka import Consumer, TopicPartition

    doc = log_dirs_json(c, "--broker-list", "2")
    bad_dir = dirs_of(c, 2)[1]
    where = {p["partition"]: d["logDir"] for d in doc["brokers"][0]["logDirs"]
             for p in d["partitions"]}
    victim = [p for p in range(4) if where["%s-%d" % (TOPIC, p)] == bad_dir]
    assert victim, where
    victim = victim[0]
    good = [p for p in range(4) if where["%s-%d" % (TOPIC, p)] != bad_dir][0]
    assert scrape(c, 2, "kafka_log_logmanager_offlinelogdirectorycount") == 0
    import shutil
    shutil.rmtree(os.path.join(bad_dir, "%s-%d" % (TOPIC, victim)))
    # broker 2's next roll of that replica fails, as leader or follower
    # (acks=1; once the dir is offline broker 2 refuses what it leads)
    from confluent_kafka import Producer
    pr = Producer({"bootstrap.servers": c.bootstrap, "acks": 1,
                   "batch.num.messages": 20, "linger.ms": 5,
                   "message.timeout.ms": 15000})
    for i in range(2000):     # ~30 KB: several segments' worth
        pr.produce(TOPIC, value=b"%d" % (9000 + i), partition=victim)
    pr.flush(60)
    wait_for(lambda: scrape(c, 2, "kafka_log_logmanager_offlinelogdirectorycount") == 1,
             60, "broker 2's dir offline in its metrics")
    doc = log_dirs_json(c, "--broker-list", "2")
    dirs = {d["logDir"]: d for d in doc["brokers"][0]["logDirs"]}
    assert dirs[bad_dir]["error"] == \
        "org.apache.kafka.common.errors.KafkaStorageException", dirs
    assert dirs[bad_dir]["partitions"] == [], dirs
    assert dirs[dirs_of(c, 2)[0]]["error"] is None, dirs
    # every replica in the dir counts as offline
    n_bad = len([x for x in where.values() if x == bad_dir])
    assert scrape(c, 2, "kafka_server_replicamanager_offlinereplicacount") == n_bad
    # the controller was told (Kafka's LogDirEventNotification, which it
    # deletes once handled) and moved the dir's partitions to broker 1,
    # out of broker 2's ISR
    zk = c.zk()
    wait_for(lambda: zk.get_children("/log_dir_event_notification") == [], 60,
             "the controller handled the log dir event")
    bad_parts = [int(k.rsplit("-", 1)[1]) for k, d in where.items()
                 if d == bad_dir and k.startswith(TOPIC + "-")]
    wait_for(lambda: all(part_state(c, q) == (1, [1]) for q in bad_parts), 60,
             "%s: led by broker 1 alone" % bad_parts)
    # Metadata names broker 2's replica there offline (offline_replicas,
    # Kafka's isReplicaOnline counts offline dirs), the others not
    def offline_replicas():
        with Wire(c.broker_port(1)) as w:
            r = w.call(3, 9, {"topics": [{"name": TOPIC}],
                              "allow_auto_topic_creation": False})
        return {q["partition_index"]: sorted(q["offline_replicas"])
                for q in r["topics"][0]["partitions"]}
    want = {q: ([2] if q in bad_parts else []) for q in range(4)}
    wait_for(lambda: offline_replicas() == want, 60,
             "offline_replicas %s in the metadata" % want)
    # and they serve there: nothing acknowledged is lost
    produce(c, victim, 10, 8000)
    from confluent_kafka import Consumer as C2
    cons = C2({"bootstrap.servers": c.bootstrap, "group.id": "unused",
               "enable.auto.commit": False})
    _, hi = cons.get_watermark_offsets(TopicPartition(TOPIC, victim), timeout=30)
    cons.assign([TopicPartition(TOPIC, victim, hi - 10)])
    got = []
    for _ in range(60):
        m = cons.poll(1.0)
        if m is not None and not m.error():
            got.append(int(m.value()))
        if len(got) == 10:
            break
    cons.close()
    assert got == list(range(8000, 8010)), got
    # a replica in the failed dir refuses reads: KAFKA_STORAGE_ERROR (56)
    with Wire(c.broker_port(2)) as w:
        r = w.call(1, 11, {"replica_id": -1, "max_wait_ms": 0, "min_bytes": 0,
                           "max_bytes": 1 << 20, "topics": [{"topic": TOPIC, "partitions": [
                               {"partition": victim, "fetch_offset": 0,
                                "partition_max_bytes": 1 << 20}]}]})
    assert r["responses"][0]["partitions"][0]["error_code"] == 56, r
    # the other dir serves on: produce and read a partition it holds
    produce(c, good, 10, 7000)
    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "unused",
                     "enable.auto.commit": False})
    _, hi = cons.get_watermark_offsets(TopicPartition(TOPIC, good), timeout=30)
    cons.assign([TopicPartition(TOPIC, good, hi - 10)])
    got = []
    for _ in range(60):
        m = cons.poll(1.0)
        if m is not None and not m.error():
            got.append(int(m.value()))
        if len(got) == 10:
            break
    cons.close()
    assert got == list(range(7000, 7010)), got


def main():
    with tempfile.TemporaryDirectory() as workdir:
        with Cluster(workdir, brokers=2, controllers=1,
                     broker_set={"log.flush.start.offset.checkpoint.interval.ms": "600000"}) as c:
            run_steps((jbod_placement, delete_records_raw, delete_records_tool,
                       survives_leader_changes_and_restarts, describe_log_dirs,
                       failed_dir_goes_offline), c)
    print("0032: OK")


if __name__ == "__main__":
    main()
