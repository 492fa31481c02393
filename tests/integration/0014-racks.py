#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""broker.rack and rack-aware replica placement on a real kcluster of four
brokers in two racks (1, 2 in "east"; 3, 4 in "west"), with topic
deletion disabled (delete.topic.enable=false on brokers and controller):

- each broker registers its rack in /brokers/ids/N and every broker's
  Metadata reports it (kafka-python's describe_cluster, a real client);
- a topic created without an assignment (confluent-kafka's AdminClient,
  12 partitions, replication factor 2) has one replica in each rack for
  every partition, and its preferred leaders spread evenly (3 per
  broker), as Kafka's AdminUtils places them; replication factor 3 puts
  replicas in both racks and on three brokers;
- partitions added later (CreatePartitions) keep both rules;
- `ktopics --describe` shows the same replicas as ZooKeeper;
- DeleteTopics is refused with TOPIC_DELETION_DISABLED (confluent-kafka),
  and a deletion request written straight to /admin/delete_topics is
  dropped by the controller: the topic stays.
"""

import json
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402

RACK = {1: "east", 2: "east", 3: "west", 4: "west"}


def assignment(zk, topic):
    data, _ = zk.get("/brokers/topics/%s" % topic)
    return {int(p): r for p, r in json.loads(data)["partitions"].items()}


def give_racks(c):
    """Restart every broker with its broker.rack (kcluster writes one
    properties file per broker)."""
    for b, rack in RACK.items():
        c.stop("broker", b)
        path = os.path.join(c.dir, "broker-%d.properties" % b)
        with open(path, "a") as f:
            f.write("broker.rack=%s\n" % rack)
        c.start("broker", b)


def check_registration(c, zk):
    for b, rack in RACK.items():
        data, _ = zk.get("/brokers/ids/%d" % b)
        assert json.loads(data).get("rack") == rack, (b, data)
    from kafka.admin import KafkaAdminClient

    for b in RACK:
        a = KafkaAdminClient(bootstrap_servers="127.0.0.1:%d" % c.broker_port(b),
                             request_timeout_ms=30000)
        try:
            def racks():
                got = {x["node_id"]: x["rack"] for x in a.describe_cluster()["brokers"]}
                return got if got == RACK else None
            wait_for(racks, 60, "broker %d's Metadata to report every rack" % b)
        finally:
            a.close()


def check_spread(parts, rf):
    for p, replicas in parts.items():
        assert len(replicas) == rf and len(set(replicas)) == rf, (p, replicas)
        assert {RACK[r] for r in replicas} == {"east", "west"}, (p, replicas)


def check_create(c, zk):
    from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    fs = a.create_topics([NewTopic("racked", 12, 2), NewTopic("racked3", 8, 3)],
                         operation_timeout=60)
    for f in fs.values():
        f.result(60)
    parts = assignment(zk, "racked")
    assert sorted(parts) == list(range(12)), parts
    check_spread(parts, 2)
    leaders = [parts[p][0] for p in range(12)]
    assert all(leaders.count(b) == 3 for b in RACK), leaders
    # consecutive preferred leaders alternate racks (Kafka interleaves the
    # brokers rack by rack before going round them)
    assert all(RACK[leaders[i]] != RACK[leaders[i + 1]] for i in range(11)), leaders
    check_spread(assignment(zk, "racked3"), 3)

    fs = a.create_partitions([NewPartitions("racked", 16)], operation_timeout=60)
    fs["racked"].result(60)
    parts = assignment(zk, "racked")
    assert sorted(parts) == list(range(16)), parts
    check_spread(parts, 2)
    leaders = [parts[p][0] for p in range(16)]
    assert all(leaders.count(b) == 4 for b in RACK), leaders
    wait_for(lambda: all(zk.exists("/brokers/topics/racked/partitions/%d/state" % p)
                         for p in range(16)), 60, "racked's 16 partition states")
    return parts


def check_describe(c, parts):
    def described():
        r = tool("ktopics", "--describe", "--topic", "racked", "--json",
                 bootstrap=c.bootstrap, timeout=60)
        rows = json.loads(r.stdout)
        got = {}
        for t in rows if isinstance(rows, list) else rows.get("topics", []):
            for p in t.get("partitions", []):
                got[p["partition"]] = p["replicas"]
        return got if got == parts else None
    wait_for(described, 60, "ktopics --describe to show ZooKeeper's replicas")


def check_deletion_disabled(c, zk):
    from confluent_kafka import KafkaError, KafkaException
    from confluent_kafka.admin import AdminClient

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    try:
        a.delete_topics(["racked3"], operation_timeout=30)["racked3"].result(60)
        raise AssertionError("DeleteTopics succeeded with deletion disabled")
    except KafkaException as e:
        assert e.args[0].code() == KafkaError.TOPIC_DELETION_DISABLED, e
    zk.create("/admin/delete_topics/racked3", b"", makepath=True)
    wait_for(lambda: not zk.exists("/admin/delete_topics/racked3"), 60,
             "the controller to drop the deletion request")
    assert zk.exists("/brokers/topics/racked3")
    assert sorted(assignment(zk, "racked3")) == list(range(8))


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=4, controllers=1,
                     broker_set={"delete.topic.enable": "false"},
                     controller_set={"delete.topic.enable": "false"}) as c:
            zk = c.zk()
            t0 = time.monotonic()
            give_racks(c)
            check_registration(c, zk)
            print("ok: racks registered and in Metadata (%.1fs)" % (time.monotonic() - t0))
            parts = check_create(c, zk)
            print("ok: created and grown topics span both racks, leaders even")
            check_describe(c, parts)
            print("ok: ktopics --describe agrees")
            check_deletion_disabled(c, zk)
            print("ok: deletion disabled: refused, and a request node dropped")


if __name__ == "__main__":
    main()
