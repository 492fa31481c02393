#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""One consumer-group member, run as its own process so tests can SIGKILL it.

It prints one line per event on stdout (flushed):
  ready                      subscribed
  assign P,P,...             partitions added to its assignment
  revoke P,P,...             partitions taken away
  msg P OFFSET VALUE         a message consumed
  commit P OFFSET            an offset committed (acknowledged by the broker)
Commits are synchronous: every --commit-every messages and on every revoke.
"""

import argparse
import sys
import time


def out(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def parts(tps):
    return ",".join(str(tp.partition) for tp in sorted(tps, key=lambda t: t.partition))


def run_ck(a):
    from confluent_kafka import Consumer

    conf = {"bootstrap.servers": a.bootstrap, "group.id": a.group,
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": a.session_ms,
            "heartbeat.interval.ms": a.heartbeat_ms,
            "partition.assignment.strategy": a.assignor}
    if a.instance_id:
        conf["group.instance.id"] = a.instance_id
    c = Consumer(conf)
    pending = [0]

    def commit():
        if pending[0] == 0:
            return
        try:
            done = c.commit(asynchronous=False)
        except Exception as e:  # nothing to commit, or a rebalance
            out("commit-failed", str(e).replace(" ", "_"))
            return
        pending[0] = 0
        for tp in done or []:
            if tp.error is None and tp.offset >= 0:
                out("commit", tp.partition, tp.offset)

    def on_assign(cons, tps):
        out("assign", parts(tps))
        if a.assignor == "cooperative-sticky":
            cons.incremental_assign(tps)

    def on_revoke(cons, tps):
        commit()
        out("revoke", parts(tps))
        if a.assignor == "cooperative-sticky":
            cons.incremental_unassign(tps)

    c.subscribe([a.topic], on_assign=on_assign, on_revoke=on_revoke)
    out("ready")
    while True:
        m = c.poll(0.2)
        if m is None or m.error() is not None:
            continue
        out("msg", m.partition(), m.offset(), m.value().decode())
        pending[0] += 1
        if pending[0] >= a.commit_every:
            commit()
        if a.delay_ms:
            time.sleep(a.delay_ms / 1000.0)


def run_kp(a):
    from kafka import KafkaConsumer, ConsumerRebalanceListener

    c = KafkaConsumer(bootstrap_servers=a.bootstrap, group_id=a.group,
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      session_timeout_ms=a.session_ms,
                      heartbeat_interval_ms=a.heartbeat_ms,
                      client_id="kafka-python-member")
    pending = [0]

    def commit():
        if pending[0] == 0:
            return
        offs = {tp: c.position(tp) for tp in c.assignment()}
        c.commit()
        pending[0] = 0
        for tp, o in sorted(offs.items(), key=lambda kv: kv[0].partition):
            out("commit", tp.partition, o)

    class L(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            commit()
            out("revoke", parts(revoked))

        def on_partitions_assigned(self, assigned):
            out("assign", parts(assigned))

    c.subscribe([a.topic], listener=L())
    out("ready")
    while True:
        for tp, msgs in c.poll(timeout_ms=200).items():
            for m in msgs:
                out("msg", m.partition, m.offset, m.value.decode())
                pending[0] += 1
                if pending[0] >= a.commit_every:
                    commit()
                if a.delay_ms:
                    time.sleep(a.delay_ms / 1000.0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--client", choices=["ck", "kp"], default="ck")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--group", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("--assignor", default="range")
    p.add_argument("--instance-id")
    p.add_argument("--session-ms", type=int, default=6000)
    p.add_argument("--heartbeat-ms", type=int, default=1000)
    p.add_argument("--commit-every", type=int, default=50)
    p.add_argument("--delay-ms", type=float, default=0)
    a = p.parse_args()
    (run_ck if a.client == "ck" else run_kp)(a)


if __name__ == "__main__":
    main()
