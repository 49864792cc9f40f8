#!/usr/bin/env python3
"""epc-autoscaler's RBAC (charts/epc-scheduler/templates/autoscaler-rbac.yaml) against the
API calls the binary makes. Python 3 standard library only.

  rbac_check.py --helm HELM

1. Source inventory: every Kubernetes API call site in epc-autoscaler's sources (calls on the
   ApiClient: Get, Post, Put, Delete, MergePatch, Stream) is listed in CALLS below with the
   (apiGroup, resource, verb) it needs and the configuration that makes it happen. A call site
   added or removed in the source changes the per-file count and fails this check until CALLS
   (and the chart's rules) follow.
2. For each configuration (HPA targets of every kind the parser knows; cluster autoscaling with
   kwok; with clusterapi; neither), the chart rendered by the real helm must grant every
   needed triple of CALLS, and nothing CALLS does not need (least privilege).
check_requests() (used by autoscaler_metrics_test.py) does the same for the requests the real
epc-autoscaler sent to the API server double in a run.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(REPO, "charts", "epc-scheduler")

# file -> [(call, condition, [(apiGroup, resource, verb), ...])]. Conditions: always,
# horizontal (any HPA target), cluster (cluster autoscaling on), kwok, clusterapi, lease (the
# namespaced Role). "scale" stands for <resource>/scale of each configured target's kind.
CALLS = {
    "autoscaler/horizontal/kube_adapters.cc": [
        ("GET scale subresource", "horizontal", [("*", "scale", "get")]),
        ("PUT scale subresource", "horizontal", [("*", "scale", "update")]),
        ("GET namespaced pods by the scale's selector", "always", [("", "pods", "list")]),
        ("POST event on the target", "always", [("", "events", "create")]),
        ("PATCH a repeated event's count", "always", [("", "events", "patch")]),
    ],
    "autoscaler/metrics/resource_metrics.cc": [
        ("GET metrics.k8s.io pods by selector", "horizontal", [("metrics.k8s.io", "pods", "list")]),
    ],
    "autoscaler/cluster/controller/kube_adapters.cc": [
        ("GET all pods (paged)", "cluster", [("", "pods", "list")]),
        ("GET node (taint)", "cluster", [("", "nodes", "get")]),
        ("PUT node (taint)", "cluster", [("", "nodes", "update")]),
        ("POST pods/eviction", "cluster", [("", "pods/eviction", "create")]),
        ("POST event on a pod or node", "cluster", [("", "events", "create")]),
    ],
    "autoscaler/cluster/providers/kwok.cc": [
        ("GET nodes by group label", "kwok", [("", "nodes", "list")]),
        ("POST node from the template", "kwok", [("", "nodes", "create")]),
        ("PUT nodes/status as kwok's kubelet", "kwok", [("", "nodes/status", "update")]),
        ("DELETE node", "kwok", [("", "nodes", "delete")]),
    ],
    "autoscaler/cluster/providers/clusterapi.cc": [
        ("GET (GetJson): machinedeployments list, machines list, machinedeployments/scale get", "clusterapi",
         [("cluster.x-k8s.io", "machinedeployments", "list"), ("cluster.x-k8s.io", "machines", "list"),
          ("cluster.x-k8s.io", "machinedeployments/scale", "get")]),
        ("PATCH machinedeployments/scale", "clusterapi", [("cluster.x-k8s.io", "machinedeployments/scale", "patch")]),
        ("PATCH machine (delete-machine annotation)", "clusterapi", [("cluster.x-k8s.io", "machines", "patch")]),
    ],
    # The informer (cluster autoscaling only) lists and watches nodes and pods through it.
    "common/k8s/reflector.cc": [
        ("GET list", "cluster", [("", "nodes", "list"), ("", "pods", "list")]),
        ("Stream watch", "cluster", [("", "nodes", "watch"), ("", "pods", "watch")]),
    ],
    "common/k8s/leader_election.cc": [
        ("GET lease", "lease", [("coordination.k8s.io", "leases", "get")]),
        ("PUT lease", "lease", [("coordination.k8s.io", "leases", "update")]),
        ("POST lease", "lease", [("coordination.k8s.io", "leases", "create")]),
        ("GET lease (release)", "lease", [("coordination.k8s.io", "leases", "get")]),
        ("PUT lease (release)", "lease", [("coordination.k8s.io", "leases", "update")]),
    ],
}
# Sources that talk to something else than the API server, or not at all.
NOT_API = {"autoscaler/metrics/prometheus.cc": "Prometheus' HTTP API (httplib)",
           "autoscaler/app/probe_server.cc": "its own /metrics and probe server"}
CALL_RE = re.compile(r"\b(?:client_?(?:->|\.))(Get|Post|Put|Delete|MergePatch|Stream)\(")

# scaleTargetRef kind -> (apiGroup, resource), as the binary's parser defaults and pluralizes.
SCALE_KINDS = {"Deployment": ("apps", "deployments"), "StatefulSet": ("apps", "statefulsets"),
               "ReplicaSet": ("apps", "replicasets"), "ReplicationController": ("", "replicationcontrollers"),
               "MachineDeployment": ("cluster.x-k8s.io", "machinedeployments"),
               "MachineSet": ("cluster.x-k8s.io", "machinesets")}


def source_inventory():
    """Fails unless every ApiClient call site in the autoscaler's sources is in CALLS."""
    failures = []
    files = [os.path.relpath(os.path.join(d, f), REPO)
             for d, _, fs in os.walk(os.path.join(REPO, "autoscaler")) for f in fs if f.endswith(".cc")]
    files += ["common/k8s/reflector.cc", "common/k8s/leader_election.cc", "common/k8s/cluster_informer.cc"]
    for rel in sorted(files):
        if rel.endswith("_test.cc") or rel in NOT_API:
            continue
        text = open(os.path.join(REPO, rel)).read()
        text = re.sub(r"//[^\n]*", "", text)
        found = CALL_RE.findall(text)
        listed = CALLS.get(rel, [])
        if len(found) != len(listed):
            failures.append(f"{rel}: {len(found)} API client call sites ({', '.join(found) or 'none'}), "
                            f"rbac_check.py CALLS lists {len(listed)}: update CALLS and "
                            "charts/epc-scheduler/templates/autoscaler-rbac.yaml")
    for rel in CALLS:
        if not os.path.exists(os.path.join(REPO, rel)):
            failures.append(f"{rel} (in CALLS) does not exist")
    return failures


def needed(conditions, scale_kinds=()):
    """{(group, resource, verb)} CALLS needs under `conditions` (set of condition names)."""
    out = set()
    for calls in CALLS.values():
        for _, cond, triples in calls:
            if cond != "always" and cond not in conditions:
                continue
            for group, res, verb in triples:
                if res == "scale":
                    for kind in scale_kinds:
                        g, r = SCALE_KINDS[kind]
                        out.add((g, f"{r}/scale", verb))
                else:
                    out.add((group, res, verb))
    return out


# ---- the rendered rules -----------------------------------------------------------------------

def render(helm, values_text, namespace="epc-system", extra=()):
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(values_text)
        path = f.name
    try:
        proc = subprocess.run([helm, "template", "rel", CHART, "--namespace", namespace, "-f", path,
                               "--show-only", "templates/autoscaler-rbac.yaml", *extra],
                              capture_output=True, text=True, timeout=120)
    finally:
        os.unlink(path)
    if proc.returncode != 0:
        raise RuntimeError(f"helm template failed:\n{proc.stderr}")
    return proc.stdout


def parse_roles(rendered):
    """{kind: (namespace, [rule dicts])} for the ClusterRole and Role. The template writes
    every rule field as a one-line flow list of quoted strings (JSON), which this reads."""
    roles = {}
    for doc in re.split(r"^---\s*$", rendered, flags=re.M):
        kind = re.search(r"^kind: (\w+)$", doc, re.M)
        if not kind or kind.group(1) not in ("ClusterRole", "Role"):
            continue
        ns = re.search(r"^  namespace: (\S+)$", doc, re.M)
        rules = []
        body = doc.split("\nrules:\n", 1)[1] if "\nrules:\n" in doc else ""
        for line in body.splitlines():
            m = re.fullmatch(r"  (?:- |  )(apiGroups|resources|verbs|resourceNames): (\[.*\])", line)
            if not m:
                if line.strip():
                    raise RuntimeError(f"unexpected line in the rendered {kind.group(1)} rules: {line!r}")
                continue
            if line.startswith("  - "):
                rules.append({})
            rules[-1][m.group(1)] = json.loads(m.group(2))
        roles[kind.group(1)] = (ns.group(1) if ns else None, rules)
    return roles


def granted(roles):
    """{(group, resource, verb)} of the ClusterRole."""
    out = set()
    for r in roles.get("ClusterRole", (None, []))[1]:
        for g in r.get("apiGroups", []):
            for res in r.get("resources", []):
                for v in r.get("verbs", []):
                    out.add((g, res, v))
    return out


def allows(roles, group, resource, verb, namespace, name):
    for kind, (ns, rules) in roles.items():
        if kind == "Role" and namespace != ns:
            continue
        for r in rules:
            names = r.get("resourceNames")
            if group in r.get("apiGroups", []) and resource in r.get("resources", []) and \
                    verb in r.get("verbs", []) and (not names or name in names):
                return True
    return False


def request_triple(method, path, query):
    """(group, resource[/sub], verb, namespace, name) of an API request path."""
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        group, rest = "", parts[2:]
    elif parts[:1] == ["apis"]:
        group, rest = parts[1], parts[3:]
    else:
        return None
    namespace = None
    if len(rest) >= 2 and rest[0] == "namespaces" and len(rest) != 2:
        namespace, rest = rest[1], rest[2:]
    resource, name, sub = rest[0], (rest[1] if len(rest) > 1 else None), (rest[2] if len(rest) > 2 else None)
    q = urllib.parse.parse_qs(query or "")
    verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
    if method == "GET":
        verb = "get" if name else ("watch" if q.get("watch", ["0"])[0] in ("1", "true") else "list")
    if method == "POST" and sub:
        verb = "create"
    return group, resource + (f"/{sub}" if sub else ""), verb, namespace, name


def check_requests(helm, requests, config_text=None):
    """Failures for requests the chart's RBAC (rendered for the scenario's configuration, in
    namespace default with fullnameOverride epc, so the lease is default/epc-autoscaler) denies."""
    from autoscaler_traffic import CONFIG, LEASE, NS
    text = config_text or CONFIG
    # The chart sets the lease itself (the schema forbids these keys).
    text = "\n".join(line for line in text.splitlines()
                     if not re.match(r"\s+lease(Name|Namespace):", line))
    values = "fullnameOverride: epc\nconfig:\n" + "\n".join("  " + line for line in text.splitlines()) + "\n"
    roles = parse_roles(render(helm, values, namespace=NS))
    if roles.get("Role", (None, []))[1] and not any(LEASE in r.get("resourceNames", []) for r in roles["Role"][1]):
        return [f"the rendered Role does not name the lease {LEASE}"]
    failures, seen = [], set()
    for r in requests:
        t = request_triple(r["method"], r["path"], r.get("query"))
        if t is None:
            failures.append(f"{r['method']} {r['path']}: not an API path")
            continue
        if not allows(roles, *t):
            failures.append(f"RBAC denies {r['method']} {r['path']} ({t[0] or 'core'} {t[1]} {t[2]})")
        seen.add(t[:3])
    if not failures:
        print(f"RBAC allows all {len(requests)} API requests epc-autoscaler made ({len(seen)} distinct: "
              + ", ".join(f"{g or 'core'}/{res} {v}" for g, res, v in sorted(seen)) + ")")
    return failures


# ---- the configurations -------------------------------------------------------------------

def values_for(horizontal_kinds, cluster, provider):
    targets = "".join(
        f"      - metadata: {{name: t{i}}}\n"
        f"        spec: {{scaleTargetRef: {{kind: {k}, name: t{i}}}, maxReplicas: 3}}\n"
        for i, k in enumerate(horizontal_kinds))
    text = "config:\n  autoscaler:\n"
    text += ("    horizontal:\n" + targets) if horizontal_kinds else ""
    if cluster:
        text += (f"    cluster:\n      enabled: true\n      provider: {provider}\n      nodeGroups:\n"
                 f"        - name: {'capi/g' if provider == 'clusterapi' else 'g'}\n          maxSize: 3\n"
                 "          template: {allocatable: {cpu: \"4\"}}\n")
    return text


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--helm", default=os.path.join(REPO, "tools", "bin", "helm"))
    args = p.parse_args()
    failures = source_inventory()
    cases = [
        ("nothing configured", [], False, None),
        ("HPA targets of every kind", sorted(SCALE_KINDS), False, None),
        ("cluster autoscaling, kwok", [], True, "kwok"),
        ("cluster autoscaling, clusterapi, a Deployment target", ["Deployment"], True, "clusterapi"),
    ]
    for what, kinds, cluster, provider in cases:
        conditions = {c for c, on in (("horizontal", kinds), ("cluster", cluster),
                                      ("kwok", provider == "kwok"), ("clusterapi", provider == "clusterapi")) if on}
        want = needed(conditions, kinds)
        try:
            roles = parse_roles(render(args.helm, values_for(kinds, cluster, provider)))
        except RuntimeError as e:
            failures.append(f"{what}: {e}")
            continue
        have = granted(roles)
        for t in sorted(want - have):
            failures.append(f"{what}: the ClusterRole lacks {t[0] or 'core'} {t[1]} {t[2]}")
        for t in sorted(have - want):
            failures.append(f"{what}: the ClusterRole grants {t[0] or 'core'} {t[1]} {t[2]}, which no call needs")
        lease_want = needed({"lease"}) - needed(set())
        ns, rules = roles.get("Role", (None, []))
        lease_have = {(g, res, v) for r in rules for g in r["apiGroups"] for res in r["resources"] for v in r["verbs"]}
        if lease_have != lease_want:
            failures.append(f"{what}: the lease Role grants {sorted(lease_have)}, want {sorted(lease_want)}")
        if not failures:
            print(f"ok  {what}: {len(have)} (group, resource, verb) granted, each needed")
    if failures:
        print("FAIL rbac_check:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    print(f"PASS epc-autoscaler's RBAC matches its {sum(len(v) for v in CALLS.values())} API call sites")
    return 0


if __name__ == "__main__":
    sys.exit(main())
