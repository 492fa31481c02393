#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A cluster whose every listener is SASL_SSL (issue 19): 3 brokers and 2
controllers, SCRAM-SHA-512 for the brokers' replica fetchers, for the
controller's channels to the brokers (LeaderAndIsr, UpdateMetadata,
StopReplica) and for the brokers' requests to the controller's listener
(ControlledShutdown, forwarded admin requests), with real clients:

- the SCRAM users (broker, controller, admin, alice) are written to
  ZooKeeper as Kafka's kafka-configs.sh --zookeeper writes them
  (/config/users/<user>, salted, and a /config/changes notification),
  since no daemon can be reached without one; the controller finds them
  there when a broker authenticates, the brokers through the notification;
- topic creation (forwarded by the broker to the active controller's
  SASL_SSL listener, leaders sent out through its SASL_SSL channels) and
  replication (acks=all, every ISR full) work;
- no record byte travels in plaintext: a loopback capture (tcpdump) of
  every daemon's port while marked records are produced, replicated and
  consumed holds TLS records and never the marker;
- kafka-python produces and consumes over SASL_SSL with SCRAM-SHA-512 in
  a consumer group, and its committed offsets are what kconsumer-groups
  (with --command-config) reports;
- the tools take Kafka's client properties: ktopics, kconsumer-groups,
  kconsole-producer (--producer.config, librdkafka's sasl.username and
  sasl.password) and kconsole-consumer (--consumer.config, Kafka's
  sasl.jaas.config); a wrong password is refused;
- controller failover: the active kcontroller is killed, the other takes
  over and its channels authenticate (a new topic gets its leaders);
- controlled shutdown: a broker leading partitions gets SIGTERM while an
  acks=all producer writes; its ControlledShutdown to the controller's
  SASL_SSL listener succeeds, leadership moves, the producer sees no
  error and every acknowledged record is read back.
- the controller's listener by hand (TLS, SaslHandshake v1 and
  SaslAuthenticate with SCRAM-SHA-512): a request before authentication
  and a wrong password close the connection, admin's password opens it;
  the v0 framing (SaslHandshake v0, then SCRAM's tokens as bare frames)
  authenticates too, and a wrong password there closes the connection;
- a standby kcontroller with an SSL listener, ssl.client.auth=required,
  ssl.principal.mapping.rules and an authorizer whose super user is the
  name the node certificate maps to: that certificate's connection is
  authorized, another certificate of the same CA is denied
  (CLUSTER_AUTHORIZATION_FAILED), none at all cannot connect;
- the controller refuses a misconfigured listener with exit status 1 and
  a message naming the key.
"""

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, Writer, run_steps  # noqa: E402
from kbroker import build_path, wait_for  # noqa: E402

MECH = "SCRAM-SHA-512"
USERS = {"broker": "broker-pw", "controller": "controller-pw",
         "admin": "admin-pw", "alice": "alice-pw"}
PASS = "k3ystore-pw"
MARK = "plaintext-marker-" + uuid.uuid4().hex


def scram_login(user):
    return ('org.apache.kafka.common.security.scram.ScramLoginModule required '
            'username="%s" password="%s";' % (user, USERS[user]))


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=120)


def make_certs(d):
    """A CA and one certificate for 127.0.0.1 (PKCS12) every daemon uses."""
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=skald secure cluster ca", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    openssl("req", *ec, "-keyout", "node.key", "-out", "node.csr", "-subj",
            "/CN=localhost/O=skald", cwd=d)
    openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "node.pem",
            cwd=d)
    openssl("pkcs12", "-export", "-in", "node.pem", "-inkey", "node.key", "-certfile",
            "ca.pem", "-out", "node.p12", "-passout", "pass:" + PASS, cwd=d)
    return {n: os.path.join(d, n) for n in os.listdir(d)}


def tls_keys(certs):
    return {"ssl.keystore.type": "PKCS12",
            "ssl.keystore.location": certs["node.p12"],
            "ssl.keystore.password": PASS,
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": certs["ca.pem"],
            "ssl.endpoint.identification.algorithm": "https",
            "sasl.enabled.mechanisms": MECH,
            "security.inter.broker.protocol": "SASL_SSL",
            "sasl.mechanism.inter.broker.protocol": MECH}


def credential(pw, iters=4096):
    """Kafka's ScramCredentialUtils string for SCRAM-SHA-512."""
    salt = os.urandom(24)
    salted = hashlib.pbkdf2_hmac("sha512", pw.encode(), salt, iters)
    ck = hmac.new(salted, b"Client Key", hashlib.sha512).digest()
    sk = hmac.new(salted, b"Server Key", hashlib.sha512).digest()
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return "salt=%s,stored_key=%s,server_key=%s,iterations=%d" % (
        b64(salt), b64(hashlib.sha512(ck).digest()), b64(sk), iters)


def add_users(c, zk):
    for user, pw in USERS.items():
        data = json.dumps({"version": 1, "config": {MECH: credential(pw)}}).encode()
        zk.create("/config/users/" + user, data, makepath=True)
        zk.create("/config/changes/config_change_",
                  json.dumps({"version": 2, "entity_path": "users/" + user}).encode(),
                  sequence=True, makepath=True)


def cconf(certs, user="admin", **more):
    conf = {"bootstrap.servers": CL.bootstrap, "security.protocol": "SASL_SSL",
            "sasl.mechanism": MECH, "sasl.username": user,
            "sasl.password": USERS[user], "ssl.ca.location": certs["ca.pem"],
            "ssl.endpoint.identification.algorithm": "https"}
    conf.update(more)
    return conf


def kpy(certs, user="alice"):
    return dict(bootstrap_servers=CL.bootstrap.split(","), security_protocol="SASL_SSL",
                sasl_mechanism=MECH, sasl_plain_username=user,
                sasl_plain_password=USERS[user], ssl_cafile=certs["ca.pem"],
                ssl_check_hostname=True)


def isr_full(zk, topic, parts, n=3):
    for p in range(parts):
        path = "/brokers/topics/%s/partitions/%d/state" % (topic, p)
        if not zk.exists(path):
            return False
        st = json.loads(zk.get(path)[0])
        if len(st["isr"]) != n or st["leader"] < 0:
            return False
    return True


def create_topic(certs, zk, name, parts, rf=3):
    from confluent_kafka.admin import AdminClient, NewTopic

    from confluent_kafka import KafkaError, KafkaException

    a = AdminClient(cconf(certs))

    def created():
        # a broker just started knows the others once the controller's
        # UpdateMetadata reached it (Kafka's brokers answer "larger than
        # available brokers: 0" until then too)
        try:
            a.create_topics([NewTopic(name, parts, rf)])[name].result(120)
        except KafkaException as e:
            if e.args[0].code() == KafkaError.INVALID_REPLICATION_FACTOR:
                return False
            raise
        return True
    wait_for(created, 120, "%s created" % name)
    wait_for(lambda: isr_full(zk, name, parts, rf), 120, "%s: leaders and full ISRs" % name)

    def led():
        md = a.list_topics(name, timeout=30).topics[name]
        return md.error is None and len(md.partitions) == parts and \
            all(p.leader >= 0 for p in md.partitions.values())
    wait_for(led, 120, "%s: the brokers know the leaders (LeaderAndIsr, "
             "UpdateMetadata over SASL_SSL)" % name)


def daemon_ports(c, zk):
    ports = {int(hp.rsplit(":", 1)[1]) for hp in c.bootstrap.split(",")}
    ctl = json.loads(zk.get("/controller")[0])
    ports.add(int(ctl["endpoints"][0].rsplit(":", 1)[1]))
    return ports, ctl


def check_users_and_topics(c, zk, certs):
    add_users(c, zk)
    # /controller names the endpoint by its protocol
    ctl = json.loads(zk.get("/controller")[0])
    assert ctl["endpoints"][0].startswith("SASL_SSL://127.0.0.1:"), ctl
    # the controller's UpdateMetadata reaches every broker once its
    # channels authenticate (the brokers learn the users from the
    # notification): each broker's Metadata then names all three
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    a = AdminClient(cconf(certs))

    def all_known():
        try:
            return len(a.list_topics(timeout=10).brokers) == 3
        except KafkaException:
            return False
    wait_for(all_known, 180, "the brokers know every broker (UpdateMetadata over SASL_SSL)")
    # CreateTopics is forwarded to the controller's SASL_SSL listener
    create_topic(certs, zk, "sec", 3)


def check_no_plaintext(c, zk, certs):
    from confluent_kafka import Consumer, Producer, TopicPartition

    ports, _ = daemon_ports(c, zk)
    pcap = os.path.join(c.dir, "lo.pcap")
    flt = " or ".join("tcp port %d" % p for p in sorted(ports))
    # a capture that saw nothing (tcpdump not yet attached on a loaded
    # machine: it happened once) is taken again with new records
    for attempt in range(3):
        cap = subprocess.Popen(["tcpdump", "-i", "lo", "-U", "-n", "-s", "0", "-w", pcap,
                                flt], stderr=subprocess.PIPE, text=True)
        try:
            line = cap.stderr.readline()
            assert "listening on" in line, line
            time.sleep(1)
            p = Producer(cconf(certs, acks="all", **{"compression.type": "none"}))
            for i in range(300):
                p.produce("sec", value=("%s-%d" % (MARK, i)).encode(), partition=i % 3)
            assert p.flush(120) == 0
            wait_for(lambda: isr_full(zk, "sec", 3), 120, "replicas caught up")
            cons = Consumer(cconf(certs, **{"group.id": "sec-read-%d" % attempt,
                                            "enable.auto.commit": False}))
            cons.assign([TopicPartition("sec", i, 0) for i in range(3)])
            got = 0
            deadline = time.monotonic() + 120
            while got < 300 * (attempt + 1) and time.monotonic() < deadline:
                m = cons.poll(1.0)
                if m is not None and not m.error() and m.value().startswith(MARK.encode()):
                    got += 1
            cons.close()
            assert got == 300 * (attempt + 1), got
        finally:
            cap.send_signal(signal.SIGINT)
            cap.wait(60)
        data = open(pcap, "rb").read()
        if len(data) > 100000:
            break
        print("capture %d held %d bytes; again" % (attempt, len(data)))
    assert len(data) > 100000, "the capture holds %d bytes" % len(data)
    # TLS records: handshakes and application data (TLS 1.2 record headers)
    assert b"\x16\x03\x01" in data or b"\x16\x03\x03" in data, "no TLS handshake"
    assert data.count(b"\x17\x03\x03") > 50, "few TLS application records"
    assert MARK.encode() not in data, "a record travelled in plaintext"
    assert MARK[:20].encode() not in data
    os.unlink(pcap)


def check_kafka_python_group(c, zk, certs):
    from kafka import KafkaConsumer, KafkaProducer

    p = KafkaProducer(acks="all", **kpy(certs))
    for i in range(500):
        p.send("sec", value=b"kp-%d" % i)
    p.flush(120)
    p.close()
    cons = KafkaConsumer("sec", group_id="kp-group", auto_offset_reset="earliest",
                         enable_auto_commit=False, consumer_timeout_ms=20000, **kpy(certs))
    seen = set()
    deadline = time.monotonic() + 120
    while len(seen) < 500 and time.monotonic() < deadline:
        for m in cons:
            if m.value.startswith(b"kp-"):
                seen.add(m.value)
            if len(seen) == 500:
                break
    cons.commit()
    cons.close()
    assert len(seen) == 500, len(seen)


def write_props(c, name, props):
    path = os.path.join(c.dir, name)
    with open(path, "w") as f:
        for k, v in props.items():
            f.write("%s=%s\n" % (k, v))
    return path


def tool(*args, input=None, ok=True):
    r = subprocess.run([build_path("tools", args[0])] + list(args[1:]), input=input,
                       capture_output=True, text=True, timeout=300)
    if ok:
        assert r.returncode == 0, (args, r.returncode, r.stdout, r.stderr)
    return r


def check_tools(c, zk, certs):
    base = {"security.protocol": "SASL_SSL", "ssl.truststore.type": "PEM",
            "ssl.truststore.location": certs["ca.pem"], "sasl.mechanism": MECH}
    admin = write_props(c, "admin.properties",
                        dict(base, **{"sasl.jaas.config": scram_login("admin")}))
    prod = write_props(c, "producer.properties",
                       dict(base, **{"sasl.username": "alice",
                                     "sasl.password": USERS["alice"], "acks": "all"}))
    bad = write_props(c, "bad.properties",
                      dict(base, **{"sasl.username": "alice", "sasl.password": "nope"}))
    boot = c.bootstrap
    tool("ktopics", "--bootstrap-server", boot, "--command-config", admin, "--create",
         "--topic", "tl", "--partitions", "2", "--replication-factor", "3")
    wait_for(lambda: isr_full(zk, "tl", 2), 120, "tl: leaders")
    out = tool("ktopics", "--bootstrap-server", boot, "--command-config", admin,
               "--describe", "--topic", "tl").stdout
    assert "PartitionCount: 2" in out, out
    lines = "".join("t%d\n" % i for i in range(100))
    tool("kconsole-producer", "--bootstrap-server", boot, "--topic", "tl",
         "--producer.config", prod, input=lines)
    cons = write_props(c, "consumer.properties",
                       dict(base, **{"sasl.jaas.config": scram_login("alice"),
                                     "group.id": "tool-group"}))
    out = tool("kconsole-consumer", "--bootstrap-server", boot, "--topic", "tl",
               "--consumer.config", cons, "--from-beginning", "--max-messages",
               "100").stdout
    assert sorted(out.split()) == sorted(lines.split()), out[:300]
    out = tool("kconsumer-groups", "--bootstrap-server", boot, "--command-config", admin,
               "--describe", "--group", "kp-group").stdout
    rows = [ln.split() for ln in out.splitlines() if ln.startswith("kp-group")]
    assert len(rows) == 3 and all(r[1] == "sec" for r in rows), out
    committed = sum(int(r[3]) for r in rows)
    # the marked records (300 per capture taken: check_no_plaintext may
    # take it again on a loaded machine) and the 500 of kafka-python, all
    # committed: every partition's offset is its log end
    assert committed >= 800 and (committed - 500) % 300 == 0, out
    assert all(r[3] == r[4] for r in rows), out
    r = tool("ktopics", "--bootstrap-server", boot, "--command-config", bad, "--list",
             "--timeout-ms", "5000", ok=False)
    assert r.returncode != 0, (r.stdout, r.stderr)
    # a misconfiguration is a usage error naming the key
    nomech = write_props(c, "nomech.properties", {"security.protocol": "SASL_SSL"})
    r = tool("ktopics", "--bootstrap-server", boot, "--command-config", nomech, "--list",
             ok=False)
    assert r.returncode == 2 and "sasl.mechanism" in r.stderr, r.stderr


def scram_final(pw, sfirst, first_bare):
    """client-final for SCRAM-SHA-512 and the server signature expected."""
    attrs = dict(kv.split(b"=", 1) for kv in sfirst.split(b","))
    wo = b"c=biws,r=" + attrs[b"r"]
    salted = hashlib.pbkdf2_hmac("sha512", pw.encode(), base64.b64decode(attrs[b"s"]),
                                 int(attrs[b"i"]))
    auth = first_bare + b"," + sfirst + b"," + wo
    ck = hmac.new(salted, b"Client Key", hashlib.sha512).digest()
    sig = hmac.new(hashlib.sha512(ck).digest(), auth, hashlib.sha512).digest()
    sk = hmac.new(salted, b"Server Key", hashlib.sha512).digest()
    proof = bytes(a ^ b for a, b in zip(ck, sig))
    return (wo + b",p=" + base64.b64encode(proof),
            b"v=" + base64.b64encode(hmac.new(sk, auth, hashlib.sha512).digest()))


def check_controller_listener(c, zk, certs):
    """The controller's listener by hand: TLS (its certificate checked),
    then nothing but ApiVersions and SASL before authentication; SCRAM
    with admin's password opens it, a wrong one is refused and closed."""
    import ssl

    from kwire import Wire

    ep = json.loads(zk.get("/controller")[0])["endpoints"][0]
    port = int(ep.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=certs["ca.pem"])

    def conn():
        w = Wire(port)
        w.sk = ctx.wrap_socket(w.sk, server_hostname="127.0.0.1")
        return w

    def closed(w):
        w.sk.settimeout(30)
        try:
            return w.sk.recv(1) == b""
        except (ssl.SSLError, ConnectionResetError):
            return True
        except TimeoutError:
            return False

    def login(w, pw):
        r = w.call(17, 1, {"mechanism": MECH})
        assert r["error_code"] == 0 and MECH in r["mechanisms"], r
        first = b"n=admin,r=" + uuid.uuid4().hex.encode()
        r = w.call(36, 2, {"auth_bytes": b"n,," + first})
        assert r["error_code"] == 0, r
        final, want = scram_final(pw, r["auth_bytes"], first)
        r = w.call(36, 2, {"auth_bytes": final})
        return r, want

    with conn() as w:
        assert w.call(18, 3, {"client_software_name": "kwire",
                              "client_software_version": "1"})["error_code"] == 0
        r, want = login(w, USERS["admin"])
        assert r["error_code"] == 0 and r["auth_bytes"] == want, r
        r = w.call(46, 0, {"timeout_ms": 30000})
        assert r["error_code"] == 0, r
    with conn() as w:
        r, _ = login(w, "wrong")
        assert r["error_code"] == 58, r     # SASL_AUTHENTICATION_FAILED
        assert closed(w), "a failed authentication closes the connection"
    with conn() as w:
        w.send(46, 0, {"timeout_ms": 30000})
        assert closed(w), "a request before authentication closes"
    # the v0 framing: SaslHandshake v0, then bare token frames

    def login_v0(w, pw):
        r = w.call(17, 0, {"mechanism": MECH})
        assert r["error_code"] == 0 and MECH in r["mechanisms"], r
        first = b"n=admin,r=" + uuid.uuid4().hex.encode()
        w.send_raw(b"n,," + first)
        final, want = scram_final(pw, w.recv_frame(), first)
        w.send_raw(final)
        return want
    with conn() as w:
        av = w.call(18, 3, {"client_software_name": "kwire",
                            "client_software_version": "1"})
        hs = [k for k in av["api_keys"] if k["api_key"] == 17]
        assert hs and hs[0]["min_version"] == 0 and hs[0]["max_version"] == 1, av
        want = login_v0(w, USERS["admin"])
        assert w.recv_frame() == want, "the server's final message, bare"
        r = w.call(46, 0, {"timeout_ms": 30000})
        assert r["error_code"] == 0, r
    with conn() as w:
        login_v0(w, "wrong")
        assert closed(w), "a wrong password over the v0 framing closes the connection"


def check_controller_mtls_principal(c, zk, certs):
    """A client certificate's mapped name is the principal on kcontroller's
    SSL listener with ssl.client.auth=required (as on the broker's)."""
    import socket
    import ssl

    from kwire import Closed, Wire
    from zookeeper import free_port

    d = os.path.dirname(certs["ca.pem"])
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", *ec, "-keyout", "other.key", "-out", "other.csr", "-subj",
            "/CN=intruder/O=skald", cwd=d)
    openssl("x509", "-req", "-in", "other.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-days", "2", "-out", "other.pem", cwd=d)
    port = free_port()
    props = {"controller.id": "903", "zookeeper.connect": c.zk_connect,
             "listeners": "SSL://127.0.0.1:%d" % port,
             "ssl.keystore.type": "PKCS12", "ssl.keystore.location": certs["node.p12"],
             "ssl.keystore.password": PASS, "ssl.truststore.type": "PEM",
             "ssl.truststore.location": certs["ca.pem"], "ssl.client.auth": "required",
             "ssl.principal.mapping.rules": "RULE:^.*CN=([a-z]+).*$/node-$1/,DEFAULT",
             "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
             "super.users": "User:node-localhost"}
    path = os.path.join(d, "mtls-controller.properties")
    with open(path, "w") as f:
        f.write("".join("%s=%s\n" % kv for kv in props.items()))
    log = open(os.path.join(d, "mtls-controller.log"), "w")
    proc = subprocess.Popen([build_path("kcontroller", "kcontroller"), path], stdout=log,
                            stderr=subprocess.STDOUT)
    try:
        def up():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=5).close()
                return True
            except OSError:
                return False
        wait_for(up, 60, "the mTLS kcontroller's listener")

        def ask(cert, key):
            ctx = ssl.create_default_context(cafile=certs["ca.pem"])
            if cert is not None:
                ctx.load_cert_chain(cert, key)
            w = Wire(port)
            w.sk = ctx.wrap_socket(w.sk, server_hostname="127.0.0.1")
            with w:
                return w.call(46, 0, {"timeout_ms": 30000})["error_code"]
        node = ask(os.path.join(d, "node.pem"), os.path.join(d, "node.key"))
        assert node != 31, "User:node-localhost (super user) was denied"
        other = ask(os.path.join(d, "other.pem"), os.path.join(d, "other.key"))
        assert other == 31, other       # CLUSTER_AUTHORIZATION_FAILED
        try:
            ask(None, None)
            raise AssertionError("a connection without a certificate was served")
        except (ssl.SSLError, OSError, Closed):
            pass
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def active_controller(zk):
    return json.loads(zk.get("/controller")[0])["brokerid"]


def check_controller_failover(c, zk, certs):
    from kazoo.exceptions import NoNodeError

    old = active_controller(zk)
    c.kill("controller", old)

    def taken_over():
        try:
            return active_controller(zk) != old
        except NoNodeError:     # between two controllers
            return False
    wait_for(taken_over, 90, "the standby controller takes over")
    ctl = json.loads(zk.get("/controller")[0])
    assert ctl["endpoints"][0].startswith("SASL_SSL://"), ctl
    # the new controller's channels authenticate: leaders go out
    create_topic(certs, zk, "after-failover", 3)
    c.start("controller", old)


def check_controlled_shutdown(c, zk, certs):
    create_topic(certs, zk, "cs", 6)
    states = [json.loads(zk.get("/brokers/topics/cs/partitions/%d/state" % p)[0])
              for p in range(6)]
    victim = max((1, 2, 3), key=lambda b: sum(s["leader"] == b for s in states))
    assert any(s["leader"] == victim for s in states), states
    w = Writer(c, "cs", conf={k: v for k, v in cconf(certs).items()
                              if k != "bootstrap.servers"})
    try:
        w.progress(300, "acknowledged writes before the shutdown")
        c.stop("broker", victim)        # SIGTERM: controlled shutdown
        w.progress(300, "acknowledged writes after the shutdown")
    finally:
        w.finish()
    assert not w.failed, w.failed[:5]
    log = open(os.path.join(c.dir, "broker-%d.log" % victim), errors="replace").read()
    assert "controlled shutdown succeeded" in log, log[-3000:]
    # it went through the controller's SASL_SSL listener, as User:broker
    ctl = active_controller(zk)
    log = open(os.path.join(c.dir, "controller-%d.log" % ctl), errors="replace").read()
    assert "authenticated as User:broker" in log, log[-3000:]
    for p in range(6):
        st = json.loads(zk.get("/brokers/topics/cs/partitions/%d/state" % p)[0])
        assert st["leader"] != victim, st
    c.start("broker", victim)
    # every acknowledged value is there
    from kafka import KafkaConsumer, TopicPartition

    cons = KafkaConsumer(enable_auto_commit=False, consumer_timeout_ms=15000,
                         **kpy(certs))
    tps = [TopicPartition("cs", p) for p in range(6)]
    cons.assign(tps)
    cons.seek_to_beginning()
    got = set()
    deadline = time.monotonic() + 180
    while not w.acked <= got and time.monotonic() < deadline:
        for batch in cons.poll(timeout_ms=1000).values():
            got.update(int(m.value) for m in batch)
    cons.close()
    assert w.acked <= got, "%d acknowledged records missing" % len(w.acked - got)


def check_controller_misconfig(work, certs):
    cases = [
        ({"listeners": "SASL_SSL://127.0.0.1:0", "sasl.enabled.mechanisms": "GSSAPI",
          "ssl.keystore.type": "PKCS12", "ssl.keystore.location": certs["node.p12"],
          "ssl.keystore.password": PASS}, "sasl.enabled.mechanisms"),
        ({"listeners": "SSL://127.0.0.1:0"}, "ssl.keystore.location"),
        ({"listeners": "CTL://127.0.0.1:0"}, "listener.security.protocol.map"),
        ({"security.inter.broker.protocol": "SASL_SSL",
          "sasl.mechanism.inter.broker.protocol": MECH,
          "ssl.truststore.type": "PEM", "ssl.truststore.location": certs["ca.pem"]},
         "sasl.jaas.config"),
    ]
    for extra, key in cases:
        props = {"controller.id": "900", "zookeeper.connect": "127.0.0.1:1"}
        props.update(extra)
        path = os.path.join(work, "bad-controller.properties")
        with open(path, "w") as f:
            f.write("".join("%s=%s\n" % kv for kv in props.items()))
        r = subprocess.run([build_path("kcontroller", "kcontroller"), path],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 1 and key in r.stderr, (extra, r.returncode, r.stderr)


CL = None


def main():
    global CL
    work = tempfile.mkdtemp(prefix="skald-0027-")
    certs = make_certs(os.path.join(work, "certs"))
    check_controller_misconfig(work, certs)
    print("ok: check_controller_misconfig")
    keys = tls_keys(certs)
    bset = dict(keys, **{"sasl.jaas.config": scram_login("broker"),
                         "controlled.shutdown.enable": "true"})
    cset = dict(keys, **{"listeners": "SASL_SSL://127.0.0.1:0",
                         "sasl.jaas.config": scram_login("controller")})
    with Cluster(work, brokers=3, controllers=2, listeners=["SASL_SSL"],
                 broker_set=bset, controller_set=cset) as c:
        CL = c
        run_steps((check_users_and_topics, check_controller_listener, check_no_plaintext,
                   check_kafka_python_group,
                   check_tools, check_controller_failover, check_controlled_shutdown,
                   check_controller_mtls_principal),
                  c, c.zk(), certs)


if __name__ == "__main__":
    main()
