#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The controller's duties beyond failover, on a real 3-broker kcluster with
two kcontrollers (auto rebalance every 3 s):

- the imbalance threshold: a broker leading 19 of the 20 partitions it is
  preferred for (5 % <= leader.imbalance.per.broker.percentage) is left
  alone by auto rebalance, and /admin/preferred_replica_election moves the
  20th back (the znode is removed once acted on);
- auto rebalance: after a broker is killed and restarted, every partition
  it is preferred for is led by it again, while an acks=all producer
  loses nothing;
- reassignment through /admin/reassign_partitions while an acks=all
  producer writes: the topic znode ends with exactly the planned replicas
  and no adding/removing replicas, the znode goes, the removed replicas'
  logs are deleted, every acknowledged record is read back;
- topic deletion with a broker down waits, and completes once it is back;
- fencing: the active controller paused with SIGSTOP loses its session, a
  new one takes over and acts, and the old one, resumed, changes nothing
  (every state znode and its version stay as the new controller left them).
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values  # noqa: E402
from kbroker import wait_for  # noqa: E402


def create(c, name, parts, rf, assignment=None):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    if assignment:
        nt = NewTopic(name, len(assignment), replica_assignment=assignment)
    else:
        nt = NewTopic(name, parts, rf)
    for f in a.create_topics([nt], operation_timeout=60).values():
        f.result()


def state(zk, topic, part):
    data, stat = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, part))
    return json.loads(data), stat


def assignment(zk, topic):
    return json.loads(zk.get("/brokers/topics/%s" % topic)[0])


def all_preferred(zk, topic, nparts, full_isr=True):
    a = assignment(zk, topic)["partitions"]
    for p in range(nparts):
        s, _ = state(zk, topic, p)
        if s["leader"] != a[str(p)][0]:
            return False
        if full_isr and sorted(s["isr"]) != sorted(a[str(p)]):
            return False
    return True


def threshold_and_znode(c, zk):
    # broker 1 is preferred for A-0 (replicated) and B-0..18 (only replica)
    create(c, "el-a", 0, 0, assignment=[[1, 2, 3]])
    create(c, "el-b", 0, 0, assignment=[[1]] * 19)
    wait_for(lambda: all_preferred(zk, "el-a", 1), 60, "el-a led by 1, full ISR")
    c.kill("broker", 1)
    wait_for(lambda: state(zk, "el-a", 0)[0]["leader"] in (2, 3), 60,
             "el-a-0 to move off broker 1")
    c.start("broker", 1)
    wait_for(lambda: all_preferred(zk, "el-b", 19), 60, "el-b back on broker 1")
    wait_for(lambda: sorted(state(zk, "el-a", 0)[0]["isr"]) == [1, 2, 3], 60,
             "broker 1 back in el-a-0's ISR")
    # 1 of 20 off its preferred broker: under the 10 % threshold; three
    # rebalance rounds (3 s apart) leave it where it is
    s0, st0 = state(zk, "el-a", 0)
    time.sleep(10)
    s1, st1 = state(zk, "el-a", 0)
    assert s1["leader"] != 1 and st1.version == st0.version, (s0, s1)
    zk.create("/admin/preferred_replica_election",
              json.dumps({"version": 1, "partitions": [
                  {"topic": "el-a", "partition": 0}]}).encode())
    wait_for(lambda: state(zk, "el-a", 0)[0]["leader"] == 1, 60,
             "the preferred election of el-a-0")
    wait_for(lambda: zk.exists("/admin/preferred_replica_election") is None, 60,
             "/admin/preferred_replica_election to be removed")
    assert state(zk, "el-a", 0)[0]["leader_epoch"] > s1["leader_epoch"]
    print("ok: imbalance threshold respected; preferred election znode acted on")


def auto_rebalance(c, zk):
    create(c, "rb", 6, 3)
    wait_for(lambda: all_preferred(zk, "rb", 6), 60, "rb led by preferred replicas")
    prefs = assignment(zk, "rb")["partitions"]
    led_by_2 = [p for p in range(6) if prefs[str(p)][0] == 2]
    assert led_by_2, prefs
    w = Writer(c, "rb")
    w.progress(500, "first writes")
    c.kill("broker", 2)
    wait_for(lambda: all(state(zk, "rb", p)[0]["leader"] != 2 for p in led_by_2),
             60, "leadership off broker 2")
    w.progress(500, "writes without broker 2")
    c.start("broker", 2)
    wait_for(lambda: all_preferred(zk, "rb", 6), 120,
             "auto rebalance to give broker 2 its partitions back")
    w.progress(500, "writes after the rebalance")
    w.finish()
    assert not w.failed, w.failed[:5]
    got = read_values(c.bootstrap, "rb", 6)
    missing = w.acked - set(got)
    assert not missing, "%d acknowledged records lost, e.g. %s" % (
        len(missing), sorted(missing)[:10])
    print("ok: auto rebalance restored %d preferred leaders; %d acked records all read"
          % (len(led_by_2), len(w.acked)))


def reassign_znode(c, zk):
    create(c, "mv", 0, 0, assignment=[[1, 2], [2, 1], [1, 2]])
    wait_for(lambda: all(sorted(state(zk, "mv", p)[0]["isr"]) == [1, 2]
                         for p in range(3)), 60, "mv's ISRs")
    w = Writer(c, "mv")
    w.progress(2000, "writes before the reassignment")
    target = {0: [3, 2], 1: [3, 1], 2: [2, 3]}
    zk.create("/admin/reassign_partitions", json.dumps({
        "version": 1, "partitions": [{"topic": "mv", "partition": p,
                                      "replicas": r} for p, r in target.items()]
    }).encode())

    def done():
        a = assignment(zk, "mv")
        return (all(a["partitions"][str(p)] == r for p, r in target.items()) and
                not any(a.get("adding_replicas", {}).values()) and
                not any(a.get("removing_replicas", {}).values()) and
                zk.exists("/admin/reassign_partitions") is None)
    wait_for(done, 120, "the reassignment to complete")
    for p, r in target.items():
        s, _ = state(zk, "mv", p)
        assert s["leader"] in r and set(s["isr"]) <= set(r), (p, s)
    w.progress(500, "writes after the reassignment")
    w.finish()
    assert not w.failed, w.failed[:5]
    # the replicas reassigned away are deleted from their brokers
    removed = {(0, 1), (1, 2), (2, 1)}

    def gone():
        for p, b in removed:
            d = os.path.join(c.dir, "broker-%d" % b)
            for root, dirs, _ in os.walk(d):
                if "mv-%d" % p in dirs:
                    return False
        return True
    wait_for(gone, 60, "removed replicas' logs to be deleted")
    got = read_values(c.bootstrap, "mv", 3)
    missing = w.acked - set(got)
    assert not missing, "%d acknowledged records lost" % len(missing)
    print("ok: /admin/reassign_partitions moved 3 partitions under load; "
          "%d acked records all read" % len(w.acked))


def deletion_waits(c, zk):
    create(c, "del-me", 3, 3)
    wait_for(lambda: all(len(state(zk, "del-me", p)[0]["isr"]) == 3
                         for p in range(3)), 60, "del-me's ISRs")
    c.kill("broker", 3)
    wait_for(lambda: "3" not in zk.get_children("/brokers/ids"), 60,
             "broker 3's registration to go")
    from confluent_kafka.admin import AdminClient
    a = AdminClient({"bootstrap.servers": c.bootstrap})
    for f in a.delete_topics(["del-me"], operation_timeout=5).values():
        try:
            f.result()
        except Exception:
            pass        # a timeout: the deletion waits for broker 3
    time.sleep(3)
    assert zk.exists("/brokers/topics/del-me") is not None
    assert zk.exists("/admin/delete_topics/del-me") is not None
    c.start("broker", 3)
    wait_for(lambda: zk.exists("/brokers/topics/del-me") is None and
             zk.exists("/admin/delete_topics/del-me") is None, 120,
             "the deletion to complete once broker 3 is back")
    print("ok: deleting a topic with a replica down completes when it returns")


def controller_id(zk):
    """The active controller's id, or None while there is none (the
    znode may go between any two reads: no exists-then-get)."""
    from kazoo.exceptions import NoNodeError

    try:
        return json.loads(zk.get("/controller")[0])["brokerid"]
    except NoNodeError:
        return None


def fencing(c, zk):
    old = json.loads(zk.get("/controller")[0])["brokerid"]
    epoch0 = int(zk.get("/controller_epoch")[0])
    c.pause("controller", old)
    wait_for(lambda: controller_id(zk) not in (None, old), 60,
             "a new controller while %d is paused" % old)
    new = json.loads(zk.get("/controller")[0])["brokerid"]
    epoch1 = int(zk.get("/controller_epoch")[0])
    assert epoch1 > epoch0
    # the new controller acts: broker 1 goes, its partitions move
    create(c, "fence", 6, 3)
    wait_for(lambda: all(len(state(zk, "fence", p)[0]["isr"]) == 3
                         for p in range(6)), 60, "fence's ISRs")
    c.kill("broker", 1)
    wait_for(lambda: all(state(zk, "fence", p)[0]["leader"] != 1 for p in range(6)),
             60, "leaders off broker 1")
    topics = zk.get_children("/brokers/topics")

    def snapshot():
        snap = {}
        for t in topics:
            for p in zk.get_children("/brokers/topics/%s/partitions" % t):
                s, st = state(zk, t, int(p))
                snap[(t, p)] = (st.version, s["leader"], s["controller_epoch"])
        return snap
    before = snapshot()
    log = os.path.join(c.dir, "controller-%d.log" % old)
    size = os.path.getsize(log)
    c.resume("controller", old)

    def resigned():
        with open(log, errors="replace") as f:
            f.seek(size)
            text = f.read()
        return "standing by" in text or "resign" in text
    try:
        wait_for(resigned, 120, "the resumed controller %d to stand down" % old)
    except AssertionError:
        # where its threads wait, for the failure report
        try:
            with open(os.path.join(c.dir, "controller-%d.pid" % old)) as f:
                pid = int(f.read().split()[0])
            for tid in sorted(os.listdir("/proc/%d/task" % pid)):
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    st = f.read().split(")")[-1].split()[0]
                with open("/proc/%d/task/%s/wchan" % (pid, tid)) as f:
                    wchan = f.read()
                with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                    comm = f.read().strip()
                print("controller %d thread %s (%s): state %s, waiting in %s" % (
                    old, tid, comm, st, wchan))
        except OSError as e:
            print("no thread states: %s" % e)
        raise
    time.sleep(2)
    after = snapshot()
    assert before == after, [(k, before[k], after.get(k)) for k in before
                             if before[k] != after.get(k)][:5]
    assert json.loads(zk.get("/controller")[0])["brokerid"] == new
    assert int(zk.get("/controller_epoch")[0]) == epoch1
    assert all(v[2] <= epoch1 for v in after.values())
    c.start("broker", 1)
    print("ok: a controller resumed after SIGSTOP changed nothing (epoch %d -> %d)"
          % (epoch0, epoch1))


def dump_topic(c, zk, topic):
    """A failed step's partition states and the brokers' lines about them."""
    try:
        for p in sorted(int(x) for x in
                        zk.get_children("/brokers/topics/%s/partitions" % topic)):
            print("%s-%d state: %s" % (topic, p, state(zk, topic, p)[0]))
    except Exception as e:  # noqa: BLE001 - a report, whatever went wrong
        print("no states for %s: %s" % (topic, e))
    for b in (1, 2, 3):
        path = os.path.join(c.dir, "broker-%d.log" % b)
        if not os.path.exists(path):
            continue
        with open(path) as f:
            lines = [line for line in f if topic + "-" in line]
        print("--- broker-%d.log about %s (last 60 of %d)" % (b, topic, len(lines)))
        print("".join(lines[-60:]))


def main():
    with tempfile.TemporaryDirectory(prefix="skald-0013-") as d:
        with Cluster(d, brokers=3, controllers=2, controller_set={
                "auto.leader.rebalance.enable": "true",
                "leader.imbalance.check.interval.seconds": "3"}, fail_tail=80) as c:
            zk = c.zk()
            try:
                threshold_and_znode(c, zk)
                auto_rebalance(c, zk)
                reassign_znode(c, zk)
                deletion_waits(c, zk)
                fencing(c, zk)
            except BaseException:
                for t in ("rb", "mv"):
                    dump_topic(c, zk, t)
                raise


if __name__ == "__main__":
    main()
