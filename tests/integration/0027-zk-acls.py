#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""ZooKeeper ACLs (issue 19): zookeeper.set.acl=true with skald's digest
identity (zookeeper.digest.username / zookeeper.digest.password) on every
broker and controller of a real kcluster (under a chroot, which kcluster
creates with the same identity), checked with kazoo, a real ZooKeeper
client:

- every znode skald made carries Kafka 2.8's ACLs (ZkData.defaultAcls):
  ALL for skald's digest identity and READ for the world, but no world
  entry under Kafka's sensitive paths (/config/users, /config/brokers);
- an unauthenticated client cannot create, change or delete anything under
  /brokers, /controller, /controller_epoch, /config or /admin (NoAuth), nor
  read a SCRAM credential in /config/users, while it can read the broker
  registrations; a client with another digest identity cannot write
  either; a client with skald's identity reads /config/users;
- the cluster works end to end meanwhile: topic creation, produce and
  consume (kcat), a SCRAM user made with kconfigs (a sensitive path), the
  leader broker killed (failover, every record still read), the active
  controller killed (the standby writes the next topic);
- a broker whose session expired (paused past the session timeout)
  registers again in a new session, so its identity was sent again;
- zookeeper.set.acl=true without an identity stops kbroker and kcontroller
  with exit status 1 naming the key.
"""

import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import Broker, build_path, wait_for, zk_client  # noqa: E402
from ktool import tool  # noqa: E402

from kazoo.exceptions import NoAuthError, NoNodeError  # noqa: E402
from kazoo.security import make_digest_acl_credential  # noqa: E402

USER, PW = "skald", "zk-s3cret"
IDENTITY = {"zookeeper.set.acl": "true", "zookeeper.digest.username": USER,
            "zookeeper.digest.password": PW}
CHROOT = "/acl"


def digest_id(user, pw):
    return "%s:%s" % (user, base64.b64encode(
        hashlib.sha1(("%s:%s" % (user, pw)).encode()).digest()).decode())


def authed(c):
    """A kazoo client with skald's identity."""
    z = zk_client(c.zk_connect)
    z.add_auth("digest", "%s:%s" % (USER, PW))
    c.zks.append(z)
    return z


def kcat(c, args, data=None):
    r = subprocess.run(["kcat", "-b", c.bootstrap] + args, input=data,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, (args, r.stderr)
    return r.stdout


def acl_summary(acls):
    return sorted((a.id.scheme, a.id.id, a.perms) for a in acls)


def check_acls(c, zk, az):
    me = digest_id(USER, PW)
    public = sorted([("digest", me, 31), ("world", "anyone", 1)])
    private = [("digest", me, 31)]
    tool("ktopics", "--create", "--topic", "acl-t", "--partitions", "2",
         "--replication-factor", "3", bootstrap=c.bootstrap)
    tool("kconfigs", "--alter", "--entity-type", "users", "--entity-name", "alice",
         "--add-config", "SCRAM-SHA-256=[iterations=4096,password=alice-pw]",
         bootstrap=c.bootstrap)
    wait_for(lambda: az.exists("/brokers/topics/acl-t/partitions/1/state"), 60,
             "the partition states")
    wait_for(lambda: az.exists("/config/users/alice"), 60, "alice's credential")
    for p in ("/brokers", "/brokers/ids", "/brokers/ids/1", "/brokers/topics",
              "/brokers/topics/acl-t", "/brokers/topics/acl-t/partitions/0/state",
              "/controller", "/controller_epoch", "/config", "/config/topics",
              "/config/topics/acl-t", "/config/changes", "/admin",
              "/admin/delete_topics", "/cluster/id", "/isr_change_notification"):
        acls, _ = az.get_acls(p)
        assert acl_summary(acls) == public, (p, acls)
    for p in ("/config/users", "/config/users/alice", "/config/brokers"):
        acls, _ = az.get_acls(p)
        assert acl_summary(acls) == private, (p, acls)
    # the chroot kcluster made is skald's too
    root = zk_client(c.zk_connect.split("/")[0])
    c.zks.append(root)
    acls, _ = root.get_acls(CHROOT)
    assert sorted((a.id.scheme, a.perms) for a in acls) == [("digest", 31),
                                                           ("world", 1)], acls
    print("ok: every znode carries Kafka's ACLs (sensitive paths without world access)")


def refused(fn, *args):
    try:
        fn(*args)
    except NoAuthError:
        return
    raise AssertionError("%s%r was allowed" % (fn.__name__, args))


def check_unauthenticated(c, zk, az):
    other = zk_client(c.zk_connect)
    other.add_auth("digest", "mallory:guess")
    c.zks.append(other)
    for z in (zk, other):
        for parent in ("/brokers", "/brokers/ids", "/brokers/topics", "/config",
                       "/config/topics", "/config/changes", "/admin",
                       "/admin/delete_topics"):
            refused(z.create, parent + "/intruder", b"x")
        for p in ("/brokers/ids/1", "/controller", "/controller_epoch",
                  "/brokers/topics/acl-t", "/config/topics/acl-t", "/cluster/id",
                  "/brokers/topics/acl-t/partitions/0/state"):
            refused(z.set, p, b"{}")
        refused(z.delete, "/brokers/ids/2")
        refused(z.delete, "/controller")
        refused(z.delete, "/config/topics/acl-t")
        # a topic deletion request is a write under /admin
        refused(z.create, "/admin/delete_topics/acl-t", b"")
        refused(z.get, "/config/users/alice")
        refused(z.get_children, "/config/users")
        refused(z.get_children, "/config/brokers")
        # what the world may do: read the rest
        assert z.get("/brokers/ids/1")[0].startswith(b"{")
        assert "acl-t" in z.get_children("/brokers/topics")
    data, _ = az.get("/config/users/alice")
    assert b"SCRAM-SHA-256" in data, data
    assert az.exists("/brokers/ids/1") and zk.exists("/brokers/topics/acl-t")
    print("ok: without skald's identity nothing under /brokers, /controller, /config "
          "or /admin can be written, nor /config/users read")


def check_end_to_end(c, zk, az):
    vals = ["v%d" % i for i in range(200)]
    kcat(c, ["-P", "-t", "acl-t", "-X", "acks=all"], "\n".join(vals) + "\n")
    leader = None

    def state():
        nonlocal leader
        import json
        st = json.loads(zk.get("/brokers/topics/acl-t/partitions/0/state")[0])
        leader = st["leader"]
        return len(st["isr"]) == 3
    wait_for(state, 60, "a full ISR")
    c.kill("broker", leader)
    wait_for(lambda: not zk.exists("/brokers/ids/%d" % leader), 60,
             "the killed leader's registration to go")

    def moved():
        import json
        st = json.loads(zk.get("/brokers/topics/acl-t/partitions/0/state")[0])
        return st["leader"] not in (-1, leader)
    wait_for(moved, 60, "a new leader")
    alive = ",".join(b for i, b in enumerate(c.bootstrap.split(","))
                     if i + 1 != leader)
    got = subprocess.run(["kcat", "-b", alive, "-C", "-t", "acl-t", "-o", "beginning",
                          "-e", "-q"], capture_output=True, text=True, timeout=120)
    assert sorted(got.stdout.split()) == sorted(vals), got.stderr
    c.start("broker", leader)
    # the active controller goes; the standby takes over and writes
    import json
    active = json.loads(zk.get("/controller")[0])["brokerid"]
    c.kill("controller", active)
    wait_for(lambda: zk.exists("/controller") and
             json.loads(zk.get("/controller")[0])["brokerid"] != active,
             90, "the standby controller")
    tool("ktopics", "--create", "--topic", "acl-t2", "--partitions", "1",
         "--replication-factor", "2", bootstrap=c.bootstrap)
    wait_for(lambda: zk.exists("/brokers/topics/acl-t2/partitions/0/state"), 60,
             "acl-t2's state written by the new controller")
    kcat(c, ["-P", "-t", "acl-t2"], "one\ntwo\n")
    out = kcat(c, ["-C", "-t", "acl-t2", "-o", "beginning", "-e", "-q"])
    assert out.split() == ["one", "two"], out
    acls, _ = az.get_acls("/brokers/topics/acl-t2/partitions/0/state")
    assert len(acls) == 2, acls
    c.start("controller", active)
    print("ok: topics, produce, consume, broker and controller failover with ACLs on")


def check_session_expiry(c, zk, az):
    before = zk.exists("/brokers/ids/3").czxid
    c.pause("broker", 3)
    try:
        wait_for(lambda: not zk.exists("/brokers/ids/3"), 60,
                 "broker 3's session to expire")
    finally:
        c.resume("broker", 3)

    def back():
        st = zk.exists("/brokers/ids/3")
        return st is not None and st.czxid != before
    wait_for(back, 90, "broker 3 registered in a new session")
    acls, _ = az.get_acls("/brokers/ids/3")
    assert acl_summary(acls) == sorted([("digest", digest_id(USER, PW), 31),
                                        ("world", "anyone", 1)]), acls
    refused(zk.delete, "/brokers/ids/3")
    print("ok: a new session after expiry is authenticated again")


def check_misconfigurations(work, zk_connect):
    b = Broker(os.path.join(work, "noid"), zk_connect, broker_id=77,
               extra={"zookeeper.set.acl": "true"})
    b.spawn()
    assert b.wait(60) == 1, b.output()
    assert "zookeeper.set.acl" in b.output(), b.output()
    b = Broker(os.path.join(work, "colon"), zk_connect, broker_id=78,
               extra=dict(IDENTITY, **{"zookeeper.digest.username": "a:b"}))
    b.spawn()
    assert b.wait(60) == 1, b.output()
    assert "zookeeper.digest.username" in b.output(), b.output()
    props = os.path.join(work, "ctl-noid.properties")
    with open(props, "w") as f:
        f.write("controller.id=177\nzookeeper.connect=%s\nlisteners=PLAINTEXT://"
                "127.0.0.1:0\nzookeeper.set.acl=true\n" % zk_connect)
    r = subprocess.run([build_path("kcontroller", "kcontroller"), props],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "zookeeper.set.acl" in r.stderr, r.stderr
    print("ok: zookeeper.set.acl without an identity stops both daemons naming the key")


def main():
    with tempfile.TemporaryDirectory() as work:
        with Cluster(work, brokers=3, controllers=2, zk_chroot=CHROOT,
                     broker_set=IDENTITY, controller_set=IDENTITY) as c:
            az = authed(c)
            zk = c.zk()
            run_steps((check_acls, check_unauthenticated, check_end_to_end,
                       check_session_expiry), c, zk, az)
            check_misconfigurations(work, c.zk_connect)
        # kazoo's helper is imported to be sure the digest is computed as
        # ZooKeeper's DigestAuthenticationProvider does
        assert make_digest_acl_credential(USER, PW) == digest_id(USER, PW)


if __name__ == "__main__":
    main()
