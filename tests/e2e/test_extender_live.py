"""epc-extender against a live (double) Kubernetes API server, as separate processes.

  python3 test_extender_live.py --extender PATH/epc-extender

Nodes and pods are created and deleted through the API (kubectl where it fits) and the filter
answers must follow within a bounded time; the API server is killed and restarted mid-watch; 50
concurrent filter+bind sequences race for one node's EPC.
"""
import argparse
import concurrent.futures
import json
import os
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import http_json, node, pod, wait_until  # noqa: E402

EXTENDER = None
EPC = "kubernetes.azure.com/sgx_epc_mem_in_MiB"


class ExtenderLiveTest(unittest.TestCase):
    def setUp(self):
        self.dir = harness.tempdir("epc-e2e-extender-")
        self.procs = harness.Processes(self.dir)
        self.api = harness.ApiServer(self.procs, self.dir).start()
        self.port = harness.free_port()
        self.config = os.path.join(self.dir, "config.yaml")
        with open(self.config, "w") as f:
            f.write(f"""pools:
  - name: sgx
    confidential: true
    nodeSelector: {{matchLabels: {{agentpool: sgx}}}}
extender:
  bindAddress: 127.0.0.1
  port: {self.port}
  enableBind: true
""")

    def tearDown(self):
        self.procs.stop_all()
        if os.environ.get("EPC_KEEP_TEST_LOGS"):
            print(f"logs kept in {self.dir}", file=sys.stderr)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def start_extender(self, *extra):
        self.extender = self.procs.start("extender", [
            EXTENDER, "--config", self.config, "--kubeconfig", self.api.kubeconfig,
            "--max-cache-staleness-seconds", "3", "--v", "2", *extra])
        wait_until("the extender to become ready", lambda: self.status("/readyz") == 200,
                   timeout=20)

    def status(self, path):
        return http_json("GET", f"http://127.0.0.1:{self.port}{path}")[0]

    def filter(self, pod_obj, names):
        status, body = http_json("POST", f"http://127.0.0.1:{self.port}/filter",
                                 {"Pod": pod_obj, "NodeNames": names, "Nodes": None})
        self.assertEqual(status, 200, body)
        return body

    def passing(self, pod_obj, names):
        return sorted(self.filter(pod_obj, names)["NodeNames"] or [])

    def create_bound_pod(self, name, epc_mib, node_name):
        created = self.api.create("/api/v1/namespaces/default/pods", pod(name, epc_mib))
        self.api.create(f"/api/v1/namespaces/default/pods/{name}/binding",
                        {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                         "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}})
        return created

    def test_filter_answers_follow_the_cluster(self):
        self.api.create("/api/v1/nodes", node("sgx-0", 20, {"agentpool": "sgx"}))
        self.start_extender()
        enclave = pod("enclave", 10)
        enclave["metadata"]["uid"] = "uid-enclave"
        self.assertEqual(self.passing(enclave, ["sgx-0"]), ["sgx-0"])

        # A pod bound to sgx-0 takes 15 of its 20 MiB: the answer must follow.
        self.create_bound_pod("resident", 15, "sgx-0")
        wait_until("filter to see the bound pod",
                   lambda: self.filter(enclave, ["sgx-0"])["FailedNodes"].get("sgx-0", "")
                   .startswith("insufficient EPC: requested 10 MiB, free 5 MiB"))

        # kubectl delete pod frees it again.
        self.api.kubectl("delete", "pod", "resident", "--wait=true")
        wait_until("filter to see the pod gone", lambda: self.passing(enclave, ["sgx-0"]) == ["sgx-0"])

        # A new node, created with kubectl, shows up in names mode.
        node_file = os.path.join(self.dir, "node.json")
        with open(node_file, "w") as f:
            json.dump(node("sgx-1", 64, {"agentpool": "sgx"}), f)
        self.api.kubectl("create", "-f", node_file)
        wait_until("filter to know sgx-1",
                   lambda: self.passing(enclave, ["sgx-0", "sgx-1"]) == ["sgx-0", "sgx-1"])
        # A node deleted with kubectl is unknown again.
        self.api.kubectl("delete", "node", "sgx-1")
        wait_until("filter to forget sgx-1",
                   lambda: "is not in the extender's cluster state" in
                   self.filter(enclave, ["sgx-1"])["FailedNodes"].get("sgx-1", ""))

        # /explain answers from the live state for a pod that exists in the API.
        self.api.create("/api/v1/namespaces/default/pods", pod("pending-enclave", 30))
        status, body = http_json("GET", f"http://127.0.0.1:{self.port}/explain/default/pending-enclave")
        self.assertEqual(status, 200, body)
        self.assertIsNone(body["bestNode"])
        self.assertEqual(body["nodes"][0]["verdict"], "unresolvable")
        self.assertEqual(body["nodes"][0]["reason"],
                         "requested EPC 30 MiB exceeds the node's allocatable 20 MiB")
        status, _ = http_json("GET", f"http://127.0.0.1:{self.port}/explain/default/nope")
        self.assertEqual(status, 404)

    def test_recovers_when_the_api_server_restarts(self):
        self.api.create("/api/v1/nodes", node("sgx-0", 20, {"agentpool": "sgx"}))
        self.start_extender()
        enclave = pod("enclave", 10)
        self.assertEqual(self.passing(enclave, ["sgx-0"]), ["sgx-0"])

        self.api.kill()
        # The watch cannot reach the server: after the staleness bound, not ready.
        wait_until("readyz to fail while the API server is down",
                   lambda: self.status("/readyz") == 503, timeout=15)
        # It keeps answering from the last state meanwhile (kube-scheduler may still call).
        self.assertEqual(self.passing(enclave, ["sgx-0"]), ["sgx-0"])

        self.api.start()  # same port, same state file
        wait_until("readyz to recover", lambda: self.status("/readyz") == 200, timeout=30)
        self.create_bound_pod("resident", 15, "sgx-0")
        wait_until("filter to see a change made after the restart",
                   lambda: "sgx-0" in self.filter(enclave, ["sgx-0"])["FailedNodes"])

    def test_concurrent_filter_and_bind_never_overcommit(self):
        # Room for exactly five 10 MiB pods.
        self.api.create("/api/v1/nodes", node("sgx-0", 50, {"agentpool": "sgx"}))
        pods = [self.api.create("/api/v1/namespaces/default/pods", pod(f"p{i}", 10))
                for i in range(50)]
        self.start_extender("--reservation-ttl-seconds", "60")

        def schedule(p):
            answer = self.filter(p, ["sgx-0"])
            if "sgx-0" not in (answer["NodeNames"] or []):
                return False
            status, body = http_json("POST", f"http://127.0.0.1:{self.port}/bind", {
                "PodName": p["metadata"]["name"], "PodNamespace": "default",
                "PodUID": p["metadata"]["uid"], "Node": "sgx-0"})
            self.assertEqual(status, 200, body)
            self.assertEqual(body["Error"], "", body)
            return True

        with concurrent.futures.ThreadPoolExecutor(max_workers=50) as pool:
            results = list(pool.map(schedule, pods))
        self.assertEqual(sum(results), 5)

        bound = [p for p in self.api.get("/api/v1/namespaces/default/pods")["items"]
                 if p["spec"].get("nodeName") == "sgx-0"]
        epc = sum(int(p["spec"]["containers"][0]["resources"]["requests"][EPC]) for p in bound)
        self.assertEqual(len(bound), 5)
        self.assertLessEqual(epc, 50)
        # Once the watch shows the bindings, the node is full for real.
        wait_until("the bindings to reach the cache", lambda: "insufficient EPC" in
                   self.filter(pod("late", 10), ["sgx-0"])["FailedNodes"].get("sgx-0", ""))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--extender", required=True)
    args, rest = parser.parse_known_args()
    EXTENDER = os.path.abspath(args.extender)
    unittest.main(argv=[sys.argv[0], *rest], verbosity=2)
