#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Leader-epoch checkpoints rebuilt after a crash in the middle of a leader
move (issue 23), on a real 3-broker kcluster under an acks=all
confluent-kafka producer that runs the whole time.

The brokers write leader-epoch-checkpoint later than the change, batched
(leader.epoch.checkpoint.interval.ms, skald's own key, set to an hour here
so that only flushes and clean shutdowns write it):

- broker 1 stopped (controlled shutdown): broker 2 becomes leader of
  partition 0 at a new epoch and appends the producer's records in it; its
  checkpoint file does not know that epoch yet (checked against the log's
  batches read with kdump-log) when broker 2 is SIGKILLed;
- broker 3 takes over; then broker 3 is SIGKILLed too and broker 2 started
  alone (no leader to truncate against or fetch from) and stopped
  cleanly: the checkpoint it writes lists every epoch of its log, the new
  one included, i.e. recovery rebuilt what the crash lost;
- all three started again, every ISR full again (broker 2 truncating what
  it had not replicated);
- broker 2 is made leader of partition 0 again (brokers 3 and 1 stopped
  and started in turn): its OffsetForLeaderEpoch answers for every epoch
  in its log are where the next epoch's first batch is (the latest: the
  log end), i.e. the cache recovery rebuilt is complete;
- every acknowledged record is read back; the replicas' logs are the same
  batches (offsets, epochs, CRCs) on every broker, so the followers
  truncated where they should; broker 2's checkpoint files, written at its
  clean shutdown, list exactly the epochs of its log (Kafka's format:
  version 0, count, "epoch offset" lines).
"""

import glob
import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402
from kwire import Wire  # noqa: E402

TOPIC = "ep"
PARTS = 3
ASSIGN = "1:2:3,2:3:1,3:1:2"
V = 2          # the broker killed right after it became leader of partition 0
BATCH = re.compile(r"baseOffset: (\d+) lastOffset: (\d+) .*partitionLeaderEpoch: (-?\d+)"
                   r" .*crc: (\d+) isvalid: (\w+)")


def state(zk, p):
    data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (TOPIC, p))
    return json.loads(data)


def full_isr(zk):
    return all(sorted(state(zk, p)["isr"]) == [1, 2, 3] for p in range(PARTS))


def part_dir(c, b, p):
    return os.path.join(c.data_dir(b), "%s-%d" % (TOPIC, p))


def batches(c, b, p):
    """[(base, last, epoch, crc)] of broker b's replica of partition p, in
    offset order (a batch being written at the end is left out)."""
    files = sorted(glob.glob(os.path.join(part_dir(c, b, p), "*.log")))
    out = []
    for f in files:
        r = tool("kdump-log", "--files", f, rc=None)
        assert r.returncode in (0, 1), r.stderr
        for line in r.stdout.splitlines():
            m = BATCH.search(line)
            if m and m.group(5) == "true":
                out.append((int(m.group(1)), int(m.group(2)), int(m.group(3)),
                            int(m.group(4))))
    return out


def log_epochs(bs):
    """The epoch cache the batches imply: (epoch, first offset) whenever
    the batches' partitionLeaderEpoch changes."""
    out = []
    for base, _, epoch, _ in bs:
        if epoch >= 0 and (not out or out[-1][0] != epoch):
            out.append((epoch, base))
    return out


def checkpoint(c, b, p):
    """broker b's leader-epoch-checkpoint of p: [(epoch, offset)], None when
    there is none."""
    path = os.path.join(part_dir(c, b, p), "leader-epoch-checkpoint")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        lines = f.read().splitlines()
    assert lines[0] == "0", lines
    n = int(lines[1])
    assert len(lines) == 2 + n, lines
    return [tuple(int(x) for x in l.split(" ")) for l in lines[2:]]


def offset_for_epoch(c, b, p, epoch):
    with Wire(c.broker_port(b)) as w:
        r = w.call(23, 3, {"replica_id": -2, "topics": [
            {"topic": TOPIC, "partitions": [
                {"partition": p, "current_leader_epoch": -1, "leader_epoch": epoch}]}]})
    x = r["topics"][0]["partitions"][0]
    return x["error_code"], x["leader_epoch"], x["end_offset"]


def setup(c):
    tool("ktopics", "--create", "--topic", TOPIC, "--replica-assignment", ASSIGN,
         bootstrap=c.bootstrap)
    c.zkc = c.zk()
    wait_for(lambda: full_isr(c.zkc), 120, "every ISR full")
    c.writer = Writer(c, TOPIC)
    c.writer.progress(1500, "1500 records acknowledged")


def crash_right_after_becoming_leader(c):
    zk = c.zkc
    before = state(zk, 0)["leader_epoch"]
    c.stop("broker", 1)
    wait_for(lambda: state(zk, 0)["leader"] == V, 60, "broker %d leads %s-0" % (V, TOPIC))
    epoch = state(zk, 0)["leader_epoch"]
    assert epoch > before, (before, epoch)

    def appended_in_new_epoch():
        bs = batches(c, V, 0)
        return bs and bs[-1][2] == epoch
    c.writer.progress(300, "300 records acknowledged after the move")
    wait_for(appended_in_new_epoch, 60, "broker %d appending in epoch %d" % (V, epoch))
    # the crash point is real: the file does not know the new epoch
    cp = checkpoint(c, V, 0)
    assert cp is None or all(e < epoch for e, _ in cp), (
        "the checkpoint was written at the leader change: %s" % cp)
    print("broker %d leads %s-0 at epoch %d; its checkpoint says %s; SIGKILL"
          % (V, TOPIC, epoch, cp))
    c.kill("broker", V)
    c.epoch = epoch
    wait_for(lambda: state(zk, 0)["leader"] == 3, 60, "broker 3 leads %s-0" % TOPIC)
    c.writer.progress(300, "300 records acknowledged by broker 3")
    # broker V alone: its recovery's epochs, before any leader could make
    # it truncate and fetch them again (broker 3, the only replica in sync,
    # SIGKILLed too: every partition offline, nothing unclean elected)
    c.kill("broker", 3)
    c.start("broker", V)
    c.stop("broker", V)     # a clean shutdown writes its checkpoints
    bs = batches(c, V, 0)
    cp = checkpoint(c, V, 0)
    assert any(e == epoch for e, _ in log_epochs(bs)), (epoch, log_epochs(bs))
    assert cp == log_epochs(bs), "rebuilt checkpoint %s, log %s" % (cp, log_epochs(bs))
    print("broker %d restarted alone: its checkpoint rebuilt, %s" % (V, cp))
    c.start("broker", 3)
    c.start("broker", 1)
    c.start("broker", V)
    wait_for(lambda: full_isr(zk), 120, "brokers 1 and %d back in every ISR" % V)
    c.writer.progress(300, "300 more records acknowledged")


def restarted_broker_answers_right(c):
    """Broker V leads partition 0 again: OffsetForLeaderEpoch from the cache
    its recovery rebuilt."""
    zk = c.zkc
    # the leadership moves 3 -> 1 -> V (the assignment's order)
    for b in (3, 1):
        c.stop("broker", b)
        c.start("broker", b)
        wait_for(lambda: full_isr(zk), 120, "broker %d back in every ISR" % b)
    assert state(zk, 0)["leader"] == V, state(zk, 0)
    now = state(zk, 0)["leader_epoch"]
    wait_for(lambda: log_epochs(batches(c, V, 0))[-1][0] == now, 60,
             "broker %d appending in epoch %d" % (V, now))
    bs = batches(c, V, 0)
    want = log_epochs(bs)
    assert any(e == c.epoch for e, _ in want), (c.epoch, want)
    for i, (e, start) in enumerate(want):
        err, got_e, end = offset_for_epoch(c, V, 0, e)
        assert err == 0, (e, err)
        assert got_e == e, (e, got_e)
        if e == now:
            # the latest: the log end, which moves with the producer
            assert end >= bs[-1][1] + 1, (e, end, bs[-1])
        else:
            assert i + 1 < len(want) and end == want[i + 1][1], (e, end, want)
    print("broker %d: OffsetForLeaderEpoch right for epochs %s" % (V, want))


def nothing_lost_and_replicas_agree(c):
    c.writer.progress(300, "300 more records acknowledged")
    c.writer.finish()
    acked = c.writer.acked
    assert not c.writer.failed, c.writer.failed[:5]
    got = set(read_values(c.bootstrap, TOPIC, PARTS))
    missing = acked - got
    assert not missing, "%d acknowledged records lost, e.g. %s" % (
        len(missing), sorted(missing)[:10])
    print("acknowledged %d records, all read back" % len(acked))
    for p in range(PARTS):
        wait_for(lambda: batches(c, 1, p) == batches(c, 2, p) == batches(c, 3, p),
                 120, "%s-%d: the same batches on every broker" % (TOPIC, p))
    # broker V's files, written at its clean shutdown, are its log's epochs
    c.stop("broker", V)
    for p in range(PARTS):
        bs = batches(c, V, p)
        want = log_epochs(bs)
        cp = checkpoint(c, V, p)
        assert cp is not None, p
        leo = bs[-1][1] + 1 if bs else 0
        # an epoch it led without writing in it starts at the log end
        if len(cp) == len(want) + 1 and cp[-1][1] == leo:
            cp = cp[:-1]
        assert cp == want, "%s-%d: checkpoint %s, log %s" % (TOPIC, p, cp, want)
    print("broker %d: leader-epoch-checkpoint files match the logs" % V)
    c.start("broker", V)


def main():
    with tempfile.TemporaryDirectory() as workdir:
        with Cluster(workdir, brokers=3, controllers=1,
                     broker_set={"leader.epoch.checkpoint.interval.ms": "3600000"},
                     controller_set={"auto.leader.rebalance.enable": "false"}) as c:
            c.writer = None
            try:
                run_steps((setup, crash_right_after_becoming_leader,
                           restarted_broker_answers_right,
                           nothing_lost_and_replicas_agree), c)
            finally:
                if c.writer is not None and not c.writer.stop.is_set():
                    c.writer.stop.set()
                    c.writer.t.join(60)
    print("0042: OK")


if __name__ == "__main__":
    main()
