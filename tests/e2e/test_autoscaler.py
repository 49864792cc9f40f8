#!/usr/bin/env python3
"""End-to-end tests of epc-autoscaler as a separate process, against the Kubernetes API server
double, a real Prometheus and a test exporter, all on 127.0.0.1.

  python3 test_autoscaler.py --autoscaler PATH [--apiserver fake_apiserver.py]
                             [--prometheus PATH] [unittest arguments, e.g. -v PodsMetricTest]

ctest passes the paths (tests/e2e/CMakeLists.txt). Without a `prometheus` binary the tests that
need it are skipped. EPC_E2E_KEEP=1 keeps each test's work directory (logs, configs).
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import e2e_support as e2e
from e2e_support import wait_until

LABELS = {"app": "web"}
SCALED_TO = "epc_autoscaler_hpa_current_replicas"


def target_yaml(name, metrics, behavior, min_replicas=1, max_replicas=10):
    return """
    - apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata: {name: %s, namespace: default}
      spec:
        scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: %s}
        minReplicas: %d
        maxReplicas: %d
        metrics:
%s
        behavior:
%s
""" % (name, name, min_replicas, max_replicas, metrics, behavior)


CPU_50 = """          - type: Resource
            resource:
              name: cpu
              target: {type: Utilization, averageUtilization: 50}"""

FAST_BEHAVIOR = """          scaleUp:
            stabilizationWindowSeconds: 0
            policies: [{type: Pods, value: 10, periodSeconds: 1}]
          scaleDown:
            stabilizationWindowSeconds: 3
            policies: [{type: Percent, value: 100, periodSeconds: 1}]"""


class E2ETestCase(unittest.TestCase):
    def setUp(self):
        if not e2e.PATHS["autoscaler"] or not os.access(e2e.PATHS["autoscaler"], os.X_OK):
            self.fail("no epc-autoscaler binary: pass --autoscaler PATH")
        self.workdir = tempfile.mkdtemp(prefix="epc-e2e-")
        if os.environ.get("EPC_E2E_KEEP"):  # keep the logs for a look afterwards
            sys.stderr.write("\nworkdir: %s\n" % self.workdir)
        else:
            self.addCleanup(shutil.rmtree, self.workdir, True)
        self.api = e2e.ApiServer(self.workdir)
        self.addCleanup(self.api.stop)

    def config(self, body, name="config.yaml"):
        return e2e.write_config(os.path.join(self.workdir, name), body)

    def start_autoscaler(self, config, name="autoscaler", extra=()):
        a = e2e.Autoscaler(self.workdir, config, self.api.kubeconfig, name, extra)
        self.addCleanup(self._stop_autoscaler, a)
        return a

    def _stop_autoscaler(self, a):
        if a.process.alive():
            code = a.stop()
            self.assertEqual(code, 0, "%s exit code; log:\n%s" % (a.process.name,
                                                                 a.process.output()[-4000:]))

    def workloads(self, name, on_pods=None):
        w = e2e.Workloads(self.api, name, LABELS if name == "web" else {"app": name},
                          on_pods=on_pods)
        w.start()
        self.addCleanup(w.stop)
        return w

    def assert_replicas_hold(self, name, replicas, seconds):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.assertEqual(self.api.replicas(name), replicas)
            time.sleep(0.25)

    def debug(self, autoscaler):
        return "\nautoscaler log (tail):\n" + autoscaler.process.output()[-3000:]


class PodsMetricTest(E2ETestCase):
    """A Pods metric (AverageValue) read from a real Prometheus scraping a test exporter."""

    def setUp(self):
        super().setUp()
        if not e2e.PATHS["prometheus"]:
            self.skipTest("no prometheus binary")
        self.exporter = e2e.Exporter()
        self.addCleanup(self.exporter.stop)
        self.prometheus = e2e.Prometheus(self.workdir, ["127.0.0.1:%d" % self.exporter.port])
        self.addCleanup(self.prometheus.stop)

    def test_up_down_hold_and_resume(self):
        metric = """          - type: Pods
            pods:
              metric: {name: app_requests_per_second}
              query: app_requests_per_second{namespace="default"}
              target: {type: AverageValue, averageValue: "10"}"""
        config = self.config("""autoscaler:
  syncPeriodSeconds: 1
  prometheus: {url: "%s", timeoutSeconds: 2}
  horizontal:%s""" % (self.prometheus.url, target_yaml("web", metric, FAST_BEHAVIOR,
                                                       max_replicas=8)))
        self.api.create_deployment("web", 2, LABELS)
        self.exporter.set_load(20)  # 10 per pod: at target
        self.workloads("web", on_pods=self.exporter.set_pods)
        wait_until(lambda: len(self.prometheus.query("app_requests_per_second") or []) == 2, 30,
                   message="Prometheus to scrape both pods")
        a = self.start_autoscaler(config)
        value = {"namespace": "default", "target": "Deployment/web",
                 "metric": "app_requests_per_second"}
        wait_until(lambda: a.metric("epc_autoscaler_hpa_metric_value", value) == 10, 30,
                   message="the autoscaler to read 10 per pod" + self.debug(a))
        self.assertEqual(a.metric("epc_autoscaler_hpa_metric_target", value), 10)
        self.assert_replicas_hold("web", 2, 2)

        # Up: 60 requests/s over 2 pods is 30 each, three times the target -> 6 pods.
        self.exporter.set_load(60)
        wait_until(lambda: self.api.replicas("web") == 6, 30,
                   message="a scale-up to 6" + self.debug(a))
        self.assert_replicas_hold("web", 6, 3)
        events = [e for e in self.api.events() if e["reason"] == "SuccessfulRescale"]
        self.assertTrue(events)
        self.assertEqual(events[0]["involvedObject"]["kind"], "Deployment")
        self.assertEqual(events[0]["involvedObject"]["name"], "web")
        self.assertRegex(events[0]["message"],
                         r"^New size: \d+; reason: pods metric app_requests_per_second above "
                         r"target$")
        self.assertGreaterEqual(a.metric("epc_autoscaler_hpa_scale_events_total", {
            "namespace": "default", "target": "Deployment/web", "direction": "up"}), 1)

        # Down: 20 over 6 pods is 3.3 each -> 2 pods, after the 3 s stabilization window.
        self.exporter.set_load(20)
        wait_until(lambda: self.api.replicas("web") == 2, 30,
                   message="a scale-down to 2" + self.debug(a))
        wait_until(lambda: a.metric("epc_autoscaler_hpa_metric_value", value) == 10, 15,
                   message="10 per pod again")
        self.assertTrue(any(e["message"].endswith("reason: All metrics below target")
                            for e in self.api.events()))

        # Hold: with Prometheus gone, a reading of zero would scale to 1; the target must hold.
        before = a.metric("epc_autoscaler_errors_total", {"kind": "metrics_unavailable"})
        self.prometheus.kill()
        self.exporter.set_load(2)
        self.assert_replicas_hold("web", 2, 6)
        after = a.metric("epc_autoscaler_errors_total", {"kind": "metrics_unavailable"})
        self.assertGreaterEqual(after - before, 3, self.debug(a))
        self.assertIsNone(a.metric("epc_autoscaler_hpa_metric_value", value))
        self.assertIn("failed to get pods metric value", a.process.output())
        failed = [e for e in self.api.events() if e["reason"] == "FailedGetPodsMetric"]
        self.assertTrue(failed)
        self.assertEqual({e["type"] for e in failed}, {"Warning"})
        # Repeats of one event are folded into its count, as client-go's correlator does.
        self.assertGreaterEqual(max(e["count"] for e in failed), 3)

        # Resume: Prometheus is back and the load is high again.
        self.exporter.set_load(60)
        self.prometheus.start()
        wait_until(lambda: self.api.replicas("web") == 6, 40,
                   message="scaling to resume" + self.debug(a))


class CpuUtilizationTest(E2ETestCase):
    """A Resource metric (cpu Utilization) from the double's metrics.k8s.io."""

    def test_scales_on_cpu_utilization(self):
        config = self.config("""autoscaler:
  syncPeriodSeconds: 1
  horizontal:%s""" % target_yaml("web", CPU_50, FAST_BEHAVIOR))
        self.api.create_deployment("web", 2, LABELS)
        load = {"millicores": 500}  # 250m of a 500m request each: 50%

        def report(pods):
            for p in pods:
                self.api.set_pod_cpu(p, "%dm" % (load["millicores"] // len(pods)))

        self.workloads("web", on_pods=report)
        a = self.start_autoscaler(config)
        labels = {"namespace": "default", "target": "Deployment/web", "metric": "cpu"}
        wait_until(lambda: a.metric("epc_autoscaler_hpa_metric_value", labels) == 50, 30,
                   message="50% utilization" + self.debug(a))
        self.assertEqual(a.metric("epc_autoscaler_hpa_metric_target", labels), 50)
        self.assert_replicas_hold("web", 2, 2)

        load["millicores"] = 1500  # 750m each: 150% -> 6 pods
        wait_until(lambda: self.api.replicas("web") == 6, 30,
                   message="a scale-up to 6" + self.debug(a))
        wait_until(lambda: a.metric("epc_autoscaler_hpa_metric_value", labels) == 50, 15,
                   message="50% utilization at 6 pods")
        self.assertEqual(a.metric(SCALED_TO, {"namespace": "default",
                                              "target": "Deployment/web"}), 6)

        load["millicores"] = 300  # 50m each: 10% -> 2 pods
        wait_until(lambda: self.api.replicas("web") == 2, 30,
                   message="a scale-down to 2" + self.debug(a))


class DryRunOnceTest(E2ETestCase):
    def test_prints_json_and_writes_nothing(self):
        config = self.config("""autoscaler:
  horizontal:%s%s""" % (target_yaml("web", CPU_50, FAST_BEHAVIOR),
                         target_yaml("api", CPU_50, FAST_BEHAVIOR)))
        self.api.create_deployment("web", 2, LABELS)
        self.api.create_deployment("api", 3, {"app": "api"})
        web = self.workloads("web")
        api = self.workloads("api")
        wait_until(lambda: len(web.pod_names()) == 2 and len(api.pod_names()) == 3, 20,
                   message="the pods")
        web.stop()
        api.stop()
        for p in web.pod_names():
            self.api.set_pod_cpu(p, "450m")  # 90% -> 4 replicas
        for p in api.pod_names():
            self.api.set_pod_cpu(p, "250m")  # 50%: at target
        self.api.call("DELETE", "/__test/requests")

        run = subprocess.run([e2e.PATHS["autoscaler"], "--config", config, "--kubeconfig",
                              self.api.kubeconfig, "--dry-run", "--once"],
                             capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
        self.assertEqual(run.returncode, 0, run.stderr.decode())
        lines = run.stdout.decode().splitlines()
        self.assertEqual(len(lines), 2, run.stdout.decode())
        out = {j["target"]: j for j in map(json.loads, lines)}
        w = out["Deployment/web"]
        self.assertEqual(w["namespace"], "default")
        self.assertTrue(w["dryRun"])
        self.assertEqual(w["currentReplicas"], 2)
        self.assertEqual(w["desiredReplicas"], 4)
        self.assertTrue(w["rescale"])
        self.assertFalse(w["updated"])
        self.assertEqual(w["reason"],
                         "cpu resource utilization (percentage of request) above target")
        self.assertEqual(len(w["metrics"]), 1)
        self.assertEqual(w["metrics"][0]["name"], "cpu")
        self.assertEqual(w["metrics"][0]["current"], 90)
        self.assertEqual(w["metrics"][0]["target"], 50)
        self.assertIn("AbleToScale", [c["type"] for c in w["conditions"]])
        p = out["Deployment/api"]
        self.assertEqual(p["currentReplicas"], 3)
        self.assertEqual(p["desiredReplicas"], 3)
        self.assertFalse(p["rescale"])

        # Nothing written: same replicas, no events, and only GETs from the autoscaler.
        self.assertEqual(self.api.replicas("web"), 2)
        self.assertEqual(self.api.replicas("api"), 3)
        self.assertEqual(self.api.events(), [])
        requests = self.api.get("/__test/requests")["items"]
        self.assertTrue(requests)
        self.assertEqual({r["method"] for r in requests}, {"GET"}, requests)


class LeaderElectionTest(E2ETestCase):
    def test_only_the_lease_holder_acts(self):
        config = self.config("""autoscaler:
  syncPeriodSeconds: 1
  leaderElection:
    leaseName: epc-autoscaler-e2e
    leaseNamespace: default
    leaseDurationSeconds: 4
    renewDeadlineSeconds: 3
    retryPeriodSeconds: 1
  horizontal:%s""" % target_yaml("web", CPU_50, FAST_BEHAVIOR))
        self.api.create_deployment("web", 2, LABELS)
        load = {"millicores": 500}

        def report(pods):
            for p in pods:
                self.api.set_pod_cpu(p, "%dm" % (load["millicores"] // len(pods)))

        self.workloads("web", on_pods=report)
        replicas = {
            name: self.start_autoscaler(config, name, ["--leader-elect",
                                                       "--leader-elect-identity", name])
            for name in ("replica-a", "replica-b")}

        def holder():
            lease = self.api.get("/apis/coordination.k8s.io/v1/namespaces/default/leases/"
                                 "epc-autoscaler-e2e")
            return lease["spec"].get("holderIdentity") or None

        leader = wait_until(holder, 20, message="a lease holder")
        self.assertIn(leader, replicas)
        standby = [n for n in replicas if n != leader][0]
        wait_until(lambda: replicas[leader].metric("epc_autoscaler_is_leader") == 1, 10,
                   message="the holder to report is_leader 1")
        self.assertEqual(replicas[standby].metric("epc_autoscaler_is_leader"), 0)

        load["millicores"] = 1500
        wait_until(lambda: self.api.replicas("web") == 6, 30,
                   message="the leader to scale up" + self.debug(replicas[leader]))
        rescales = [e for e in self.api.events() if e["reason"] == "SuccessfulRescale"]
        self.assertTrue(rescales)
        self.assertEqual({e["reportingInstance"] for e in rescales}, {leader})
        # The standby neither decides nor reports targets.
        self.assertEqual(replicas[standby].metric("epc_autoscaler_is_leader"), 0)
        self.assertIsNone(replicas[standby].metric(SCALED_TO, {"namespace": "default",
                                                               "target": "Deployment/web"}))
        self.assertEqual(replicas[standby].metric(
            "epc_autoscaler_reconcile_duration_seconds_count", {"loop": "horizontal"}), 0)

        # SIGTERM: the leader releases the lease and exits 0; the standby takes over.
        self.assertEqual(replicas[leader].stop(), 0)
        self.assertIn("stopped", replicas[leader].process.output())
        wait_until(lambda: holder() == standby, 15, message="the standby to take the lease")
        wait_until(lambda: replicas[standby].metric("epc_autoscaler_is_leader") == 1, 10,
                   message="the new holder to report is_leader 1")
        load["millicores"] = 300
        wait_until(lambda: self.api.replicas("web") == 2, 30,
                   message="the new leader to scale down" + self.debug(replicas[standby]))


if __name__ == "__main__":
    unittest.main(argv=e2e.parse_args(sys.argv))
