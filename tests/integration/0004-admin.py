#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""confluent-kafka's AdminClient against the cluster: create (with configs,
explicit assignments, validate-only), add partitions, describe topic and
broker configs, delete; invalid requests get Kafka's errors; deletion
removes the znodes and every replica's log directory.  Auto-creation on
Metadata follows auto.create.topics.enable.  A broker that has just started
and not heard from a controller places replicas on the registered brokers."""

import glob
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, led  # noqa: E402
from kbroker import wait_for, zk_client  # noqa: E402


def results(fs):
    out = {}
    for k, f in fs.items():
        try:
            out[k] = f.result()
        except Exception as e:  # KafkaException carrying a KafkaError
            out[k] = e.args[0]
    return out


def code(r):
    return r.name() if hasattr(r, "name") else None


def main():
    from confluent_kafka.admin import (AdminClient, ConfigResource, NewPartitions,
                                       NewTopic)

    with tempfile.TemporaryDirectory(prefix="skald-it-") as wd, \
            Cluster(wd, brokers=3, controllers=2,
                    broker_set={"num.partitions": "4",
                                "log.retention.hours": "72"}) as c:
        a = AdminClient({"bootstrap.servers": c.bootstrap})

        # validate-only writes nothing
        r = results(a.create_topics([NewTopic("v", 3, 2)], validate_only=True,
                                    operation_timeout=30))
        assert r["v"] is None, r
        zk = zk_client(c.zk_connect)
        assert not zk.exists("/brokers/topics/v")

        r = results(a.create_topics([
            NewTopic("conf", 2, 3, config={"retention.ms": "3600000",
                                           "cleanup.policy": "delete"}),
            NewTopic("placed", 3, replica_assignment=[[3, 1], [2, 3], [1, 2]]),
            NewTopic("bad name", 1, 1),
            NewTopic("zero", 0, 1),
            NewTopic("wide", 1, 4),
            NewTopic("badcfg", 1, 1, config={"no.such.config": "1"}),
            NewTopic("badval", 1, 1, config={"segment.bytes": "10"}),
            NewTopic("badplace", 1, replica_assignment=[[1, 1]]),
            NewTopic("ghost", 1, replica_assignment=[[1, 42]]),
        ], operation_timeout=60))
        assert r["conf"] is None and r["placed"] is None, r
        assert code(r["bad name"]) == "TOPIC_EXCEPTION", r
        assert code(r["zero"]) == "INVALID_PARTITIONS", r
        assert code(r["wide"]) == "INVALID_REPLICATION_FACTOR", r
        assert code(r["badcfg"]) == "INVALID_CONFIG", r
        assert code(r["badval"]) == "INVALID_CONFIG", r
        assert code(r["badplace"]) == "INVALID_REPLICA_ASSIGNMENT", r
        assert code(r["ghost"]) == "INVALID_REPLICA_ASSIGNMENT", r
        r = results(a.create_topics([NewTopic("conf", 1, 1)], operation_timeout=30))
        assert code(r["conf"]) == "TOPIC_ALREADY_EXISTS", r
        r = results(a.create_topics([NewTopic("conf.x", 1, 1),
                                     NewTopic("conf_x", 1, 1)], operation_timeout=30))
        assert sum(code(v) == "TOPIC_EXCEPTION" for v in r.values()) == 1, r

        placed = json.loads(zk.get("/brokers/topics/placed")[0])["partitions"]
        assert placed == {"0": [3, 1], "1": [2, 3], "2": [1, 2]}, placed
        cfg = json.loads(zk.get("/config/topics/conf")[0])
        assert cfg["config"] == {"retention.ms": "3600000",
                                 "cleanup.policy": "delete"}, cfg

        # every partition gets a leader (the broker list_topics asks may
        # hear of it from the controller a moment after the one that
        # answered CreateTopics)
        for t, n in (("conf", 2), ("placed", 3)):
            wait_for(lambda: led(a, t, n), 60, "leaders of " + t)

        # describe: override, broker file value, Kafka default
        res = ConfigResource(ConfigResource.Type.TOPIC, "conf")
        entries = a.describe_configs([res])[res].result(timeout=30)
        assert entries["retention.ms"].value == "3600000"
        assert entries["retention.ms"].source == 1  # DYNAMIC_TOPIC_CONFIG
        assert entries["segment.bytes"].value == "1073741824"
        assert entries["segment.bytes"].source == 5  # DEFAULT_CONFIG
        assert entries["max.message.bytes"].value == "1048588"
        res = ConfigResource(ConfigResource.Type.TOPIC, "placed")
        entries = a.describe_configs([res])[res].result(timeout=30)
        assert entries["retention.ms"].value == str(72 * 3600 * 1000), \
            entries["retention.ms"].value
        assert entries["retention.ms"].source == 4  # STATIC_BROKER_CONFIG
        res = ConfigResource(ConfigResource.Type.BROKER, "2")
        entries = a.describe_configs([res])[res].result(timeout=30)
        assert entries["num.partitions"].value == "4"
        assert entries["broker.id"].value == "2"
        res = ConfigResource(ConfigResource.Type.TOPIC, "nope")
        try:
            a.describe_configs([res])[res].result(timeout=30)
            raise AssertionError("describing a missing topic succeeded")
        except Exception as e:
            assert "UNKNOWN_TOPIC_OR_PART" in str(e), e

        # add partitions: placement continues, errors as Kafka's
        r = results(a.create_partitions([NewPartitions("placed", 5)],
                                        operation_timeout=60))
        assert r["placed"] is None, r
        placed = json.loads(zk.get("/brokers/topics/placed")[0])["partitions"]
        assert len(placed) == 5 and all(len(v) == 2 for v in placed.values()), placed
        assert placed["0"] == [3, 1], placed
        r = results(a.create_partitions([NewPartitions("placed", 2),
                                         NewPartitions("nope", 3)],
                                        operation_timeout=30))
        assert code(r["placed"]) == "INVALID_PARTITIONS", r
        assert code(r["nope"]) == "UNKNOWN_TOPIC_OR_PART", r
        r = results(a.create_partitions([NewPartitions("conf", 4)],
                                        validate_only=True, operation_timeout=30))
        assert r["conf"] is None
        assert len(json.loads(zk.get("/brokers/topics/conf")[0])["partitions"]) == 2
        wait_for(lambda: led(a, "placed", 5), 60, "the new partitions' leaders")

        # produce so the logs exist, then delete
        p = subprocess.run(["kcat", "-P", "-b", c.bootstrap, "-t", "placed"],
                           input="a\nb\nc\n", capture_output=True, text=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        assert glob.glob(os.path.join(c.dir, "broker-*-data", "placed-0"))
        r = results(a.delete_topics(["placed", "nope"], operation_timeout=60))
        assert r["placed"] is None, r
        # this handle asked for "placed" by name: librdkafka keeps refreshing
        # such topics with auto-creation allowed, which would bring it back
        # once deleted (as it would on Kafka); a fresh handle does not
        del a
        a = AdminClient({"bootstrap.servers": c.bootstrap})
        assert code(r["nope"]) == "UNKNOWN_TOPIC_OR_PART", r
        wait_for(lambda: not zk.exists("/brokers/topics/placed"), 60,
                 "the topic znode to go")
        assert not zk.exists("/config/topics/placed")
        assert not zk.exists("/admin/delete_topics/placed")
        wait_for(lambda: not glob.glob(os.path.join(c.dir, "broker-*-data",
                                                    "placed-*")), 60,
                 "the logs to go")
        wait_for(lambda: "placed" not in a.list_topics(timeout=30).topics, 60,
                 "the topic to leave the metadata")
        # kafka-python does not check counts itself: the broker caps them
        from kafka.admin import KafkaAdminClient, NewTopic as KNewTopic
        from kafka.errors import InvalidPartitionsError
        ka = KafkaAdminClient(bootstrap_servers=c.bootstrap,
                              api_version_auto_timeout_ms=30000)
        try:
            ka.create_topics([KNewTopic("huge", 2000000000, 1)], timeout_ms=30000)
            raise AssertionError("2e9 partitions accepted")
        except InvalidPartitionsError:
            pass
        ka.close()
        assert not zk.exists("/brokers/topics/huge")
        # the name can be used again
        r = results(a.create_topics([NewTopic("placed", 1, 1)], operation_timeout=60))
        assert r["placed"] is None, r

        # auto-creation: Metadata for an unknown topic creates it
        kc = subprocess.run(["kcat", "-P", "-b", c.bootstrap, "-t", "auto"],
                            input="x\n", capture_output=True, text=True, timeout=120)
        assert kc.returncode == 0, kc.stderr
        auto = json.loads(zk.get("/brokers/topics/auto")[0])
        assert len(auto["partitions"]) == 4, auto

        # A broker that has not heard from a controller yet knows no broker
        # (its Metadata lists only itself); it places replicas on the brokers
        # registered in ZooKeeper, where Kafka refuses ("Replication factor:
        # 3 larger than available brokers: 0.").
        c.stop("broker", 3)
        c.stop("controller", 101)
        c.stop("controller", 102)
        c.start("broker", 3)
        fresh = AdminClient({"bootstrap.servers": "127.0.0.1:%d" % c.broker_port(3)})
        md = fresh.list_topics(timeout=30)
        assert sorted(md.brokers) == [3], md.brokers
        r = results(fresh.create_topics([NewTopic("fresh", 3, 3)], validate_only=True,
                                        operation_timeout=30))
        assert r["fresh"] is None, r
        r = results(fresh.create_topics([NewTopic("fresh", 3, 3)], operation_timeout=2))
        # no controller to elect leaders: the wait for them times out
        assert r["fresh"] is None or code(r["fresh"]) == "REQUEST_TIMED_OUT", r
        placed = json.loads(zk.get("/brokers/topics/fresh")[0])["partitions"]
        assert all(sorted(v) == [1, 2, 3] for v in placed.values()), placed
        c.start("controller", 101)
        c.start("controller", 102)
        wait_for(lambda: led(fresh, "fresh", 3), 90, "leaders for the new topic")
        del fresh
        zk.stop()
        del a
    print("ok")


if __name__ == "__main__":
    main()
