#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""TLS client principals and keystore reload (issue 19), on a real kcluster
(one broker, one controller) with a mutual-TLS listener MTLS (PEM stores,
ssl.client.auth=required) and certificates made by the openssl command:

- listener.name.mtls.ssl.principal.mapping.rules maps client certificate
  subjects as Kafka's SslPrincipalMapper: confluent-kafka with alice's
  certificate (CN=alice,OU=ServiceUsers,O=skald) is User:alice, with Bob's
  (CN=Bob.Smith,OU=eng,O=skald) User:bob.smith (a rule with /L), seen in
  the broker's debug line for the handshake; a certificate no rule maps
  is refused and the broker goes on serving; rules that do not parse
  stop kbroker with exit status 1 naming the key;
- the MTLS keystore replaced without a restart (kconfigs --entity-type
  brokers --alter --add-config listener.name.mtls.ssl.keystore.location=,
  as kafka-configs.sh): a new TLS connection sees the new certificate
  (same subject, new key), a connection made before keeps working over
  its old context, and a client still produces and consumes; a keystore
  of another subject and a file that is no keystore are refused (the
  tool fails with Kafka's message) and the broker keeps serving the
  current certificate.
"""

import hashlib
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.environ.get("top_srcdir", "."), "tests", "lib"))

from cluster import Cluster, run_steps  # noqa: E402
from kbroker import Broker, wait_for  # noqa: E402
from ktool import tool  # noqa: E402

RULES = ("RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,"
         "RULE:^CN=([^,]*),OU=eng,.*$/$1/L")


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   capture_output=True, timeout=120)


def make_certs(d):
    os.makedirs(d)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=skald test ca", cwd=d)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    # broker1 and broker2: the same subject and names, each its own key
    for name, subj in (("broker1", "/O=skald/CN=localhost"),
                       ("broker2", "/O=skald/CN=localhost"),
                       ("other", "/O=skald/CN=somebody-else"),
                       ("alice", "/O=skald/OU=ServiceUsers/CN=alice"),
                       ("bob", "/O=skald/OU=eng/CN=Bob.Smith"),
                       ("carol", "/O=other/CN=carol")):
        openssl("req", *ec, "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", subj, cwd=d)
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey",
                "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext",
                "-out", name + ".pem", cwd=d)
    for name in ("broker1", "broker2", "other"):
        with open(os.path.join(d, name + "-keystore.pem"), "w") as f:
            for part in (name + ".key", name + ".pem", "ca.pem"):
                f.write(open(os.path.join(d, part)).read())
    with open(os.path.join(d, "garbage.pem"), "w") as f:
        f.write("this is not a keystore\n")
    return {n: os.path.join(d, n) for n in os.listdir(d)}


def der_sha256(pem_path):
    pem = open(pem_path).read()
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def tls_connect(c, certs, who="alice"):
    ctx = ssl.create_default_context(cafile=certs["ca.pem"])
    ctx.load_cert_chain(certs[who + ".pem"], certs[who + ".key"])
    host, port = c.bootstraps["MTLS"].split(",")[0].rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=30)
    return ctx.wrap_socket(s, server_hostname="localhost")


def served_cert(c, certs):
    with tls_connect(c, certs) as s:
        return hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()


def api_versions(s, corr):
    """ApiVersions v0 over an open connection: the error code."""
    client = b"skald-test"
    body = struct.pack(">hhih", 18, 0, corr, len(client)) + client
    s.sendall(struct.pack(">i", len(body)) + body)
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    data = recv_exact(s, size)
    got_corr, err = struct.unpack(">ih", data[:6])
    assert got_corr == corr, (got_corr, corr)
    return err


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        assert chunk, "connection closed"
        buf += chunk
    return buf


def conf(c, certs, who):
    return {"bootstrap.servers": c.bootstraps["MTLS"], "security.protocol": "SSL",
            "ssl.ca.location": certs["ca.pem"],
            "ssl.certificate.location": certs[who + ".pem"],
            "ssl.key.location": certs[who + ".key"]}


def broker_log(c):
    with open(os.path.join(c.dir, "broker-1.log"), errors="replace") as f:
        return f.read()


def check_principals(c, zk, certs):
    from confluent_kafka.admin import AdminClient

    for who, name, subject in (("alice", "alice", "CN=alice,OU=ServiceUsers,O=skald"),
                               ("bob", "bob.smith", "CN=Bob.Smith,OU=eng,O=skald")):
        md = AdminClient(conf(c, certs, who)).list_topics(timeout=60)
        assert len(md.brokers) == 1, md.brokers
        line = "principal User:%s (subject %s)" % (name, subject)
        wait_for(lambda: line in broker_log(c), 30, line)
    # no rule maps carol: the connection is refused, others go on
    a = AdminClient(dict(conf(c, certs, "carol"), **{"socket.timeout.ms": "5000"}))
    try:
        a.list_topics(timeout=8)
        raise AssertionError("carol's certificate was accepted")
    except AssertionError:
        raise
    except Exception:
        pass
    wait_for(lambda: "No rules apply to O=other,CN=carol" in broker_log(c) or
             "No rules apply to CN=carol,O=other" in broker_log(c), 30,
             "carol refused for want of a rule")
    assert AdminClient(conf(c, certs, "alice")).list_topics(timeout=60).brokers
    print("ok: client certificates map to principals through the rules")


def check_reload(c, zk, certs):
    from confluent_kafka import Consumer, Producer

    assert served_cert(c, certs) == der_sha256(certs["broker1.pem"])
    before = tls_connect(c, certs)
    assert api_versions(before, 1) == 0
    key = "listener.name.mtls.ssl.keystore.location"
    tool("kconfigs", "--entity-type", "brokers", "--entity-name", "1", "--alter",
         "--add-config", "%s=%s" % (key, certs["broker2-keystore.pem"]),
         bootstrap=c.bootstrap)
    wait_for(lambda: served_cert(c, certs) == der_sha256(certs["broker2.pem"]), 60,
             "new connections to get the new certificate")
    # the connection made before keeps its context and goes on
    assert api_versions(before, 2) == 0
    assert hashlib.sha256(before.getpeercert(binary_form=True)).hexdigest() == \
        der_sha256(certs["broker1.pem"])
    before.close()
    p = Producer(dict(conf(c, certs, "alice"), acks="all"))
    for i in range(50):
        p.produce("reload-t", value=b"r%d" % i)
    assert p.flush(60) == 0
    cons = Consumer(dict(conf(c, certs, "alice"), **{"group.id": "g-reload",
                                                     "auto.offset.reset": "earliest"}))
    cons.subscribe(["reload-t"])
    got = set()
    deadline = time.monotonic() + 90
    while len(got) < 50 and time.monotonic() < deadline:
        m = cons.poll(1.0)
        if m is not None and m.error() is None:
            got.add(m.value())
    cons.close()
    assert got == {b"r%d" % i for i in range(50)}, len(got)
    # refused: another subject, and no keystore at all
    for bad, msg in ((certs["other-keystore.pem"], "Keystore DistinguishedName does not match"),
                     (certs["garbage.pem"], "Validation of dynamic config update of "
                                            "SSLFactory failed")):
        r = tool("kconfigs", "--entity-type", "brokers", "--entity-name", "1", "--alter",
                 "--add-config", "%s=%s" % (key, bad), bootstrap=c.bootstrap,
                 rc=None)
        assert r.returncode != 0, r.stdout
        assert msg in r.stdout + r.stderr, (r.stdout, r.stderr)
    assert served_cert(c, certs) == der_sha256(certs["broker2.pem"])
    assert "SSL keystore and truststore reloaded" in broker_log(c)
    print("ok: the keystore replaced without a restart; bad keystores refused")


def check_bad_rules(work, zk_connect, certs):
    b = Broker(os.path.join(work, "badrules"), zk_connect, broker_id=61, extra={
        "listeners": "PLAINTEXT://127.0.0.1:0,SSL://127.0.0.1:0",
        "ssl.keystore.type": "PEM", "ssl.keystore.location": certs["broker1-keystore.pem"],
        "ssl.principal.mapping.rules": "RULE:^CN=(.*)$/$1/X,DEFAULT"})
    b.spawn()
    assert b.wait(60) == 1, b.output()
    assert "ssl.principal.mapping.rules" in b.output(), b.output()
    assert "Invalid rule" in b.output(), b.output()
    print("ok: rules that do not parse stop kbroker naming the key")


def main():
    with tempfile.TemporaryDirectory() as work:
        certs = make_certs(os.path.join(work, "tls"))
        bset = {"listener.security.protocol.map": "CLIENT:PLAINTEXT,MTLS:SSL",
                "inter.broker.listener.name": "CLIENT",
                "listener.name.mtls.ssl.keystore.type": "PEM",
                "listener.name.mtls.ssl.keystore.location": certs["broker1-keystore.pem"],
                "listener.name.mtls.ssl.truststore.type": "PEM",
                "listener.name.mtls.ssl.truststore.location": certs["ca.pem"],
                "listener.name.mtls.ssl.client.auth": "required",
                "listener.name.mtls.ssl.principal.mapping.rules": RULES,
                "log.level": "debug"}
        with Cluster(work, brokers=1, controllers=1, listeners=["CLIENT", "MTLS"],
                     broker_set=bset,
                     controller_set={"inter.broker.listener.name": "CLIENT"}) as c:
            tool("ktopics", "--create", "--topic", "reload-t", "--partitions", "1",
                 "--replication-factor", "1", bootstrap=c.bootstrap)
            run_steps((check_principals, check_reload), c, c.zk(), certs)
            check_bad_rules(work, c.zk_connect, certs)


if __name__ == "__main__":
    main()
