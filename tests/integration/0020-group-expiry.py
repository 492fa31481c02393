#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Group members expire at their session deadline, not at the next poll.

Kafka expires a member when its session deadline passes without a
heartbeat (DelayedHeartbeat, on a timing wheel of 1 ms).  Both halves on
a one-broker kcluster, on plain sockets (group.min.session.timeout.ms is
lowered so a session can be 300 ms):

- what a request sees: a member heartbeats (sent at t0, answered at t1)
  and stops; its deadline on the broker is at most t1 + session.  A
  DeleteGroups sent 2 ms after t1 + session finds the member gone and the
  group Empty, so it is deleted (not NON_EMPTY_GROUP), and a DescribeGroups
  sent then lists no member.  This is exact, whatever the scheduling: the
  broker acts on what is due before it looks.  With expiry on a 50 ms
  poll, each try passes only when a poll happened to fall between the
  deadline and the request (about one in ten); the test makes 6 tries.

- that the coordinator's timer fires on time by itself: member B rejoins
  with new metadata, which starts a rebalance its JoinGroup waits in; A,
  silent since its heartbeat at t0, is dropped when its session expires,
  and only that ends the join phase and answers B.  B's answer at t_b
  bounds the lateness of the expiry from above by t_b - (t0 + session)
  (the deadline is no earlier than t0 + session; the answer no earlier
  than the expiry).  The median of 9 tries must be under 12 ms: a 50 ms
  poll is late by 25 ms on median, and passes with a probability of a few
  percent; a timer is late by the time a thread takes to wake.

Each try waits a random 0-50 ms before the last heartbeat: the steps
before it may follow a poll of the broker's (the end of an initial
delay), and a heartbeat at a fixed distance from a poll would put the
deadline at a fixed distance from one too.
"""

import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from groupwire import (Wire, delete_group, describe_group, find_coordinator,  # noqa: E402
                       heartbeat, join_req, join_resp, sync, sync_req, sync_resp)
from kbroker import wait_for  # noqa: E402

SESSION_MS = 300
TRIES_EXACT = 6
TRIES_TIMER = 9
LATENESS_MS = 12.0


def join(w, group, session_ms=SESSION_MS, rebalance_ms=10000, meta=None):
    """A dynamic member through the member-id handshake: (member, generation,
    the JoinGroup answer)."""
    w.send(11, 5, join_req(group, "", session_ms=session_ms,
                           rebalance_ms=rebalance_ms, meta=meta))
    j = join_resp(w.recv())
    assert j["error"] == 79 and j["member"], j          # MEMBER_ID_REQUIRED
    w.send(11, 5, join_req(group, j["member"], session_ms=session_ms,
                           rebalance_ms=rebalance_ms, meta=meta))
    j = join_resp(w.recv())
    assert j["error"] == 0, j
    return j["member"], j["generation"], j


def wait_until(t):
    """Sleep until time.monotonic() reaches t (a computed instant: the
    test is about what happens right after a deadline)."""
    while True:
        left = t - time.monotonic()
        if left <= 0:
            return
        time.sleep(left)


def exact_try(c, n):
    """One member, stopped; a DeleteGroups and a DescribeGroups 2 ms after
    its deadline (separate groups, each one member)."""
    out = []
    for what in ("delete", "describe"):
        group = "exp-%s-%d" % (what, n)
        w = Wire(c.broker_port(1))
        wait_for(lambda: find_coordinator(w, group), 60, "the coordinator of " + group)
        m, gen, _ = join(w, group)
        assert sync(w, group, gen, m, [(m, b"a")]) == (0, b"a")
        time.sleep(random.uniform(0, 0.05))        # a random phase, see above
        assert heartbeat(w, group, gen, m) == 0
        t1 = time.monotonic()
        ask = t1 + SESSION_MS / 1000.0 + 0.002
        wait_until(ask)
        if what == "delete":
            err = delete_group(w, group)
            sent = time.monotonic()
            assert err == 0, ("DeleteGroups %.1f ms after the deadline: error %d "
                              "(68: NON_EMPTY_GROUP)" %
                              ((ask - t1) * 1000 - SESSION_MS, err))
            assert describe_group(w, group)[1] == "Dead"
        else:
            err, state, members = describe_group(w, group)
            sent = time.monotonic()
            assert err == 0 and members == [] and state == "Empty", \
                ("DescribeGroups after the deadline", state, members)
        out.append((sent - t1) * 1000 - SESSION_MS)
        w.close()
    return out


def timer_try(c, n):
    """Lateness bound (ms) of an expiry nobody asks about: B's JoinGroup
    is answered when A's session expires."""
    group = "exp-timer-%d" % n
    wa, wb = Wire(c.broker_port(1)), Wire(c.broker_port(1))
    wait_for(lambda: find_coordinator(wa, group), 60, "the coordinator of " + group)
    # A alone first (generation 1), then B joins: generation 2 with both
    a, gen, _ = join(wa, group)
    assert sync(wa, group, gen, a, [(a, b"a")]) == (0, b"a")
    wb.send(11, 5, join_req(group, "", session_ms=10000, rebalance_ms=10000))
    jb = join_resp(wb.recv())
    assert jb["error"] == 79, jb
    b = jb["member"]
    wb.send(11, 5, join_req(group, b, session_ms=10000, rebalance_ms=10000))
    # A learns of the rebalance from its heartbeat and rejoins
    wait_for(lambda: heartbeat(wa, group, gen, a) == 27, 30, "REBALANCE_IN_PROGRESS")
    wa.send(11, 5, join_req(group, a, session_ms=SESSION_MS, rebalance_ms=10000))
    ja, jb = join_resp(wa.recv()), join_resp(wb.recv())
    assert ja["error"] == 0 and jb["error"] == 0, (ja, jb)
    gen = ja["generation"]
    lead, lw = (a, wa) if ja["leader"] == a else (b, wb)
    other, ow = (b, wb) if lead == a else (a, wa)
    ow.send(14, 3, sync_req(group, gen, other, []))
    assert sync(lw, group, gen, lead, [(a, b"pa"), (b, b"pb")])[0] == 0
    assert sync_resp(ow.recv())[0] == 0

    # A's last heartbeat; then B rejoins with new metadata: a rebalance
    # whose join phase ends only when A is gone (A's rebalance timeout is
    # 10 s, far beyond its 300 ms session)
    time.sleep(random.uniform(0, 0.05))            # a random phase, see above
    t0 = time.monotonic()
    assert heartbeat(wa, group, gen, a) == 0
    wb.send(11, 5, join_req(group, b, session_ms=10000, rebalance_ms=10000,
                            meta=b"new-metadata"))
    j = join_resp(wb.recv())
    t_b = time.monotonic()
    assert j["error"] == 0 and j["generation"] == gen + 1, j
    assert [m for m, _, _ in j["members"]] == [b], j
    late = (t_b - t0) * 1000 - SESSION_MS
    assert late >= -1.0, late         # never before the deadline (1 ms: the
    #                                   broker's clock counts whole ms)
    wa.close()
    wb.close()
    return late


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=1, controllers=1,
                     broker_set={"group.min.session.timeout.ms": "100",
                                 "group.initial.rebalance.delay.ms": "0",
                                 "offsets.topic.num.partitions": "3"},
                     fail_tail=60) as c:
            exact = []
            for n in range(TRIES_EXACT):
                exact += exact_try(c, n)
            print("DeleteGroups/DescribeGroups %s ms after the deadlines: "
                  "the member was gone every time" %
                  ", ".join("%.1f" % x for x in exact))
            late = [timer_try(c, n) for n in range(TRIES_TIMER)]
            med = statistics.median(late)
            print("expiry lateness bounds (ms): %s; median %.1f" %
                  (", ".join("%.1f" % x for x in late), med))
            assert med < LATENESS_MS, \
                "members expired %.1f ms after their deadlines on median" % med


if __name__ == "__main__":
    main()
