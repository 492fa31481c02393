#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Listeners, their security protocols and TLS (issue 19), on a real
kcluster with real clients, with a CA and certificates made by the openssl
command at run time:

- four listeners per broker (kcluster --listeners CLIENT,INTERNAL,SSL,MTLS)
  named in listener.security.protocol.map (CLIENT, INTERNAL: PLAINTEXT;
  SSL, MTLS: SSL): each registration in /brokers/ids carries the endpoints and
  the map exactly as Kafka 2.8 writes them (host and port name the first
  endpoint whose protocol is PLAINTEXT: CLIENT's);
- SSL (a PKCS12 keystore, server authentication; keys set per listener
  with listener.name.ssl.*): kcat produces and consumes, the Metadata it
  gets names the SSL endpoints; kafka-python produces and consumes in a
  group;
- MTLS (a PEM keystore, ssl.client.auth=required): confluent-kafka with a
  client certificate produces and consumes; without a certificate, with a
  certificate of another CA, and a plaintext client on the TLS port are
  refused, and the broker goes on serving;
- SASL_PLAINTEXT and SASL_SSL with PLAIN (JAAS users per listener):
  confluent-kafka produces and consumes as two users, kcat lists the
  metadata; a wrong password and an unknown user fail with the client's
  authentication error, a client that skips SASL is closed, and the
  listener goes on serving; the v0 framing (SaslHandshake v0, then the
  token as a bare frame) by hand, an unknown mechanism answered
  UNSUPPORTED_SASL_MECHANISM with the enabled ones; a failed
  authentication is answered at once and closed after
  connection.failed.authentication.delay.ms;
- SCRAM-SHA-256 and SCRAM-SHA-512 on the same listeners: a user created
  with kconfigs (AlterUserScramCredentials) is stored in
  /config/users/<user> as Kafka's ScramCredentialUtils writes it (checked
  against PBKDF2 and HMAC computed here from the password), authenticates
  on every broker without a restart (confluent-kafka and kcat, over
  SASL_PLAINTEXT and SASL_SSL, produce and consume); kconfigs --describe
  shows the iterations; a wrong password, an unknown user and too few
  iterations are refused; a deleted credential stops working on every
  broker while the user's other mechanism goes on; SCRAM over the v0
  framing (two bare-token rounds), by hand;
- Metadata answers with the endpoints of the listener the client used
  (kafka-python's cluster view through each bootstrap list);
- the brokers' inter-broker listener is MTLS (the controller's channels
  stay on INTERNAL): a topic with replication factor 3 replicates through
  the replica fetchers' TLS connections (client certificate, host name
  verified against the certificate's IP address): acks=all produce, the
  ISR full, established connections to the MTLS ports, and every record
  consumed (kcat over INTERNAL);
- a second cluster whose inter-broker listener is SASL_SSL with
  SCRAM-SHA-512 (sasl.mechanism.inter.broker.protocol, the brokers' own
  ScramLoginModule username and password): the replica fetchers
  authenticate once the broker user exists (made with kconfigs over the
  plaintext CLIENT listener), a topic with replication factor 2 gets its
  ISR full over SASL_SSL connections, and every record is consumed;
  before the user exists, the followers' attempts are refused and logged;
- KIP-368 on that cluster (connections.max.reauth.ms=3000 for SCRAM-SHA-512
  on SASL_SSL and for the whole SASL_PLAINTEXT listener, per listener and
  mechanism): skald's own client re-authenticates, on a loop (the replica
  fetchers under acks=all produce) and blocking (kconsole-consumer over
  SASL_SSL), with no connection closed for an expired session; a
  confluent-kafka producer and consumer run across four sessions and lose
  nothing (librdkafka re-authenticates from 2.2; an older one is closed
  at each session's end and reconnects, as with Kafka); by hand a
  SaslAuthenticate v1 answer carries
  session_lifetime_ms=3000, a re-authentication as the same user works,
  one as another user or with another mechanism is refused and closed, and
  a connection that does not re-authenticate is closed at its first
  request after the lifetime; without a lifetime (the first cluster) a
  second SaslHandshake is ILLEGAL_SASL_STATE;
- misconfigurations stop kbroker with exit status 1 and Kafka's message
  (or ours naming the key): a listener without a protocol, an unknown
  protocol in the map, an inter-broker listener that is not advertised,
  both inter-broker keys, a SASL listener without a JAAS line or with an
  unknown mechanism, an SSL listener without a keystore, a key that
  does not match its certificate, a JKS keystore.
"""

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import Broker, wait_for  # noqa: E402
from ktool import tool  # noqa: E402

MAP = ("CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,SSL:SSL,MTLS:SSL,"
       "SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL")
JAAS = ('org.apache.kafka.common.security.plain.PlainLoginModule required '
        'username="admin" password="admin-secret" user_admin="admin-secret" '
        'user_alice="alice-pw";')
PASS = "k3ystore-pw"


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=120)


def make_certs(d):
    """A CA, a broker certificate for 127.0.0.1 (PEM and PKCS12), a client
    certificate of the CA, one of another CA, and a key of neither."""
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "otherca"):
        openssl("req", "-x509", *ec, "-keyout", ca + ".key", "-out", ca + ".pem",
                "-days", "2", "-subj", "/CN=skald test " + ca, cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, ca, subj in (("broker", "ca", "/CN=localhost/O=skald"),
                           ("client", "ca", "/CN=alice/OU=test/O=skald"),
                           ("rogue", "otherca", "/CN=mallory")):
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", subj, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem", "-CAkey",
                ca + ".key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
                "-out", name + ".pem", cwd=d)
    with open(os.path.join(d, "broker-keystore.pem"), "w") as f:
        for part in ("broker.key", "broker.pem", "ca.pem"):
            f.write(open(os.path.join(d, part)).read())
    openssl("pkcs12", "-export", "-in", "broker.pem", "-inkey", "broker.key",
            "-certfile", "ca.pem", "-out", "broker.p12", "-passout", "pass:" + PASS,
            cwd=d)
    # a PEM keystore whose key is not the certificate's
    with open(os.path.join(d, "mismatch.pem"), "w") as f:
        f.write(open(os.path.join(d, "rogue.key")).read())
        f.write(open(os.path.join(d, "broker.pem")).read())
    return {n: os.path.join(d, n) for n in os.listdir(d)}


def tls_settings(certs):
    return {
        "listener.name.ssl.ssl.keystore.type": "PKCS12",
        "listener.name.ssl.ssl.keystore.location": certs["broker.p12"],
        "listener.name.ssl.ssl.keystore.password": PASS,
        "listener.name.mtls.ssl.keystore.type": "PEM",
        "listener.name.mtls.ssl.keystore.location": certs["broker-keystore.pem"],
        "listener.name.mtls.ssl.truststore.type": "PEM",
        "listener.name.mtls.ssl.truststore.location": certs["ca.pem"],
        "listener.name.mtls.ssl.client.auth": "required",
        # the brokers' client side of MTLS (the inter-broker listener)
        "listener.name.mtls.ssl.endpoint.identification.algorithm": "https",
        "listener.name.sasl_ssl.ssl.keystore.type": "PKCS12",
        "listener.name.sasl_ssl.ssl.keystore.location": certs["broker.p12"],
        "listener.name.sasl_ssl.ssl.keystore.password": PASS,
        "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
        "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
        "listener.name.sasl_ssl.plain.sasl.jaas.config": JAAS,
    }


def check_registration(c, zk):
    for b in (1, 2, 3):
        reg = json.loads(zk.get("/brokers/ids/%d" % b)[0])
        client = c.bootstrap.split(",")[b - 1]
        internal = c.bootstraps["INTERNAL"].split(",")[b - 1]
        ssl = c.bootstraps["SSL"].split(",")[b - 1]
        mtls = c.bootstraps["MTLS"].split(",")[b - 1]
        sp = c.bootstraps["SASL_PLAINTEXT"].split(",")[b - 1]
        ss = c.bootstraps["SASL_SSL"].split(",")[b - 1]
        assert reg["endpoints"] == ["CLIENT://" + client, "INTERNAL://" + internal,
                                    "SSL://" + ssl, "MTLS://" + mtls,
                                    "SASL_PLAINTEXT://" + sp, "SASL_SSL://" + ss], reg
        assert reg["listener_security_protocol_map"] == {
            "CLIENT": "PLAINTEXT", "INTERNAL": "PLAINTEXT", "SSL": "SSL",
            "MTLS": "SSL", "SASL_PLAINTEXT": "SASL_PLAINTEXT",
            "SASL_SSL": "SASL_SSL"}, reg
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


def check_replication_over_mtls(c, zk):
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
    wait_for(isr_full, 60, "every replica in sync over MTLS")
    # the followers' fetch connections go to the leaders' MTLS ports
    ports = {int(hp.rsplit(":", 1)[1]) for hp in c.bootstraps["MTLS"].split(",")}
    out = subprocess.run(["ss", "-tnH", "state", "established"], capture_output=True,
                         text=True, check=True).stdout
    peers = {int(line.split()[-1].rsplit(":", 1)[1]) for line in out.splitlines()
             if line.split()}
    assert ports & peers, ("no connection to an MTLS port", ports, out)
    out = subprocess.run(["kcat", "-C", "-b", c.bootstraps["INTERNAL"], "-t", "lst",
                          "-e", "-q", "-f", "%s\n"], capture_output=True,
                         text=True, check=True, timeout=120).stdout
    assert sorted(out.split()) == sorted(lines.split()), out[:200]


def kcat(boot, args, certs, data=None, extra=()):
    cmd = ["kcat", "-b", boot, "-X", "security.protocol=ssl",
           "-X", "ssl.ca.location=" + certs["ca.pem"]] + list(extra) + list(args)
    return subprocess.run(cmd, input=data, capture_output=True, text=True,
                          timeout=120)


def check_ssl_server_auth(c, zk, certs):
    boot = c.bootstraps["SSL"]
    lines = "".join("s%d\n" % i for i in range(300))
    r = kcat(boot, ["-P", "-t", "tls1", "-X", "acks=all"], certs, data=lines)
    assert r.returncode == 0, r.stderr
    r = kcat(boot, ["-C", "-t", "tls1", "-e", "-q", "-f", "%s\n"], certs)
    assert r.returncode == 0, r.stderr
    assert sorted(r.stdout.split()) == sorted(lines.split()), r.stdout[:200]
    r = kcat(boot, ["-L", "-J"], certs)
    assert r.returncode == 0, r.stderr
    md = json.loads(r.stdout)
    seen = sorted(b["name"] for b in md["brokers"])
    assert seen == sorted(boot.split(",")), (seen, boot)
    # kafka-python over SSL too (server authentication, host name checked)
    from kafka import KafkaConsumer, KafkaProducer

    kp = dict(bootstrap_servers=boot.split(","), security_protocol="SSL",
              ssl_cafile=certs["ca.pem"], ssl_check_hostname=True)
    p = KafkaProducer(acks="all", **kp)
    for i in range(200):
        p.send("tls-kp", value=b"k%d" % i)
    p.flush(60)
    p.close()
    cons = KafkaConsumer("tls-kp", group_id="g-kp-ssl", auto_offset_reset="earliest",
                         consumer_timeout_ms=15000, **kp)
    got = set()
    deadline = time.monotonic() + 90
    while len(got) < 200 and time.monotonic() < deadline:
        for m in cons:
            got.add(m.value)
            if len(got) == 200:
                break
    cons.close()
    assert got == {b"k%d" % i for i in range(200)}, len(got)


def client_conf(c, certs, cert="client"):
    conf = {"bootstrap.servers": c.bootstraps["MTLS"], "security.protocol": "SSL",
            "ssl.ca.location": certs["ca.pem"]}
    if cert:
        conf["ssl.certificate.location"] = certs[cert + ".pem"]
        conf["ssl.key.location"] = certs[cert + ".key"]
    return conf


def check_mtls(c, zk, certs):
    from confluent_kafka import Consumer, Producer

    p = Producer(dict(client_conf(c, certs), acks="all"))
    for i in range(100):
        p.produce("tls2", value=b"m%d" % i)
    assert p.flush(60) == 0
    cons = Consumer(dict(client_conf(c, certs), **{"group.id": "g-tls",
                                                   "auto.offset.reset": "earliest"}))
    cons.subscribe(["tls2"])
    got = set()
    deadline = time.monotonic() + 90
    while len(got) < 100 and time.monotonic() < deadline:
        m = cons.poll(1.0)
        if m is not None and m.error() is None:
            got.add(m.value())
    cons.close()
    assert got == {b"m%d" % i for i in range(100)}, len(got)


def refused(conf):
    """Whether a client with conf gets nowhere (its errors say why)."""
    from confluent_kafka.admin import AdminClient

    errors = []
    conf = dict(conf, error_cb=lambda e: errors.append(e))
    a = AdminClient(conf)
    try:
        a.list_topics(timeout=8)
        return False, errors
    except Exception as e:  # noqa: BLE001 - the client's own exception type
        # error_cb runs from poll
        for _ in range(10):
            a.poll(0.5)
            if errors:
                break
        return True, errors + [e]


def check_tls_refusals(c, zk, certs):
    for cert in (None, "rogue"):
        ok, why = refused(client_conf(c, certs, cert))
        assert ok, ("a client with certificate %s was served" % cert, why)
    # plaintext on the TLS port
    ok, why = refused({"bootstrap.servers": c.bootstraps["SSL"]})
    assert ok, why
    wait_for(lambda: "sent plaintext" in c.logs(tail=400), 30,
             "the broker to log the plaintext client")
    # still serving
    r = kcat(c.bootstraps["SSL"], ["-L"], certs)
    assert r.returncode == 0, r.stderr
    check_mtls_once(c, certs)


def check_mtls_once(c, certs):
    from confluent_kafka.admin import AdminClient

    md = AdminClient(client_conf(c, certs)).list_topics(timeout=30)
    assert "tls2" in md.topics, md.topics


def sasl_conf(c, certs, listener, user, pw, mech="PLAIN", boot=None):
    conf = {"bootstrap.servers": boot or c.bootstraps[listener],
            "security.protocol": listener, "sasl.mechanism": mech,
            "sasl.username": user, "sasl.password": pw}
    if listener == "SASL_SSL":
        conf["ssl.ca.location"] = certs["ca.pem"]
    return conf


def check_sasl_plain(c, zk, certs):
    from confluent_kafka import Consumer, Producer

    for listener, topic in (("SASL_PLAINTEXT", "sasl1"), ("SASL_SSL", "sasl2")):
        p = Producer(dict(sasl_conf(c, certs, listener, "alice", "alice-pw"), acks="all"))
        for i in range(50):
            p.produce(topic, value=b"p%d" % i)
        assert p.flush(60) == 0, listener
        cons = Consumer(dict(sasl_conf(c, certs, listener, "admin", "admin-secret"),
                             **{"group.id": "g-" + topic,
                                "auto.offset.reset": "earliest"}))
        cons.subscribe([topic])
        got = set()
        deadline = time.monotonic() + 90
        while len(got) < 50 and time.monotonic() < deadline:
            m = cons.poll(1.0)
            if m is not None and m.error() is None:
                got.add(m.value())
        cons.close()
        assert got == {b"p%d" % i for i in range(50)}, (listener, len(got))
    # kcat too, over SASL_SSL
    r = kcat(c.bootstraps["SASL_SSL"], ["-L"], certs, extra=(
        "-X", "security.protocol=sasl_ssl", "-X", "sasl.mechanisms=PLAIN",
        "-X", "sasl.username=alice", "-X", "sasl.password=alice-pw"))
    assert r.returncode == 0, r.stderr


def check_sasl_refusals(c, zk, certs):
    from confluent_kafka import KafkaError

    for user, pw in (("alice", "wrong"), ("nobody", "alice-pw")):
        ok, why = refused(sasl_conf(c, certs, "SASL_PLAINTEXT", user, pw))
        assert ok, (user, why)
        codes = [e.code() for e in why if hasattr(e, "code")]
        assert KafkaError._AUTHENTICATION in codes, (user, why)
    wait_for(lambda: "Invalid username or password" in c.logs(tail=400), 30,
             "the broker to log the failed authentication")
    # a client that skips SASL gets nothing but a closed connection
    ok, why = refused({"bootstrap.servers": c.bootstraps["SASL_PLAINTEXT"]})
    assert ok, why
    wait_for(lambda: "during SASL handshake" in c.logs(tail=400), 30,
             "the broker to log the request before authentication")
    # and the listener goes on serving
    from confluent_kafka.admin import AdminClient
    md = AdminClient(sasl_conf(c, certs, "SASL_PLAINTEXT", "alice", "alice-pw")) \
        .list_topics(timeout=30)
    assert "sasl1" in md.topics, md.topics


def check_sasl_v0_framing(c, zk, certs):
    """SaslHandshake v0, then the PLAIN token as a bare frame (the framing
    of clients older than SaslAuthenticate), by hand."""
    from kwire import Wire

    port = int(c.bootstraps["SASL_PLAINTEXT"].split(",")[0].rsplit(":", 1)[1])
    with Wire(port) as w:
        r = w.call(17, 0, {"mechanism": "PLAIN"})
        assert r["error_code"] == 0 and r["mechanisms"] == [
            "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], r
        w.send_raw(b"\0alice\0alice-pw")
        assert w.recv_frame() == b"", "PLAIN answers an empty token"
        md = w.call(3, 0, {"topics": []})
        assert any(t["name"] == "sasl1" for t in md["topics"]), md
        # no connections.max.reauth.ms: no re-authentication (KIP-368)
        assert w.call(17, 1, {"mechanism": "PLAIN"})["error_code"] == 34
        assert w.call(3, 0, {"topics": []})["topics"], "still served"
    with Wire(port) as w:
        r = w.call(17, 0, {"mechanism": "GSSAPI"})
        assert r["error_code"] == 33 and r["mechanisms"] == [
            "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"], r
        r = w.call(17, 0, {"mechanism": "PLAIN"})
        assert r["error_code"] == 0, r
        w.send_raw(b"\0alice\0nope")
        t0 = time.monotonic()
        assert w.closed_by_peer(), "a wrong password closes the connection"
        # connection.failed.authentication.delay.ms (1000 here)
        assert time.monotonic() - t0 >= 0.9, time.monotonic() - t0
    # SaslAuthenticate: the error answer at once, the close after the delay
    with Wire(port) as w:
        r = w.call(17, 1, {"mechanism": "PLAIN"})
        assert r["error_code"] == 0, r
        t0 = time.monotonic()
        r = w.call(36, 1, {"auth_bytes": b"\0alice\0nope"})
        assert r["error_code"] == 58, r
        assert r["error_message"] == "Authentication failed: Invalid username or password", r
        assert time.monotonic() - t0 < 0.9, "the answer waited for the delay"
        assert w.closed_by_peer(), "a failed authentication closes the connection"
        assert time.monotonic() - t0 >= 0.9, time.monotonic() - t0


def scram_sig(mech, pw, salt, iters, auth):
    """(ClientProof, ServerSignature) of RFC 5802 for AuthMessage auth."""
    h = hashlib.sha256 if mech == "SCRAM-SHA-256" else hashlib.sha512
    salted = hashlib.pbkdf2_hmac(h().name, pw.encode(), salt, iters)
    ck = hmac.new(salted, b"Client Key", h).digest()
    sig = hmac.new(h(ck).digest(), auth, h).digest()
    proof = bytes(a ^ b for a, b in zip(ck, sig))
    sk = hmac.new(salted, b"Server Key", h).digest()
    return proof, hmac.new(sk, auth, h).digest()


def check_scram_stored(zk, user, mech, pw, iters):
    """/config/users/<user> holds Kafka's string for mech, derived from pw."""
    node = json.loads(zk.get("/config/users/" + user)[0])
    assert node["version"] == 1, node
    fields = dict(kv.split("=", 1) for kv in node["config"][mech].split(","))
    assert sorted(fields) == ["iterations", "salt", "server_key", "stored_key"], node
    assert int(fields["iterations"]) == iters, fields
    h = hashlib.sha256 if mech == "SCRAM-SHA-256" else hashlib.sha512
    salted = hashlib.pbkdf2_hmac(h().name, pw.encode(),
                                 base64.b64decode(fields["salt"]), iters)
    ck = hmac.new(salted, b"Client Key", h).digest()
    assert base64.b64decode(fields["stored_key"]) == h(ck).digest(), fields
    assert base64.b64decode(fields["server_key"]) == \
        hmac.new(salted, b"Server Key", h).digest(), fields
    assert pw not in json.dumps(node), "the password is stored"


def scram_works(c, certs, listener, user, pw, mech, boot):
    from confluent_kafka.admin import AdminClient

    try:
        AdminClient(sasl_conf(c, certs, listener, user, pw, mech, boot)) \
            .list_topics(timeout=10)
        return True
    except Exception:  # noqa: BLE001 - the client's own exception type
        return False


def check_scram(c, zk, certs):
    from confluent_kafka import Consumer, KafkaError, Producer

    boot = c.bootstrap.split(",")[0]
    t0 = time.monotonic()
    out = tool("kconfigs", "--entity-type", "users", "--entity-name", "bob",
               "--alter", "--add-config",
               "SCRAM-SHA-256=[iterations=8192,password=bob-pw],"
               "SCRAM-SHA-512=[password=bob-pw5]", bootstrap=boot).stdout
    assert "Completed updating config for user bob." in out, out
    check_scram_stored(zk, "bob", "SCRAM-SHA-256", "bob-pw", 8192)
    check_scram_stored(zk, "bob", "SCRAM-SHA-512", "bob-pw5", 4096)
    # every broker, through its own listener, without a restart
    for listener in ("SASL_PLAINTEXT", "SASL_SSL"):
        for b in c.bootstraps[listener].split(","):
            for mech, pw in (("SCRAM-SHA-256", "bob-pw"), ("SCRAM-SHA-512", "bob-pw5")):
                wait_for(lambda: scram_works(c, certs, listener, "bob", pw, mech, b),
                         60, "bob (%s) on %s %s" % (mech, listener, b))
    print("ok: a new SCRAM user works on every broker %.1f s after kconfigs"
          % (time.monotonic() - t0))
    out = tool("kconfigs", "--entity-type", "users", "--entity-name", "bob",
               "--describe", bootstrap=boot).stdout
    assert ("SCRAM credential configs for user-principal 'bob' are "
            "SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096") in out, out
    # produce and consume: SHA-512 over SASL_SSL, SHA-256 over SASL_PLAINTEXT
    for listener, mech, pw, topic in (("SASL_SSL", "SCRAM-SHA-512", "bob-pw5", "scr1"),
                                      ("SASL_PLAINTEXT", "SCRAM-SHA-256", "bob-pw",
                                       "scr2")):
        p = Producer(dict(sasl_conf(c, certs, listener, "bob", pw, mech), acks="all"))
        for i in range(50):
            p.produce(topic, value=b"q%d" % i)
        assert p.flush(60) == 0, listener
        cons = Consumer(dict(sasl_conf(c, certs, listener, "bob", pw, mech),
                             **{"group.id": "g-" + topic,
                                "auto.offset.reset": "earliest"}))
        cons.subscribe([topic])
        got = set()
        deadline = time.monotonic() + 90
        while len(got) < 50 and time.monotonic() < deadline:
            m = cons.poll(1.0)
            if m is not None and m.error() is None:
                got.add(m.value())
        cons.close()
        assert got == {b"q%d" % i for i in range(50)}, (listener, mech, len(got))
    # kcat with both mechanisms and both listeners
    for listener, mech, pw in (("SASL_SSL", "SCRAM-SHA-256", "bob-pw"),
                               ("SASL_PLAINTEXT", "SCRAM-SHA-512", "bob-pw5")):
        extra = ("-X", "security.protocol=" + listener.lower(),
                 "-X", "sasl.mechanisms=" + mech, "-X", "sasl.username=bob",
                 "-X", "sasl.password=" + pw)
        if listener == "SASL_SSL":
            extra += ("-X", "ssl.ca.location=" + certs["ca.pem"])
        r = subprocess.run(["kcat", "-b", c.bootstraps[listener], "-C", "-t", "scr1",
                            "-e", "-q", "-f", "%s\n"] + list(extra),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert sorted(r.stdout.split()) == sorted("q%d" % i for i in range(50)), \
            r.stdout[:200]
    # refusals: wrong password, unknown user, a PLAIN user that has no SCRAM
    for user, pw, mech in (("bob", "wrong", "SCRAM-SHA-256"),
                           ("nobody", "bob-pw", "SCRAM-SHA-512"),
                           ("alice", "alice-pw", "SCRAM-SHA-256")):
        for listener in ("SASL_PLAINTEXT", "SASL_SSL"):
            ok, why = refused(sasl_conf(c, certs, listener, user, pw, mech))
            assert ok, (user, mech, listener, why)
            codes = [e.code() for e in why if hasattr(e, "code")]
            assert KafkaError._AUTHENTICATION in codes, (user, mech, why)
    wait_for(lambda: "SCRAM-SHA-256 as bob: Invalid client credentials"
             in c.logs(tail=1000), 30, "the broker to log the wrong proof")
    wait_for(lambda: "no SCRAM-SHA-512 credentials for user nobody"
             in c.logs(tail=1000), 30, "the broker to log the unknown user")
    # kconfigs: too few iterations, an unknown key
    r = tool("kconfigs", "--entity-type", "users", "--entity-name", "carol", "--alter",
             "--add-config", "SCRAM-SHA-256=[iterations=100,password=x]",
             bootstrap=boot, rc=1)
    assert "Too few iterations" in r.stderr, r.stderr
    tool("kconfigs", "--entity-type", "users", "--entity-name", "carol", "--alter",
         "--add-config", "no_such_key=10", bootstrap=boot, rc=2)
    # (quota keys are served too, 0031; not in the same run as SCRAM ones)
    tool("kconfigs", "--entity-type", "users", "--entity-name", "carol", "--alter",
         "--add-config", "producer_byte_rate=10,SCRAM-SHA-256=[password=x]",
         bootstrap=boot, rc=2)
    r = tool("kconfigs", "--entity-type", "users", "--entity-name", "carol", "--alter",
             "--delete-config", "SCRAM-SHA-512", bootstrap=boot, rc=1)
    assert "does not exist" in r.stderr, r.stderr
    # deleting one mechanism: gone on every broker, the other one stays
    tool("kconfigs", "--entity-type", "users", "--entity-name", "bob", "--alter",
         "--delete-config", "SCRAM-SHA-256", bootstrap=boot)
    assert "SCRAM-SHA-256" not in json.loads(zk.get("/config/users/bob")[0])["config"]
    for b in c.bootstraps["SASL_PLAINTEXT"].split(","):
        wait_for(lambda: not scram_works(c, certs, "SASL_PLAINTEXT", "bob", "bob-pw",
                                         "SCRAM-SHA-256", b),
                 60, "bob's SCRAM-SHA-256 to stop working on %s" % b)
        assert scram_works(c, certs, "SASL_PLAINTEXT", "bob", "bob-pw5",
                           "SCRAM-SHA-512", b), b
    out = tool("kconfigs", "--entity-type", "users", "--describe",
               bootstrap=boot).stdout
    assert "'bob' are SCRAM-SHA-512=iterations=4096" in out, out


def check_scram_v0_framing(c, zk, certs):
    """SaslHandshake v0 with SCRAM-SHA-256, then client-first and
    client-final as bare frames, answered by bare server frames."""
    from kwire import Wire

    tool("kconfigs", "--entity-type", "users", "--entity-name", "dave", "--alter",
         "--add-config", "SCRAM-SHA-256=[iterations=4096,password=dave-pw]",
         bootstrap=c.bootstrap.split(",")[0])
    port = int(c.bootstraps["SASL_PLAINTEXT"].split(",")[0].rsplit(":", 1)[1])

    def exchange(pw):
        w = Wire(port)
        w.__enter__()
        r = w.call(17, 0, {"mechanism": "SCRAM-SHA-256"})
        assert r["error_code"] == 0, r
        first = b"n=dave,r=abcdefgh"
        w.send_raw(b"n,," + first)
        sfirst = w.recv_frame()
        attrs = dict(kv.split(b"=", 1) for kv in sfirst.split(b","))
        assert attrs[b"r"].startswith(b"abcdefgh") and attrs[b"i"] == b"4096", sfirst
        wo = b"c=biws,r=" + attrs[b"r"]
        proof, ssig = scram_sig("SCRAM-SHA-256", pw, base64.b64decode(attrs[b"s"]),
                                4096, first + b"," + sfirst + b"," + wo)
        w.send_raw(wo + b",p=" + base64.b64encode(proof))
        return w, ssig

    def works():
        w, ssig = exchange("dave-pw")
        try:
            return w.recv_frame() == b"v=" + base64.b64encode(ssig)
        finally:
            w.__exit__(None, None, None)
    wait_for(works, 30, "dave's SCRAM exchange over the v0 framing")
    w, _ = exchange("wrong")
    try:
        assert w.closed_by_peer(), "a wrong proof closes the connection"
    finally:
        w.__exit__(None, None, None)


def check_sasl_inter_broker(work, certs):
    from confluent_kafka.admin import AdminClient, NewTopic

    jaas = ('org.apache.kafka.common.security.scram.ScramLoginModule required '
            'username="broker" password="broker-pw";')
    bset = {"listener.security.protocol.map":
            "CLIENT:PLAINTEXT,INTERNAL:PLAINTEXT,SASL_SSL:SASL_SSL,"
            "SASL_PLAINTEXT:SASL_PLAINTEXT",
            "inter.broker.listener.name": "SASL_SSL",
            "sasl.enabled.mechanisms": "SCRAM-SHA-512",
            # KIP-368: sessions of 3 s, set per listener and mechanism
            "listener.name.sasl_ssl.scram-sha-512.connections.max.reauth.ms": "3000",
            "listener.name.sasl_plaintext.connections.max.reauth.ms": "3000",
            "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-512",
            "listener.name.sasl_plaintext.plain.sasl.jaas.config": JAAS,
            "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaas,
            "listener.name.sasl_ssl.ssl.keystore.type": "PKCS12",
            "listener.name.sasl_ssl.ssl.keystore.location": certs["broker.p12"],
            "listener.name.sasl_ssl.ssl.keystore.password": PASS,
            "listener.name.sasl_ssl.ssl.truststore.type": "PEM",
            "listener.name.sasl_ssl.ssl.truststore.location": certs["ca.pem"],
            "listener.name.sasl_ssl.ssl.endpoint.identification.algorithm": "https"}
    with Cluster(os.path.join(work, "ib"), brokers=2, controllers=1,
                 listeners=["CLIENT", "INTERNAL", "SASL_SSL", "SASL_PLAINTEXT"],
                 broker_set=bset,
                 controller_set={"inter.broker.listener.name": "INTERNAL"}) as c:
        zk = c.zk()
        a = AdminClient({"bootstrap.servers": c.bootstrap})
        a.create_topics([NewTopic("ib", 2, 2)])["ib"].result(60)

        def isr(n):
            for p in (0, 1):
                st = json.loads(zk.get("/brokers/topics/ib/partitions/%d/state" % p)[0])
                if len(st["isr"]) != n:
                    return False
            return True
        # no broker user yet: the followers are refused
        wait_for(lambda: "SCRAM-SHA-512 credentials for user broker" in c.logs(tail=2000),
                 60, "a follower refused before the broker user exists")
        tool("kconfigs", "--entity-type", "users", "--entity-name", "broker", "--alter",
             "--add-config", "SCRAM-SHA-512=[iterations=4096,password=broker-pw]",
             bootstrap=c.bootstrap.split(",")[0])
        lines = "".join("ib%d\n" % i for i in range(200))
        subprocess.run(["kcat", "-P", "-b", c.bootstrap, "-t", "ib", "-X", "acks=all"],
                       input=lines, text=True, check=True, timeout=120)
        wait_for(lambda: isr(2), 90, "every replica in sync over SASL_SSL")
        ports = {int(hp.rsplit(":", 1)[1]) for hp in c.bootstraps["SASL_SSL"].split(",")}
        out = subprocess.run(["ss", "-tnH", "state", "established"], capture_output=True,
                             text=True, check=True).stdout
        peers = {int(line.split()[-1].rsplit(":", 1)[1]) for line in out.splitlines()
                 if line.split()}
        assert ports & peers, ("no connection to a SASL_SSL port", ports, out)
        out = subprocess.run(["kcat", "-C", "-b", c.bootstrap, "-t", "ib", "-e", "-q",
                              "-f", "%s\n"], capture_output=True, text=True, check=True,
                             timeout=120).stdout
        assert sorted(out.split()) == sorted(lines.split()), out[:200]
        print("ok: replication over a SASL_SSL (SCRAM-SHA-512) inter-broker listener")
        check_reauth_clients(c, certs)
        check_reauth_by_hand(c)


EXPIRED = "SASL session expired without re-authentication"


def check_reauth_clients(c, certs):
    """Clients across several 3 s sessions.  skald's own client
    re-authenticates: the replica fetchers (on a loop, acks=all produce
    keeps them fetching) and kconsole-consumer (blocking) lose no
    connection to expiry.  librdkafka re-authenticates from 2.2 on (its
    KIP-368 support); an older one (Debian 12 has 2.0.2) is disconnected at
    the end of each session, as Kafka does it, and reconnects: its producer
    and consumer still lose nothing."""
    import confluent_kafka
    from confluent_kafka import Consumer, KafkaError, Producer
    from confluent_kafka.admin import AdminClient, NewTopic

    a = AdminClient({"bootstrap.servers": c.bootstrap})
    a.create_topics([NewTopic("reauth", 1, 2)])["reauth"].result(60)
    # the replica fetchers: 8 s of acks=all over the plaintext listener
    acked = []
    p = Producer({"bootstrap.servers": c.bootstrap, "acks": "all"})
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 8:
        p.produce("reauth", value=b"f%d" % n,
                  on_delivery=lambda err, m: acked.append(err))
        n += 1
        p.poll(0.05)
    assert p.flush(60) == 0 and len(acked) == n and not any(acked), acked[:5]
    assert EXPIRED not in c.logs(tail=100000), "a fetcher outlived its session"
    # kconsole-consumer (blocking kp_client): reads for > 2 sessions
    props = os.path.join(c.dir, "reauth-consumer.properties")
    with open(props, "w") as f:
        f.write("security.protocol=SASL_SSL\nsasl.mechanism=SCRAM-SHA-512\n"
                "sasl.username=broker\nsasl.password=broker-pw\n"
                "ssl.truststore.type=PEM\nssl.truststore.location=%s\n" % certs["ca.pem"])
    t0 = time.monotonic()
    r = tool("kconsole-consumer", "--bootstrap-server", c.bootstraps["SASL_SSL"],
             "--topic", "reauth", "--consumer.config", props, "--from-beginning",
             "--timeout-ms", "7000")
    assert time.monotonic() - t0 > 7, "kconsole-consumer ran for less than two sessions"
    assert sorted(r.stdout.split()) == sorted("f%d" % i for i in range(n)), r.stdout[:200]
    assert EXPIRED not in c.logs(tail=100000), "kconsole-consumer outlived its session"

    # librdkafka: 12 s of produce and consume over SASL_SSL (SCRAM-SHA-512)
    errors, delivered = [], []
    conf = sasl_conf(c, certs, "SASL_SSL", "broker", "broker-pw", "SCRAM-SHA-512")
    conf["error_cb"] = errors.append
    p = Producer(dict(conf, acks="all"))
    cons = Consumer(dict(conf, **{"group.id": "g-reauth", "auto.offset.reset": "earliest"}))
    cons.subscribe(["reauth"])
    got = set()

    def on_delivery(err, msg):
        if err is not None:
            errors.append(err)
        else:
            delivered.append(msg.value())
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < 12:
        p.produce("reauth", value=b"r%d" % i, on_delivery=on_delivery)
        i += 1
        p.poll(0)
        m = cons.poll(0.2)
        if m is not None and m.error() is None:
            got.add(m.value())
        elif m is not None:
            errors.append(m.error())
    assert p.flush(60) == 0
    want = {b"r%d" % k for k in range(i)} | {b"f%d" % k for k in range(n)}
    deadline = time.monotonic() + 60
    while len(got) < len(want) and time.monotonic() < deadline:
        m = cons.poll(0.5)
        if m is not None and m.error() is None:
            got.add(m.value())
    cons.close()
    assert len(delivered) == i and got == want, (i, len(delivered), len(got))
    if confluent_kafka.libversion()[1] >= 0x020200ff:
        assert not errors, errors
        assert EXPIRED not in c.logs(tail=100000), "librdkafka outlived its session"
        how = "re-authenticated"
    else:
        transient = (KafkaError._TRANSPORT, KafkaError._ALL_BROKERS_DOWN)
        assert all(e.code() in transient for e in errors), errors
        assert EXPIRED in c.logs(tail=100000), "librdkafka %s kept an expired session" \
            % confluent_kafka.libversion()[0]
        how = "librdkafka %s: closed at each session's end, reconnected" \
            % confluent_kafka.libversion()[0]
    print("ok: KIP-368 clients: fetchers and kconsole-consumer re-authenticated; "
          "%d records over SASL_SSL across four 3 s sessions (%s)" % (i, how))


def check_reauth_by_hand(c):
    from kwire import Wire

    port = int(c.bootstraps["SASL_PLAINTEXT"].split(",")[0].rsplit(":", 1)[1])

    def login(w, user, pw, mech="PLAIN"):
        r = w.call(17, 1, {"mechanism": mech})
        assert r["error_code"] == 0, r
        return w.call(36, 1, {"auth_bytes": b"\0%s\0%s" % (user, pw)})
    with Wire(port) as w:
        r = login(w, b"alice", b"alice-pw")
        t_auth = time.monotonic()
        assert r["error_code"] == 0 and r["session_lifetime_ms"] == 3000, r
        md = w.call(3, 1, {"topics": None})
        assert any(t["name"] == "reauth" for t in md["topics"]), md
        # re-authentication as the same user: a new session
        r = login(w, b"alice", b"alice-pw")
        t_auth = time.monotonic()
        assert r["error_code"] == 0 and r["session_lifetime_ms"] == 3000, r
        assert w.call(3, 1, {"topics": None})["topics"], "served after re-authenticating"
        # no re-authentication: the first request after the lifetime closes
        time.sleep(max(0, t_auth + 3.5 - time.monotonic()))
        before = c.logs(tail=100000).count(EXPIRED)
        w.send(3, 1, {"topics": None})
        assert w.closed_by_peer(), "an expired session's request closes the connection"
    wait_for(lambda: c.logs(tail=100000).count(EXPIRED) > before, 30,
             "the broker to log the expiry")
    with Wire(port) as w:
        assert login(w, b"alice", b"alice-pw")["error_code"] == 0
        r = login(w, b"admin", b"admin-secret")
        assert r["error_code"] == 58, r
        assert r["error_message"] == ("Cannot change principals during re-authentication "
                                      "from User.alice: User.admin"), r
        assert w.closed_by_peer(), "a refused re-authentication closes the connection"
    with Wire(port) as w:
        assert login(w, b"alice", b"alice-pw")["error_code"] == 0
        r = w.call(17, 1, {"mechanism": "SCRAM-SHA-512"})
        assert r["error_code"] == 0, r
        r = w.call(36, 1, {"auth_bytes": b"n,,n=alice,r=abcdefgh"})
        assert r["error_code"] == 58 and "not supported for re-authentication of " \
            "mechanism 'PLAIN'" in r["error_message"], r
        assert w.closed_by_peer()
    print("ok: KIP-368 by hand: session_lifetime_ms, re-authentication, expiry, "
          "a changed user or mechanism refused")


def check_misconfigurations(work, zk_connect, certs):
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
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
          "sasl.enabled.mechanisms": "PLAIN"},
         "listener SASL_PLAINTEXT: no JAAS configuration for PLAIN"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
          "sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-999", "sasl.jaas.config": JAAS},
         "sasl.enabled.mechanisms: SCRAM-SHA-999 is not supported"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
          "inter.broker.listener.name": "SASL_PLAINTEXT",
          "sasl.enabled.mechanisms": "SCRAM-SHA-256"},
         "sasl.mechanism.inter.broker.protocol: GSSAPI is not supported"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
          "inter.broker.listener.name": "SASL_PLAINTEXT",
          "sasl.enabled.mechanisms": "SCRAM-SHA-256",
          "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-512"},
         "sasl.mechanism.inter.broker.protocol must be included in "
         "sasl.enabled.mechanisms"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SASL_PLAINTEXT://127.0.0.1:0",
          "inter.broker.listener.name": "SASL_PLAINTEXT",
          "sasl.enabled.mechanisms": "SCRAM-SHA-256",
          "sasl.mechanism.inter.broker.protocol": "SCRAM-SHA-256"},
         "no JAAS configuration for SCRAM-SHA-256"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0"},
         "listener SSL: ssl.keystore.location (or ssl.keystore.key and "
         "ssl.keystore.certificate.chain) is not set"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
          "ssl.keystore.type": "PEM", "ssl.keystore.location": certs["mismatch.pem"]},
         "ssl.keystore.location: the private key does not match the certificate"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
          "ssl.keystore.location": certs["broker.p12"]},
         "ssl.keystore.type: JKS is not supported"),
        ({"listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
          "ssl.keystore.type": "PKCS12", "ssl.keystore.location": certs["broker.p12"],
          "ssl.keystore.password": "wrong"},
         "is ssl.keystore.password right?"),
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
        certs = make_certs(os.path.join(work, "tls"))
        bset = {"listener.security.protocol.map": MAP,
                "inter.broker.listener.name": "MTLS",
                "connection.failed.authentication.delay.ms": "1000"}
        bset.update(tls_settings(certs))
        with Cluster(work, brokers=3, controllers=1,
                     listeners=["CLIENT", "INTERNAL", "SSL", "MTLS", "SASL_PLAINTEXT",
                                "SASL_SSL"], broker_set=bset,
                     controller_set={"inter.broker.listener.name": "INTERNAL"}) as c:
            # the controller's channels on INTERNAL (plaintext), replication
            # on MTLS: the followers present the broker certificate
            run_steps((check_registration, check_metadata_per_listener,
                       check_replication_over_mtls), c, c.zk())
            run_steps((check_ssl_server_auth, check_mtls, check_tls_refusals,
                       check_sasl_plain, check_sasl_refusals, check_sasl_v0_framing,
                       check_scram, check_scram_v0_framing),
                      c, c.zk(), certs)
            check_misconfigurations(work, c.zk_connect, certs)
            print("ok: misconfigured listeners stop kbroker with Kafka's message")
        check_sasl_inter_broker(work, certs)


if __name__ == "__main__":
    main()
