#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# contrib/prometheus: the alert rules load (promtool check rules) and
# each fires on its condition and only then (promtool test rules, with
# skald-alerts.test.yml); the Grafana dashboard is valid JSON whose
# queries name only metrics the daemons serve.
set -eu
dir=${top_srcdir:-.}/contrib/prometheus
command -v promtool >/dev/null || { echo "promtool missing (Debian package: prometheus)"; exit 1; }
promtool check rules "$dir/skald-alerts.yml"
# promtool resolves rule_files against the test file's directory
(cd "$dir" && promtool test rules skald-alerts.test.yml)
# the dashboard: JSON, and every metric its queries and the rules name is
# one the daemons serve (named in their exposition code)
/usr/bin/python3 - "${top_srcdir:-.}" <<'PY'
import json, re, sys
top = sys.argv[1]
src = ""
for f in ("kbroker/metrics.c", "kcontroller/ctl_metrics.c", "libkproto/kp_metrics.c",
          "libkproto/kp_zk.c"):
    src += open("%s/%s" % (top, f)).read()
with open("%s/contrib/grafana/skald-dashboard.json" % top) as f:
    d = json.load(f)
exprs = [t["expr"] for p in d["panels"] for t in p["targets"]]
exprs.append(open("%s/contrib/prometheus/skald-alerts.yml" % top).read())
bad = set()
for e in exprs:
    for m in re.findall(r"\b((?:kafka|process)_[a-z_]+)", e):
        base = re.sub(r"_(bucket|sum|count)$", "", m)
        if '"%s"' % base not in src and '"%s"' % m not in src:
            bad.add(m)
assert not bad, "not served: %s" % sorted(bad)
print("dashboard: %d panels, every metric served" % len(d["panels"]))
PY
