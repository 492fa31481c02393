#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""kreassign-partitions against a real 3-broker kcluster:

- bad plans (unknown topic or partition, a broker twice, an unknown
  broker, an empty list, malformed JSON, log_dirs of another length
  than the replicas) exit 1
  before anything changes; misplaced options exit 2;
- --generate proposes, with Kafka's placement, a layout of a topic on
  brokers 2,3 only, and its "current" part is ZooKeeper's assignment;
- --execute --throttle (4 MB/s, 12 MB to copy) of that proposal while a
  confluent-kafka producer (acks=all) keeps writing: the throttle settings land in ZooKeeper
  (/config/topics/<t>: the current replicas as leader.*, the added ones as
  follower.*; /config/brokers/<id>: both rates on every broker involved),
  --verify exits 3 while anything moves and 0 once done, after which
  every acknowledged record is read back, /brokers/topics/<t> holds the
  plan with no adding/removing replicas, and the throttles are gone;
- --cancel of a reassignment kept slow by a tiny throttle (exit 3 from
  --verify, "adding"/"removing" in --list, a second --execute refused
  without --additional) restores the original replicas and removes the
  throttles; --verify then reports the mismatch (exit 1).
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, read_values, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402


def reassign(c, *args, rc=0):
    return tool("kreassign-partitions", *args, rc=rc, bootstrap=c.bootstrap)


def zk_json(zk, path):
    if not zk.exists(path):
        return None
    return json.loads(zk.get(path)[0])


def assignment(zk, topic):
    return zk_json(zk, "/brokers/topics/" + topic)


def moving(zk, topic):
    """Partitions with adding or removing replicas in ZooKeeper."""
    a = assignment(zk, topic)
    return {p for key in ("adding_replicas", "removing_replicas")
            for p, v in (a.get(key) or {}).items() if v}


def config(zk, kind, name):
    return (zk_json(zk, "/config/%s/%s" % (kind, name)) or {}).get("config", {})


THROTTLE_KEYS = {"leader.replication.throttled.rate",
                 "follower.replication.throttled.rate",
                 "leader.replication.throttled.replicas",
                 "follower.replication.throttled.replicas"}


def no_throttles(zk, topic):
    left = set(config(zk, "topics", topic)) & THROTTLE_KEYS
    for b in (1, 2, 3):
        left |= set(config(zk, "brokers", str(b))) & THROTTLE_KEYS
    return not left


def write_file(c, name, doc):
    path = os.path.join(c.dir, name)
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    return path


def plan_of(parts):
    return {"version": 1, "partitions": [
        {"topic": t, "partition": p, "replicas": r} for t, p, r in parts]}


def check_bad_plans(c, zk):
    tool("ktopics", "--create", "--topic", "moving", "--replica-assignment",
         "1:2,2:1,1:2", bootstrap=c.bootstrap, timeout=300)
    wait_for(lambda: all(zk.exists("/brokers/topics/moving/partitions/%d/state" % p)
                         for p in range(3)), 60, "moving's partitions")
    before = assignment(zk, "moving")["partitions"]
    for doc, what in (
            (plan_of([("nope", 0, [1])]),
             "non-existent partitions: nope-0"),
            (plan_of([("moving", 0, [2, 3]), ("moving", 7, [1])]),
             "non-existent partitions: moving-7"),
            (plan_of([("moving", 0, [2, 2])]),
             "moving-0 contains multiple entries for 2"),
            (plan_of([("moving", 0, [2]), ("moving", 0, [3])]),
             "duplicate topic partitions: moving-0"),
            (plan_of([("moving", 0, [1, 9])]), "Unknown broker id 9"),
            (plan_of([("moving", 0, [])]), "replica list cannot be empty"),
            ({"version": 1, "partitions": []}, "list cannot be empty"),
            ({"version": 2, "partitions": []}, "Not supported version field value 2"),
            ('{"version":1,"partitions":[', "not valid JSON"),
            ({"partitions": [{"topic": "moving", "partition": 0, "replicas": [2],
                              "log_dirs": ["/srv/kafka", "any"]}]},
             "is different from size of log dirs list")):
        r = reassign(c, "--execute", "--reassignment-json-file",
                     write_file(c, "bad.json", doc), rc=1)
        assert what in r.stderr, (doc, r.stderr)
        assert "Successfully" not in r.stdout, r.stdout
    for args, what in ((["--execute"], "--reassignment-json-file"),
                       (["--verify", "--throttle", "5", "--reassignment-json-file",
                         "x"], "can't be used with action"),
                       (["--list", "--verify"], "exactly one action"),
                       (["--generate", "--broker-list", "1"], "--topics-to-move-json-file"),
                       (["--execute", "--reassignment-json-file", "/nonexistent"],
                        "No such file")):
        r = reassign(c, *args, rc=2)
        assert what in r.stderr, (args, r.stderr)
    assert assignment(zk, "moving")["partitions"] == before
    assert reassign(c, "--list").stdout == "No partition reassignments found.\n"
    print("ok: bad plans refused (exit 1), misplaced options (exit 2), nothing changed")


def check_move(c, zk):
    topics = write_file(c, "topics.json", {"version": 1, "topics": [{"topic": "moving"}]})
    out = reassign(c, "--generate", "--topics-to-move-json-file", topics,
                   "--broker-list", "2,3").stdout
    lines = out.splitlines()
    assert lines[0] == "Current partition replica assignment", out
    assert lines[3] == "Proposed partition reassignment configuration", out
    current, proposed = json.loads(lines[1]), json.loads(lines[4])
    zk_parts = assignment(zk, "moving")["partitions"]
    assert current["version"] == 1
    assert {str(p["partition"]): p["replicas"] for p in current["partitions"]} == zk_parts
    assert [p["partition"] for p in proposed["partitions"]] == [0, 1, 2]
    for p in proposed["partitions"]:
        assert sorted(p["replicas"]) == [2, 3], proposed
        assert p["log_dirs"] == ["any", "any"]
    js = json.loads(reassign(c, "--generate", "--topics-to-move-json-file", topics,
                             "--broker-list", "2,3", "--json").stdout)
    assert js["current"] == current and len(js["proposed"]["partitions"]) == 3
    plan = write_file(c, "plan.json", lines[4])
    target = {str(p["partition"]): p["replicas"] for p in proposed["partitions"]}

    # 12 MB for broker 3 to copy at 4 MB/s: a few seconds of reassignment.
    tool("kperf", "produce", "--topic", "moving", "--num-records", "24000",
         "--record-size", "500", "--acks", "all", bootstrap=c.bootstrap,
         timeout=300)
    w = Writer(c, "moving", pause_every=20, pause=0.01)
    try:
        w.progress(500, "first acknowledgements")
        t0 = time.monotonic()
        out = reassign(c, "--execute", "--reassignment-json-file", plan,
                       "--throttle", "4000000").stdout
        lines = out.splitlines()
        assert lines[0] == "Current partition replica assignment", out
        assert json.loads(lines[2]) == current, out
        assert ("Save this to use as the --reassignment-json-file option "
                "during rollback") in lines, out
        assert "The inter-broker throttle limit was set to 4000000 B/s" in lines, out
        assert lines[-1] == ("Successfully started partition reassignments "
                             "for moving-0,moving-1,moving-2"), out
        # The throttles, as Kafka computes them, before --verify may clear them.
        lead = ",".join(sorted("%d:%d" % (p, b) for p in range(3)
                               for b in zk_parts[str(p)]))
        follow = ",".join(sorted("%d:%d" % (p, b) for p in range(3)
                                 for b in target[str(p)]
                                 if b not in zk_parts[str(p)]))
        tc = config(zk, "topics", "moving")
        assert tc.get("leader.replication.throttled.replicas") == lead, tc
        assert tc.get("follower.replication.throttled.replicas") == follow, tc
        for b in (1, 2, 3):
            bc = config(zk, "brokers", str(b))
            assert bc.get("leader.replication.throttled.rate") == "4000000", (b, bc)
            assert bc.get("follower.replication.throttled.rate") == "4000000", (b, bc)
        codes = []

        def verified():
            r = reassign(c, "--verify", "--reassignment-json-file", plan, rc=None)
            codes.append(r.returncode)
            assert r.returncode in (0, 3), (r.returncode, r.stdout, r.stderr)
            if r.returncode == 3:
                assert "is still in progress." in r.stdout, r.stdout
                return None
            return r
        r = wait_for(verified, 60, "--verify to report the reassignment complete")
        took = time.monotonic() - t0
        w.progress(500, "acknowledgements after the reassignment")
    finally:
        w.finish()
    for p in range(3):
        assert "Reassignment of partition moving-%d is complete." % p in r.stdout, r.stdout
    assert "Clearing broker-level throttles on brokers 1,2,3" in r.stdout, r.stdout
    assert "Clearing topic-level throttles on topic moving" in r.stdout, r.stdout
    # Copying 12 MB takes a while at 4 MB/s: --verify saw it in progress.
    assert codes[0] == 3 and codes[-1] == 0, codes
    a = assignment(zk, "moving")
    assert a["partitions"] == target, (a, target)
    assert not moving(zk, "moving"), a
    assert no_throttles(zk, "moving"), (config(zk, "topics", "moving"),
                                        [config(zk, "brokers", str(b)) for b in (1, 2, 3)])
    for p in range(3):
        st = zk_json(zk, "/brokers/topics/moving/partitions/%d/state" % p)
        assert st["leader"] in target[str(p)] and sorted(st["isr"]) == [2, 3], st
    assert not w.failed, w.failed[:5]
    got = set(read_values(c.bootstrap, "moving", 3, ints_only=True))
    lost = w.acked - got
    assert not lost, "%d acknowledged records lost, e.g. %s" % (
        len(lost), [(v, w.where.get(v)) for v in sorted(lost)[:10]])
    props = write_file(c, "admin.properties", "client.id=ops\ndefault.api.timeout.ms=20000\n")
    r = reassign(c, "--list", "--command-config", props)
    assert r.stdout == "No partition reassignments found.\n" and r.stderr == "", r
    print("ok: moved onto 2,3 in %.1fs while writing (%d acknowledged, none "
          "lost; --verify exited 3 %d times, then 0)" % (
              took, len(w.acked), codes.count(3)))


def check_cancel(c, zk):
    tool("ktopics", "--create", "--topic", "slow", "--replica-assignment", "1:2",
         bootstrap=c.bootstrap, timeout=300)
    tool("kperf", "produce", "--topic", "slow", "--num-records", "8000",
         "--record-size", "500", "--acks", "all", bootstrap=c.bootstrap,
         timeout=300)
    wait_for(lambda: zk_json(zk, "/brokers/topics/slow/partitions/0/state")["isr"] == [1, 2],
             60, "slow's ISR 1,2")
    plan = write_file(c, "slow.json", plan_of([("slow", 0, [1, 3])]))
    # 1 KiB/s for 4 MB: this reassignment cannot end during the test.
    reassign(c, "--execute", "--reassignment-json-file", plan, "--throttle", "1024")
    wait_for(lambda: moving(zk, "slow") == {"0"}, 30, "slow-0 reassigning in ZooKeeper")
    r = reassign(c, "--verify", "--reassignment-json-file", plan, rc=3)
    assert "Reassignment of partition slow-0 is still in progress." in r.stdout, r.stdout
    assert "Clearing" not in r.stdout, r.stdout
    js = json.loads(reassign(c, "--verify", "--reassignment-json-file", plan,
                             "--json", rc=3).stdout)
    assert js["partitions"][0]["state"] == "in_progress", js
    assert js["throttles_cleared"] is None, js
    out = reassign(c, "--list").stdout
    assert out == ("Current partition reassignments:\n"
                   "slow-0: replicas: 1,3,2. adding: 3. removing: 2.\n"), out
    rows = json.loads(reassign(c, "--list", "--json").stdout)
    assert rows == [{"topic": "slow", "partition": 0, "replicas": [1, 3, 2],
                     "adding": [3], "removing": [2]}], rows
    assert config(zk, "brokers", "3").get("follower.replication.throttled.rate") == "1024"
    # Another reassignment needs --additional meanwhile.
    other = write_file(c, "other.json", plan_of([("moving", 0, [2, 3])]))
    r = reassign(c, "--execute", "--reassignment-json-file", other, rc=1)
    assert "Cannot execute because there is an existing partition assignment" in r.stderr, r.stderr

    r = reassign(c, "--cancel", "--reassignment-json-file", plan)
    assert "Successfully cancelled partition reassignment for: slow-0" in r.stdout, r.stdout
    assert "Clearing topic-level throttles on topic slow" in r.stdout, r.stdout
    wait_for(lambda: assignment(zk, "slow")["partitions"] == {"0": [1, 2]} and
             not moving(zk, "slow"), 60, "slow-0 back on 1,2")
    assert no_throttles(zk, "slow")
    wait_for(lambda: zk_json(zk, "/brokers/topics/slow/partitions/0/state")["isr"] == [1, 2],
             60, "slow's ISR back to 1,2")
    assert reassign(c, "--list").stdout == "No partition reassignments found.\n"
    r = reassign(c, "--cancel", "--reassignment-json-file", plan)
    assert "None of the specified partition reassignments are active." in r.stdout, r.stdout
    r = reassign(c, "--verify", "--reassignment-json-file", plan, rc=1)
    assert ("There is no active reassignment of partition slow-0, but replica set "
            "is 1,2 rather than 1,3.") in r.stdout, r.stdout
    print("ok: a throttled reassignment was cancelled: replicas 1,2 again, "
          "throttles removed")


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=1) as c:
            run_steps((check_bad_plans, check_move, check_cancel), c, c.zk())


if __name__ == "__main__":
    main()
