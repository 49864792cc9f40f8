#!/usr/bin/env python3
"""Live-state benchmarks of epc-extender against the API server double (separate processes).

  python3 benchmarks/watch_latency.py --extender build/release/scheduler/epc-extender

1. Pod event -> updated answer: bind a pod that fills a node through the API, then poll the
   filter verb until its answer changes; repeated, reporting p50/p90/max. This includes the
   double's own latency (a Python server), so it is an upper bound for a real API server.
2. Cache memory: the extender's resident memory (VmRSS) with an empty cluster and with 1,000
   nodes and 10,000 pods in the API, once both watches have synced.
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import harness  # noqa: E402
from harness import http_json, node, pod, wait_until  # noqa: E402


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def start_extender(procs, api, binary, workdir):
    port = harness.free_port()
    config = os.path.join(workdir, f"config-{port}.yaml")
    with open(config, "w") as f:
        f.write(f"extender: {{bindAddress: 127.0.0.1, port: {port}}}\n")
    proc = procs.start(f"extender-{port}", [binary, "--config", config, "--kubeconfig",
                                            api.kubeconfig])
    wait_until("the extender to be ready", lambda: http_json(
        "GET", f"http://127.0.0.1:{port}/readyz")[0] == 200, timeout=300, interval=0.2)
    return proc, port


def seed_state(path, nodes, pods_per_node):
    items = []
    for n in range(nodes):
        items.append(node(f"node-{n:05d}", 168 if n % 4 == 0 else None,
                          {"agentpool": "sgx" if n % 4 == 0 else "general",
                           "kubernetes.io/hostname": f"node-{n:05d}"}))
        for p in range(pods_per_node):
            obj = pod(f"pod-{n:05d}-{p}", 4 if n % 4 == 0 else 0)
            obj["spec"]["nodeName"] = f"node-{n:05d}"
            obj["status"] = {"phase": "Running"}
            items.append(obj)
    with open(path, "w") as f:
        json.dump({"items": items}, f)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--extender", required=True)
    ap.add_argument("--samples", type=int, default=30)
    args = ap.parse_args()
    binary = os.path.abspath(args.extender)
    workdir = harness.tempdir("epc-bench-watch-")
    with harness.Processes(workdir) as procs:
        api = harness.ApiServer(procs, workdir).start()
        api.create("/api/v1/nodes", node("sgx-0", 20, {"agentpool": "sgx"}))
        _, port = start_extender(procs, api, binary, workdir)
        enclave = pod("probe", 10)
        lat = []
        for i in range(args.samples):
            name = f"filler-{i}"
            api.create("/api/v1/namespaces/default/pods", pod(name, 15))
            t0 = time.perf_counter()
            api.create(f"/api/v1/namespaces/default/pods/{name}/binding",
                       {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                        "target": {"apiVersion": "v1", "kind": "Node", "name": "sgx-0"}})
            wait_until("the answer to change", lambda: "sgx-0" in http_json(
                "POST", f"http://127.0.0.1:{port}/filter",
                {"Pod": enclave, "NodeNames": ["sgx-0"], "Nodes": None})[1]["FailedNodes"],
                interval=0.0005)
            lat.append((time.perf_counter() - t0) * 1000)
            api.request("DELETE", f"/api/v1/namespaces/default/pods/{name}")
            wait_until("the pod to leave", lambda: "sgx-0" in (http_json(
                "POST", f"http://127.0.0.1:{port}/filter",
                {"Pod": enclave, "NodeNames": ["sgx-0"], "Nodes": None})[1]["NodeNames"] or []),
                interval=0.0005)
        lat.sort()
        print(f"pod event -> updated filter answer over {len(lat)} samples: "
              f"p50 {statistics.median(lat):.1f} ms, p90 {lat[int(len(lat) * 0.9) - 1]:.1f} ms, "
              f"max {lat[-1]:.1f} ms (includes the Python API double's own latency)")

    for nodes, pods_per_node in ((0, 0), (1000, 0), (1000, 10)):
        workdir = harness.tempdir("epc-bench-mem-")
        with harness.Processes(workdir) as procs:
            api = harness.ApiServer(procs, workdir)
            seed_state(api.state_file, nodes, pods_per_node)
            api.start()
            proc, _ = start_extender(procs, api, binary, workdir)
            time.sleep(1)
            print(f"{nodes} nodes, {nodes * pods_per_node} pods: extender VmRSS "
                  f"{rss_kib(proc.pid) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
