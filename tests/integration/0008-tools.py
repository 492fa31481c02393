#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""The operator tools against a real 3-broker kcluster, their output checked
against the truth (ZooKeeper, kafka-python, confluent-kafka):

- ktopics: --create (with --config, --replica-assignment, --if-not-exists),
  --list, --describe whose leaders/replicas/ISR equal ZooKeeper's partition
  state znodes, --alter --partitions, --delete, the partition filters once
  a broker is SIGKILLed (--under-replicated-partitions,
  --unavailable-partitions, --under-min-isr-partitions), exit codes;
- kconsole-producer / kconsole-consumer: keyed lines land in the partition
  Java's partitioner (kafka-python's murmur2) picks, print.* properties,
  --partition/--offset, --max-messages, --producer.config, null.marker,
  --sync, group consumption that commits exactly what it printed;
- kconsumer-groups: --list, --describe lag = log end - committed per
  partition (both read independently with kafka-python), --members and
  --state with a live confluent-kafka member, --reset-offsets (dry run
  changes nothing; --execute does, checked with kafka-python; every
  scenario incl. --by-duration and --to-current), refused for
  a live group, --delete-offsets, --delete, --watch;
- kbroker-api-versions lists every broker; kperf's summary parses.
"""

import json
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402


def zk_state(zk, topic, p):
    data, _ = zk.get("/brokers/topics/%s/partitions/%d/state" % (topic, p))
    return json.loads(data)


def describe_lines(out):
    """Partition lines of ktopics --describe: {(topic, p): fields}."""
    parts = {}
    for line in out.splitlines():
        if not line.startswith("\tTopic:"):
            continue
        f = dict(re.findall(r"(\w+): (\S*)", line))
        parts[(f["Topic"], int(f["Partition"]))] = f
    return parts


def check_topics(c, zk):
    B = c.bootstrap
    out = tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "tt",
               "--partitions", "6", "--replication-factor", "3", "--config",
               "min.insync.replicas=2", "--config", "retention.ms=3600000").stdout
    assert out.strip() == "Created topic tt.", out
    r = tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "tt",
             "--partitions", "1", rc=1)
    assert "TOPIC_ALREADY_EXISTS" in r.stderr, r.stderr
    tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "tt",
         "--partitions", "1", "--if-not-exists")
    tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "placed",
         "--replica-assignment", "1:2,2:3,3:1")
    # RF 1 on broker 3 only: unavailable once broker 3 dies.
    tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "only3",
         "--replica-assignment", "3,3")
    r = tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "x",
             "--partitions", "abc", rc=2)
    assert "--partitions" in r.stderr
    lst = tool("ktopics", "--bootstrap-server", B, "--list").stdout.split()
    assert {"tt", "placed", "only3"} <= set(lst), lst
    assert lst == sorted(lst)
    assert tool("ktopics", "--bootstrap-server", B, "--list", "--topic",
                "pl.*").stdout.split() == ["placed"]

    def matches_zk():
        out = tool("ktopics", "--bootstrap-server", B, "--describe").stdout
        parts = describe_lines(out)
        for (t, p), f in parts.items():
            if t not in ("tt", "placed", "only3"):
                continue
            st = zk_state(zk, t, p)
            if (int(f["Leader"]) != st["leader"] or
                    [int(x) for x in f["Isr"].split(",")] != st["isr"]):
                return None
        return parts
    parts = wait_for(matches_zk, 60, "ktopics --describe to match ZooKeeper")
    assert len([k for k in parts if k[0] == "tt"]) == 6
    assert parts[("placed", 0)]["Replicas"] == "1,2"
    assert parts[("placed", 2)]["Replicas"] == "3,1"
    out = tool("ktopics", "--bootstrap-server", B, "--describe", "--topic", "tt").stdout
    header = out.splitlines()[0]
    assert "PartitionCount: 6" in header and "ReplicationFactor: 3" in header, header
    assert "min.insync.replicas=2" in header and "retention.ms=3600000" in header, header
    js = json.loads(tool("ktopics", "--bootstrap-server", B, "--describe",
                         "--topic", "tt", "--json").stdout)
    assert js[0]["min_insync_replicas"] == 2 and len(js[0]["partitions"]) == 6
    for p in js[0]["partitions"]:
        assert p["isr"] == zk_state(zk, "tt", p["partition"])["isr"]
    # No filter matches on a healthy cluster.
    for flt in ("--under-replicated-partitions", "--unavailable-partitions",
                "--under-min-isr-partitions"):
        assert tool("ktopics", "--bootstrap-server", B, "--describe", flt,
                    "--topic", "tt|placed|only3").stdout == "", flt
    tool("ktopics", "--bootstrap-server", B, "--alter", "--topic", "placed",
         "--partitions", "4")
    wait_for(lambda: len(zk.get_children("/brokers/topics/placed/partitions")) == 4,
             30, "a 4th partition")
    tool("ktopics", "--bootstrap-server", B, "--delete", "--topic", "nope", rc=1)
    tool("ktopics", "--bootstrap-server", B, "--delete", "--topic", "nope",
         "--if-exists")


def check_filters(c, zk):
    """Broker 3 SIGKILLed: the filters find what ZooKeeper says."""
    B = c.bootstrap.split(",")[0]
    c.kill("broker", 3)

    def filtered():
        ur = describe_lines(tool("ktopics", "--bootstrap-server", B, "--describe",
                                 "--under-replicated-partitions", "--topic",
                                 "tt|placed").stdout)
        want = set()
        for t, n in (("tt", 6), ("placed", 4)):
            replicas = json.loads(zk.get("/brokers/topics/" + t)[0])["partitions"]
            for p in range(n):
                if 3 not in replicas[str(p)]:
                    continue
                if 3 in zk_state(zk, t, p)["isr"]:
                    return None      # ISR not shrunk yet
                want.add((t, p))
        return ur if set(ur) == want else None
    ur = wait_for(filtered, 90, "under-replicated partitions to show")
    for f in ur.values():
        assert "3" not in f["Isr"].split(","), f
    un = describe_lines(tool("ktopics", "--bootstrap-server", B, "--describe",
                             "--unavailable-partitions").stdout)
    assert set(un) == {("only3", 0), ("only3", 1)}, un
    # tt has min.insync.replicas=2 and an ISR of 2: at, not under.
    umi = tool("ktopics", "--bootstrap-server", B, "--describe",
               "--under-min-isr-partitions", "--topic", "tt").stdout
    assert umi == "", umi
    ami = describe_lines(tool("ktopics", "--bootstrap-server", B, "--describe",
                              "--at-min-isr-partitions", "--topic", "tt").stdout)
    assert len(ami) == 6, ami
    c.start("broker", 3)
    wait_for(lambda: all(3 in zk_state(zk, "tt", p)["isr"] for p in range(6)),
             90, "broker 3 back in the ISR")
    tool("ktopics", "--bootstrap-server", B, "--delete", "--topic", "only3")
    wait_for(lambda: not zk.exists("/brokers/topics/only3"), 60, "only3 deleted")


def check_console(c):
    from kafka.partitioner.default import murmur2
    B = c.bootstrap
    tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "lines",
         "--partitions", "5", "--replication-factor", "3")
    lines = "".join("key%d\tvalue %d\n" % (i, i) for i in range(500))
    tool("kconsole-producer", "--bootstrap-server", B, "--topic", "lines",
         "--property", "parse.key=true", "--compression-codec=lz4", input=lines)
    r = tool("kconsole-producer", "--bootstrap-server", B, "--topic", "lines",
             "--property", "parse.key=true", input="no separator\n", rc=1)
    assert "separator" in r.stderr
    out = tool("kconsole-consumer", "--bootstrap-server", B, "--topic", "lines",
               "--from-beginning", "--max-messages", "500", "--property",
               "print.key=true", "--property", "print.partition=true",
               "--property", "print.offset=true", "--property",
               "key.separator=|").stdout
    seen = {}
    for line in out.splitlines():
        part, off, key, val = line.split("|")
        p = int(part[len("Partition:"):])
        i = int(key[3:])
        assert val == "value %d" % i, line
        assert p == (murmur2(key.encode()) & 0x7fffffff) % 5, line
        seen[i] = (p, int(off[len("Offset:"):]))
    assert sorted(seen) == list(range(500))
    # Settings from a file, a null marker, one record per request.
    tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "nulls",
         "--partitions", "1", "--replication-factor", "3")
    cfg = os.path.join(os.environ.get("TMPDIR", "/tmp"), "kcp-%d.properties" % os.getpid())
    with open(cfg, "w") as f:
        f.write("# acks from a file\nacks=1\n")
    tool("kconsole-producer", "--bootstrap-server", B, "--topic", "nulls",
         "--producer.config", cfg, "--sync", "--property", "parse.key=true",
         "--property", "null.marker=NULL", input="NULL\tno key\nk\tNULL\n")
    os.unlink(cfg)
    out = tool("kconsole-consumer", "--bootstrap-server", B, "--topic", "nulls",
               "--from-beginning", "--max-messages", "2", "--property",
               "print.key=true").stdout
    assert out.splitlines() == ["null\tno key", "k\tnull"], out
    # --partition with --offset: exactly the records from there.
    p0 = sorted(o for p, o in seen.values() if p == 0)
    out = tool("kconsole-consumer", "--bootstrap-server", B, "--topic", "lines",
               "--partition", "0", "--offset", "3", "--timeout-ms", "3000",
               "--property", "print.offset=true", "--property",
               "print.value=false").stdout
    assert [int(x[len("Offset:"):]) for x in out.split()] == p0[3:], out
    # A group member commits exactly what it printed, twice over.
    a = tool("kconsole-consumer", "--bootstrap-server", B, "--topic", "lines",
             "--group", "cg", "--from-beginning", "--max-messages", "200").stdout
    b = tool("kconsole-consumer", "--bootstrap-server", B, "--topic", "lines",
             "--group", "cg", "--timeout-ms", "4000").stdout
    got = a.splitlines() + b.splitlines()
    assert len(got) == 500 and len(set(got)) == 500, (len(got), len(set(got)))


def committed_and_ends(B, group, topic, n):
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition
    adm = KafkaAdminClient(bootstrap_servers=B)
    com = {tp.partition: om.offset for tp, om in
           adm.list_consumer_group_offsets(group).items() if tp.topic == topic}
    adm.close()
    cons = KafkaConsumer(bootstrap_servers=B)
    ends = {tp.partition: o for tp, o in cons.end_offsets(
        [TopicPartition(topic, p) for p in range(n)]).items()}
    cons.close()
    return com, ends


def parse_table(out):
    lines = [l for l in out.splitlines() if l.strip()]
    hdr = lines[0].split()
    # "COORDINATOR (ID)" is two words; describe tables here have none.
    return [dict(zip(hdr, l.split())) for l in lines[1:]]


def check_groups(c):
    from confluent_kafka import Consumer
    B = c.bootstrap
    # Group "cg" from check_console: committed 500 over 5 partitions.
    # Produce 50 more so there is lag.
    tool("kconsole-producer", "--bootstrap-server", B, "--topic", "lines",
         input="".join("more %d\n" % i for i in range(50)))
    assert "cg" in tool("kconsumer-groups", "--bootstrap-server", B,
                        "--list").stdout.split()
    lst = parse_table(tool("kconsumer-groups", "--bootstrap-server", B, "--list",
                           "--state").stdout)
    assert {"GROUP": "cg", "STATE": "Empty"} in lst, lst
    r = tool("kconsumer-groups", "--bootstrap-server", B, "--describe",
             "--group", "cg")
    rows = parse_table(r.stdout)
    assert "no active members" in r.stderr
    com, ends = committed_and_ends(B, "cg", "lines", 5)
    assert len(rows) == 5
    total = 0
    for row in rows:
        p = int(row["PARTITION"])
        assert int(row["CURRENT-OFFSET"]) == com[p], (row, com)
        assert int(row["LOG-END-OFFSET"]) == ends[p], (row, ends)
        assert int(row["LAG"]) == ends[p] - com[p], row
        total += int(row["LAG"])
    assert total == 50, total
    js = json.loads(tool("kconsumer-groups", "--bootstrap-server", B, "--describe",
                         "--group", "cg", "--json").stdout)
    assert sum(x["lag"] for x in js) == 50
    # Dry run changes nothing; --execute does.
    out = tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
               "--group", "cg", "--topic", "lines", "--to-earliest").stdout
    assert all(int(x["NEW-OFFSET"]) == 0 for x in parse_table(out)), out
    assert committed_and_ends(B, "cg", "lines", 5)[0] == com
    tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
         "--group", "cg", "--topic", "lines:0,1", "--shift-by", "-5", "--execute")
    now, _ = committed_and_ends(B, "cg", "lines", 5)
    assert now[0] == max(com[0] - 5, 0) and now[1] == max(com[1] - 5, 0), (now, com)
    assert now[2] == com[2]
    tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
         "--group", "cg", "--all-topics", "--to-offset", "999999", "--execute")
    now, ends = committed_and_ends(B, "cg", "lines", 5)
    assert now == ends, (now, ends)      # clamped to the log end
    tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
         "--group", "cg", "--all-topics", "--to-datetime", "2000-01-01T00:00:00",
         "--execute")
    assert set(committed_and_ends(B, "cg", "lines", 5)[0].values()) == {0}
    tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
         "--group", "cg", "--all-topics", "--to-latest", "--execute")
    # Everything was written within the last hour: back to the start.
    out = tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
               "--group", "cg", "--all-topics", "--by-duration", "PT1H",
               "--execute").stdout
    assert all(int(x["NEW-OFFSET"]) == 0 for x in parse_table(out)), out
    tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
         "--group", "cg", "--topic", "lines:2", "--to-offset", "7", "--execute")
    out = tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
               "--group", "cg", "--topic", "lines:2", "--to-current").stdout
    assert parse_table(out)[0]["NEW-OFFSET"] == "7", out
    tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
         "--group", "cg", "--all-topics", "--by-duration", "15 minutes", rc=2)
    # A live member: --members and --state show it; resets are refused.
    cons = Consumer({"bootstrap.servers": B, "group.id": "cg",
                     "client.id": "live-one", "auto.offset.reset": "earliest",
                     "enable.auto.commit": False})
    cons.subscribe(["lines"])

    def members():
        cons.poll(0.2)
        out = tool("kconsumer-groups", "--bootstrap-server", B, "--describe",
                   "--group", "cg", "--members", "--verbose").stdout
        rows = parse_table(out)
        return rows if rows and rows[0]["#PARTITIONS"] == "5" else None
    rows = wait_for(members, 60, "the member to show")
    assert rows[0]["CLIENT-ID"] == "live-one"
    assert rows[0]["ASSIGNMENT"] == "lines(0,1,2,3,4)", rows
    st = tool("kconsumer-groups", "--bootstrap-server", B, "--describe",
              "--group", "cg", "--state").stdout
    assert "Stable" in st and "range" in st, st
    r = tool("kconsumer-groups", "--bootstrap-server", B, "--reset-offsets",
             "--group", "cg", "--all-topics", "--to-latest", "--execute", rc=1)
    assert "inactive" in r.stderr
    r = tool("kconsumer-groups", "--bootstrap-server", B, "--delete",
             "--group", "cg", rc=1)
    assert "NON_EMPTY_GROUP" in r.stderr, r.stderr
    w = tool("kconsumer-groups", "--bootstrap-server", B, "--watch", "--group",
             "cg", "--iterations", "2", "--interval-ms", "100").stdout
    assert w.count("group cg") == 2 and "lines-4" in w, w
    cons.close()
    wait_for(lambda: "Empty" in tool("kconsumer-groups", "--bootstrap-server", B,
                                     "--describe", "--group", "cg",
                                     "--state").stdout, 30, "the group to empty")
    out = tool("kconsumer-groups", "--bootstrap-server", B, "--delete-offsets",
               "--group", "cg", "--topic", "lines:4").stdout
    assert "Successful" in out, out
    assert 4 not in committed_and_ends(B, "cg", "lines", 5)[0]
    tool("kconsumer-groups", "--bootstrap-server", B, "--delete", "--group", "cg")
    r = tool("kconsumer-groups", "--bootstrap-server", B, "--describe",
             "--group", "cg", rc=1)
    assert "does not exist" in r.stderr, r.stderr
    tool("kconsumer-groups", "--bootstrap-server", B, "--describe", rc=2)


def check_misc(c):
    B = c.bootstrap
    js = json.loads(tool("kbroker-api-versions", "--bootstrap-server", B,
                         "--json").stdout)
    assert sorted(b["id"] for b in js) == [1, 2, 3], js
    for b in js:
        names = {a["name"]: a for a in b["apis"]}
        assert names["Produce"]["max"] >= 8 and names["Fetch"]["usable"] >= 4
    txt = tool("kbroker-api-versions", "--bootstrap-server", B).stdout
    assert txt.count("-> (") == 3 and "Produce(0): " in txt
    tool("ktopics", "--bootstrap-server", B, "--create", "--topic", "perf",
         "--partitions", "3", "--replication-factor", "3")
    out = tool("kperf", "produce", "--bootstrap-server", B, "--topic", "perf",
               "--num-records", "20000", "--record-size", "200").stdout
    m = re.match(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), "
                 r"([\d.]+) ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, "
                 r"(\d+) ms 95th, (\d+) ms 99th, (\d+) ms 99.9th.", out)
    assert m and int(m.group(1)) == 20000, out
    js = json.loads(tool("kperf", "consume", "--bootstrap-server", B, "--topic",
                         "perf", "--messages", "20000", "--json").stdout)
    assert js["records"] == 20000 and js["bytes"] == 20000 * 200, js
    tool("kperf", "consume", "--bootstrap-server", B, "--topic", "perf",
         "--messages", "20001", "--timeout-ms", "2000", rc=1)


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=1,
                     broker_set={"replica.lag.time.max.ms": "4000"}) as c:
            run_steps((check_topics, check_filters), c, c.zk())
            run_steps((check_console, check_groups, check_misc), c)


if __name__ == "__main__":
    main()
