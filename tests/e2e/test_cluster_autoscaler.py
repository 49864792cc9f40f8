"""Cluster autoscaling end to end: the API server double, epc-extender and epc-autoscaler as
separate processes on 127.0.0.1, node groups served by the kwok provider (Node objects created
from the configured templates).

  python3 test_cluster_autoscaler.py --autoscaler PATH --extender PATH [unittest arguments]

The test plays kube-scheduler: it asks epc-extender's /filter (names mode) where each pending pod
fits, binds it through the pods/binding subresource when a node passes, and otherwise marks it
PodScheduled=False, reason Unschedulable, as kube-scheduler does. Intervals are short (set in the
configuration) so each scenario takes seconds. EPC_KEEP_TEST_LOGS=1 keeps the logs.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import http_json, node, pod, wait_until  # noqa: E402

AUTOSCALER = None
EXTENDER = None
EPC = "kubernetes.azure.com/sgx_epc_mem_in_MiB"
GROUP_LABEL = "autoscaler.epc.dev/node-group"
PODS = "/api/v1/namespaces/default/pods"

CONFIG = """pools:
  - name: sgx
    confidential: true
    nodeSelector: {{matchLabels: {{agentpool: sgx}}}}
  - name: general
    nodeSelector: {{matchLabels: {{agentpool: general}}}}
scheduling:
  generalPodsOnConfidentialNodes: deny
extender:
  bindAddress: 127.0.0.1
  port: {extender_port}
autoscaler:
  cluster:
    enabled: true
    provider: kwok
    scanIntervalSeconds: 1
    scaleDown:
      unneededTimeSeconds: {unneeded}
      delayAfterAddSeconds: 0
      unremovableNodeRecheckTimeoutSeconds: 1
    nodeGroups:
      - name: sgx
        pool: sgx
        minSize: 0
        maxSize: 3
        template:
          labels: {{agentpool: sgx}}
          allocatable: {{cpu: "4", memory: 16Gi, {epc}: "168"}}
      - name: general
        pool: general
        minSize: 0
        maxSize: 3
        template:
          labels: {{agentpool: general}}
          allocatable: {{cpu: "4", memory: 16Gi}}
"""


def milli_cpu(quantity):
    return int(quantity[:-1]) if quantity.endswith("m") else int(float(quantity) * 1000)


def group_node(name, group, cpu="4", epc_mib=None):
    labels = {"kubernetes.io/hostname": name, "agentpool": group, GROUP_LABEL: group}
    n = node(name, epc_mib, labels)
    for key in ("capacity", "allocatable"):
        n["status"][key]["cpu"] = cpu
        n["status"][key]["memory"] = "16Gi"
    return n


class ClusterAutoscalerTest(unittest.TestCase):
    unneeded_seconds = 2

    def setUp(self):
        self.dir = harness.tempdir("epc-e2e-cluster-")
        self.procs = harness.Processes(self.dir)
        self.api = harness.ApiServer(self.procs, self.dir).start()
        self.extender_port = harness.free_port()
        self.metrics_port = harness.free_port()
        self.health_port = harness.free_port()
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(CONFIG.format(extender_port=self.extender_port, epc=EPC,
                                  unneeded=self.unneeded_seconds))

    def tearDown(self):
        self.procs.stop_all()
        if os.environ.get("EPC_KEEP_TEST_LOGS"):
            print(f"logs kept in {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    # ---- processes ----

    def start_extender(self):
        self.procs.start("extender", [EXTENDER, "--config", self.config, "--kubeconfig",
                                      self.api.kubeconfig, "--v", "1"])
        wait_until("the extender to become ready",
                   lambda: http_json("GET", self.extender_url("/readyz"))[0] == 200, timeout=20)

    def start_autoscaler(self, *extra):
        proc = self.procs.start("autoscaler", [
            AUTOSCALER, "--config", self.config, "--kubeconfig", self.api.kubeconfig,
            "--metrics-bind-address", f"127.0.0.1:{self.metrics_port}",
            "--health-probe-bind-address", f"127.0.0.1:{self.health_port}", "--v", "2", *extra])
        wait_until("the autoscaler to become ready",
                   lambda: http_json("GET", f"http://127.0.0.1:{self.health_port}/readyz")[0]
                   == 200, timeout=20)
        return proc

    def extender_url(self, path):
        return f"http://127.0.0.1:{self.extender_port}{path}"

    def metrics(self):
        status, text = http_json("GET", f"http://127.0.0.1:{self.metrics_port}/metrics")
        self.assertEqual(status, 200)
        values = {}
        for line in text.splitlines():
            m = re.match(r"^(\w+)(\{[^}]*\})? (\S+)$", line)
            if m:
                values[m.group(1) + (m.group(2) or "")] = float(m.group(3))
        return values

    # ---- the cluster ----

    def nodes(self):
        return {n["metadata"]["name"]: n for n in self.api.get("/api/v1/nodes")["items"]}

    def pods(self):
        return {p["metadata"]["name"]: p for p in self.api.get(PODS)["items"]}

    def create_pod(self, name, epc_mib=0, cpu="100m", labels=None, node_name=None):
        obj = pod(name, epc_mib, cpu=cpu)
        obj["metadata"]["labels"] = labels or {"app": name}
        self.api.create(PODS, obj)
        if node_name:
            self.bind(name, node_name)
            self.set_status(name, {"phase": "Running",
                                   "conditions": [{"type": "Ready", "status": "True"}]})

    def set_status(self, name, status):
        current = self.api.get(f"{PODS}/{name}")
        current["status"] = status
        self.api.request("PUT", f"{PODS}/{name}/status", current)

    def bind(self, name, node_name):
        self.api.create(f"{PODS}/{name}/binding",
                        {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                         "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}})

    def cpu_fits(self, p, node_name, nodes, pods):
        """kube-scheduler's own NodeResourcesFit, for cpu (the only resource these tests vary);
        in names mode the extender is asked only about nodes that passed it."""
        used = sum(milli_cpu(c["resources"]["requests"].get("cpu", "0"))
                   for q in pods.values() if q["spec"].get("nodeName") == node_name
                   for c in q["spec"]["containers"])
        want = sum(milli_cpu(c["resources"]["requests"].get("cpu", "0"))
                   for c in p["spec"]["containers"])
        return used + want <= milli_cpu(nodes[node_name]["status"]["allocatable"]["cpu"])

    def schedule_pending(self):
        """One kube-scheduler pass over unbound pods: bind where the extender finds a node,
        else mark the pod unschedulable. Returns {pod: node} for the pods it bound."""
        bound = {}
        nodes = self.nodes()
        for name, p in sorted(self.pods().items()):
            if p["spec"].get("nodeName") or p["metadata"].get("deletionTimestamp"):
                continue
            pods = self.pods()
            names = [n for n in sorted(nodes) if self.cpu_fits(p, n, nodes, pods)]
            status, body = http_json("POST", self.extender_url("/filter"),
                                     {"Pod": p, "NodeNames": names, "Nodes": None})
            self.assertEqual(status, 200, body)
            passing = sorted(body.get("NodeNames") or [])
            if passing:
                self.bind(name, passing[0])
                bound[name] = passing[0]
            else:
                failed = body.get("FailedNodes") or {}
                message = (f"0/{len(names)} nodes are available: "
                           + "; ".join(f"{n}: {why}" for n, why in sorted(failed.items())))
                self.set_status(name, {"phase": "Pending", "conditions": [
                    {"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                     "message": message}]})
        return bound

    def events(self, reason):
        return [e for e in self.api.get("/api/v1/namespaces/default/events")["items"]
                if e.get("reason") == reason]

    # ---- scenarios ----

    def test_enclave_pod_scales_confidential_group_from_zero_general_pod_scales_general(self):
        # One small general node: the general pod (2 cpu) does not fit it; the enclave pod fits
        # nowhere, as no node has EPC.
        self.api.create("/api/v1/nodes", group_node("general-small", "none", cpu="1"))
        self.start_extender()
        self.create_pod("enclave", epc_mib=100)
        self.create_pod("batch", cpu="2")
        self.assertEqual(self.schedule_pending(), {})  # both unschedulable

        self.start_autoscaler()

        def groups_grown():
            by_group = {}
            for n in self.nodes().values():
                g = n["metadata"]["labels"].get(GROUP_LABEL)
                if g in ("sgx", "general"):
                    by_group.setdefault(g, []).append(n["metadata"]["name"])
            return by_group if len(by_group) == 2 else None
        grown = wait_until("a node in each group", groups_grown, timeout=30)
        self.assertEqual(len(grown["sgx"]), 1, grown)
        self.assertEqual(len(grown["general"]), 1, grown)
        sgx_node = self.nodes()[grown["sgx"][0]]
        self.assertEqual(sgx_node["status"]["allocatable"][EPC], "168")
        self.assertEqual(sgx_node["metadata"]["labels"]["agentpool"], "sgx")

        # kube-scheduler's next pass places each pod on its new node, through the extender.
        wait_until("the extender to see the new nodes",
                   lambda: len(http_json("POST", self.extender_url("/filter"), {
                       "Pod": self.pods()["enclave"], "NodeNames": grown["sgx"],
                       "Nodes": None})[1].get("NodeNames") or []) == 1, timeout=20)
        bound = self.schedule_pending()
        self.assertEqual(bound, {"enclave": grown["sgx"][0], "batch": grown["general"][0]})

        triggered = {e["involvedObject"]["name"]: e["message"]
                     for e in self.events("TriggeredScaleUp")}
        self.assertIn("{sgx 0->1 (max: 3)}", triggered.get("enclave", ""))
        self.assertIn("{general 0->1 (max: 3)}", triggered.get("batch", ""))

        m = wait_until("node-group metrics", lambda: (lambda v: v if v.get(
            'epc_autoscaler_node_group_current_size{group="general"}') == 1 else None)(
                self.metrics()))
        self.assertEqual(m['epc_autoscaler_node_group_target_size{group="sgx"}'], 1)
        self.assertEqual(m['epc_autoscaler_node_group_max_size{group="sgx"}'], 3)
        self.assertEqual(m['epc_autoscaler_node_group_scale_ups_total{group="sgx"}'], 1)
        self.assertEqual(m['epc_autoscaler_node_group_scale_ups_total{group="general"}'], 1)
        # Settled: no further growth once the pods are placed.
        time.sleep(2.5)
        self.assertEqual(len(groups_grown()["sgx"]), 1)
        self.assertEqual(len(groups_grown()["general"]), 1)

    def test_pod_that_fits_no_group_gets_not_trigger_scale_up(self):
        self.start_extender()
        self.create_pod("huge-enclave", epc_mib=500)  # more EPC than any template has
        self.schedule_pending()
        self.start_autoscaler()
        ev = wait_until("a NotTriggerScaleUp event",
                        lambda: self.events("NotTriggerScaleUp"), timeout=20)
        self.assertEqual(ev[0]["involvedObject"]["name"], "huge-enclave")
        self.assertIn("sgx: no_pods_placed", ev[0]["message"])
        self.assertIn("general: no_pods_placed", ev[0]["message"])
        m = self.metrics()
        self.assertEqual(m['epc_autoscaler_pending_pods{reason="no_group_fits"}'], 1)
        self.assertEqual([n for n in self.nodes()], [])

    def test_empty_confidential_node_removed_after_unneeded_time(self):
        self.api.create("/api/v1/nodes", group_node("sgx-empty", "sgx", epc_mib=168))
        self.api.create("/api/v1/nodes", group_node("sgx-busy", "sgx", epc_mib=168))
        self.create_pod("enclave", epc_mib=120, node_name="sgx-busy")  # 71% of the EPC
        started = time.monotonic()
        self.start_autoscaler()
        wait_until("the empty node to be deleted", lambda: "sgx-empty" not in self.nodes(),
                   timeout=30)
        self.assertGreaterEqual(time.monotonic() - started, self.unneeded_seconds)
        self.assertIn("sgx-busy", self.nodes())  # EPC counts: 71% is above the threshold
        self.assertIn("enclave", self.pods())
        removed = [e["involvedObject"]["name"] for e in self.events("ScaleDown")]
        self.assertEqual(removed, ["sgx-empty"])
        m = self.metrics()
        self.assertEqual(m['epc_autoscaler_node_group_scale_downs_total{group="sgx"}'], 1)
        time.sleep(2 * self.unneeded_seconds)
        self.assertIn("sgx-busy", self.nodes())

    def test_pdb_blocks_drain_until_it_allows(self):
        self.api.create("/api/v1/nodes", group_node("general-a", "general"))
        self.api.create("/api/v1/nodes", group_node("general-b", "general"))
        self.create_pod("web", cpu="100m", labels={"app": "web"}, node_name="general-a")
        self.create_pod("db", cpu="3", labels={"app": "db"}, node_name="general-b")  # 75%
        self.api.create("/apis/policy/v1/namespaces/default/poddisruptionbudgets", {
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": {"name": "web"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"}}}})
        self.start_autoscaler()

        failed = wait_until("the drain to be refused", lambda: [
            e for e in self.events("ScaleDownFailed")
            if e["involvedObject"]["name"] == "general-a"], timeout=30)
        self.assertIn("PodDisruptionBudget", failed[0]["message"] + str(self.events(
            "ScaleDownFailed")))
        # Refused: the node stays, untainted, and its pod keeps running.
        time.sleep(1.5)
        nodes = self.nodes()
        self.assertIn("general-a", nodes)
        self.assertNotIn("ToBeDeletedByClusterAutoscaler",
                         json.dumps(nodes["general-a"]["spec"].get("taints") or []))
        self.assertIn("web", self.pods())
        self.assertIn("general-b", nodes)

        # Without the budget the same node drains and goes.
        self.api.request("DELETE", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/web")
        wait_until("general-a to be drained and deleted",
                   lambda: "general-a" not in self.nodes() and "web" not in self.pods(),
                   timeout=30)
        self.assertIn("general-b", self.nodes())
        self.assertIn("db", self.pods())

    def test_dry_run_once_prints_decisions_and_writes_nothing(self):
        self.start_extender()
        self.create_pod("enclave", epc_mib=100)
        self.schedule_pending()
        res = subprocess.run([AUTOSCALER, "--config", self.config, "--kubeconfig",
                              self.api.kubeconfig, "--once", "--dry-run"],
                             capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 0, res.stderr)
        lines = [json.loads(line) for line in res.stdout.splitlines()]
        groups = {line["group"]: line for line in lines if line.get("kind") == "NodeGroup"}
        self.assertEqual(groups["sgx"]["decision"], "scale_up")
        self.assertEqual(groups["sgx"]["currentSize"], 0)
        self.assertEqual(groups["sgx"]["targetSize"], 1)
        self.assertEqual(groups["sgx"]["pods"], ["default/enclave"])
        self.assertEqual(groups["sgx"]["pool"], "sgx")
        self.assertTrue(groups["sgx"]["dryRun"])
        self.assertEqual(groups["general"]["decision"], "none")
        self.assertEqual(groups["general"]["notChosen"]["reason"], "no_pods_placed")
        self.assertIn("EPC", groups["general"]["notChosen"]["message"])
        summary = [line for line in lines if line.get("kind") == "ClusterAutoscaler"]
        self.assertEqual(len(summary), 1)
        self.assertEqual(summary[0]["pendingPods"], 1)
        self.assertEqual(summary[0]["scaleUp"], "sgx")
        # Nothing written: no node, no event.
        self.assertEqual(self.nodes(), {})
        self.assertEqual(self.events("TriggeredScaleUp"), [])


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--autoscaler", required=True)
    parser.add_argument("--extender", required=True)
    args, rest = parser.parse_known_args()
    AUTOSCALER = os.path.abspath(args.autoscaler)
    EXTENDER = os.path.abspath(args.extender)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
