#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""kbroker starts against a real ZooKeeper, registers itself with Kafka's
JSON, creates the cluster id, answers real clients' ApiVersions and
Metadata, survives hostile frames, refuses a second broker with its id and
invalid configuration, and stops cleanly on SIGTERM."""

import json
import os
import random
import socket
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from kbroker import Broker, wait_for, zk_client  # noqa: E402
import kwire  # noqa: E402
from zookeeper import ZooKeeper  # noqa: E402


def kcat_metadata(bootstrap):
    r = subprocess.run(["kcat", "-b", bootstrap, "-L", "-m", "20"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def frame(api_key, version, corr, body=b""):
    """A request frame with header v1 and any body."""
    return kwire.frame(kwire.header_v1(api_key, version, corr, "hostile") + body)


def api_versions(port, version, corr):
    """ApiVersions (an empty body) asked at version with correlation id
    corr: the answer, decoded as v0 (as any version's error is sent)."""
    with kwire.Wire(port, timeout=30) as w:
        w.send_raw(kwire.header_v1(18, version, corr, "hostile"))
        return kwire.decode_response(18, 0, w.recv_frame(), corr)


def main():
    work = tempfile.mkdtemp(prefix="it0001.")
    with ZooKeeper(os.path.join(work, "zk")) as zk:
        b = Broker(work, zk.connect, broker_id=1,
                   extra={"socket.request.max.bytes": "1048576",
                          "some.unknown.key": "x"}).start()
        # registration JSON, cluster id, meta.properties
        z = zk_client(zk.connect)
        data, stat = z.get("/brokers/ids/1")
        reg = json.loads(data)
        assert stat.ephemeralOwner != 0
        assert reg["endpoints"] == ["PLAINTEXT://127.0.0.1:%d" % b.port], reg
        assert reg["host"] == "127.0.0.1" and reg["port"] == b.port, reg
        assert reg["listener_security_protocol_map"] == {"PLAINTEXT": "PLAINTEXT"}
        assert reg["version"] == 5 and "rack" not in reg, reg  # as Kafka: only when set
        cluster = json.loads(z.get("/cluster/id")[0])
        assert cluster["version"] == "1" and len(cluster["id"]) == 22, cluster
        with open(os.path.join(b.logdir, "meta.properties")) as f:
            meta = f.read()
        assert "broker.id=1\n" in meta and "cluster.id=%s\n" % cluster["id"] in meta
        assert "unknown configuration key some.unknown.key" in b.output()

        # real clients: kcat (librdkafka), confluent-kafka, kafka-python
        md = kcat_metadata(b.bootstrap)
        assert "1 brokers:" in md and "broker 1 at 127.0.0.1:%d" % b.port in md, md
        from confluent_kafka.admin import AdminClient
        meta = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=30)
        assert list(meta.brokers) == [1] and meta.cluster_id == cluster["id"]
        from kafka import KafkaConsumer
        c = KafkaConsumer(bootstrap_servers=b.bootstrap, request_timeout_ms=30000,
                          api_version_auto_timeout_ms=30000)
        assert c.topics() == set()
        c.close()

        # ApiVersions v0 lists what we serve; v99 gets error 35 in a v0
        # body (the correlation ids are checked as they are decoded)
        r = api_versions(b.port, 0, 7)
        assert r["error_code"] == 0 and len(r["api_keys"]) >= 3, r
        assert api_versions(b.port, 99, 8)["error_code"] == 35

        # hostile input: each connection is closed, the broker serves on
        rnd = random.Random(1)
        hostile = [
            struct.pack(">i", -5),                                # negative size
            struct.pack(">i", 2 * 1048576) + b"x" * 100,          # above the cap
            frame(9999, 0, 1),                                    # unknown API
            frame(3, 77, 1),                                      # bad version
            frame(3, 1, 1, b"\x00\x00\x10\x00"),                  # 4096 topics, no bytes
            struct.pack(">i", 3) + b"\x00\x03\x00",               # header cut short
        ] + [struct.pack(">i", n) + bytes(rnd.getrandbits(8) for _ in range(n))
             for n in (1, 7, 50, 300, 5000)]
        for h in hostile:
            assert kwire.closes_on(b.port, h), h[:16]
        # a truncated frame then a hang-up, many times, in parallel sockets
        socks = []
        for i in range(50):
            s = socket.create_connection(("127.0.0.1", b.port), timeout=30)
            s.sendall(frame(3, 1, i, b"\xff\xff\xff\xff")[:9])
            socks.append(s)
        for s in socks:
            s.close()
        assert "1 brokers:" in kcat_metadata(b.bootstrap)

        # a second broker with the same id refuses to start
        twin = Broker(os.path.join(work, "twin"), zk.connect, broker_id=1)
        twin.spawn()
        assert twin.wait() != 0
        assert "already registered by another live broker" in twin.output(), twin.output()

        # an invalid value stops a broker with a clear message
        bad = Broker(os.path.join(work, "bad"), zk.connect, broker_id=2,
                     extra={"num.network.threads": "zero"})
        bad.spawn()
        assert bad.wait() == 1
        assert "num.network.threads" in bad.output(), bad.output()
        lvl = Broker(os.path.join(work, "lvl"), zk.connect, broker_id=3,
                     extra={"log.level": "chatty"})
        lvl.spawn()
        assert lvl.wait() == 1
        assert "log.level 'chatty'" in lvl.output(), lvl.output()

        # a controller may not take a registered broker's id
        cfg = os.path.join(work, "ctl.properties")
        with open(cfg, "w") as f:
            f.write("controller.id=1\nzookeeper.connect=%s\n" % zk.connect)
        r = subprocess.run([os.path.join(os.environ.get("top_builddir", "."),
                                         "kcontroller", "kcontroller"), cfg],
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1, r.stderr
        assert "controller ids must differ from broker ids" in r.stderr, r.stderr

        # SIGTERM: clean shutdown marker, checkpoints, registration gone
        assert b.stop() == 0, b.output()
        assert os.path.exists(os.path.join(b.logdir, ".kafka_cleanshutdown"))
        wait_for(lambda: not z.exists("/brokers/ids/1"), 30, "deregistration")
        # and it starts again on the same dir and id
        b.start()
        assert b.stop() == 0
        z.stop()
        z.close()
    print("ok")


if __name__ == "__main__":
    main()
