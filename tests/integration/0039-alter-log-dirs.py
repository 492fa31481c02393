#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""AlterReplicaLogDirs (KIP-113) against a real 2-broker kcluster whose
brokers each have two log directories, under an acks=all confluent-kafka
producer that runs the whole time:

- kreassign-partitions --execute with "log_dirs" moves every replica of
  an RF 2 topic (leaders and followers) to its broker's other log dir;
  klog-dirs then shows each replica in its new dir and, once done, no
  future replica; --verify says "completed successfully"; on disk the new
  dir holds the partition (segments, leader-epoch-checkpoint,
  partition.metadata) and the old dir neither it nor any "-future" or
  "-delete" leftover;
- the broker's answers: LOG_DIR_NOT_FOUND for a dir it does not have,
  REPLICA_NOT_AVAILABLE for a partition it does not host (the tool then
  times out), UNKNOWN_TOPIC_OR_PARTITION for an unknown topic;
- with replica.alter.log.dirs.io.max.bytes.per.second low (kreassign's
  --replica-alter-log-dirs-throttle; kconfigs removes it), a move is seen
  under way: klog-dirs shows the future replica (isFuture, offsetLag > 0),
  --verify "is still in progress" (exit 3), a "-future" dir on disk; the
  broker killed (-9) then comes back with one whole replica per partition
  and, asked again, finishes the move;
- the two crash points of the swap, made on a stopped broker: a partial
  "-future" copy beside the current log is dropped and the move done
  again from the start; a "-future" copy whose current log was already
  renamed away becomes the log;
- a transactional topic's replicas moved keep their aborted transactions
  index and producer state: read_committed skips the aborted records after
  the move, the producer's next transaction commits;
- every acknowledged record is read back at the end.
"""

import glob
import json
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402
from kwire import Wire  # noqa: E402

TOPIC = "mv"
PARTS = 2
UNKNOWN_TOPIC, REPLICA_NOT_AVAILABLE, LOG_DIR_NOT_FOUND = 3, 9, 57
RATE_KEY = "replica.alter.log.dirs.io.max.bytes.per.second"


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


def in_sync(c, p):
    # a broker just restarted may not know the partition yet (before the
    # controller's UpdateMetadata reached it): not in sync as far as we know
    t = metadata(c).topics.get(TOPIC)
    md = t.partitions.get(p) if t is not None else None
    return md is not None and md.leader > 0 and sorted(md.isrs) == [1, 2]


def replicas(c, p):
    return list(metadata(c).topics[TOPIC].partitions[p].replicas)


def describe(c):
    return describe_topic(c, TOPIC)


def describe_topic(c, topic):
    """{(broker, partition): [(dir, isFuture, offsetLag)]} from klog-dirs."""
    r = tool("klog-dirs", "--describe", "--topic-list", topic, bootstrap=c.bootstrap)
    doc = json.loads(r.stdout.splitlines()[2])
    out = {}
    for b in doc["brokers"]:
        for d in b["logDirs"]:
            assert d["error"] is None, d
            for p in d["partitions"]:
                part = int(p["partition"].rsplit("-", 1)[1])
                out.setdefault((b["broker"], part), []).append(
                    (d["logDir"], p["isFuture"], p["offsetLag"]))
    return out


def current_dir(c, b, p):
    """The one dir holding TOPIC-p on broker b (on disk)."""
    found = [d for d in dirs_of(c, b) if os.path.isdir(os.path.join(d, "%s-%d" % (TOPIC, p)))]
    assert len(found) == 1, (b, p, found)
    return found[0]


def other(c, b, d):
    return [x for x in dirs_of(c, b) if x != d][0]


def settled(c, want):
    """Every (broker, partition) of want in its dir, no future replica."""
    got = describe(c)
    return all([x[:2] for x in got.get(k, [])] == [(d, False)]
               for k, d in want.items()) and \
        not any(f for v in got.values() for (_, f, _) in v)


def leftovers(c, b):
    return [x for d in dirs_of(c, b) for x in os.listdir(d)
            if x.endswith("-future") or x.endswith("-delete")]


def check_on_disk(c, want):
    for (b, p), d in want.items():
        name = "%s-%d" % (TOPIC, p)
        path = os.path.join(d, name)
        assert glob.glob(os.path.join(path, "*.log")), path
        assert glob.glob(os.path.join(path, "*.index")), path
        assert os.path.exists(os.path.join(path, "leader-epoch-checkpoint")), path
        assert os.path.exists(os.path.join(path, "partition.metadata")), path
        assert not os.path.exists(os.path.join(other(c, b, d), name)), (b, p)
    for b in (1, 2):
        wait_for(lambda: not leftovers(c, b), 120,
                 "broker %d: no -future or -delete dir left" % b)


def plan_file(c, want):
    parts = []
    for p in range(PARTS):
        reps = replicas(c, p)
        parts.append({"topic": TOPIC, "partition": p, "replicas": reps,
                      "log_dirs": [want.get((b, p), "any") for b in reps]})
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({"version": 1, "partitions": parts}, f)
    f.close()
    return f.name


def alter_raw(c, broker, path, topic, p):
    with Wire(c.broker_port(broker)) as w:
        r = w.call(34, 1, {"dirs": [{"path": path, "topics": [
            {"name": topic, "partitions": [p]}]}]})
    return r["results"][0]["partitions"][0]["error_code"]


def setup(c):
    give_two_dirs(c)
    tool("ktopics", "--create", "--topic", TOPIC, "--partitions", str(PARTS),
         "--replication-factor", "2", "--config", "segment.bytes=65536",
         bootstrap=c.bootstrap)
    for p in range(PARTS):
        wait_for(lambda: in_sync(c, p), 120, "%s-%d in sync" % (TOPIC, p))
    # batches stay well under segment.bytes: a larger one is refused with
    # RECORD_LIST_TOO_LARGE, as Kafka refuses it, when the producer's queue
    # grows while a replica moves
    c.writer = Writer(c, TOPIC, conf={"batch.size": 16384})
    c.writer.progress(3000, "3000 records acknowledged")


def move_all(c, want, what):
    f = plan_file(c, want)
    r = tool("kreassign-partitions", "--execute", "--reassignment-json-file", f,
             bootstrap=c.bootstrap)
    assert "Successfully started log directory moves for: " in r.stdout, r.stdout
    wait_for(lambda: settled(c, want), 180, what)
    r = tool("kreassign-partitions", "--verify", "--reassignment-json-file", f,
             bootstrap=c.bootstrap)
    for (b, p) in want:
        assert "Reassignment of replica %d-%s-%d completed successfully." % (b, TOPIC, p) \
            in r.stdout, r.stdout
    os.unlink(f)


def move_every_replica(c):
    before = {(b, p): current_dir(c, b, p) for b in (1, 2) for p in range(PARTS)}
    want = {k: other(c, k[0], d) for k, d in before.items()}
    n = len(c.writer.acked)
    move_all(c, want, "every replica in its other log dir")
    check_on_disk(c, want)
    # the producer went on meanwhile and goes on after
    c.writer.progress(1000, "1000 more records acknowledged after the moves")
    assert len(c.writer.acked) > n
    assert not c.writer.failed, c.writer.failed[:3]


def broker_answers(c):
    b = 1
    d = current_dir(c, b, 0)
    assert alter_raw(c, b, "/nowhere", TOPIC, 0) == LOG_DIR_NOT_FOUND
    assert alter_raw(c, b, d, "no-such-topic", 0) == UNKNOWN_TOPIC
    assert alter_raw(c, b, d, TOPIC, 99) == UNKNOWN_TOPIC
    # a partition the cluster has, not hosted here: remembered
    tool("ktopics", "--create", "--topic", "solo", "--replica-assignment", "2",
         bootstrap=c.bootstrap)
    wait_for(lambda: "solo" in metadata(c).topics, 60, "topic solo")
    assert alter_raw(c, b, d, "solo", 0) == REPLICA_NOT_AVAILABLE
    # already there: nothing to do
    assert alter_raw(c, b, d, TOPIC, 0) == 0
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({"version": 1, "partitions": [
        {"topic": "solo", "partition": 0, "replicas": [2], "log_dirs": ["/nowhere"]}]}, f)
    f.close()
    r = tool("kreassign-partitions", "--execute", "--reassignment-json-file", f.name,
             rc=1, bootstrap=c.bootstrap)
    assert "Failed to alter dir for 2-solo-0 to /nowhere: " in r.stderr, r.stderr
    os.unlink(f.name)


def io_rate(c, b, rate):
    """replica.alter.log.dirs.io.max.bytes.per.second of broker b (None:
    deleted)."""
    if rate is None:
        args = ("--delete-config", RATE_KEY)
    else:
        args = ("--add-config", "%s=%d" % (RATE_KEY, rate))
    tool("kconfigs", "--entity-type", "brokers", "--entity-name", str(b), "--alter",
         *args, bootstrap=c.bootstrap)


def futures(c, b):
    return [(p, lag) for (x, p), v in describe(c).items() if x == b
            for (_, fut, lag) in v if fut]


def killed_during_a_move(c):
    b = 2
    want = {(b, p): other(c, b, current_dir(c, b, p)) for p in range(PARTS)}
    f = plan_file(c, want)
    # slow copies: the move is seen under way, and killed in the middle.
    # The throttle is in place before the move starts (the tool sets it
    # too, but the broker hears of a config change through ZooKeeper after
    # the tool's AlterReplicaLogDirs may have started the copy at full
    # speed: over at once on a fast machine)
    said = "config change of broker %d" % b
    n0 = broker_log(c, b).count(said)
    io_rate(c, b, 20000)
    wait_for(lambda: broker_log(c, b).count(said) > n0, 60,
             "broker %d: the log dir throttle applied" % b)
    r = tool("kreassign-partitions", "--execute", "--reassignment-json-file", f,
             "--replica-alter-log-dirs-throttle", "20000", bootstrap=c.bootstrap)
    assert "The replica-alter-dir throttle limit was set to 20000 B/s on broker %d" % b \
        in r.stdout, r.stdout
    wait_for(lambda: any(lag > 0 for _, lag in futures(c, b)), 60,
             "broker %d: a future replica behind the current one" % b)
    r = tool("kreassign-partitions", "--verify", "--reassignment-json-file", f,
             rc=3, bootstrap=c.bootstrap)
    assert "is still in progress." in r.stdout, r.stdout
    assert any(x.endswith("-future") for x in leftovers(c, b)), leftovers(c, b)
    c.kill("broker", b)
    # whichever point the move reached, one whole replica per partition
    c.start("broker", b)
    io_rate(c, b, None)
    for p in range(PARTS):
        wait_for(lambda: in_sync(c, p), 180, "%s-%d in sync after the restart" % (TOPIC, p))
    # asking again finishes what was left (or finds it done)
    move_all(c, want, "broker %d's replicas moved after its restart" % b)
    check_on_disk(c, want)
    os.unlink(f)


def broker_log(c, b):
    with open(os.path.join(c.dir, "broker-%d.log" % b), errors="replace") as f:
        return f.read()


def crash_points(c):
    b = 1
    cur = {p: current_dir(c, b, p) for p in range(PARTS)}
    c.stop("broker", b)
    # partition 0: a partial copy beside the current log
    name0 = "%s-0" % TOPIC
    fut0 = os.path.join(other(c, b, cur[0]), name0 + "." + "a" * 32 + "-future")
    shutil.copytree(os.path.join(cur[0], name0), fut0)
    logs = sorted(glob.glob(os.path.join(fut0, "*.log")))
    for x in logs[1:]:
        os.unlink(x)
    # partition 1: the current log renamed away after a whole copy
    name1 = "%s-1" % TOPIC
    fut1 = os.path.join(other(c, b, cur[1]), name1 + "." + "b" * 32 + "-future")
    shutil.copytree(os.path.join(cur[1], name1), fut1)
    os.rename(os.path.join(cur[1], name1),
              os.path.join(cur[1], name1 + "." + "c" * 32 + "-delete"))
    c.start("broker", b)
    text = broker_log(c, b)
    assert "the move of %s here was not finished; starting it again" % name0 in text
    assert "finishing the move of %s here" % name1 in text
    want = {(b, 0): other(c, b, cur[0]), (b, 1): other(c, b, cur[1])}
    wait_for(lambda: settled(c, want), 180,
             "broker %d: the unfinished move done again, the finished one kept" % b)
    for p in range(PARTS):
        wait_for(lambda: in_sync(c, p), 180, "%s-%d in sync" % (TOPIC, p))
    check_on_disk(c, want)


def read_tx(c, isolation):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "unused",
                     "enable.auto.commit": False, "isolation.level": isolation})
    tp = TopicPartition("tx", 0)
    _, hi = cons.get_watermark_offsets(tp, timeout=60)
    cons.assign([TopicPartition("tx", 0, 0)])
    got, last = [], -1
    for _ in range(120):
        m = cons.poll(1.0)
        if m is not None and not m.error():
            got.append(int(m.value()))
            last = m.offset()
        elif got and last + 1 >= hi - 1:
            break
    cons.close()
    return got


def transactions_move_too(c):
    """A transactional topic's replicas moved: the aborted transactions
    index and the producer state come along (read_committed still skips
    the aborted records, the producer's next transaction is accepted)."""
    from confluent_kafka import Producer

    tool("ktopics", "--create", "--topic", "tx", "--partitions", "1",
         "--replication-factor", "2", bootstrap=c.bootstrap)
    p = Producer({"bootstrap.servers": c.bootstrap, "transactional.id": "mover",
                  "transaction.timeout.ms": 60000, "message.timeout.ms": 60000})
    p.init_transactions(120)
    for base, commit in ((0, True), (100, False), (10, True)):
        p.begin_transaction()
        for i in range(base, base + 10):
            p.produce("tx", value=b"%d" % i, partition=0)
        # written first (the partition joins the transaction once the
        # previous one's markers are done), so the abort is of this one
        assert p.flush(60) == 0
        if commit:
            p.commit_transaction(60)
        else:
            p.abort_transaction(60)
    committed = list(range(0, 20))
    assert read_tx(c, "read_committed") == committed
    want = {}
    for b in (1, 2):
        d = [x for x in dirs_of(c, b) if os.path.isdir(os.path.join(x, "tx-0"))][0]
        want[(b, 0)] = other(c, b, d)
    f = tempfile.NamedTemporaryFile("w", suffix=".json", delete=False)
    json.dump({"version": 1, "partitions": [
        {"topic": "tx", "partition": 0, "replicas": list(metadata(c).topics["tx"].partitions[0].replicas),
         "log_dirs": [want[(b, 0)] for b in metadata(c).topics["tx"].partitions[0].replicas]}]}, f)
    f.close()
    tool("kreassign-partitions", "--execute", "--reassignment-json-file", f.name,
         bootstrap=c.bootstrap)
    os.unlink(f.name)

    def moved():
        got = describe_topic(c, "tx")
        return all([x[:2] for x in got.get(k, [])] == [(d, False)] for k, d in want.items())
    wait_for(moved, 120, "tx-0 moved on both brokers")
    for (b, _), d in want.items():
        path = os.path.join(d, "tx-0")
        idx = glob.glob(os.path.join(path, "*.txnindex"))
        assert idx and sum(os.stat(x).st_size for x in idx) > 0, (b, os.listdir(path))
        assert glob.glob(os.path.join(path, "*.snapshot")), (b, os.listdir(path))
    assert read_tx(c, "read_committed") == committed
    assert len(read_tx(c, "read_uncommitted")) == 30
    p.begin_transaction()
    for i in range(20, 30):
        p.produce("tx", value=b"%d" % i, partition=0)
    p.commit_transaction(60)
    assert read_tx(c, "read_committed") == list(range(0, 30))


def nothing_lost(c):
    c.writer.progress(500, "500 more records acknowledged")
    c.writer.finish()
    acked = c.writer.acked
    got = set(read_values(c.bootstrap, TOPIC, PARTS))
    missing = acked - got
    assert not missing, "%d acknowledged records lost, e.g. %s" % (
        len(missing), sorted(missing)[:10])
    print("acknowledged %d records, all read back" % len(acked))


def main():
    with tempfile.TemporaryDirectory() as workdir:
        with Cluster(workdir, brokers=2, controllers=1,
                     broker_set={"log.segment.delete.delay.ms": "1000",
                                 "transaction.state.log.replication.factor": "2",
                                 "transaction.state.log.num.partitions": "2"}) as c:
            c.writer = None
            try:
                run_steps((setup, move_every_replica, broker_answers,
                           killed_during_a_move, crash_points, transactions_move_too,
                           nothing_lost), c)
            finally:
                if c.writer is not None and not c.writer.stop.is_set():
                    c.writer.stop.set()
                    c.writer.t.join(60)
    print("0039: OK")


if __name__ == "__main__":
    main()
