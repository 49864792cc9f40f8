#!/usr/bin/env python3
"""End-to-end test of the chart's Grafana dashboards against a real Prometheus.

Starts the real epc-extender (127.0.0.1, a port of its own, examples/config.yaml and
examples/cluster-state.json), sends it kube-scheduler traffic (examples/requests/*.json and one
malformed body), starts a real Prometheus (Debian's `prometheus`) scraping it every second, waits
until several scrapes landed, then runs EVERY panel query and every variable query of the
"EPC capacity and scheduling" dashboard through Prometheus' HTTP API (/api/v1/query), with
Grafana's variables substituted. A query that errors or returns no data fails the test.

The "Autoscaling" dashboard is checked the same way when --autoscaler-binary is given: the real
epc-autoscaler runs against the Kubernetes API server test double (tests/doubles/
fake_apiserver.py) with an HPA target and cluster autoscaling (kwok provider), and
autoscaler_traffic.py plays the cluster around it while Prometheus scrapes it: HPA scale-up and
scale-down on CPU from the double's metrics.k8s.io, an empty node removed, a scale-up from zero
for an unschedulable enclave pod, and a back-off when that node never becomes Ready. For this
dashboard each query ending in `or on () vector(0)` must also return data without that
fallback, and Prometheus must have seen each kind of event happen (activity checks), so no
panel passes on the fallback alone. Without --autoscaler-binary that dashboard is skipped and
the test says so: no autoscaler data is ever made up here.

Every process started here is stopped on every exit path; all traffic goes to 127.0.0.1; every
wait is bounded and fails with a message naming what did not happen.
Python 3 standard library only.
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from autoscaler_traffic import AutoscalerScenario, ScenarioError  # noqa: E402
from loopback import free_port  # noqa: E402  (on sys.path through autoscaler_traffic)
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DASHBOARDS = os.path.join(REPO, "charts", "epc-scheduler", "dashboards")
EPC_DASHBOARD = os.path.join(DASHBOARDS, "epc-capacity-scheduling.json")
AUTOSCALER_DASHBOARD = os.path.join(DASHBOARDS, "epc-autoscaling.json")

# Grafana's built-in variables, as a 1 s scrape interval needs them.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "5s",
    "__interval_ms": "5000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}


class TestFailure(Exception):
    pass


def log(msg):
    print(msg, flush=True)


def http(method, url, body=None, timeout=10, headers=None):
    """Returns (status, body bytes); never raises for HTTP error statuses."""
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def wait_for(what, predicate, timeout, interval=0.2, proc=None, log_path=None):
    deadline = time.monotonic() + timeout
    last_error = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = open(log_path).read()[-4000:] if log_path else ""
            raise TestFailure(f"{what}: the process exited with {proc.returncode} first\n{tail}")
        try:
            result = predicate()
            if result:
                return result
        except (OSError, ValueError) as e:  # connection refused, bad JSON while starting
            last_error = e
        time.sleep(interval)
    tail = ("\n" + open(log_path).read()[-4000:]) if log_path else ""
    raise TestFailure(f"timed out after {timeout} s waiting for {what}"
                      f"{f' (last error: {last_error})' if last_error else ''}{tail}")


class Processes:
    """Starts processes and stops every one of them, whatever happens."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.procs = []

    def start(self, name, cmd):
        log_path = os.path.join(self.tmp, f"{name}.log")
        log_file = open(log_path, "w")
        log(f"starting {name}: {' '.join(cmd)}")
        proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log_file.close()
        self.procs.append((name, proc))
        return proc, log_path

    def stop_all(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(self.procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log(f"{name} ignored SIGTERM for 10 s; killing it")
                proc.kill()
                proc.wait()
        self.procs.clear()


def start_extender(procs, binary):
    proc, log_path = procs.start("epc-extender", [
        binary, "--config", os.path.join(REPO, "examples", "config.yaml"),
        "--state", os.path.join(REPO, "examples", "cluster-state.json"),
        "--bind-address", "127.0.0.1", "--port", "0"])

    def port():
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", open(log_path).read())
        return int(m.group(1)) if m else None

    p = wait_for("epc-extender to log 'listening on 127.0.0.1:PORT'", port, 15, proc=proc, log_path=log_path)
    base = f"http://127.0.0.1:{p}"
    wait_for("epc-extender /healthz", lambda: http("GET", base + "/healthz")[0] == 200, 10, proc=proc,
             log_path=log_path)
    return base


def extender_traffic(base):
    """kube-scheduler's calls from examples/requests, and one malformed body."""
    sent = 0
    requests_dir = os.path.join(REPO, "examples", "requests")
    for name in sorted(os.listdir(requests_dir)):
        verbs = ["filter", "prioritize"] if name.startswith("filter-") else \
            ["preempt"] if name.startswith("preempt-") else []
        body = open(os.path.join(requests_dir, name), "rb").read()
        for verb in verbs:
            status, answer = http("POST", f"{base}/{verb}", body, headers={"Content-Type": "application/json"})
            if status != 200:
                raise TestFailure(f"POST /{verb} {name} answered {status}: {answer[:300]!r}")
            sent += 1
    status, _ = http("POST", f"{base}/filter", b'{"Pod": ', headers={"Content-Type": "application/json"})
    if status != 400:
        raise TestFailure(f"a malformed filter body answered {status}, want 400")
    if sent < 4:
        raise TestFailure(f"only {sent} example requests sent; examples/requests changed?")
    return sent + 1


def start_prometheus(procs, binary, tmp, targets):
    config = os.path.join(tmp, "prometheus.yml")
    scrape = [{"job_name": job, "scrape_interval": "1s", "scrape_timeout": "900ms",
               "static_configs": [{"targets": [target]}]} for job, target in targets.items()]
    with open(config, "w") as f:
        # JSON is YAML.
        json.dump({"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                   "scrape_configs": scrape}, f, indent=1)
    for attempt in range(3):  # the free port may be taken between probe and bind
        port = free_port()
        proc, log_path = procs.start(f"prometheus-{attempt}", [
            binary, f"--config.file={config}", f"--storage.tsdb.path={os.path.join(tmp, f'tsdb-{attempt}')}",
            f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for("Prometheus /-/ready", lambda: http("GET", base + "/-/ready")[0] == 200, 60, proc=proc,
                     log_path=log_path)
            return base
        except TestFailure as e:
            if proc.poll() is not None and "address already in use" in open(log_path).read():
                log(f"Prometheus port {port} was taken; retrying")
                continue
            raise e
    raise TestFailure("Prometheus could not bind a free port in 3 attempts")


def query(prom, expr):
    status, body = http("GET", f"{prom}/api/v1/query?{urllib.parse.urlencode({'query': expr})}", timeout=30)
    try:
        answer = json.loads(body)
    except ValueError:
        return "error", f"HTTP {status}: {body[:300]!r}"
    if status != 200 or answer.get("status") != "success":
        return "error", f"HTTP {status}: {answer.get('errorType')}: {answer.get('error')}"
    data = answer["data"]
    result = data["result"]
    if data["resultType"] in ("vector", "matrix"):
        return ("ok", result) if result else ("empty", result)
    return "ok", [result]  # scalar / string


def wait_for_scrapes(prom, job, samples=4, timeout=60):
    expr = f'count_over_time(up{{job="{job}"}}[1m])'

    def enough():
        state, result = query(prom, expr)
        return state == "ok" and float(result[0]["value"][1]) >= samples and \
            query(prom, f'up{{job="{job}"}} == 1')[0] == "ok"

    wait_for(f"{samples} successful scrapes of job {job}", enough, timeout, interval=0.5)


def substitute(expr, variables):
    """Replaces $var, ${var} and ${var:format} with Grafana's built-ins or the variables' values."""
    def repl(m):
        name = m.group(1) or m.group(2)
        if name in BUILTINS:
            return BUILTINS[name]
        if name in variables:
            return variables[name]
        raise TestFailure(f"query uses an undefined variable ${name}: {expr}")
    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", repl, expr)


def dashboard_queries(dashboard):
    """Yields (where, expr) for every panel target, rows' nested panels included."""
    def panels(items):
        for p in items:
            yield p
            yield from panels(p.get("panels", []))
    for p in panels(dashboard.get("panels", [])):
        if p.get("type") == "row":
            continue
        targets = p.get("targets") or []
        if not targets:
            raise TestFailure(f'panel "{p.get("title")}" has no queries')
        for t in targets:
            if t.get("hide"):
                continue
            if not t.get("expr"):
                raise TestFailure(f'panel "{p.get("title")}" target {t.get("refId")} has no expr')
            yield f'panel "{p.get("title")}" [{t.get("refId")}]', t["expr"]


FALLBACK = re.compile(r"\s+or\s+on\s*\(\s*\)\s*vector\(0\)\s*$")

# What the autoscaler scenario made happen, as Prometheus saw it (autoscaler_traffic.py).
ACTIVITY = [
    ("the HPA scaled up", 'max_over_time(epc_autoscaler_hpa_scale_events_total{direction="up"}[5m]) >= 1'),
    ("the HPA scaled down", 'max_over_time(epc_autoscaler_hpa_scale_events_total{direction="down"}[5m]) >= 1'),
    ("desired replicas above 1 at some point", "max_over_time(epc_autoscaler_hpa_desired_replicas[5m]) > 1"),
    ("a metric value was read", "max_over_time(epc_autoscaler_hpa_metric_value[5m]) > 0"),
    ("a node group scaled up", "max_over_time(epc_autoscaler_node_group_scale_ups_total[5m]) >= 1"),
    ("a node group scaled down", "max_over_time(epc_autoscaler_node_group_scale_downs_total[5m]) >= 1"),
    ("a node group backed off", "max_over_time(epc_autoscaler_node_group_backoffs_total[5m]) >= 1"),
    ("a node was unneeded", "max_over_time(epc_autoscaler_unneeded_nodes[5m]) >= 1"),
    ("a pending pod triggered a scale-up",
     'max_over_time(epc_autoscaler_pending_pods{reason="scale_up_triggered"}[5m]) >= 1'),
    ("a group had a node", "max_over_time(epc_autoscaler_node_group_current_size[5m]) >= 1"),
    ("both loops reconciled", 'count(epc_autoscaler_last_reconcile_timestamp_seconds{loop=~"horizontal|cluster"}) == 2'),
    ("the autoscaler led", "max_over_time(epc_autoscaler_is_leader[5m]) == 1"),
]


def check_activity(prom):
    failures = []
    for what, expr in ACTIVITY:
        state, result = query(prom, expr)
        if state == "ok":
            log(f"ok    activity: {what}")
        else:
            failures.append(f"activity: {what}: {'not seen' if state == 'empty' else result}\n        {expr}")
            log(f"FAIL  activity: {what}")
    return failures


def check_dashboard(prom, path, strict=False):
    dashboard = json.load(open(path))
    title = dashboard.get("title")
    log(f"--- dashboard \"{title}\" ({os.path.basename(path)})")
    variables = {}
    checks = []
    for v in dashboard.get("templating", {}).get("list", []):
        if v.get("type") == "datasource":
            variables[v["name"]] = "prometheus"  # irrelevant: we query Prometheus directly
        elif v.get("type") == "query":
            # "All" selected: Grafana sends the variable's allValue.
            variables[v["name"]] = v.get("allValue") or ".*"
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            m = re.fullmatch(r"\s*label_values\((.*),\s*(\w+)\s*\)\s*", q or "")
            if not m:
                raise TestFailure(f"variable ${v['name']}: unsupported query {q!r}")
            checks.append((f"variable ${v['name']}", f"count by ({m.group(2)}) ({m.group(1)})"))
        elif v.get("type") in ("custom", "constant", "interval", "textbox"):
            variables[v["name"]] = str(v.get("current", {}).get("value") or v.get("query") or "")
        else:
            raise TestFailure(f"variable ${v.get('name')}: unsupported type {v.get('type')}")
    panel_checks = list(dashboard_queries(dashboard))
    checks += panel_checks
    if strict:
        # The fallback keeps a panel at 0 before the first event; the series must exist anyway.
        checks += [(f"{where} without its vector(0) fallback", FALLBACK.sub("", expr))
                   for where, expr in panel_checks if FALLBACK.search(expr)]
    failures = []
    for where, raw in checks:
        expr = substitute(raw, variables)
        state, result = query(prom, expr)
        if state == "ok":
            nan = sum(1 for r in result if isinstance(r, dict) and str(r.get("value", [0, "0"])[1]) == "NaN")
            log(f"ok    {where}: {len(result)} series{f' ({nan} NaN)' if nan else ''}")
        else:
            failures.append(f"{where}: {'no data' if state == 'empty' else result}\n        {expr}")
            log(f"FAIL  {where}: {'no data' if state == 'empty' else result}")
    return len(checks), failures


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--extender-binary", required=True, help="the built epc-extender")
    p.add_argument("--autoscaler-binary", default="",
                   help="the built epc-autoscaler: also check the Autoscaling dashboard against it")
    p.add_argument("--autoscaler-arg", action="append", default=[],
                   help="an extra argument for epc-autoscaler (repeatable), e.g. --autoscaler-arg=--v=3")
    p.add_argument("--apiserver", default=os.path.join(REPO, "tests", "doubles", "fake_apiserver.py"),
                   help="the Kubernetes API server test double epc-autoscaler talks to")
    p.add_argument("--prometheus", default=shutil.which("prometheus") or "/usr/bin/prometheus")
    p.add_argument("--epc-dashboard", default=EPC_DASHBOARD)
    p.add_argument("--autoscaler-dashboard", default=AUTOSCALER_DASHBOARD)
    args = p.parse_args()
    for what, path in (("epc-extender", args.extender_binary), ("prometheus", args.prometheus)):
        if not os.access(path, os.X_OK):
            print(f"FAIL {what} not executable: {path}", file=sys.stderr)
            return 1

    if args.autoscaler_binary and not os.access(args.autoscaler_binary, os.X_OK):
        print(f"FAIL epc-autoscaler not executable: {args.autoscaler_binary}", file=sys.stderr)
        return 1

    tmp = tempfile.mkdtemp(prefix="epc-dashboards-")
    procs = Processes(tmp)
    scenario = None
    failures = []
    checked = 0
    started = time.monotonic()
    try:
        extender = start_extender(procs, args.extender_binary)
        n = extender_traffic(extender)
        log(f"sent {n} requests to epc-extender at {extender}")
        targets = {"epc-extender": extender.removeprefix("http://")}
        if args.autoscaler_binary:
            scenario = AutoscalerScenario(procs, tmp, args.autoscaler_binary, args.autoscaler_arg, args.apiserver)
            targets["epc-autoscaler"] = scenario.start()
        prom = start_prometheus(procs, args.prometheus, tmp, targets)
        log(f"Prometheus at {prom} scrapes {targets}")
        for job in targets:
            wait_for_scrapes(prom, job, samples=2)
        if scenario:
            # The autoscaler's decisions, while Prometheus scrapes every second.
            scenario.run()
        # Traffic between scrapes, so that rates are not all zero.
        for _ in range(3):
            extender_traffic(extender)
            time.sleep(1.2)
        for job in targets:
            wait_for_scrapes(prom, job, samples=6)
        time.sleep(2.2)  # two more scrapes: the last state of every series is in

        n, f = check_dashboard(prom, args.epc_dashboard)
        checked += n
        failures += f
        if args.autoscaler_binary:
            n, f = check_dashboard(prom, args.autoscaler_dashboard, strict=True)
            checked += n
            failures += f
            activity = check_activity(prom)
            checked += len(ACTIVITY)
            failures += activity
        else:
            log('SKIP dashboard "Autoscaling": no --autoscaler-binary given (epc-autoscaler is not wired '
                "into this test yet); its queries are not checked")
    except (TestFailure, ScenarioError) as e:
        failures.append(str(e))
    finally:
        if scenario:
            scenario.stop()
        procs.stop_all()
        if failures:
            log(f"logs kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    if failures:
        print("\nFAIL dashboards_e2e:\n  " + "\n  ".join(failures), file=sys.stderr)
        return 1
    log(f"PASS {checked} dashboard queries and checks returned data from a real Prometheus "
        f"({time.monotonic() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
