#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Listeners and their security protocols (issue 19), on a real kcluster
with real clients:

- two listeners per broker (kcluster --listeners CLIENT,INTERNAL) named in
  listener.security.protocol.map, INTERNAL the inter-broker listener on
  brokers and controller: each registration in /brokers/ids carries both
  endpoints and the map exactly as Kafka 2.8 writes them (host and port
  name the first endpoint whose protocol is PLAINTEXT: CLIENT's);
- Metadata answers with the endpoints of the listener the client used
  (kafka-python's cluster view through each bootstrap list);
- a topic with replication factor 3 replicates over the INTERNAL
  listener: acks=all produce, then consume every record (kcat);
- misconfigurations stop kbroker with exit status 1 and Kafka's message:
  a listener without a protocol, an unknown protocol in the map, an
  inter-broker listener that is not advertised, both inter-broker keys.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import Broker, wait_for  # noqa: E402

MAP = "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT"


def check_registration(c, zk):
    for b in (1, 2, 3):
        reg = json.loads(zk.get("/brokers/ids/%d" % b)[0])
        client = c.bootstrap.split(",")[b - 1]
        internal = c.bootstraps["INTERNAL"].split(",")[b - 1]
        assert reg["endpoints"] == ["CLIENT://" + client, "INTERNAL://" + internal], reg
        assert reg["listener_security_protocol_map"] == {
            "CLIENT": "PLAINTEXT", "INTERNAL": "PLAINTEXT"}, reg
        # host/port: the first endpoint whose protocol is PLAINTEXT
        assert "%s:%d" % (reg["host"], reg["port"]) == client, reg
        assert reg["version"] == 5, reg


def check_metadata_per_listener(c, zk):
    from kafka import KafkaAdminClient

    for name, boot in (("CLIENT", c.bootstrap), ("INTERNAL", c.bootstraps["INTERNAL"])):
        a = KafkaAdminClient(bootstrap_servers=boot.split(",")[0],
                             request_timeout_ms=30000)
        try:
            seen = sorted("%s:%d" % (n["host"], n["port"])
                          for n in a.describe_cluster()["brokers"])
        finally:
            a.close()
        assert seen == sorted(boot.split(",")), (name, seen, boot)


def check_replication_over_internal(c, zk):
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    a.create_topics([NewTopic("lst", 2, 3)])["lst"].result(60)
    lines = "".join("v%d\n" % i for i in range(200))
    subprocess.run(["kcat", "-P", "-b", c.bootstrap, "-t", "lst",
                    "-X", "acks=all"], input=lines, text=True, check=True,
                   timeout=120)

    def isr_full():
        for p in (0, 1):
            st = json.loads(zk.get("/brokers/topics/lst/partitions/%d/state" % p)[0])
            if len(st["isr"]) != 3:
                return False
        return True
    wait_for(isr_full, 60, "every replica in sync over INTERNAL")
    out = subprocess.run(["kcat", "-C", "-b", c.bootstraps["INTERNAL"], "-t", "lst",
                          "-e", "-q", "-f", "%s\n"], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    assert sorted(out.split()) == sorted(lines.split()), out[:200]


def check_misconfigurations(work, zk_connect):
    cases = [
        ({"listeners": "CLIENT://127.0.0.1:0"},
         "Error creating broker listeners from 'CLIENT://127.0.0.1:0': "
         "No security protocol defined for listener CLIENT"),
        ({"listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,X:TLS"},
         "Invalid security protocol `TLS` defined in listener.security.protocol.map"),
        ({"inter.broker.listener.name": "REPL",
          "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,REPL:PLAINTEXT"},
         "inter.broker.listener.name must be a listener name defined in "
         "advertised.listeners. The valid options based on currently "
         "configured listeners are PLAINTEXT"),
        ({"inter.broker.listener.name": "PLAINTEXT",
          "security.inter.broker.protocol": "PLAINTEXT"},
         "Only one of inter.broker.listener.name and "
         "security.inter.broker.protocol should be set."),
    ]
    for i, (extra, msg) in enumerate(cases):
        b = Broker(os.path.join(work, "bad%d" % i), zk_connect, broker_id=50 + i,
                   extra=extra)
        b.spawn()
        rc = b.wait(60)
        assert rc == 1, (extra, rc, b.output())
        assert msg in b.output(), (extra, msg, b.output())


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=1, listeners=["CLIENT", "INTERNAL"],
                     broker_set={"listener.security.protocol.map": MAP,
                                 "inter.broker.listener.name": "INTERNAL"},
                     controller_set={"inter.broker.listener.name": "INTERNAL"}) as c:
            run_steps((check_registration, check_metadata_per_listener,
                       check_replication_over_internal), c, c.zk())
            check_misconfigurations(work, c.zk_connect)
            print("ok: misconfigured listeners stop kbroker with Kafka's message")


if __name__ == "__main__":
    main()
