"""Real traffic for epc-autoscaler, for the chart's metrics and dashboard tests (stdlib only).

AutoscalerScenario runs the real epc-autoscaler against the Kubernetes API server test double
(tests/doubles/fake_apiserver.py) on 127.0.0.1 and plays, in the double, what the autoscaler's
decisions need around it, so that every series of its /metrics comes from real decisions:

  the deployment controller and kubelet  Deployment default/web (scale subresource): pods follow
                                         spec.replicas, Running and Ready on node "static", with
                                         per-pod CPU usage served by the double's metrics.k8s.io
  kube-scheduler                         marks a pending enclave pod PodScheduled=False,
                                         reason Unschedulable
  a node that never becomes Ready        the kwok node the scale-up creates is set NotReady

and walks through these phases, each waiting (bounded) for the autoscaler to act:
  1. HPA scale-up: web's pods use 100% of their CPU request against a 50% target;
  2. HPA scale-down: usage drops to 10% (downscale stabilization 0);
  3. node-group scale-down: the empty node general-idle of group "general" is unneeded for
     unneededTimeSeconds, then deleted through the kwok provider;
  4. node-group scale-up: the enclave pod fits no node, the "sgx" group grows from 0 (kwok
     creates a node from the template);
  5. node-group back-off: that node is made NotReady and stays so past
     maxNodeProvisionTimeSeconds (1 s): the group backs off and the node is deleted.
The autoscaler runs with --leader-elect (a Lease in the double), so the leader gauge is earned.

Processes are started through the caller's `procs.start(name, cmd) -> (Popen, log_path)`, which
must stop them on every exit path; the helper thread is stopped by stop().
"""
import os
import re
import sys
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
API_DOUBLE = os.path.join(REPO, "tests", "doubles", "fake_apiserver.py")
sys.path.insert(0, os.path.join(REPO, "tests", "testing"))
from loopback import free_port, http, rfc3339  # noqa: E402

EPC = "kubernetes.azure.com/sgx_epc_mem_in_MiB"
GROUP_LABEL = "autoscaler.epc.dev/node-group"
NS = "default"
PODS = f"/api/v1/namespaces/{NS}/pods"
WEB_LABELS = {"app": "web"}
WEB_CPU_REQUEST_MILLI = 500
LEASE = "epc-autoscaler"

CONFIG = f"""# Written by tests/chart/autoscaler_traffic.py: short periods so each phase takes seconds.
pools:
  - name: sgx
    confidential: true
    nodeSelector: {{matchLabels: {{agentpool: sgx}}}}
  - name: general
    nodeSelector: {{matchLabels: {{agentpool: general}}}}
autoscaler:
  syncPeriodSeconds: 1
  downscaleStabilizationSeconds: 0
  leaderElection:
    leaseName: {LEASE}
    leaseNamespace: {NS}
    leaseDurationSeconds: 4
    renewDeadlineSeconds: 3
    retryPeriodSeconds: 1
  horizontal:
    - apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata: {{name: web, namespace: {NS}}}
      spec:
        scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: web}}
        minReplicas: 1
        maxReplicas: 4
        metrics:
          - type: Resource
            resource: {{name: cpu, target: {{type: Utilization, averageUtilization: 50}}}}
  cluster:
    enabled: true
    provider: kwok
    scanIntervalSeconds: 1
    maxNodeProvisionTimeSeconds: 1
    initialBackoffSeconds: 600
    maxBackoffSeconds: 600
    scaleDown:
      unneededTimeSeconds: 3
      delayAfterAddSeconds: 0
      unremovableNodeRecheckTimeoutSeconds: 1
    nodeGroups:
      - name: sgx
        pool: sgx
        minSize: 0
        maxSize: 2
        template:
          labels: {{agentpool: sgx}}
          allocatable: {{cpu: "4", memory: 16Gi, {EPC}: "168"}}
      - name: general
        pool: general
        minSize: 0
        maxSize: 2
        template:
          labels: {{agentpool: general}}
          allocatable: {{cpu: "4", memory: 16Gi}}
"""

class ScenarioError(Exception):
    pass


def wait(what, predicate, timeout, interval=0.2, check=None):
    """Polls predicate() until truthy; `check()` may raise to end the wait early."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        if check:
            check()
        try:
            value = predicate()
            if value:
                return value
        except (OSError, ValueError, KeyError) as e:
            last = e
        if time.monotonic() >= deadline:
            raise ScenarioError(f"timed out after {timeout} s waiting for {what}"
                                f"{f' (last error: {last!r})' if last else ''}")
        time.sleep(interval)


def parse_metrics(text):
    """[(name, {label: value}, value)] of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$', line)
        if not m or line.startswith("#"):
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        try:
            out.append((m.group(1), labels, float(m.group(3))))
        except ValueError:
            pass
    return out


def node_object(name, labels, cpu="4", epc_mib=None, ready=True):
    res = {"cpu": cpu, "memory": "16Gi", "pods": "110"}
    if epc_mib is not None:
        res[EPC] = str(epc_mib)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **labels}},
            "spec": {},
            "status": {"capacity": dict(res), "allocatable": dict(res),
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                       "reason": "KubeletReady" if ready else "KubeletNotReady"}]}}


class AutoscalerScenario:
    def __init__(self, procs, tmp, autoscaler_binary, extra_args=(), apiserver=API_DOUBLE):
        self.procs, self.tmp = procs, tmp
        self.binary, self.extra_args, self.apiserver = autoscaler_binary, list(extra_args), apiserver
        self.api = None
        self.autoscaler = None
        self.autoscaler_log = None
        self.metrics_address = None
        self.cpu_milli = 0  # per-pod CPU usage of web's pods
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.thread = None
        self.thread_errors = []
        self.next_pod = 0
        self.phases = []

    # ---- the API server double -------------------------------------------------------------

    def call(self, method, path, body=None, expect=(200, 201)):
        status, doc = http(method, self.api + path, body)
        if expect and status not in expect:
            raise ScenarioError(f"{method} {path} -> {status} {str(doc)[:300]}")
        return doc

    def start_apiserver(self):
        port_file = os.path.join(self.tmp, "apiserver.port")
        proc, log_path = self.procs.start("apiserver-double", [
            sys.executable, self.apiserver, "--port", "0", "--port-file", port_file])

        def port():
            if proc.poll() is not None:
                raise ScenarioError(f"the API server double exited with {proc.returncode}:\n"
                                    + open(log_path).read()[-3000:])
            return open(port_file).read().strip() if os.path.exists(port_file) else None
        self.api = f"http://127.0.0.1:{int(wait('the API server double port file', port, 20))}"
        wait("the API server double /healthz",
             lambda: http("GET", self.api + "/healthz")[0] == 200, 20)
        self.kubeconfig = os.path.join(self.tmp, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write("apiVersion: v1\nkind: Config\n"
                    f"clusters: [{{name: double, cluster: {{server: \"{self.api}\"}}}}]\n"
                    "users: [{name: tester, user: {}}]\n"
                    "contexts: [{name: double, context: {cluster: double, user: tester}}]\n"
                    "current-context: double\n")

    def seed(self):
        # Where web's pods run: a node of no group (never scaled), roomy enough.
        self.call("POST", "/api/v1/nodes", node_object("static", {"agentpool": "general"}, cpu="16"))
        self.call("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", {
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS},
            "spec": {"replicas": 1, "selector": {"matchLabels": WEB_LABELS},
                     "template": {"metadata": {"labels": WEB_LABELS},
                                  "spec": {"containers": [{"name": "app", "image": "app"}]}}}})

    # ---- the deployment controller, kubelet and metrics-server for web ---------------------

    def web_pods(self):
        sel = urllib.parse.quote(",".join(f"{k}={v}" for k, v in sorted(WEB_LABELS.items())))
        items = self.call("GET", f"{PODS}?labelSelector={sel}")["items"]
        return sorted((p["metadata"]["name"] for p in items), key=lambda n: int(n.rsplit("-", 1)[1]))

    def create_web_pod(self):
        name = f"web-{self.next_pod}"
        self.next_pod += 1
        self.call("POST", PODS, {
            "apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": NS, "labels": WEB_LABELS},
            "spec": {"containers": [{"name": "app", "image": "app", "resources": {
                "requests": {"cpu": f"{WEB_CPU_REQUEST_MILLI}m", "memory": "64Mi"}}}]}})
        self.call("POST", f"{PODS}/{name}/binding", {
            "apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": "static"}})
        started = datetime.now(timezone.utc) - timedelta(hours=1)  # past the CPU start-up rules
        pod = self.call("GET", f"{PODS}/{name}")
        pod["status"] = {"phase": "Running", "startTime": rfc3339(started), "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": rfc3339(started + timedelta(seconds=5))}]}
        self.call("PUT", f"{PODS}/{name}/status", pod)

    def sync_web(self):
        dep = self.call("GET", f"/apis/apps/v1/namespaces/{NS}/deployments/web")
        want = dep["spec"].get("replicas", 0)
        names = self.web_pods()
        for _ in range(len(names), want):
            self.create_web_pod()
        for extra in names[want:]:
            self.call("DELETE", f"{PODS}/{extra}", expect=(200, 202, 404))
        names = self.web_pods()
        if dep.get("status", {}).get("replicas") != want:
            dep["status"] = {"replicas": want, "readyReplicas": want, "availableReplicas": want,
                             "updatedReplicas": want}
            self.call("PUT", f"/apis/apps/v1/namespaces/{NS}/deployments/web/status", dep, expect=(200, 409))
        with self.lock:
            cpu = self.cpu_milli
        for name in names:
            self.call("PUT", f"/__test/metrics/pods/{NS}/{name}",
                      {"containers": [{"name": "app", "usage": {"cpu": f"{cpu}m", "memory": "32Mi"}}]})

    def run_controllers(self):
        while not self.stopping.is_set():
            try:
                self.sync_web()
            except Exception as e:  # noqa: BLE001 - reported by check()
                self.thread_errors.append(e)
                return
            self.stopping.wait(0.2)

    def check(self):
        if self.thread_errors:
            raise ScenarioError(f"the deployment controller stand-in failed: {self.thread_errors[0]!r}")
        if self.autoscaler is not None and self.autoscaler.poll() is not None:
            raise ScenarioError(f"epc-autoscaler exited with {self.autoscaler.returncode}:\n"
                                + open(self.autoscaler_log).read()[-4000:])

    # ---- epc-autoscaler -------------------------------------------------------------------

    def start_autoscaler(self):
        config = os.path.join(self.tmp, "autoscaler-config.yaml")
        with open(config, "w") as f:
            f.write(CONFIG)
        metrics_port, probe_port = free_port(), free_port()
        self.autoscaler, self.autoscaler_log = self.procs.start("epc-autoscaler", [
            self.binary, "--config", config, "--kubeconfig", self.kubeconfig, "--leader-elect",
            "--leader-elect-identity", "epc-autoscaler-test",
            "--metrics-bind-address", f"127.0.0.1:{metrics_port}",
            "--health-probe-bind-address", f"127.0.0.1:{probe_port}", "--v", "2", *self.extra_args])
        self.metrics_address = f"127.0.0.1:{metrics_port}"
        wait("epc-autoscaler /readyz",
             lambda: http("GET", f"http://127.0.0.1:{probe_port}/readyz", timeout=2)[0] == 200,
             30, check=self.check)

    def metrics_text(self):
        status, text = http("GET", f"http://{self.metrics_address}/metrics")
        if status != 200:
            raise ScenarioError(f"GET /metrics of epc-autoscaler answered {status}")
        return text

    def metric(self, name, **labels):
        """The sum of the samples of `name` whose labels include `labels` (0 if none)."""
        return sum(v for n, have, v in parse_metrics(self.metrics_text())
                   if n == name and all(have.get(k) == want for k, want in labels.items()))

    # ---- the scenario ---------------------------------------------------------------------

    def nodes(self):
        return {n["metadata"]["name"]: n for n in self.call("GET", "/api/v1/nodes")["items"]}

    def set_cpu(self, milli):
        with self.lock:
            self.cpu_milli = milli

    def phase(self, what, predicate, timeout):
        started = time.monotonic()
        wait(what, predicate, timeout, check=self.check)
        self.phases.append(f"{what} ({time.monotonic() - started:.1f} s)")
        print(f"autoscaler traffic: {self.phases[-1]}", flush=True)

    def start(self):
        """Starts the API double, seeds it, starts epc-autoscaler; returns its metrics address."""
        self.start_apiserver()
        self.seed()
        self.set_cpu(WEB_CPU_REQUEST_MILLI)  # 100% of the request, target 50%
        self.sync_web()
        self.thread = threading.Thread(target=self.run_controllers, daemon=True)
        self.thread.start()
        self.start_autoscaler()
        return self.metrics_address

    def run(self):
        """Phases 1-5 (see the module doc); returns what happened, one line per phase."""
        def scales(direction):
            return self.metric("epc_autoscaler_hpa_scale_events_total", namespace=NS,
                               target="Deployment/web", direction=direction)
        self.phase("epc-autoscaler to take the lease",
                   lambda: self.metric("epc_autoscaler_is_leader") == 1, 20)
        # An empty node joins group "general" (created now, so that a scraper started after
        # start() sees it unneeded): unneeded for 3 s, then removed.
        self.call("POST", "/api/v1/nodes", node_object(
            "general-idle", {"agentpool": "general", GROUP_LABEL: "general"}))
        self.phase("the HPA to scale web up (cpu 100% of request, target 50%)",
                   lambda: scales("up") >= 1, 30)
        self.set_cpu(WEB_CPU_REQUEST_MILLI // 10)
        self.phase("the HPA to scale web down (cpu 10%)",
                   lambda: scales("down") >= 1, 30)
        # (its unneeded time may already run: the unneeded gauge is checked through Prometheus)
        self.phase("the empty node general-idle to be removed (unneeded 3 s, then deleted through kwok)",
                   lambda: "general-idle" not in self.nodes() and
                   self.metric("epc_autoscaler_node_group_scale_downs_total", group="general") >= 1, 30)

        # A pod only an SGX node can take, unschedulable as kube-scheduler would mark it.
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "enclave", "namespace": NS,
                                                              "labels": {"app": "enclave"}},
               "spec": {"containers": [{"name": "app", "image": "app", "resources": {
                   "requests": {"cpu": "500m", EPC: "100"}, "limits": {EPC: "100"}}}]}}
        self.call("POST", PODS, pod)
        current = self.call("GET", f"{PODS}/enclave")
        current["status"] = {"phase": "Pending", "conditions": [{
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/1 nodes are available: 1 Insufficient " + EPC + "."}]}
        self.call("PUT", f"{PODS}/enclave/status", current)

        def sgx_node():
            names = [n for n, o in self.nodes().items()
                     if o["metadata"].get("labels", {}).get(GROUP_LABEL) == "sgx"]
            return names[0] if names else None
        started = time.monotonic()
        new = wait("the sgx group to scale up from 0 (kwok creates a node)", sgx_node, 30, interval=0.1,
                   check=self.check)
        self.phases.append(f"the sgx group to scale up: node {new} ({time.monotonic() - started:.1f} s)")
        print(f"autoscaler traffic: {self.phases[-1]}", flush=True)
        # The node's kubelet never reports Ready.
        for _ in range(5):
            node = self.call("GET", f"/api/v1/nodes/{new}")
            node["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "KubeletNotReady",
                                             "message": "container runtime network not ready"}]
            status, _ = http("PUT", f"{self.api}/api/v1/nodes/{new}/status", node)
            if status == 200:
                break
            if status != 409:
                raise ScenarioError(f"PUT nodes/{new}/status answered {status}")
        self.phase("the sgx scale-up to be counted",
                   lambda: self.metric("epc_autoscaler_node_group_scale_ups_total", group="sgx") >= 1, 20)
        self.phase(f"the sgx group to back off ({new} not Ready within 1 s) and {new} to be deleted",
                   lambda: self.metric("epc_autoscaler_node_group_backoffs_total", group="sgx") >= 1
                   and new not in self.nodes(), 30)
        return list(self.phases)

    def autoscaler_requests(self):
        """The API requests epc-autoscaler made (the double's request log, by User-Agent)."""
        items = self.call("GET", "/__test/requests")["items"]
        return [r for r in items if (r.get("userAgent") or "").startswith("epc-scheduler/")]

    def stop(self):
        self.stopping.set()
        if self.thread is not None:
            self.thread.join(timeout=10)
