#!/usr/bin/env python3
"""Proves validate.mjs catches mistakes: each case breaks a good render in one place (a text
edit of `helm template` output) and validate.mjs must fail naming the problem.
Python 3 standard library only. Usage: validator_selftest.py [--helm PATH] [--node PATH]
[--node-modules DIR]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(REPO, "charts", "epc-scheduler")

# (name, values set, validate.mjs args, (old, new) text edit or None, expected message part)
CASES = [
    ("good defaults pass", "defaults", [], None, None),
    ("small weight", "defaults", [], ("weight: 100", "weight: 1"), "weight 1"),
    ("writable root filesystem", "defaults", [], ("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"),
     "readOnlyRootFilesystem"),
    ("privilege escalation", "defaults", [], ("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true"),
     "allowPrivilegeEscalation"),
    # (the first container-level runAsUser; the pod-level one is overridden by it)
    ("root user", "defaults", [], ("            runAsUser: 65532", "            runAsUser: 0"), "runAsUser"),
    ("wildcard verb", "defaults", [], ('verbs: ["get", "list", "watch"]', 'verbs: ["*"]'), "wildcard in verbs"),
    ("extra permission", "defaults", [], ('resources: ["nodes", "pods"]', 'resources: ["nodes", "pods", "secrets"]'),
     "Secrets"),
    ("autoscaler watches pods without cluster autoscaling", "defaults", [],
     ('verbs: ["list"]', 'verbs: ["list", "watch"]'), "grants more than needed: |pods|watch"),
    ("kwok autoscaler cannot write node status", "cluster-kwok", [],
     ('resources: ["nodes/status"]', 'resources: ["nodes/proxy"]'), "lacks: |nodes/status|update"),
    ("port as a string (API schema)", "defaults", [], ("containerPort: 8888", 'containerPort: "8888"'), "must be integer"),
    ("unknown kind", "defaults", [], ("kind: PodDisruptionBudget", "kind: PodDisruptionBudgetX"), "unknown apiVersion/kind"),
    ("urlPrefix misses the Service port", "defaults", [], ("svc:8888\"", "svc:9999\""), "urlPrefix"),
    ("managedResources in allPods mode", "epc-pods", ["--expect-called-for", "allPods"], None,
     "managedResources set in allPods mode"),
    ("managedResources missing in epcPods mode", "defaults", ["--expect-called-for", "epcPods"], None, "managedResources"),
    ("scheduler on the default lease", "defaults", [], ("resourceName: rel-epc-scheduler-scheduler", "resourceName: kube-scheduler"),
     "kube-scheduler's"),
    ("autoscaler lease outside its Role's namespace", "defaults", [],
     ("leaseNamespace: epc-system", "leaseNamespace: kube-system"), "leaseNamespace"),
    ("missing readiness probe path", "defaults", [], ("path: /readyz", "path: /ready"), "readinessProbe path"),
    ("monitoring label missing", "monitoring-on",
     ["--expect-monitoring", "true", "--expect-label", "release=other", "--expect-dashboard-label", "grafana_dashboard_epc=yes"],
     None, "label release=other missing"),
    ("TLS CA not mounted", "tls-on", ["--expect-tls", "true"], ("caFile: /etc/epc/tls/ca.crt", "caFile: /nowhere/ca.crt"),
     "tlsConfig.caFile"),
]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--helm", default=os.path.join(REPO, "tools", "bin", "helm"))
    p.add_argument("--node", default=shutil.which("node") or "node")
    p.add_argument("--node-modules", default=os.path.join(REPO, "tools", "node_modules"))
    args = p.parse_args()
    failures = 0
    renders = {}
    with tempfile.TemporaryDirectory(prefix="epc-validator-") as tmp:
        for name, values, vargs, edit, expect in CASES:
            if values not in renders:
                proc = subprocess.run([args.helm, "template", "rel", CHART, "--namespace", "epc-system", "-f",
                                       os.path.join(HERE, "values", f"{values}.yaml")],
                                      capture_output=True, text=True, timeout=120)
                if proc.returncode != 0:
                    print(f"FAIL helm template {values}: {proc.stderr}", file=sys.stderr)
                    return 1
                renders[values] = proc.stdout
            text = renders[values]
            if edit:
                if edit[0] not in text:
                    print(f"FAIL [{name}] the render has no {edit[0]!r} to edit", file=sys.stderr)
                    failures += 1
                    continue
                text = text.replace(edit[0], edit[1], 1)
            path = os.path.join(tmp, "case.yaml")
            with open(path, "w") as f:
                f.write(text)
            proc = subprocess.run([args.node, os.path.join(HERE, "validate.mjs"), "--node-modules", args.node_modules,
                                   "--namespace", "epc-system", *vargs, path],
                                  capture_output=True, text=True, timeout=120)
            out = proc.stdout + proc.stderr
            if expect is None:
                ok = proc.returncode == 0
            else:
                ok = proc.returncode == 1 and expect in out
            print(f"{'ok  ' if ok else 'FAIL'} [{name}]")
            if not ok:
                failures += 1
                print(f"     expected {'success' if expect is None else repr(expect)}, got exit {proc.returncode}:\n{out}",
                      file=sys.stderr)
    print(f"{len(CASES) - failures}/{len(CASES)} validator cases behave")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
