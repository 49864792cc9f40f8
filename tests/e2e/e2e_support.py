"""Processes and fixtures for the epc-autoscaler end-to-end tests (Python 3 standard library).

Everything runs on 127.0.0.1 with ports chosen at run time:
  ApiServer       tests/doubles/fake_apiserver.py, started with --port 0 --port-file
  Prometheus      the real Prometheus server (Debian's `prometheus`), scrape interval 1 s
  Exporter        an http.server serving /metrics with per-pod series the test sets
  Workloads       a thread playing the deployment controller and the kubelet in the double:
                  pods follow spec.replicas, start Running and Ready, status.replicas follows
  Autoscaler      the epc-autoscaler binary under test
Every process is stopped by its stop(); tests call them from tearDown / addCleanup.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# Set by the test runner's command line (see parse_args in the test modules).
PATHS = {"autoscaler": None, "apiserver": None, "prometheus": None}

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testing"))
from loopback import free_port, http, rfc3339  # noqa: E402,F401  (the tests use them as e2e.*)


def parse_args(argv):
    """Takes --autoscaler, --apiserver and --prometheus out of argv; returns the rest."""
    rest = [argv[0]]
    i = 1
    while i < len(argv):
        name = argv[i][2:] if argv[i].startswith("--") else None
        value = None
        if name and "=" in name:
            name, value = name.split("=", 1)
        if name in PATHS:
            if value is None:
                i += 1
                value = argv[i]
            PATHS[name] = value or None
        else:
            rest.append(argv[i])
        i += 1
    if not PATHS["autoscaler"]:
        PATHS["autoscaler"] = os.environ.get("EPC_AUTOSCALER")
    if not PATHS["apiserver"]:
        here = os.path.dirname(os.path.abspath(__file__))
        PATHS["apiserver"] = os.path.join(here, "..", "doubles", "fake_apiserver.py")
    if not PATHS["prometheus"]:
        PATHS["prometheus"] = shutil.which("prometheus")
    return rest


def wait_until(predicate, timeout, interval=0.1, message="condition"):
    """Polls predicate() until it returns a truthy value; raises AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    last_error = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # a server still starting, a transient error
            last_error = e
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %ss waiting for %s%s" % (
                timeout, message, " (last error: %r)" % last_error if last_error else ""))
        time.sleep(interval)


class Process:
    """A child process with its output in a file; stop() ends it (SIGTERM, then SIGKILL)."""

    def __init__(self, name, cmd, workdir):
        self.name = name
        self.cmd = cmd
        self.log_path = os.path.join(workdir, "%s.log" % name)
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)

    def alive(self):
        return self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=15):
        """Returns the exit code."""
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(sig)
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()
        return self.proc.returncode

    def output(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class ApiServer:
    def __init__(self, workdir):
        self.workdir = workdir
        port_file = os.path.join(workdir, "apiserver.port")
        self.process = Process("apiserver", [sys.executable, PATHS["apiserver"], "--port", "0",
                                             "--port-file", port_file], workdir)
        self.port = int(wait_until(lambda: open(port_file).read().strip(), 20,
                                   message="the API server double's port file"))
        self.url = "http://127.0.0.1:%d" % self.port
        wait_until(lambda: http("GET", self.url + "/healthz")[0] == 200, 20,
                   message="the API server double")
        self.kubeconfig = os.path.join(workdir, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\n"
                    "clusters: [{name: double, cluster: {server: \"%s\"}}]\n"
                    "users: [{name: tester, user: {}}]\n"
                    "contexts: [{name: double, context: {cluster: double, user: tester}}]\n"
                    "current-context: double\n" % self.url)

    def stop(self):
        return self.process.stop()

    def call(self, method, path, body=None, ctype="application/json", expect=(200, 201)):
        status, doc = http(method, self.url + path, body, ctype)
        if expect and status not in expect:
            raise AssertionError("%s %s -> %d %s" % (method, path, status, doc))
        return doc

    def get(self, path):
        return self.call("GET", path)

    # ---- fixtures ----
    def create_deployment(self, name, replicas, labels, ns="default"):
        return self.call("POST", "/apis/apps/v1/namespaces/%s/deployments" % ns, {
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "app"}]}}}})

    def deployment(self, name, ns="default"):
        return self.get("/apis/apps/v1/namespaces/%s/deployments/%s" % (ns, name))

    def replicas(self, name, ns="default"):
        return self.deployment(name, ns)["spec"].get("replicas", 0)

    def events(self, ns="default"):
        return self.get("/api/v1/namespaces/%s/events" % ns)["items"]

    def set_pod_cpu(self, name, cpu, ns="default"):
        self.call("PUT", "/__test/metrics/pods/%s/%s" % (ns, name),
                  {"containers": [{"name": "app", "usage": {"cpu": cpu, "memory": "32Mi"}}]})


class Workloads(threading.Thread):
    """Plays the deployment controller and the kubelet for one Deployment in the double.

    Every `interval` seconds: pods <name>-<n> are created (Running and Ready, started an hour
    ago so the HPA's CPU start-up rules do not apply) or deleted until they match spec.replicas,
    status.replicas follows, and on_pods(names) is called with the current pod names.
    """

    def __init__(self, api, name, labels, cpu_request="500m", ns="default", on_pods=None,
                 interval=0.2):
        super().__init__(daemon=True)
        self.api, self.name, self.labels, self.ns = api, name, labels, ns
        self.cpu_request = cpu_request
        self.on_pods = on_pods
        self.interval = interval
        self.stopping = threading.Event()
        self.next_index = 0
        self.errors = []

    def pod_names(self):
        selector = ",".join("%s=%s" % kv for kv in sorted(self.labels.items()))
        items = self.api.get("/api/v1/namespaces/%s/pods?labelSelector=%s" % (
            self.ns, urllib.parse.quote(selector)))["items"]
        return sorted((p["metadata"]["name"] for p in items),
                      key=lambda n: int(n.rsplit("-", 1)[1]))

    def _create_pod(self):
        name = "%s-%d" % (self.name, self.next_index)
        self.next_index += 1
        self.api.call("POST", "/api/v1/namespaces/%s/pods" % self.ns, {
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": self.ns, "labels": self.labels},
            "spec": {"containers": [{"name": "app", "image": "app",
                                     "resources": {"requests": {"cpu": self.cpu_request}}}]}})
        started = datetime.now(timezone.utc) - timedelta(hours=1)
        self.api.call("PUT", "/api/v1/namespaces/%s/pods/%s/status" % (self.ns, name), {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": self.ns},
            "status": {"phase": "Running", "startTime": rfc3339(started),
                       "conditions": [{"type": "Ready", "status": "True",
                                       "lastTransitionTime": rfc3339(started + timedelta(seconds=5))}]}})

    def sync(self):
        dep = self.api.deployment(self.name, self.ns)
        want = dep["spec"].get("replicas", 0)
        names = self.pod_names()
        while len(names) < want:
            self._create_pod()
            names = self.pod_names()
        for extra in names[want:][::-1]:
            self.api.call("DELETE", "/api/v1/namespaces/%s/pods/%s" % (self.ns, extra),
                          expect=(200, 202, 404))
        names = names[:want]
        if dep.get("status", {}).get("replicas") != want:
            dep.setdefault("status", {})
            dep["status"].update({"replicas": want, "readyReplicas": want,
                                  "availableReplicas": want, "updatedReplicas": want})
            self.api.call("PUT", "/apis/apps/v1/namespaces/%s/deployments/%s/status" % (
                self.ns, self.name), dep, expect=(200, 409))
        if self.on_pods:
            self.on_pods(names)

    def run(self):
        while not self.stopping.is_set():
            try:
                self.sync()
            except Exception as e:  # keep playing; the test sees errors if it cares
                self.errors.append(e)
            self.stopping.wait(self.interval)

    def stop(self):
        self.stopping.set()
        self.join(timeout=10)


class Exporter:
    """Serves /metrics: `<metric>{namespace="default",pod="<pod>"} <load / pods>` per pod."""

    def __init__(self, metric="app_requests_per_second", ns="default"):
        self.metric, self.ns = metric, ns
        self.lock = threading.Lock()
        self.load = 0.0
        self.pods = []
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                if self.path.split("?")[0] != "/metrics":
                    self.send_error(404)
                    return
                body = exporter.render().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def set_load(self, load):
        with self.lock:
            self.load = float(load)

    def set_pods(self, pods):
        with self.lock:
            self.pods = list(pods)

    def render(self):
        with self.lock:
            lines = ["# TYPE %s gauge" % self.metric]
            for p in self.pods:
                lines.append('%s{namespace="%s",pod="%s"} %g' % (
                    self.metric, self.ns, p, self.load / len(self.pods)))
            return "\n".join(lines) + "\n"

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class Prometheus:
    """The real Prometheus server scraping `targets` every second."""

    def __init__(self, workdir, targets, port=None):
        self.workdir = workdir
        self.port = port or free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        self.targets = targets
        self.process = None
        self.generation = 0
        self.start()

    def start(self):
        self.generation += 1
        config = os.path.join(self.workdir, "prometheus.yml")
        with open(config, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                    "scrape_configs:\n  - job_name: app\n    static_configs:\n"
                    "      - targets: [%s]\n" % ", ".join("'%s'" % t for t in self.targets))
        storage = tempfile.mkdtemp(prefix="tsdb-", dir=self.workdir)
        self.process = Process("prometheus-%d" % self.generation, [
            PATHS["prometheus"], "--config.file=" + config, "--storage.tsdb.path=" + storage,
            "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"], self.workdir)
        wait_until(lambda: self.process.alive() and http("GET", self.url + "/-/ready")[0] == 200,
                   60, 0.2, "Prometheus to be ready (log: %s)" % self.process.log_path)

    def query(self, promql):
        status, doc = http("GET", self.url + "/api/v1/query?query=" + urllib.parse.quote(promql))
        return doc["data"]["result"] if status == 200 else None

    def kill(self):
        """Stops it abruptly, as a crash would."""
        self.process.stop(signal.SIGKILL)

    def stop(self):
        if self.process:
            self.process.stop()


class Autoscaler:
    """epc-autoscaler with its /metrics and probes on free loopback ports."""

    def __init__(self, workdir, config_path, kubeconfig, name="autoscaler", extra=()):
        self.metrics_port = free_port()
        self.health_port = free_port()
        self.process = Process(name, [
            PATHS["autoscaler"], "--config", config_path, "--kubeconfig", kubeconfig,
            "--metrics-bind-address", "127.0.0.1:%d" % self.metrics_port,
            "--health-probe-bind-address", "127.0.0.1:%d" % self.health_port, "--v", "2",
        ] + list(extra), workdir)
        wait_until(lambda: self._ready(), 30, 0.1, "%s /readyz (log: %s)" % (
            name, self.process.log_path))

    def _ready(self):
        if not self.process.alive():
            raise AssertionError("%s exited early:\n%s" % (self.process.name,
                                                          self.process.output()))
        return http("GET", "http://127.0.0.1:%d/readyz" % self.health_port, timeout=2)[0] == 200

    def metrics_text(self):
        status, text = http("GET", "http://127.0.0.1:%d/metrics" % self.metrics_port)
        if status != 200:
            raise AssertionError("/metrics -> %d" % status)
        return text

    def metric(self, name, labels=None):
        """The value of one sample, or None."""
        want = labels or {}
        for line in self.metrics_text().splitlines():
            if line.startswith("#"):
                continue
            m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$", line)
            if not m or m.group(1) != name:
                continue
            have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
            if have == want:
                return float(m.group(4))
        return None

    def stop(self):
        return self.process.stop()


def write_config(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path
