#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Prometheus metrics (issue 22): a real Prometheus server (Debian's
package) scrapes two brokers and two controllers every second from a
configuration this test writes with kcluster's metrics URLs, and its HTTP
API shows what happened: messages in after producing N records (per topic
and in total), exactly one active controller, a group's lag per partition
equal to what kconsumer-groups reports, under-replicated partitions while
a follower is paused and none after it is resumed (with ISR shrinks and
expands counted), and an offline partition once its only replica is
killed.  promtool accepts every daemon's scrape."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402
from zookeeper import free_port  # noqa: E402

PROMETHEUS = "/usr/bin/prometheus"
PROMTOOL = "/usr/bin/promtool"
N = 500


def hostport(url):
    u = urllib.parse.urlparse(url)
    return "%s:%d" % (u.hostname, u.port)


class Prometheus:
    def __init__(self, workdir, targets):
        self.dir = os.path.join(workdir, "prometheus")
        os.makedirs(self.dir)
        self.port = free_port()
        cfg = ["global:", "  scrape_interval: 1s", "  scrape_timeout: 900ms",
               "scrape_configs:"]
        for (kind, id), url in sorted(targets.items()):
            cfg += ["  - job_name: %s-%d" % (kind, id),
                    "    metrics_path: /metrics",
                    "    static_configs:",
                    "      - targets: ['%s']" % hostport(url),
                    "        labels: {daemon: %s}" % kind]
        path = os.path.join(self.dir, "prometheus.yml")
        with open(path, "w") as f:
            f.write("\n".join(cfg) + "\n")
        r = subprocess.run([PROMTOOL, "check", "config", path],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file=" + path,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_for(self.ready, 120, "Prometheus ready")
        wait_for(lambda: self.query("count(up == 1)") == [((), len(targets))], 120,
                 "every target up")

    def ready(self):
        assert self.proc.poll() is None, "prometheus exited: " + self.tail()
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port,
                                        timeout=5) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, q):
        """The instant vector of q: [(sorted label items, value)]."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.port, urllib.parse.urlencode({"query": q}))
        with urllib.request.urlopen(url, timeout=30) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        out = []
        for s in body["data"]["result"]:
            labels = tuple(sorted((k, v) for k, v in s["metric"].items()
                                  if k not in ("instance", "job", "daemon")))
            out.append((labels, float(s["value"][1])))
        return sorted(out)

    def value(self, q):
        v = self.query(q)
        return v[0][1] if len(v) == 1 else None

    def tail(self):
        with open(os.path.join(self.dir, "prometheus.log")) as f:
            return f.read()[-3000:]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def scrape(url):
    with urllib.request.urlopen(url, timeout=30) as r:
        assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4"), r.headers
        return r.read()


def promtool_accepts(c):
    for (kind, id), url in sorted(c.metrics.items()):
        text = scrape(url)
        r = subprocess.run([PROMTOOL, "check", "metrics"], input=text,
                           capture_output=True)
        assert r.returncode == 0, "%s %d: %s%s" % (kind, id, r.stdout.decode(),
                                                   r.stderr.decode())


def produce(c, topic, n):
    from confluent_kafka import Producer

    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all", "linger.ms": 5})
    errors = []
    for i in range(n):
        p.produce(topic, value=b"v%d" % i, partition=i % 2,
                  on_delivery=lambda err, msg: err and errors.append(err))
    assert p.flush(90) == 0 and not errors, errors


def check_messages_in(c, prom):
    tool("ktopics", "--create", "--topic", "m", "--partitions", "2",
         "--replication-factor", "2", bootstrap=c.bootstrap)
    produce(c, "m", N)
    # each partition's leader counts its appends: the sum over brokers
    wait_for(lambda: prom.value('sum(kafka_server_brokertopicmetrics_messagesin_total{topic="m"})')
             == N, 60, "messages in = %d in Prometheus" % N)
    # the total (no topic label) counts them too (nothing else is produced)
    wait_for(lambda: prom.value(
        'sum(kafka_server_brokertopicmetrics_messagesin_total{topic=""})') == N, 60,
        "total messages in")
    # and the requests were timed
    assert prom.value('sum(kafka_network_requestmetrics_totaltimems_count{request="Produce"})') > 0
    assert prom.value('sum(kafka_network_requestmetrics_requests_total{request="Produce"})') > 0
    # Fetch is counted also as FetchFollower (replication), as Kafka's
    wait_for(lambda: (prom.value(
        'sum(kafka_network_requestmetrics_requests_total{request="FetchFollower"})') or 0)
        > 0, 60, "follower fetches counted")
    # one query, so both come from the same scrapes
    assert prom.value('sum(kafka_network_requestmetrics_requests_total{request="Fetch"}) - '
                      'sum(kafka_network_requestmetrics_requests_total{request="FetchFollower"})') >= 0


def check_one_active_controller(c, prom):
    wait_for(lambda: prom.value("sum(kafka_controller_kafkacontroller_activecontrollercount)")
             == 1 and prom.value("count(kafka_controller_kafkacontroller_activecontrollercount)")
             == 2, 60, "one active controller of two")
    wait_for(lambda: prom.value(
        "sum(kafka_controller_kafkacontroller_globalpartitioncount)") == 2, 60,
        "the active controller's partition count (m's two)")
    # every daemon's ZooKeeper session is up and its round trips timed
    assert prom.value("count(kafka_server_sessionexpirelistener_zookeeper_connected == 1)") == 4
    assert prom.value("count(kafka_server_zookeeperclientmetrics_zookeeperrequestlatencyms_count"
                      " > 0)") == 4


def groups_lag(c, group):
    r = tool("kconsumer-groups", "--describe", "--group", group, bootstrap=c.bootstrap)
    lag = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == group and f[1] == "m":
            lag[int(f[2])] = int(f[5])
    return lag


def check_group_lag(c, prom):
    from confluent_kafka import Consumer, TopicPartition

    cons = Consumer({"bootstrap.servers": c.bootstrap, "group.id": "lagging",
                     "enable.auto.commit": False})
    # two commits a little apart: the consume rate between them gives the
    # lag in seconds
    cons.commit(offsets=[TopicPartition("m", 0, 50), TopicPartition("m", 1, 10)],
                asynchronous=False)
    t = time.monotonic()
    while time.monotonic() < t + 0.5:
        time.sleep(0.05)
    cons.commit(offsets=[TopicPartition("m", 0, 100), TopicPartition("m", 1, 30)],
                asynchronous=False)
    cons.close()
    want = groups_lag(c, "lagging")
    assert want == {0: N // 2 - 100, 1: N // 2 - 30}, want

    def same():
        got = {int(dict(lab)["partition"]): v for lab, v in
               prom.query('kafka_consumergroup_lag{group="lagging",topic="m"}')}
        return got == want
    wait_for(same, 60, "Prometheus' lag = kconsumer-groups' %s" % want)
    assert prom.value('sum(kafka_consumergroup_current_offset{group="lagging"})') == 130
    # lag / rate, both commits in one request each (the same interval dt):
    # partition 0 150 records behind at 50 per dt, partition 1 220 at 20
    secs = {int(dict(lab)["partition"]): v for lab, v in
            prom.query('kafka_consumergroup_lag_seconds{group="lagging",topic="m"}')}
    assert sorted(secs) == [0, 1] and secs[0] > 0, secs
    assert abs(secs[1] / secs[0] - (220 / 20) / (150 / 50)) < 0.01, secs


def check_under_replicated(c, prom):
    expands0 = prom.value("sum(kafka_server_replicamanager_isrexpands_total)")
    c.pause("broker", 2)
    try:
        wait_for(lambda: (prom.value(
            'sum(kafka_server_replicamanager_underreplicatedpartitions{job="broker-1"})')
            or 0) > 0, 120, "under-replicated partitions on broker 1 while 2 is paused")
    finally:
        c.resume("broker", 2)
    wait_for(lambda: prom.value("sum(kafka_server_replicamanager_underreplicatedpartitions)")
             == 0 and prom.value("count(kafka_server_replicamanager_underreplicatedpartitions)")
             == 2, 180, "no under-replicated partition after the resume")
    # the leaders took broker 2 back into their ISRs themselves (who took
    # it out - the leader's own shrink or the controller at the session's
    # expiry - depends on timing, so shrinks are not asserted)
    wait_for(lambda: prom.value("sum(kafka_server_replicamanager_isrexpands_total)")
             > expands0, 60, "ISR expansions counted")


def check_offline(c, prom):
    tool("ktopics", "--create", "--topic", "solo", "--replica-assignment", "2",
         bootstrap=c.bootstrap)
    wait_for(lambda: prom.value(
        "sum(kafka_controller_kafkacontroller_globalpartitioncount)") == 2 + 50 + 1, 60,
        "the new partition counted")
    assert prom.value("sum(kafka_controller_kafkacontroller_offlinepartitionscount)") == 0
    c.kill("broker", 2)
    wait_for(lambda: prom.value("sum(kafka_controller_kafkacontroller_offlinepartitionscount)")
             == 1, 120, "solo-0 offline once its only replica is gone")
    c.start("broker", 2)
    wait_for(lambda: prom.value("sum(kafka_controller_kafkacontroller_offlinepartitionscount)")
             == 0, 120, "solo-0 back online")


def main():
    for p in (PROMETHEUS, PROMTOOL):
        assert os.path.exists(p), "%s is missing (Debian package: prometheus)" % p
    workdir = tempfile.mkdtemp(prefix="skald-0026-")
    ok = False
    try:
        with Cluster(workdir, brokers=2, controllers=2,
                     broker_set={"replica.lag.time.max.ms": "3000"}) as c:
            assert sorted(c.metrics) == [("broker", 1), ("broker", 2),
                                         ("controller", 101), ("controller", 102)], c.metrics
            prom = Prometheus(workdir, c.metrics)
            try:
                promtool_accepts(c)
                for step in (check_messages_in, check_one_active_controller,
                             check_group_lag, check_under_replicated, check_offline):
                    print("--", step.__name__, flush=True)
                    step(c, prom)
                promtool_accepts(c)
            except BaseException:
                print(prom.tail())
                raise
            finally:
                prom.stop()
        ok = True
    finally:
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("kept", workdir)
    print("ok")


if __name__ == "__main__":
    main()
