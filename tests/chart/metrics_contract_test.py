#!/usr/bin/env python3
"""Every epc_* metric the chart's dashboards and alert rules use is in docs/metrics.md (the
metrics contract), with the right suffix for its type (_bucket/_sum/_count only on histograms),
and both dashboards cover what they promise. Python 3 standard library only.
"""
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(REPO, "charts", "epc-scheduler")


def documented():
    """{name: type} from the tables of docs/metrics.md; `a` / `_b` rows expand to a and a's stem + _b."""
    out = {}
    for line in open(os.path.join(REPO, "docs", "metrics.md")):
        m = re.match(r"\|\s*(`epc_[^|]*)\|\s*(\w+)\s*\|", line)
        if not m:
            continue
        names = re.findall(r"`([^`]+)`", m.group(1))
        first = names[0]
        out[first] = m.group(2)
        for extra in names[1:]:
            if extra.startswith("_"):
                # `epc_x_min_replicas` / `_max_replicas`: the tail replaces as many words.
                words = extra.lstrip("_").split("_")
                out["_".join(first.split("_")[: -len(words)]) + extra] = m.group(2)
            else:
                out[extra] = m.group(2)
    return out


def used_names(text):
    return set(re.findall(r"\b(epc_[a-z0-9_]+)\b", text))


def main():
    docs = documented()
    problems = []
    if len(docs) < 20:
        problems.append(f"only {len(docs)} metrics parsed from docs/metrics.md; its table format changed?")
    sources = {
        "files/alerts.yaml": open(os.path.join(CHART, "files", "alerts.yaml")).read(),
    }
    dashboards = {}
    for f in sorted(os.listdir(os.path.join(CHART, "dashboards"))):
        path = os.path.join(CHART, "dashboards", f)
        dashboards[f] = json.load(open(path))
        exprs = []

        def walk(panels):
            for p in panels:
                exprs.extend(t.get("expr", "") for t in p.get("targets", []))
                walk(p.get("panels", []))
        walk(dashboards[f]["panels"])
        for v in dashboards[f].get("templating", {}).get("list", []):
            q = v.get("query")
            exprs.append(q.get("query", "") if isinstance(q, dict) else str(q or ""))
        sources[f"dashboards/{f}"] = "\n".join(exprs)
    used = {}
    for where, text in sources.items():
        for name in used_names(text):
            used.setdefault(name, set()).add(where)
    for name, wheres in sorted(used.items()):
        base, suffix = name, ""
        m = re.match(r"(.*)_(bucket|sum|count)$", name)
        if name not in docs and m:
            base, suffix = m.group(1), m.group(2)
        if base not in docs:
            problems.append(f"{name} (used in {', '.join(sorted(wheres))}) is not in docs/metrics.md")
        elif suffix and docs[base] != "histogram":
            problems.append(f"{name}: _{suffix} on a {docs[base]}, not a histogram")
        elif not suffix and docs[base] == "histogram":
            problems.append(f"{name}: a histogram used without _bucket/_sum/_count")
        elif docs[base] == "counter" and not re.search(rf"(rate|increase)\(\s*{name}\b", "\n".join(
                sources[w] for w in wheres)):
            problems.append(f"counter {name} used without rate()/increase()")
    # Coverage: each dashboard shows what its brief lists.
    want = {
        "epc-capacity-scheduling.json": ["epc_pool_epc_capacity_bytes", "epc_pool_epc_requested_bytes",
                                         "epc_pool_epc_free_bytes", "epc_node_epc_requested_bytes",
                                         "epc_node_epc_allocatable_bytes", "epc_extender_filter_rejections_total",
                                         "epc_extender_request_duration_seconds_bucket",
                                         "epc_extender_requests_total", "epc_extender_bad_requests_total"],
        "epc-autoscaling.json": ["epc_autoscaler_hpa_current_replicas", "epc_autoscaler_hpa_desired_replicas",
                                 "epc_autoscaler_hpa_metric_value", "epc_autoscaler_hpa_metric_target",
                                 "epc_autoscaler_node_group_current_size", "epc_autoscaler_node_group_min_size",
                                 "epc_autoscaler_node_group_max_size", "epc_autoscaler_pending_pods",
                                 "epc_autoscaler_hpa_scale_events_total"],
    }
    for f, names in want.items():
        if f not in dashboards:
            problems.append(f"dashboard {f} missing")
            continue
        for n in names:
            if n not in used_names(sources[f"dashboards/{f}"]):
                problems.append(f"dashboards/{f} does not show {n}")
        if not re.search(r"histogram_quantile\(0\.99", sources[f"dashboards/{f}"]) and "capacity" in f:
            problems.append(f"dashboards/{f}: no p99 latency")
    for f, d in dashboards.items():
        if not d.get("uid") or len(d["uid"]) > 40:
            problems.append(f"dashboards/{f}: uid {d.get('uid')!r} (Grafana allows 40 characters)")
    if problems:
        print("FAIL metrics contract:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    print(f"PASS {len(used)} metric names used by the chart are in docs/metrics.md ({len(docs)} documented)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
