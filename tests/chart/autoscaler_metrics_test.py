#!/usr/bin/env python3
"""`promtool check metrics` on the real epc-autoscaler's /metrics, after real decisions.

  autoscaler_metrics_test.py --autoscaler-binary EPC_AUTOSCALER [--promtool PROMTOOL]

Runs the real epc-autoscaler against the Kubernetes API server test double on 127.0.0.1 with an
HPA target and cluster autoscaling (kwok provider), through autoscaler_traffic.py's phases: HPA
scale-up and scale-down, a node-group scale-down, a scale-up from zero and a provisioning
back-off. Then, on its /metrics:
  - promtool check metrics accepts the exposition (format and naming lint);
  - every metric family of docs/metrics.md's epc-autoscaler table is present, with samples for
    the HPA target (namespace/target/metric labels) and both node groups;
  - the counters show what happened (scale events up and down, a scale-up, a scale-down and a
    back-off) and the replica holds the lease.
And on the API server double's request log: every request epc-autoscaler made is one the
chart's ClusterRole / Role allows (rbac_check.py, with the chart rendered by helm when --helm
is given).
Every process is stopped on every exit path. Python 3 standard library only.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from autoscaler_traffic import AutoscalerScenario, ScenarioError, parse_metrics  # noqa: E402
from dashboards_e2e import Processes  # noqa: E402

REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def documented_families():
    """Metric families of docs/metrics.md's epc-autoscaler table (`a` / `_b` rows expanded)."""
    text = open(os.path.join(REPO, "docs", "metrics.md")).read()
    section = text.split("## epc-autoscaler", 1)[1].split("\n## ", 1)[0]
    families = set()
    for row in re.findall(r"^\| `([^|]+)` \|", section, re.M):
        names = [n.strip().strip("`") for n in row.split("/")]
        base = names[0]
        families.add(base)
        for n in names[1:]:
            # `epc_autoscaler_hpa_min_replicas` / `_max_replicas`: replace the suffix.
            families.add(base.rsplit("_", n.count("_"))[0] + n if n.startswith("_") else n)
    return families


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--autoscaler-binary", required=True)
    p.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    p.add_argument("--helm", default="", help="also check the recorded API requests against the chart's RBAC")
    args = p.parse_args()
    if not os.access(args.autoscaler_binary, os.X_OK):
        print(f"FAIL epc-autoscaler not executable: {args.autoscaler_binary}", file=sys.stderr)
        return 1

    tmp = tempfile.mkdtemp(prefix="epc-autoscaler-metrics-")
    procs = Processes(tmp)
    scenario = AutoscalerScenario(procs, tmp, args.autoscaler_binary)
    failures = []
    try:
        scenario.start()
        scenario.run()
        text = scenario.metrics_text()
        path = os.path.join(tmp, "metrics.txt")
        with open(path, "w") as f:
            f.write(text)
        proc = subprocess.run([args.promtool, "check", "metrics"], input=text, capture_output=True,
                              text=True, timeout=60)
        if proc.returncode != 0:
            failures.append(f"promtool check metrics rejected epc-autoscaler's /metrics:\n"
                            f"{proc.stdout}{proc.stderr}")
        else:
            print("promtool check metrics: ok")
        typed = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
        want = documented_families()
        if len(want) < 15:
            failures.append(f"only {len(want)} families parsed from docs/metrics.md: {sorted(want)}")
        for family in sorted(want - typed):
            failures.append(f"metric {family} (docs/metrics.md) missing from /metrics")
        for family in sorted(f for f in typed if f.startswith("epc_autoscaler_") and f not in want):
            failures.append(f"metric {family} is exported but not documented in docs/metrics.md")

        samples = parse_metrics(text)

        def value(name, **labels):
            found = [v for n, have, v in samples if n == name and all(have.get(k) == x for k, x in labels.items())]
            return sum(found) if found else None
        hpa = dict(namespace="default", target="Deployment/web")
        expectations = [
            ("epc_autoscaler_hpa_current_replicas", hpa, lambda v: v >= 1),
            ("epc_autoscaler_hpa_desired_replicas", hpa, lambda v: v >= 1),
            ("epc_autoscaler_hpa_min_replicas", hpa, lambda v: v == 1),
            ("epc_autoscaler_hpa_max_replicas", hpa, lambda v: v == 4),
            ("epc_autoscaler_hpa_metric_value", dict(hpa, metric="cpu"), lambda v: v > 0),
            ("epc_autoscaler_hpa_metric_target", dict(hpa, metric="cpu"), lambda v: v == 50),
            ("epc_autoscaler_hpa_scale_events_total", dict(hpa, direction="up"), lambda v: v >= 1),
            ("epc_autoscaler_hpa_scale_events_total", dict(hpa, direction="down"), lambda v: v >= 1),
            ("epc_autoscaler_node_group_max_size", dict(group="sgx"), lambda v: v == 2),
            ("epc_autoscaler_node_group_min_size", dict(group="general"), lambda v: v == 0),
            ("epc_autoscaler_node_group_current_size", dict(group="general"), lambda v: v == 0),
            ("epc_autoscaler_node_group_target_size", dict(group="sgx"), lambda v: v >= 0),
            ("epc_autoscaler_node_group_scale_ups_total", dict(group="sgx"), lambda v: v >= 1),
            ("epc_autoscaler_node_group_scale_downs_total", dict(group="general"), lambda v: v >= 1),
            ("epc_autoscaler_node_group_backoffs_total", dict(group="sgx"), lambda v: v >= 1),
            ("epc_autoscaler_unneeded_nodes", dict(group="general"), lambda v: v >= 0),
            ("epc_autoscaler_pending_pods", dict(reason="scale_up_triggered"), lambda v: v >= 0),
            ("epc_autoscaler_reconcile_duration_seconds_count", dict(loop="horizontal"), lambda v: v >= 1),
            ("epc_autoscaler_reconcile_duration_seconds_count", dict(loop="cluster"), lambda v: v >= 1),
            ("epc_autoscaler_last_reconcile_timestamp_seconds", dict(loop="cluster"), lambda v: v > 1e9),
            ("epc_autoscaler_errors_total", dict(kind="api_error"), lambda v: v >= 0),
            ("epc_autoscaler_is_leader", {}, lambda v: v == 1),
        ]
        for name, labels, ok in expectations:
            v = value(name, **labels)
            if v is None:
                failures.append(f"no sample {name}{labels}")
            elif not ok(v):
                failures.append(f"{name}{labels} = {v}: not what the scenario produced")
        if args.helm:
            import rbac_check
            failures += rbac_check.check_requests(args.helm, scenario.autoscaler_requests())
        if not failures:
            print(f"PASS promtool check metrics on epc-autoscaler ({len(typed)} families, "
                  f"{len(samples)} samples) after: " + "; ".join(scenario.phases))
    except ScenarioError as e:
        failures.append(str(e))
    finally:
        scenario.stop()
        procs.stop_all()
        if failures:
            print(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("FAIL autoscaler_metrics_test:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
