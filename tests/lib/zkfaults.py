# SPDX-License-Identifier: Apache-2.0
"""What the ZooKeeper fault tests (0021, 0022) look at: the active
controller and the brokers' registrations in ZooKeeper, a topic created
and led, a topic configuration change seen by each broker."""

import json
import os

from kbroker import wait_for


def controller(zk):
    """The active controller's id from /controller, None when there is none."""
    try:
        return json.loads(zk.get("/controller")[0])["brokerid"]
    except Exception:
        return None


def registrations(zk):
    """{broker id: czxid of /brokers/ids/<id>} (the broker epoch)."""
    return {int(b): zk.get("/brokers/ids/" + b)[1].czxid
            for b in zk.get_children("/brokers/ids")}


def admin(c):
    from confluent_kafka.admin import AdminClient

    return AdminClient({"bootstrap.servers": c.bootstrap})


def create(c, name, parts, rf, timeout=90):
    from confluent_kafka.admin import NewTopic

    a = admin(c)
    for f in a.create_topics([NewTopic(name, parts, rf)],
                             operation_timeout=timeout).values():
        f.result()

    def led():
        md = a.list_topics(name, timeout=30).topics.get(name)
        return md is not None and md.error is None and \
            len(md.partitions) == parts and \
            all(p.leader >= 1 for p in md.partitions.values())
    wait_for(led, timeout, "leaders of " + name)


def config_change_acted_on(c, topic, brokers):
    """A topic configuration change (AlterConfigs: /config/topics/<t> and
    a /config/changes notification) reaches each broker's config-change
    watch: its log says so after the change."""
    from confluent_kafka.admin import AdminClient, ConfigResource

    logs = {b: os.path.join(c.dir, "broker-%d.log" % b) for b in brokers}
    start = {b: os.path.getsize(p) for b, p in logs.items()}
    a = AdminClient({"bootstrap.servers": c.bootstrap})
    res = ConfigResource(ConfigResource.Type.TOPIC, topic,
                         set_config={"retention.ms": "86400000"})
    for f in a.alter_configs([res]).values():
        f.result()

    def seen(b):
        with open(logs[b], "rb") as f:
            f.seek(start[b])
            return ("config change of topic %s" % topic).encode() in f.read()
    for b in brokers:
        wait_for(lambda: seen(b), 60, "broker %d to act on the config change" % b)
