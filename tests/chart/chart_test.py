#!/usr/bin/env python3
"""Chart tests for charts/epc-scheduler (Python 3 standard library only).

  chart_test.py render NAME [-- VALIDATE_ARGS...]
      With tests/chart/values/NAME.yaml: `helm lint --strict`, `helm template`, then
      validate.mjs (Kubernetes API schemas + semantic checks; VALIDATE_ARGS say what to expect),
      `promtool check rules` on the rendered PrometheusRule (if any), and, when --extender is
      given, the rendered config.yaml must be accepted by the real epc-extender (started on
      127.0.0.1 with a free port, stopped again), and when --autoscaler is given by the real
      epc-autoscaler: started with it (--dry-run, a kubeconfig naming a closed loopback port),
      it must pass every start-up check (the config parser, the node-group provider and the
      cluster autoscaler's options) and start serving, then it is stopped.
  chart_test.py bad NAME
      tests/chart/values/bad/NAME.yaml must make both `helm lint --strict` and `helm template`
      fail, and the error must name the key given in the file's `# expect-error: KEY` line.
  chart_test.py scheduler-docs
      docs/scheduler-config/ (kube-scheduler-config.yaml, policy.json, README.md) is well-formed,
      complete, and points at the extender Service of the chart installed as release
      epc-scheduler in epc-system with TLS (check_scheduler_docs.mjs).
  chart_test.py rules-default
      The PrometheusRule rendered with default thresholds holds exactly the rules of
      charts/epc-scheduler/files/alerts.yaml (the file promtool checks is what gets installed).

Tools: --helm (default tools/bin/helm), --promtool (default: promtool in PATH), --node.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
CHART = os.path.join(REPO, "charts", "epc-scheduler")
NAMESPACE = "epc-system"
RELEASE = "rel"


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=kw.pop("timeout", 120), **kw)


def die(msg):
    print(f"FAIL {msg}", file=sys.stderr)
    sys.exit(1)


def check(proc, what):
    if proc.returncode != 0:
        die(f"{what} failed (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc


def template(args, values, out_path=None, extra=(), release=RELEASE):
    proc = run([args.helm, "template", release, CHART, "--namespace", NAMESPACE, "-f", values, *extra])
    if out_path is not None and proc.returncode == 0:
        with open(out_path, "w") as f:
            f.write(proc.stdout)
    return proc


def lint(args, values):
    return run([args.helm, "lint", "--strict", CHART, "--namespace", NAMESPACE, "-f", values])


def extender_accepts(args, config_path, tmp):
    """Starts the real epc-extender with the rendered config; it must come up listening."""
    text = open(config_path).read()
    if "/etc/epc/tls/" in text:
        # TLS on: give it a real self-signed key pair where the Secret would be mounted.
        tls_dir = os.path.join(tmp, "tls")
        os.makedirs(tls_dir)
        check(run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                   "-subj", "/CN=epc-extender", "-keyout", os.path.join(tls_dir, "tls.key"),
                   "-out", os.path.join(tls_dir, "tls.crt")]), "openssl req")
        text = text.replace("/etc/epc/tls/", tls_dir + "/")
        config_path = os.path.join(tmp, "config-local.yaml")
        with open(config_path, "w") as f:
            f.write(text)
    log_path = os.path.join(tmp, "extender.log")
    with open(log_path, "w") as log:
        # --state: no cluster here (in a pod it watches the API server instead).
        proc = subprocess.Popen([args.extender, "--config", config_path, "--bind-address", "127.0.0.1",
                                 "--port", "0", "--state", os.path.join(REPO, "examples", "cluster-state.json")],
                                stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            out = open(log_path).read()
            if re.search(r"listening on 127\.0\.0\.1:\d+", out):
                print(f"epc-extender accepted the rendered config: {out.strip().splitlines()[-1]}")
                return config_path
            if proc.poll() is not None:
                die(f"epc-extender rejected the rendered config.yaml (exit {proc.returncode}):\n{out}")
            time.sleep(0.1)
        die(f"epc-extender did not start listening within 15 s:\n{open(log_path).read()}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def autoscaler_accepts(args, config_path, tmp):
    """Starts the real epc-autoscaler with the rendered config; it must get past every start-up
    check and serve /metrics. No API server: the kubeconfig names a closed port on 127.0.0.1
    (the loops then only log connection errors), --dry-run writes nothing anyway."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    kubeconfig = os.path.join(tmp, "kubeconfig")
    with open(kubeconfig, "w") as f:
        f.write("apiVersion: v1\nkind: Config\n"
                f"clusters: [{{name: none, cluster: {{server: \"http://127.0.0.1:{closed_port}\"}}}}]\n"
                "users: [{name: none, user: {}}]\n"
                "contexts: [{name: none, context: {cluster: none, user: none}}]\ncurrent-context: none\n")
    log_path = os.path.join(tmp, "autoscaler.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen([args.autoscaler, "--config", config_path, "--kubeconfig", kubeconfig, "--dry-run",
                                 "--metrics-bind-address", "127.0.0.1:0", "--health-probe-bind-address", "127.0.0.1:0"],
                                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            out = open(log_path).read()
            if re.search(r"serving /metrics on 127\.0\.0\.1:0 \(port \d+\)", out):
                summary = [line for line in out.splitlines() if "epc-autoscaler" in line or "cluster autoscaling" in line]
                print("epc-autoscaler accepted the rendered config: " + " | ".join(summary)[:400])
                return
            if proc.poll() is not None:
                die(f"epc-autoscaler rejected the rendered config.yaml (exit {proc.returncode}):\n{out}")
            time.sleep(0.1)
        die(f"epc-autoscaler did not start serving within 15 s:\n{open(log_path).read()}")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def cmd_render(args, rest):
    values = os.path.join(HERE, "values", f"{args.name}.yaml")
    if not os.path.isfile(values):
        die(f"no values file {values}")
    check(lint(args, values), f"helm lint --strict -f {values}")
    print(f"helm lint --strict: ok ({args.name})")
    with tempfile.TemporaryDirectory(prefix="epc-chart-") as tmp:
        rendered = os.path.join(tmp, "rendered.yaml")
        check(template(args, values, rendered), f"helm template -f {values}")
        rules = os.path.join(tmp, "rules.yaml")
        config = os.path.join(tmp, "config.yaml")
        proc = run([args.node, os.path.join(HERE, "validate.mjs"), "--node-modules", args.node_modules,
                    "--namespace", NAMESPACE, "--rules-out", rules, "--config-out", config, *rest, rendered])
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            die(f"validate.mjs found problems in the {args.name} render")
        if os.path.exists(rules):
            check(run([args.promtool, "check", "rules", rules]), "promtool check rules (rendered PrometheusRule)")
            print("promtool check rules on the rendered PrometheusRule: ok")
        if args.extender:
            config = extender_accepts(args, config, tmp)  # (TLS paths made local)
        if args.autoscaler:
            autoscaler_accepts(args, config, tmp)
    print(f"PASS render {args.name}")


def cmd_bad(args, rest):
    if rest:
        die(f"unexpected arguments {rest}")
    values = os.path.join(HERE, "values", "bad", f"{args.name}.yaml")
    m = re.search(r"^# expect-error: (\S+)", open(values).read(), re.M)
    if not m:
        die(f"{values} has no '# expect-error: KEY' line")
    key = m.group(1)
    for what, proc in (("helm lint --strict", lint(args, values)), ("helm template", template(args, values))):
        out = proc.stdout + proc.stderr
        if proc.returncode == 0:
            die(f"{what} accepted bad values {values}")
        if key not in out:
            die(f"{what} failed, but its error does not name {key!r}:\n{out}")
        print(f"{what} rejected {args.name}: " + " | ".join(
            line.strip() for line in out.splitlines() if key in line)[:300])
    print(f"PASS bad values {args.name}")


def cmd_rules_default(args, rest):
    values = os.path.join(HERE, "values", "monitoring-on.yaml")
    with tempfile.TemporaryDirectory(prefix="epc-chart-") as tmp:
        rendered = os.path.join(tmp, "rendered.yaml")
        # Default thresholds (the monitoring-on set changes them; reset both).
        check(template(args, values, rendered, extra=(
            "--set", "scheduler.extender.httpTimeoutSeconds=5",
            "--set", "config.autoscaler.syncPeriodSeconds=15",
            "--show-only", "templates/prometheusrule.yaml")), "helm template (PrometheusRule)")
        text = open(rendered).read()
        body = text.split("\nspec:\n", 1)[1]
        lines = body.splitlines()
        if not all(line.startswith("  ") or not line.strip() for line in lines):
            die("PrometheusRule spec is not indented by two spaces")
        spec = "\n".join(line[2:] for line in lines).strip() + "\n"
        source = open(os.path.join(CHART, "files", "alerts.yaml")).read().strip() + "\n"
        if spec != source:
            import difflib
            diff = "".join(difflib.unified_diff(source.splitlines(True), spec.splitlines(True),
                                                "files/alerts.yaml", "rendered PrometheusRule spec"))
            die(f"the rendered PrometheusRule differs from files/alerts.yaml:\n{diff}")
        # And with other values, the thresholds follow them.
        check(template(args, values, rendered, extra=("--show-only", "templates/prometheusrule.yaml")),
              "helm template (PrometheusRule, monitoring-on)")
        text = open(rendered).read()
        for want in ("> 8 # latencyThresholdSeconds", "> 50 # reconcileStaleSeconds"):
            if want not in text:
                die(f"rendered PrometheusRule lacks {want!r} (httpTimeoutSeconds 10, sync period 10)")
    print("PASS the PrometheusRule is files/alerts.yaml, thresholds follow values")


def cmd_scheduler_docs(args, rest):
    """docs/scheduler-config/ against the chart installed as its README says."""
    with tempfile.TemporaryDirectory(prefix="epc-chart-") as tmp:
        rendered = os.path.join(tmp, "rendered.yaml")
        check(template(args, os.path.join(HERE, "values", "defaults.yaml"), rendered, release="epc-scheduler", extra=(
            "--set", "scheduler.enabled=false", "--set", "tls.enabled=true",
            "--set", "tls.secretName=epc-extender-tls")), "helm template (release epc-scheduler)")
        proc = run([args.node, os.path.join(HERE, "check_scheduler_docs.mjs"), "--node-modules", args.node_modules,
                    rendered])
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        if proc.returncode != 0:
            die("docs/scheduler-config/ check failed")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["render", "bad", "rules-default", "scheduler-docs"])
    p.add_argument("name", nargs="?", default="")
    p.add_argument("--helm", default=os.path.join(REPO, "tools", "bin", "helm"))
    p.add_argument("--promtool", default=shutil.which("promtool") or "promtool")
    p.add_argument("--node", default=shutil.which("node") or "node")
    p.add_argument("--node-modules", default=os.path.join(REPO, "tools", "node_modules"))
    p.add_argument("--extender", default="", help="epc-extender binary: check it accepts the rendered config")
    p.add_argument("--autoscaler", default="", help="epc-autoscaler binary: check it accepts the rendered config")
    argv = sys.argv[1:]
    rest = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    args = p.parse_args(argv)
    if not os.access(args.helm, os.X_OK):
        die(f"helm not found at {args.helm} (run scripts/fetch-k8s-tools.sh)")
    {"render": cmd_render, "bad": cmd_bad, "rules-default": cmd_rules_default,
     "scheduler-docs": cmd_scheduler_docs}[args.command](args, rest)


if __name__ == "__main__":
    main()
