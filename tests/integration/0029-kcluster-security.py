#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""kcluster up --security sasl_ssl (issue 19): a local cluster with a CA and
certificate made by the openssl command, SCRAM-SHA-512 users for brokers,
controllers and an admin client, ZooKeeper ACLs, every broker listener
SASL_SSL, and a client properties file, used here as kcat takes it:

- the brokers register SASL_SSL endpoints, and replicate over their
  SASL_SSL inter-broker listener (a topic with replication factor 3 gets a
  full ISR, acks=all writes succeed);
- kcat -F <client.properties> lists the brokers, produces and consumes as
  the admin user; the same file with a wrong password is refused;
- ZooKeeper: the SCRAM users are in /config/users, which a client without
  the cluster's digest identity can neither read nor write, nor can it
  write /brokers, /config or /admin;
- a broker killed: every record is still read through the file.

The controllers' listeners are SASL_SSL too and they reach the brokers
over the brokers' SASL_SSL listener as the user controller: the topic is
created with ktopics through the same client file (--command-config),
forwarded by a broker to the controller, and its leaders come from the
controller over SASL_SSL.
"""

import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import wait_for  # noqa: E402
from ktool import tool  # noqa: E402

from kazoo.exceptions import NoAuthError  # noqa: E402


def kcat(props, args, data=None, check=True):
    r = subprocess.run(["kcat", "-F", props] + args, input=data,
                       capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, (args, r.stderr)
    return r


def check_registration(c, zk):
    for i in (1, 2, 3):
        reg = json.loads(zk.get("/brokers/ids/%d" % i)[0])
        eps = reg["endpoints"]
        assert any(e.startswith("SASL_SSL://127.0.0.1:") for e in eps), eps
        assert reg["listener_security_protocol_map"]["SASL_SSL"] == "SASL_SSL", reg
    props = open(c.client_properties).read()
    for line in ("security.protocol=SASL_SSL", "sasl.mechanism=SCRAM-SHA-512",
                 "sasl.username=admin", "bootstrap.servers=" + c.bootstrap):
        assert line in props.splitlines(), (line, props)
    print("ok: every broker registers SASL_SSL endpoints; the client file names them")


def check_clients(c, zk):
    md = json.loads(kcat(c.client_properties, ["-L", "-J"]).stdout)
    assert sorted(b["name"] for b in md["brokers"]) == sorted(c.bootstrap.split(",")), md
    tool("ktopics", "--create", "--topic", "sec", "--partitions", "3",
         "--replication-factor", "3", "--command-config", c.client_properties,
         bootstrap=c.bootstrap)
    vals = ["s%d" % i for i in range(300)]
    kcat(c.client_properties, ["-P", "-t", "sec", "-X", "acks=all"],
         "\n".join(vals) + "\n")

    def isr_full():
        for p in range(3):
            st = json.loads(zk.get("/brokers/topics/sec/partitions/%d/state" % p)[0])
            if len(st["isr"]) != 3:
                return False
        return True
    wait_for(isr_full, 90, "full ISRs over the SASL_SSL inter-broker listener")
    out = kcat(c.client_properties, ["-C", "-t", "sec", "-e", "-q"]).stdout
    assert sorted(out.split()) == sorted(vals), out[:200]
    wrong = os.path.join(os.path.dirname(c.client_properties), "wrong.properties")
    with open(wrong, "w") as f:
        for line in open(c.client_properties):
            f.write("sasl.password=not-it\n" if line.startswith("sasl.password=")
                    else line)
    r = kcat(wrong, ["-L", "-m", "10"], check=False)
    assert r.returncode != 0, r.stdout
    assert "uthentication" in r.stderr, r.stderr
    print("ok: kcat produces and consumes with the client file; a wrong password fails")


def check_zookeeper(c, zk):
    for parent in ("/brokers", "/brokers/ids", "/config", "/config/users", "/admin"):
        try:
            zk.create(parent + "/intruder", b"x")
            raise AssertionError("created under " + parent)
        except NoAuthError:
            pass
    for u in ("broker", "controller", "admin"):
        try:
            zk.get("/config/users/" + u)
            raise AssertionError("read %s's credential" % u)
        except NoAuthError:
            pass
    state = dict(line.rstrip("\n").split("=", 1) for line in
                 open(os.path.join(c.dir, "kcluster.state")) if "=" in line and
                 not line.startswith("#"))
    az = c.zk()
    az.add_auth("digest", "%s:%s" % (state["zookeeper.digest.username"],
                                     state["zookeeper.digest.password"]))
    for u in ("broker", "controller", "admin"):
        data = json.loads(az.get("/config/users/" + u)[0])
        assert "SCRAM-SHA-512" in data["config"], data
        acls, _ = az.get_acls("/config/users/" + u)
        assert [a.id.scheme for a in acls] == ["digest"], acls
    print("ok: ZooKeeper ACLs on; the SCRAM users only skald can read")


def check_failover(c, zk):
    c.kill("broker", 1)
    wait_for(lambda: not zk.exists("/brokers/ids/1"), 60, "broker 1 to go")
    alive = c.client_properties + ".alive"
    with open(alive, "w") as f:
        for line in open(c.client_properties):
            f.write("bootstrap.servers=%s\n" % ",".join(c.bootstrap.split(",")[1:])
                    if line.startswith("bootstrap.servers=") else line)

    def all_read():
        r = kcat(alive, ["-C", "-t", "sec", "-e", "-q"], check=False)
        return r.returncode == 0 and len(r.stdout.split()) == 300
    wait_for(all_read, 90, "every record read after broker 1 died")
    c.start("broker", 1)
    print("ok: a broker killed, every record still read over SASL_SSL")


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=2, security="sasl_ssl",
                     listeners=["SASL_SSL"]) as c:
            assert c.client_properties and os.path.exists(c.client_properties)
            run_steps((check_registration, check_clients, check_zookeeper,
                       check_failover), c, c.zk())


if __name__ == "__main__":
    main()
