#!/usr/bin/env python3
"""Tests of fake_apiserver.py: each semantic with a raw HTTP client (http.client), and its
fidelity with the real kubectl from tools/bin (scripts/fetch-k8s-tools.sh puts it there).

Run: cd tests/doubles && python3 -m unittest -v test_fake_apiserver
Every test starts its own server on 127.0.0.1, port 0, and stops it in tearDown."""

import base64
import http.client
import json
import os
import queue
import random
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "fake_apiserver.py")
REPO = os.path.dirname(os.path.dirname(HERE))
KUBECTL = os.path.join(REPO, "tools", "bin", "kubectl")
JSON = "application/json"
MERGE = "application/merge-patch+json"
SMP = "application/strategic-merge-patch+json"
JSONPATCH = "application/json-patch+json"


# ------------------------------------------------------------------------------------------
# Harness
# ------------------------------------------------------------------------------------------


class FakeServer:
    """One fake_apiserver.py process on 127.0.0.1."""

    def __init__(self, *args, tls=None, port=0, state_file=None):
        self.tmp = tempfile.mkdtemp(prefix="fake-apiserver-test-")
        self.args = list(args)
        self.tls = tls  # (cert, key) or None
        self.state_file = state_file
        self.proc = None
        self.port = port
        self.start()

    def start(self):
        port_file = os.path.join(self.tmp, "port")
        if os.path.exists(port_file):
            os.unlink(port_file)
        cmd = [sys.executable, SERVER, "--port", str(self.port), "--port-file", port_file]
        if self.tls:
            cmd += ["--tls-cert", self.tls[0], "--tls-key", self.tls[1]]
        if self.state_file:
            cmd += ["--state-file", self.state_file]
        cmd += self.args
        self.stderr = open(os.path.join(self.tmp, "stderr"), "w")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if os.path.exists(port_file):
                with open(port_file) as f:
                    text = f.read().strip()
                if text:
                    self.port = int(text)
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError("fake apiserver did not start: %s" % self.read_stderr())

    def read_stderr(self):
        try:
            with open(os.path.join(self.tmp, "stderr")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self.stderr.close()

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def conn(self, timeout=10):
        if self.tls:
            ctx = ssl.create_default_context(cafile=self.tls[0])
            return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                               context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)


class Client:
    """A keep-alive JSON client."""

    def __init__(self, server, token=None):
        self.server = server
        self.token = token
        self.c = server.conn()

    def close(self):
        self.c.close()

    def request(self, method, path, body=None, ctype=JSON, headers=None, raw=False):
        h = {"Accept": JSON}
        if self.token:
            h["Authorization"] = "Bearer " + self.token
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h["Content-Type"] = ctype
        h.update(headers or {})
        for attempt in (1, 2):
            try:
                self.c.request(method, path, body=data, headers=h)
                resp = self.c.getresponse()
                payload = resp.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.c.close()
                self.c = self.server.conn()
                if attempt == 2:
                    raise
        if raw:
            return resp.status, resp, payload
        try:
            doc = json.loads(payload) if payload else None
        except ValueError:
            doc = payload.decode(errors="replace")
        return resp.status, doc

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.request("POST", path, body, **kw)

    def put(self, path, body, **kw):
        return self.request("PUT", path, body, **kw)

    def patch(self, path, body, ctype=MERGE, **kw):
        return self.request("PATCH", path, body, ctype=ctype, **kw)

    def delete(self, path, body=None, **kw):
        return self.request("DELETE", path, body, **kw)

    def ok(self, method, path, body=None, expect=(200, 201), **kw):
        if method == "PATCH":
            kw.setdefault("ctype", MERGE)
        status, doc = self.request(method, path, body, **kw)
        if status not in expect:
            raise AssertionError("%s %s -> %d %s" % (method, path, status, doc))
        return doc


class WatchStream:
    """Reads a watch response line by line on a thread; events land in a queue."""

    def __init__(self, server, path, token=None):
        self.conn = server.conn(timeout=30)
        headers = {"Accept": JSON}
        if token:
            headers["Authorization"] = "Bearer " + token
        self.conn.request("GET", path, headers=headers)
        self.resp = self.conn.getresponse()
        self.events = queue.Queue()
        self.ended = threading.Event()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            while True:
                line = self.resp.readline()
                if not line:
                    break
                if line.strip():
                    self.events.put(json.loads(line))
        except Exception as e:  # incomplete chunked read etc.
            self.error = e
        finally:
            self.ended.set()

    def next(self, timeout=5):
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError("no watch event within %ss" % timeout)

    def take(self, n, timeout=5):
        return [self.next(timeout) for _ in range(n)]

    def none_within(self, seconds):
        try:
            ev = self.events.get(timeout=seconds)
        except queue.Empty:
            return True
        raise AssertionError("unexpected event %s" % ev)

    def close(self):
        try:
            self.conn.sock and self.conn.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.conn.close()


def node(name, labels=None, ready=True, unschedulable=None, allocatable=None):
    n = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name}, "spec": {},
         "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                    "allocatable": allocatable or {"cpu": "4", "memory": "16Gi"},
                    "nodeInfo": {"kubeletVersion": "v1.33.0"}}}
    if labels:
        n["metadata"]["labels"] = labels
    if unschedulable is not None:
        n["spec"]["unschedulable"] = unschedulable
    return n


def pod(name, labels=None, ns=None, node_name=None, epc=None):
    c = {"name": "c", "image": "registry.example/app:1.0"}
    if epc:
        c["resources"] = {"limits": {"sgx.intel.com/epc": epc}}
    p = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
         "spec": {"containers": [c]}}
    if labels:
        p["metadata"]["labels"] = labels
    if ns:
        p["metadata"]["namespace"] = ns
    if node_name:
        p["spec"]["nodeName"] = node_name
    return p


def deployment(name, replicas=1, labels=None):
    labels = labels or {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": dict(labels)},
                     "template": {"metadata": {"labels": dict(labels)},
                                  "spec": {"containers": [{"name": "c", "image": "x:1"}]}}}}


PODS = "/api/v1/namespaces/default/pods"
NODES = "/api/v1/nodes"
DEPLOYS = "/apis/apps/v1/namespaces/default/deployments"


class ServerTestCase(unittest.TestCase):
    server_args = ()

    def setUp(self):
        self.server = FakeServer(*self.server_args)
        self.api = Client(self.server)

    def tearDown(self):
        self.api.close()
        self.server.cleanup()

    def assertStatus(self, doc, code, reason):
        self.assertIsInstance(doc, dict, doc)
        self.assertEqual(doc.get("kind"), "Status", doc)
        self.assertEqual(doc.get("apiVersion"), "v1", doc)
        self.assertEqual(doc.get("status"), "Failure", doc)
        self.assertEqual(doc.get("code"), code, doc)
        self.assertEqual(doc.get("reason"), reason, doc)

    def mkpod(self, name, **kw):
        return self.api.ok("POST", PODS, pod(name, **kw))

    def make_ready(self, name, node_name=None, ready=True):
        if node_name:
            self.api.ok("POST", PODS + "/%s/binding" % name,
                        {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                         "target": {"kind": "Node", "name": node_name}})
        self.api.ok("PATCH", PODS + "/%s/status" % name,
                    {"status": {"phase": "Running", "conditions": [
                        {"type": "Ready", "status": "True" if ready else "False"}]}},
                    ctype=SMP)


# ------------------------------------------------------------------------------------------
# Discovery and plain endpoints
# ------------------------------------------------------------------------------------------


class DiscoveryTest(ServerTestCase):
    def test_api_versions(self):
        status, doc = self.api.get("/api")
        self.assertEqual(status, 200)
        self.assertEqual(doc["kind"], "APIVersions")
        self.assertEqual(doc["versions"], ["v1"])

    def test_core_resource_list(self):
        status, doc = self.api.get("/api/v1")
        self.assertEqual(status, 200)
        self.assertEqual(doc["kind"], "APIResourceList")
        self.assertEqual(doc["groupVersion"], "v1")
        res = {r["name"]: r for r in doc["resources"]}
        self.assertEqual(res["nodes"]["shortNames"], ["no"])
        self.assertFalse(res["nodes"]["namespaced"])
        self.assertEqual(res["pods"]["shortNames"], ["po"])
        self.assertTrue(res["pods"]["namespaced"])
        self.assertEqual(res["pods"]["kind"], "Pod")
        self.assertIn("watch", res["pods"]["verbs"])
        self.assertEqual(res["pods/binding"]["verbs"], ["create"])
        self.assertEqual(res["pods/eviction"]["group"], "policy")
        self.assertEqual(res["pods/eviction"]["version"], "v1")
        self.assertEqual(res["pods/eviction"]["kind"], "Eviction")
        self.assertIn("pods/status", res)
        self.assertIn("namespaces", res)
        self.assertIn("events", res)

    def test_group_list_and_versions(self):
        status, doc = self.api.get("/apis")
        self.assertEqual(status, 200)
        self.assertEqual(doc["kind"], "APIGroupList")
        groups = {g["name"]: g for g in doc["groups"]}
        for g in ("apps", "coordination.k8s.io", "policy", "events.k8s.io", "cluster.x-k8s.io",
                  "metrics.k8s.io"):
            self.assertIn(g, groups)
        self.assertEqual(groups["cluster.x-k8s.io"]["preferredVersion"]["groupVersion"],
                         "cluster.x-k8s.io/v1beta1")
        status, doc = self.api.get("/apis/apps")
        self.assertEqual((status, doc["kind"], doc["name"]), (200, "APIGroup", "apps"))
        status, doc = self.api.get("/apis/apps/v1")
        res = {r["name"]: r for r in doc["resources"]}
        self.assertEqual(res["deployments/scale"]["group"], "autoscaling")
        self.assertEqual(res["deployments/scale"]["kind"], "Scale")
        self.assertIn("statefulsets/scale", res)
        self.assertIn("replicasets/scale", res)
        self.assertEqual(res["deployments"]["shortNames"], ["deploy"])
        status, doc = self.api.get("/apis/cluster.x-k8s.io/v1beta1")
        res = {r["name"]: r for r in doc["resources"]}
        self.assertIn("machinedeployments/scale", res)
        self.assertIn("machines", res)
        status, doc = self.api.get("/apis/metrics.k8s.io/v1beta1")
        res = {r["name"]: r for r in doc["resources"]}
        self.assertEqual(res["pods"]["kind"], "PodMetrics")
        self.assertEqual(sorted(res["nodes"]["verbs"]), ["get", "list"])
        for gv in ("coordination.k8s.io/v1", "policy/v1", "events.k8s.io/v1"):
            self.assertEqual(self.api.get("/apis/" + gv)[0], 200)

    def test_aggregated_discovery_request_gets_legacy_json(self):
        accept = ("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
                  "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
                  "application/json")
        for path, kind in (("/apis", "APIGroupList"), ("/api", "APIVersions")):
            status, resp, payload = self.api.request("GET", path, headers={"Accept": accept},
                                                     raw=True)
            self.assertEqual(status, 200)
            self.assertEqual(resp.getheader("Content-Type"), "application/json")
            self.assertEqual(json.loads(payload)["kind"], kind)

    def test_version_and_health(self):
        status, doc = self.api.get("/version")
        self.assertEqual(status, 200)
        self.assertEqual(doc["major"], "1")
        self.assertTrue(doc["gitVersion"].startswith("v1."))
        for p in ("/healthz", "/readyz", "/livez"):
            status, resp, payload = self.api.request("GET", p, raw=True)
            self.assertEqual((status, payload), (200, b"ok"))
        status, resp, payload = self.api.request("GET", "/readyz?verbose", raw=True)
        self.assertIn(b"readyz check passed", payload)

    def test_openapi_v3(self):
        status, doc = self.api.get("/openapi/v3")
        self.assertEqual(status, 200)
        self.assertIn("api/v1", doc["paths"])
        url = doc["paths"]["apis/apps/v1"]["serverRelativeURL"]
        status, doc = self.api.get(url)
        self.assertEqual(status, 200)
        op = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
        self.assertEqual(op["x-kubernetes-group-version-kind"]["kind"], "Deployment")
        self.assertIn("fieldValidation", [p["name"] for p in op["parameters"]])
        status, doc = self.api.get("/openapi/v2")
        self.assertEqual((status, doc["swagger"]), (200, "2.0"))
        status, resp, payload = self.api.request("GET", "/openapi/v2", headers={
            "Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}, raw=True)
        self.assertEqual(status, 200)
        self.assertTrue(payload.startswith(b"\x0a\x032.0\x12"))

    def test_unknown_paths(self):
        status, doc = self.api.get("/api/v1/widgets")
        self.assertEqual(status, 404)
        self.assertStatus(doc, 404, "NotFound")
        status, doc = self.api.get("/apis/nosuch.group/v1")
        self.assertEqual(status, 404)
        status, resp, payload = self.api.request("GET", "/nothing/here", raw=True)
        self.assertEqual(status, 404)
        status, doc = self.api.get("/api/v1/namespaces/default/nodes")
        self.assertEqual(status, 404)
        status, doc = self.api.post("/api", {})
        self.assertEqual(status, 405)
        self.assertStatus(doc, 405, "MethodNotAllowed")

    def test_protobuf_only_is_not_acceptable(self):
        status, doc = self.api.get(NODES, headers={"Accept": "application/vnd.kubernetes.protobuf"})
        self.assertEqual(status, 406)
        status, doc = self.api.get(NODES, headers={
            "Accept": "application/vnd.kubernetes.protobuf, application/json"})
        self.assertEqual(status, 200)


# ------------------------------------------------------------------------------------------
# CRUD
# ------------------------------------------------------------------------------------------


class CrudTest(ServerTestCase):
    def test_create_assigns_metadata(self):
        n = self.api.ok("POST", NODES, node("n1"))
        m = n["metadata"]
        self.assertEqual(n["kind"], "Node")
        self.assertEqual(n["apiVersion"], "v1")
        self.assertIsInstance(m["resourceVersion"], str)
        self.assertTrue(m["uid"])
        self.assertRegex(m["creationTimestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        self.assertNotIn("generation", m)
        d = self.api.ok("POST", DEPLOYS, deployment("web"))
        self.assertEqual(d["metadata"]["generation"], 1)
        self.assertGreater(int(d["metadata"]["resourceVersion"]), int(m["resourceVersion"]))
        status, got = self.api.get(NODES + "/n1")
        self.assertEqual(status, 200)
        self.assertEqual(got, n)

    def test_create_conflicts_and_errors(self):
        self.api.ok("POST", NODES, node("n1"))
        status, doc = self.api.post(NODES, node("n1"))
        self.assertEqual(status, 409)
        self.assertStatus(doc, 409, "AlreadyExists")
        self.assertEqual(doc["message"], 'nodes "n1" already exists')
        self.assertEqual(doc["details"], {"name": "n1", "kind": "nodes"})
        status, doc = self.api.post(DEPLOYS, deployment("web"))
        status, doc = self.api.post(DEPLOYS, deployment("web"))
        self.assertEqual(doc["message"], 'deployments.apps "web" already exists')
        self.assertEqual(doc["details"]["group"], "apps")
        bad = node("Bad_Name")
        status, doc = self.api.post(NODES, bad)
        self.assertEqual(status, 422)
        self.assertStatus(doc, 422, "Invalid")
        self.assertEqual(doc["details"]["causes"][0]["field"], "metadata.name")
        status, doc = self.api.post(NODES, pod("x"))
        self.assertEqual(status, 400)
        self.assertStatus(doc, 400, "BadRequest")
        status, doc = self.api.post(PODS, pod("x", ns="other"))
        self.assertEqual(status, 400)
        self.assertIn("does not match the namespace", doc["message"])
        status, doc = self.api.post(NODES, b"{not json")
        self.assertStatus(doc, 400, "BadRequest")
        with_rv = node("n2")
        with_rv["metadata"]["resourceVersion"] = "5"
        status, doc = self.api.post(NODES, with_rv)
        self.assertEqual(status, 500)
        self.assertEqual(doc["message"], "resourceVersion should not be set on objects to be "
                                         "created")
        status, doc = self.api.post(PODS, {"metadata": {"name": "nocontainers"}, "spec": {}})
        self.assertEqual(status, 422)
        self.assertEqual(doc["message"], 'Pod "nocontainers" is invalid: spec.containers: '
                                         'Required value')
        d = deployment("mismatch")
        d["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
        status, doc = self.api.post(DEPLOYS, d)
        self.assertEqual(status, 422)
        self.assertIn("`selector` does not match template `labels`", doc["message"])

    def test_get_not_found(self):
        status, doc = self.api.get(PODS + "/nope")
        self.assertEqual(status, 404)
        self.assertStatus(doc, 404, "NotFound")
        self.assertEqual(doc["message"], 'pods "nope" not found')
        self.assertEqual(doc["details"], {"name": "nope", "kind": "pods"})

    def test_generate_name_and_kind_defaulting(self):
        body = {"metadata": {"generateName": "web-"},
                "spec": {"containers": [{"name": "c", "image": "x"}]}}
        p = self.api.ok("POST", PODS, body)
        self.assertRegex(p["metadata"]["name"], r"^web-[a-z0-9]{5}$")
        self.assertEqual(p["kind"], "Pod")

    def test_namespaces_auto_exist(self):
        status, doc = self.api.get("/api/v1/namespaces")
        names = [n["metadata"]["name"] for n in doc["items"]]
        for ns in ("default", "kube-system"):
            self.assertIn(ns, names)
        self.api.ok("POST", "/api/v1/namespaces/team-a/pods", pod("p"))
        status, ns = self.api.get("/api/v1/namespaces/team-a")
        self.assertEqual(status, 200)
        self.assertEqual(ns["status"]["phase"], "Active")
        status, doc = self.api.delete("/api/v1/namespaces/default")
        self.assertEqual(status, 403)
        self.api.ok("DELETE", "/api/v1/namespaces/team-a")
        self.assertEqual(self.api.get("/api/v1/namespaces/team-a/pods/p")[0], 404)

    def test_update_conflict_and_no_op(self):
        n = self.api.ok("POST", NODES, node("n1"))
        stale = json.loads(json.dumps(n))
        n["metadata"]["labels"] = {"a": "b"}
        n2 = self.api.ok("PUT", NODES + "/n1", n)
        self.assertGreater(int(n2["metadata"]["resourceVersion"]),
                           int(n["metadata"]["resourceVersion"]))
        self.assertEqual(n2["metadata"]["uid"], n["metadata"]["uid"])
        stale["metadata"]["labels"] = {"a": "c"}
        status, doc = self.api.put(NODES + "/n1", stale)
        self.assertEqual(status, 409)
        self.assertStatus(doc, 409, "Conflict")
        self.assertEqual(doc["message"], 'Operation cannot be fulfilled on nodes "n1": the '
                                         'object has been modified; please apply your changes '
                                         'to the latest version and try again')
        # Without a resourceVersion the update is unconditional.
        del stale["metadata"]["resourceVersion"]
        n3 = self.api.ok("PUT", NODES + "/n1", stale)
        self.assertEqual(n3["metadata"]["labels"], {"a": "c"})
        # A no-op update changes nothing, not even the resourceVersion.
        n4 = self.api.ok("PUT", NODES + "/n1", n3)
        self.assertEqual(n4["metadata"]["resourceVersion"], n3["metadata"]["resourceVersion"])
        status, doc = self.api.put(NODES + "/zz", node("zz"))
        self.assertEqual(status, 404)
        status, doc = self.api.put(NODES + "/n1", node("other"))
        self.assertEqual(status, 400)

    def test_generation_bumps_on_spec_only(self):
        d = self.api.ok("POST", DEPLOYS, deployment("web"))
        d = self.api.ok("PATCH", DEPLOYS + "/web", {"metadata": {"labels": {"x": "y"}}})
        self.assertEqual(d["metadata"]["generation"], 1)
        d = self.api.ok("PATCH", DEPLOYS + "/web", {"spec": {"replicas": 4}})
        self.assertEqual(d["metadata"]["generation"], 2)
        d = self.api.ok("PATCH", DEPLOYS + "/web/status", {"status": {"replicas": 4}})
        self.assertEqual(d["metadata"]["generation"], 2)

    def test_resource_versions_increase_globally(self):
        rvs = []
        for i in range(5):
            rvs.append(int(self.api.ok("POST", NODES, node("n%d" % i))["metadata"]
                           ["resourceVersion"]))
            rvs.append(int(self.mkpod("p%d" % i)["metadata"]["resourceVersion"]))
        self.assertEqual(rvs, sorted(rvs))
        self.assertEqual(len(set(rvs)), len(rvs))

    def test_delete(self):
        p = self.mkpod("p1")
        status, doc = self.api.delete(PODS + "/p1")
        self.assertEqual(status, 200)
        self.assertEqual(doc["metadata"]["uid"], p["metadata"]["uid"])
        self.assertEqual(self.api.get(PODS + "/p1")[0], 404)
        status, doc = self.api.delete(PODS + "/p1")
        self.assertEqual(status, 404)
        self.assertStatus(doc, 404, "NotFound")
        self.mkpod("p2")
        status, doc = self.api.delete(PODS + "/p2", {"kind": "DeleteOptions",
                                                    "apiVersion": "v1",
                                                    "preconditions": {"uid": "nope"}})
        self.assertEqual(status, 409)
        self.assertEqual(self.api.get(PODS + "/p2")[0], 200)
        status, doc = self.api.delete(PODS + "/p2?dryRun=All")
        self.assertEqual(status, 200)
        self.assertEqual(self.api.get(PODS + "/p2")[0], 200)

    def test_finalizers_delay_deletion(self):
        n = node("n1")
        n["metadata"]["finalizers"] = ["example.com/keep"]
        self.api.ok("POST", NODES, n)
        status, doc = self.api.delete(NODES + "/n1")
        self.assertEqual(status, 202)
        self.assertTrue(doc["metadata"]["deletionTimestamp"])
        self.assertEqual(self.api.get(NODES + "/n1")[0], 200)
        self.api.ok("PATCH", NODES + "/n1", {"metadata": {"finalizers": None}})
        self.assertEqual(self.api.get(NODES + "/n1")[0], 404)

    def test_delete_collection(self):
        for i in range(4):
            self.mkpod("p%d" % i, labels={"app": "a" if i % 2 else "b"})
        status, doc = self.api.delete(PODS + "?labelSelector=app%3Da")
        self.assertEqual(status, 200)
        self.assertEqual(doc["kind"], "PodList")
        self.assertEqual(sorted(i["metadata"]["name"] for i in doc["items"]), ["p1", "p3"])
        status, doc = self.api.get(PODS)
        self.assertEqual(sorted(i["metadata"]["name"] for i in doc["items"]), ["p0", "p2"])

    def test_pod_defaults_and_status_on_create(self):
        body = pod("p1", epc="10Mi")
        body["status"] = {"phase": "Running"}
        p = self.api.ok("POST", PODS, body)
        c = p["spec"]["containers"][0]
        self.assertEqual(c["resources"]["requests"], {"sgx.intel.com/epc": "10Mi"})
        self.assertEqual(p["spec"]["schedulerName"], "default-scheduler")
        self.assertEqual(p["spec"]["restartPolicy"], "Always")
        self.assertEqual(c["imagePullPolicy"], "IfNotPresent")
        self.assertEqual(p["status"], {"phase": "Pending", "qosClass": "BestEffort"})
        d = deployment("web")
        del d["spec"]["replicas"]
        d["status"] = {"replicas": 7}
        d = self.api.ok("POST", DEPLOYS, d)
        self.assertEqual(d["spec"]["replicas"], 1)
        self.assertEqual(d["status"], {})

    def test_status_subresource_separation(self):
        self.mkpod("p1")
        p = self.api.ok("GET", PODS + "/p1")
        p["status"]["phase"] = "Running"
        p["metadata"]["labels"] = {"x": "1"}
        p = self.api.ok("PUT", PODS + "/p1", p)
        self.assertEqual(p["status"]["phase"], "Pending")  # main resource ignores status
        self.assertEqual(p["metadata"]["labels"], {"x": "1"})
        p["status"]["phase"] = "Running"
        p["metadata"]["labels"] = {"x": "2"}
        p = self.api.ok("PUT", PODS + "/p1/status", p)
        self.assertEqual(p["status"]["phase"], "Running")
        self.assertEqual(p["metadata"]["labels"], {"x": "1"})  # status ignores the rest
        status, doc = self.api.get(PODS + "/p1/status")
        self.assertEqual(doc["status"]["phase"], "Running")
        status, doc = self.api.put(PODS + "/nope/status", pod("nope"))
        self.assertEqual(status, 404)

    def test_pod_spec_is_immutable(self):
        self.mkpod("p1")
        status, doc = self.api.patch(PODS + "/p1", {"spec": {"nodeName": "n1"}})
        self.assertEqual(status, 422)
        self.assertStatus(doc, 422, "Invalid")
        self.assertIn("pod updates may not change fields", doc["message"])
        p = self.api.ok("PATCH", PODS + "/p1", {"spec": {"containers": [
            {"name": "c", "image": "registry.example/app:2.0"}]}}, ctype=SMP)
        self.assertEqual(p["spec"]["containers"][0]["image"], "registry.example/app:2.0")

    def test_method_not_allowed(self):
        self.assertEqual(self.api.put(PODS, pod("x"))[0], 405)
        self.assertEqual(self.api.post(PODS + "/x", pod("x"))[0], 405)
        self.assertEqual(self.api.post("/api/v1/pods", pod("x"))[0], 405)
        self.assertEqual(self.api.post(PODS + "/x/status", pod("x"))[0], 405)

    def test_all_resources_roundtrip(self):
        objs = [
            ("/api/v1/namespaces/default/configmaps", {"metadata": {"name": "c"},
                                                      "data": {"k": "v"}}),
            ("/api/v1/namespaces/default/services", {"metadata": {"name": "s"}, "spec": {}}),
            ("/apis/apps/v1/namespaces/default/statefulsets",
             dict(deployment("sts"), kind="StatefulSet")),
            ("/apis/apps/v1/namespaces/default/replicasets",
             dict(deployment("rs"), kind="ReplicaSet")),
            ("/apis/coordination.k8s.io/v1/namespaces/kube-system/leases",
             {"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}}),
            ("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
             {"metadata": {"name": "pdb"}, "spec": {"minAvailable": 1, "selector": {}}}),
            ("/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machinedeployments",
             {"metadata": {"name": "md"}, "spec": {"clusterName": "c"}}),
            ("/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machines",
             {"metadata": {"name": "m"}, "spec": {"clusterName": "c"}}),
        ]
        for path, body in objs:
            created = self.api.ok("POST", path, body)
            status, got = self.api.get(path + "/" + body["metadata"]["name"])
            self.assertEqual((status, got), (200, created), path)
            status, lst = self.api.get(path)
            self.assertEqual(len(lst["items"]), 1, path)
        status, lst = self.api.get("/apis/cluster.x-k8s.io/v1beta1/machinedeployments")
        self.assertEqual(lst["kind"], "MachineDeploymentList")
        self.assertEqual(lst["items"][0]["kind"], "MachineDeployment")  # CRs keep kind


# ------------------------------------------------------------------------------------------
# Patch
# ------------------------------------------------------------------------------------------


class PatchTest(ServerTestCase):
    def test_merge_patch(self):
        n = node("n1", labels={"a": "1", "b": "2"})
        self.api.ok("POST", NODES, n)
        n = self.api.ok("PATCH", NODES + "/n1", {"metadata": {"labels": {"a": None, "c": "3"}}})
        self.assertEqual(n["metadata"]["labels"], {"b": "2", "c": "3"})

    def test_strategic_merge_patch(self):
        self.api.ok("POST", NODES, node("n1"))
        n = self.api.ok("PATCH", NODES + "/n1", {"spec": {"unschedulable": True}}, ctype=SMP)
        self.assertTrue(n["spec"]["unschedulable"])
        self.mkpod("p1")
        self.api.ok("PATCH", PODS + "/p1/status", {"status": {"conditions": [
            {"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}]}},
            ctype=SMP)
        p = self.api.ok("PATCH", PODS + "/p1/status", {"status": {"conditions": [
            {"type": "Ready", "status": "True"}]}}, ctype=SMP)
        conds = {c["type"]: c["status"] for c in p["status"]["conditions"]}
        self.assertEqual(conds, {"Ready": "True", "PodScheduled": "True"})
        p = self.api.ok("PATCH", PODS + "/p1/status", {"status": {"conditions": [
            {"type": "Ready", "$patch": "delete"}]}}, ctype=SMP)
        self.assertEqual([c["type"] for c in p["status"]["conditions"]], ["PodScheduled"])
        p = self.api.ok("PATCH", PODS + "/p1", {"metadata": {"finalizers": ["a/b"]}}, ctype=SMP)
        p = self.api.ok("PATCH", PODS + "/p1", {"metadata": {"finalizers": ["c/d"]}}, ctype=SMP)
        self.assertEqual(p["metadata"]["finalizers"], ["a/b", "c/d"])
        p = self.api.ok("PATCH", PODS + "/p1", {"metadata": {
            "$deleteFromPrimitiveList/finalizers": ["a/b", "c/d"]}}, ctype=SMP)
        self.assertEqual(p["metadata"]["finalizers"], [])

    def test_json_patch(self):
        self.api.ok("POST", NODES, node("n1", labels={"a": "1"}))
        n = self.api.ok("PATCH", NODES + "/n1", [
            {"op": "add", "path": "/metadata/labels/b~1c", "value": "2"},
            {"op": "replace", "path": "/metadata/labels/a", "value": "9"},
            {"op": "add", "path": "/spec/taints", "value": []},
            {"op": "add", "path": "/spec/taints/-", "value": {"key": "k", "effect": "NoSchedule"}},
            {"op": "copy", "from": "/metadata/labels/a", "path": "/metadata/labels/d"},
            {"op": "remove", "path": "/metadata/labels/d"},
            {"op": "test", "path": "/metadata/labels/a", "value": "9"},
        ], ctype=JSONPATCH)
        self.assertEqual(n["metadata"]["labels"], {"a": "9", "b/c": "2"})
        self.assertEqual(n["spec"]["taints"], [{"key": "k", "effect": "NoSchedule"}])
        status, doc = self.api.patch(NODES + "/n1", [
            {"op": "test", "path": "/metadata/labels/a", "value": "0"}], ctype=JSONPATCH)
        self.assertEqual(status, 422)
        status, doc = self.api.patch(NODES + "/n1", [
            {"op": "remove", "path": "/metadata/labels/zzz"}], ctype=JSONPATCH)
        self.assertEqual(status, 422)
        status, doc = self.api.patch(NODES + "/n1", {"op": "x"}, ctype=JSONPATCH)
        self.assertEqual(status, 400)

    def test_patch_errors(self):
        self.api.ok("POST", NODES, node("n1"))
        status, doc = self.api.patch(NODES + "/n1", {"a": 1}, ctype="text/plain")
        self.assertEqual(status, 415)
        self.assertStatus(doc, 415, "UnsupportedMediaType")
        status, doc = self.api.patch(NODES + "/zz", {"a": 1})
        self.assertEqual(status, 404)
        status, doc = self.api.patch(NODES + "/n1", {"metadata": {"resourceVersion": "1"}})
        self.assertEqual(status, 409)
        self.assertStatus(doc, 409, "Conflict")
        self.api.ok("POST", "/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machines",
                    {"metadata": {"name": "m"}, "spec": {}})
        status, doc = self.api.patch(
            "/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machines/m",
            {"metadata": {"labels": {"a": "b"}}}, ctype=SMP)
        self.assertEqual(status, 415)
        status, doc = self.api.patch(NODES + "/n1", b"{bad", ctype=MERGE)
        self.assertEqual(status, 400)

    def test_apply_patch_approximation(self):
        path = "/api/v1/namespaces/default/configmaps/c?fieldManager=test"
        status, doc = self.api.patch(path, {"apiVersion": "v1", "kind": "ConfigMap",
                                            "metadata": {"name": "c"}, "data": {"a": "1"}},
                                     ctype="application/apply-patch+yaml")
        self.assertEqual(status, 201)
        status, doc = self.api.patch(path, {"data": {"b": "2"}},
                                     ctype="application/apply-patch+yaml")
        self.assertEqual((status, doc["data"]), (200, {"a": "1", "b": "2"}))


# ------------------------------------------------------------------------------------------
# List
# ------------------------------------------------------------------------------------------


class ListTest(ServerTestCase):
    def setUp(self):
        super().setUp()
        spec = [("a", {"app": "web", "tier": "fe", "env": "prod"}, "n1"),
                ("b", {"app": "web", "tier": "be"}, "n2"),
                ("c", {"app": "db", "env": "dev"}, None),
                ("d", {"app": "db", "version": "5"}, "n1"),
                ("e", {}, None)]
        for name, labels, nn in spec:
            self.mkpod(name, labels=labels)
            if nn:
                self.make_ready(name, nn)

    def names(self, query, path=PODS):
        status, doc = self.api.get(path + "?" + urllib.parse.urlencode(query))
        self.assertEqual(status, 200, doc)
        return sorted(i["metadata"]["name"] for i in doc["items"])

    def test_list_shape(self):
        status, doc = self.api.get(PODS)
        self.assertEqual(doc["kind"], "PodList")
        self.assertEqual(doc["apiVersion"], "v1")
        self.assertEqual(len(doc["items"]), 5)
        self.assertNotIn("kind", doc["items"][0])  # typed lists: no per-item kind
        rv = int(doc["metadata"]["resourceVersion"])
        self.assertGreaterEqual(rv, max(int(i["metadata"]["resourceVersion"])
                                        for i in doc["items"]))
        self.api.ok("POST", NODES, node("x"))
        status, doc2 = self.api.get(PODS)
        self.assertGreater(int(doc2["metadata"]["resourceVersion"]), rv)
        status, doc = self.api.get("/api/v1/pods")
        self.assertEqual(len(doc["items"]), 5)
        self.api.ok("POST", "/api/v1/namespaces/other/pods", pod("z"))
        self.assertEqual(len(self.api.get("/api/v1/pods")[1]["items"]), 6)
        self.assertEqual(len(self.api.get(PODS)[1]["items"]), 5)

    def test_label_selectors(self):
        self.assertEqual(self.names({"labelSelector": "app=web"}), ["a", "b"])
        self.assertEqual(self.names({"labelSelector": "app==web"}), ["a", "b"])
        self.assertEqual(self.names({"labelSelector": "app!=web"}), ["c", "d", "e"])
        self.assertEqual(self.names({"labelSelector": "app in (web, db)"}),
                         ["a", "b", "c", "d"])
        self.assertEqual(self.names({"labelSelector": "app notin (web)"}), ["c", "d", "e"])
        self.assertEqual(self.names({"labelSelector": "env"}), ["a", "c"])
        self.assertEqual(self.names({"labelSelector": "!env"}), ["b", "d", "e"])
        self.assertEqual(self.names({"labelSelector": "app=web,tier=fe"}), ["a"])
        self.assertEqual(self.names({"labelSelector": "app in (db),env notin (dev)"}), ["d"])
        self.assertEqual(self.names({"labelSelector": "version>4"}), ["d"])
        for bad in ("app in ()", "a b", "===", "app=web,", "Bad Key=1"):
            status, doc = self.api.get(PODS + "?" + urllib.parse.urlencode(
                {"labelSelector": bad}))
            self.assertEqual(status, 400, bad)
            self.assertStatus(doc, 400, "BadRequest")

    def test_field_selectors(self):
        self.assertEqual(self.names({"fieldSelector": "metadata.name=c"}), ["c"])
        self.assertEqual(self.names({"fieldSelector": "spec.nodeName=n1"}), ["a", "d"])
        self.assertEqual(self.names({"fieldSelector": "spec.nodeName="}), ["c", "e"])
        self.assertEqual(self.names({"fieldSelector": "spec.nodeName!="}), ["a", "b", "d"])
        self.assertEqual(self.names({"fieldSelector": "status.phase=Running"}), ["a", "b", "d"])
        self.assertEqual(self.names({"fieldSelector": "status.phase!=Running,metadata.name!=e"}),
                         ["c"])
        self.assertEqual(self.names({"fieldSelector": "metadata.namespace==default",
                                     "labelSelector": "app=db"}), ["c", "d"])
        status, doc = self.api.get(PODS + "?fieldSelector=spec.foo%3Dx")
        self.assertEqual(status, 400)
        self.assertStatus(doc, 400, "BadRequest")
        self.assertEqual(doc["message"], "field label not supported: spec.foo")
        status, doc = self.api.get(PODS + "?fieldSelector=garbage")
        self.assertEqual(status, 400)
        self.api.ok("POST", NODES, node("n1", unschedulable=True))
        self.api.ok("POST", NODES, node("n2"))
        self.assertEqual(self.names({"fieldSelector": "spec.unschedulable!=true"}, NODES),
                         ["n2"])
        self.assertEqual(self.api.get(NODES + "?fieldSelector=metadata.namespace%3Dx")[0], 400)

    def test_paging(self):
        seen, cont, pages = [], "", 0
        while True:
            q = {"limit": "2"}
            if cont:
                q["continue"] = cont
            status, doc = self.api.get(PODS + "?" + urllib.parse.urlencode(q))
            self.assertEqual(status, 200)
            pages += 1
            seen += [i["metadata"]["name"] for i in doc["items"]]
            if pages == 1:
                self.assertEqual(doc["metadata"]["remainingItemCount"], 3)
                first_rv = doc["metadata"]["resourceVersion"]
                # Changes after the first page are not seen: pages form one snapshot.
                self.api.ok("DELETE", PODS + "/c")
                self.mkpod("bb")
            else:
                self.assertEqual(doc["metadata"]["resourceVersion"], first_rv)
            cont = doc["metadata"].get("continue")
            if not cont:
                break
        self.assertEqual(seen, ["a", "b", "c", "d", "e"])
        self.assertEqual(pages, 3)
        # With a selector, pages hold matching items.
        status, doc = self.api.get(PODS + "?limit=1&labelSelector=app%3Ddb")
        self.assertEqual([i["metadata"]["name"] for i in doc["items"]], ["d"])
        self.assertNotIn("remainingItemCount", doc["metadata"])

    def test_continue_errors(self):
        status, doc = self.api.get(PODS + "?limit=2")
        cont = doc["metadata"]["continue"]
        status, doc = self.api.get(PODS + "?continue=%%%%garbage")
        self.assertEqual(status, 400)
        status, doc = self.api.get(PODS + "?continue=" + cont + "&resourceVersion=5")
        self.assertEqual(status, 400)
        self.mkpod("zz")
        self.api.ok("POST", "/__test/compact")
        status, doc = self.api.get(PODS + "?limit=2&continue=" + urllib.parse.quote(cont))
        self.assertEqual(status, 410)
        self.assertStatus(doc, 410, "Expired")
        self.assertIn("continue parameter is too old", doc["message"])

    def test_resource_version_semantics(self):
        status, doc = self.api.get(PODS)
        rv = int(doc["metadata"]["resourceVersion"])
        self.api.ok("DELETE", PODS + "/a")
        status, doc = self.api.get(PODS + "?resourceVersion=%d&resourceVersionMatch=Exact" % rv)
        self.assertEqual(status, 200)
        self.assertEqual(len(doc["items"]), 5)
        self.assertEqual(doc["metadata"]["resourceVersion"], str(rv))
        status, doc = self.api.get(PODS + "?resourceVersion=%d" % rv)
        self.assertEqual(len(doc["items"]), 4)  # NotOlderThan: the newest state
        status, doc = self.api.get(PODS + "?resourceVersion=0")
        self.assertEqual(len(doc["items"]), 4)
        t0 = time.monotonic()
        status, doc = self.api.get(PODS + "?resourceVersion=%d" % (rv + 1000))
        self.assertEqual(status, 504)
        self.assertGreater(time.monotonic() - t0, 2)
        self.assertEqual(doc["details"]["causes"][0]["reason"], "ResourceVersionTooLarge")
        status, doc = self.api.get(PODS + "?resourceVersionMatch=Exact")
        self.assertEqual(status, 422)

    def test_table_output(self):
        accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        status, doc = self.api.get(PODS, headers={"Accept": accept})
        self.assertEqual(doc["kind"], "Table")
        self.assertEqual(doc["columnDefinitions"][0]["name"], "Name")
        self.assertEqual(len(doc["rows"]), 5)
        self.assertEqual(doc["rows"][0]["object"]["kind"], "PartialObjectMetadata")
        status, doc = self.api.get(
            PODS, headers={"Accept": "application/json;as=PartialObjectMetadataList;v=v1;"
                                     "g=meta.k8s.io"})
        self.assertEqual(doc["kind"], "PartialObjectMetadataList")


# ------------------------------------------------------------------------------------------
# Watch
# ------------------------------------------------------------------------------------------


class WatchTest(ServerTestCase):
    server_args = ("--bookmark-interval", "0.3", "--watch-cache-size", "50")

    def watch(self, path):
        w = WatchStream(self.server, path)
        self.addCleanup(w.close)
        return w

    def test_initial_then_live_events(self):
        self.mkpod("a")
        w = self.watch(PODS + "?watch=true")
        self.assertEqual(w.resp.status, 200)
        self.assertEqual(w.resp.getheader("Transfer-Encoding"), "chunked")
        self.assertEqual(w.resp.getheader("Content-Type"), "application/json")
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "a"))
        self.assertEqual(ev["object"]["kind"], "Pod")
        self.mkpod("b")
        p = self.api.ok("PATCH", PODS + "/b", {"metadata": {"labels": {"x": "y"}}})
        self.api.ok("DELETE", PODS + "/b")
        evs = w.take(3)
        self.assertEqual([e["type"] for e in evs], ["ADDED", "MODIFIED", "DELETED"])
        self.assertEqual(evs[1]["object"]["metadata"]["resourceVersion"],
                         p["metadata"]["resourceVersion"])
        rvs = [int(e["object"]["metadata"]["resourceVersion"]) for e in evs]
        self.assertEqual(rvs, sorted(rvs))
        self.assertGreater(rvs[2], rvs[1])  # DELETED carries the deletion's resourceVersion

    def test_resume_from_resource_version(self):
        self.mkpod("a")
        rv = self.api.get(PODS)[1]["metadata"]["resourceVersion"]
        self.mkpod("b")
        self.api.ok("DELETE", PODS + "/a")
        w = self.watch(PODS + "?watch=1&resourceVersion=" + rv)
        evs = w.take(2)
        self.assertEqual([(e["type"], e["object"]["metadata"]["name"]) for e in evs],
                         [("ADDED", "b"), ("DELETED", "a")])
        w.none_within(0.3)
        self.mkpod("c")
        self.assertEqual(w.next()["object"]["metadata"]["name"], "c")

    def test_too_old_resource_version_gives_410_event(self):
        first = self.mkpod("a")["metadata"]["resourceVersion"]
        for i in range(60):  # more than --watch-cache-size
            self.api.ok("PATCH", PODS + "/a", {"metadata": {"labels": {"i": str(i)}}})
        w = self.watch(PODS + "?watch=1&resourceVersion=" + first)
        self.assertEqual(w.resp.status, 200)
        ev = w.next()
        self.assertEqual(ev["type"], "ERROR")
        self.assertStatus(ev["object"], 410, "Expired")
        self.assertIn("too old resource version", ev["object"]["message"])
        self.assertTrue(w.ended.wait(5))
        self.assertIsNone(w.error)  # a clean end of the stream

    def test_compact_expires_history(self):
        rv = self.mkpod("a")["metadata"]["resourceVersion"]
        self.mkpod("b")
        w = self.watch(PODS + "?watch=1&resourceVersion=" + rv)
        self.assertEqual(w.next()["object"]["metadata"]["name"], "b")
        doc = self.api.ok("POST", "/__test/compact")
        w2 = self.watch(PODS + "?watch=1&resourceVersion=" + rv)
        self.assertEqual(w2.next()["type"], "ERROR")
        # From the compaction point on, resuming works.
        w3 = self.watch(PODS + "?watch=1&resourceVersion=" + doc["resourceVersion"])
        self.mkpod("c")
        self.assertEqual(w3.next()["object"]["metadata"]["name"], "c")
        self.assertEqual(w.next()["object"]["metadata"]["name"], "c")  # open watch unaffected

    def test_history_is_per_resource(self):
        rv = self.mkpod("a")["metadata"]["resourceVersion"]
        for i in range(60):
            self.api.ok("POST", NODES, node("n%d" % i))
        w = self.watch(PODS + "?watch=1&resourceVersion=" + rv)
        self.mkpod("b")
        self.assertEqual(w.next()["object"]["metadata"]["name"], "b")

    def test_bookmarks(self):
        self.mkpod("a")
        w = self.watch(PODS + "?watch=1&allowWatchBookmarks=true&labelSelector=app%3Dnone")
        ev = w.next(3)
        self.assertEqual(ev["type"], "BOOKMARK")
        self.assertEqual(ev["object"]["kind"], "Pod")
        self.assertEqual(ev["object"]["apiVersion"], "v1")
        self.assertEqual(set(ev["object"]), {"kind", "apiVersion", "metadata"})
        rv1 = int(ev["object"]["metadata"]["resourceVersion"])
        self.mkpod("b")  # filtered out, yet the bookmark moves past it
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            ev = w.next(3)
            self.assertEqual(ev["type"], "BOOKMARK")
            if int(ev["object"]["metadata"]["resourceVersion"]) > rv1:
                break
        else:
            self.fail("bookmark resourceVersion did not advance")
        w2 = self.watch(PODS + "?watch=1")
        w2.take(2)
        w2.none_within(0.8)  # no bookmarks unless asked for

    def test_send_initial_events(self):
        self.mkpod("a")
        self.mkpod("b")
        w = self.watch(PODS + "?watch=1&sendInitialEvents=true&allowWatchBookmarks=true"
                              "&resourceVersionMatch=NotOlderThan&resourceVersion=")
        evs = w.take(3)
        self.assertEqual([e["type"] for e in evs], ["ADDED", "ADDED", "BOOKMARK"])
        self.assertEqual(evs[2]["object"]["metadata"]["annotations"],
                         {"k8s.io/initial-events-end": "true"})
        status, doc = self.api.get(PODS + "?watch=1&sendInitialEvents=true")
        self.assertEqual(status, 422)

    def test_timeout_seconds(self):
        w = self.watch(PODS + "?watch=1&timeoutSeconds=1")
        t0 = time.monotonic()
        self.assertTrue(w.ended.wait(5))
        self.assertIsNone(w.error)
        self.assertLess(time.monotonic() - t0, 3)

    def test_selector_transitions(self):
        self.mkpod("a", labels={"app": "web"})
        w = self.watch(PODS + "?watch=1&labelSelector=app%3Dweb")
        self.assertEqual(w.next()["type"], "ADDED")
        self.api.ok("PATCH", PODS + "/a", {"metadata": {"labels": {"app": "db"}}})
        ev = w.next()
        self.assertEqual(ev["type"], "DELETED")
        self.assertEqual(ev["object"]["metadata"]["labels"], {"app": "web"})
        self.api.ok("PATCH", PODS + "/a", {"metadata": {"labels": {"app": "web"}}})
        self.assertEqual(w.next()["type"], "ADDED")
        self.mkpod("other", labels={"app": "db"})
        w.none_within(0.3)
        fw = self.watch("/api/v1/pods?watch=1&fieldSelector=spec.nodeName%3Dn1")
        self.make_ready("a", "n1")
        ev = fw.next()
        self.assertEqual((ev["type"], ev["object"]["spec"]["nodeName"]), ("ADDED", "n1"))

    def test_legacy_watch_paths(self):
        self.mkpod("a")
        self.mkpod("b")
        w = self.watch("/api/v1/watch/namespaces/default/pods")
        self.assertEqual(len(w.take(2)), 2)
        w1 = self.watch("/api/v1/watch/namespaces/default/pods/b")
        self.assertEqual(w1.next()["object"]["metadata"]["name"], "b")
        self.api.ok("PATCH", PODS + "/a", {"metadata": {"labels": {"x": "1"}}})
        self.api.ok("PATCH", PODS + "/b", {"metadata": {"labels": {"x": "1"}}})
        self.assertEqual(w1.next()["object"]["metadata"]["name"], "b")
        wn = self.watch("/api/v1/watch/nodes")
        self.api.ok("POST", NODES, node("n1"))
        self.assertEqual(wn.next()["object"]["kind"], "Node")
        wa = self.watch("/apis/apps/v1/watch/deployments")
        self.api.ok("POST", DEPLOYS, deployment("web"))
        self.assertEqual(wa.next()["object"]["kind"], "Deployment")

    def raw_watch(self, path):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=10)
        self.addCleanup(s.close)
        s.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n"
                  % path.encode())
        return s

    @staticmethod
    def read_to_eof(s):
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return data
            data += chunk

    def test_drop_watches(self):
        self.mkpod("a")
        raw = self.raw_watch(PODS + "?watch=1")
        w2 = self.watch(NODES + "?watch=1")
        deadline = time.monotonic() + 5
        while self.api.ok("GET", "/__test/watches")["count"] < 2:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.02)
        doc = self.api.ok("POST", "/__test/drop-watches")
        self.assertEqual(doc["dropped"], 2)
        data = self.read_to_eof(raw)
        self.assertIn(b"Transfer-Encoding: chunked", data)
        self.assertIn(b'"type":"ADDED"', data)
        self.assertFalse(data.endswith(b"0\r\n\r\n"), data)  # abrupt: no last chunk
        self.assertTrue(w2.ended.wait(5))
        self.assertEqual(self.api.ok("GET", "/__test/watches")["count"], 0)
        # New watches work as before.
        w3 = self.watch(PODS + "?watch=1")
        self.assertEqual(w3.next()["type"], "ADDED")

    def test_clean_end_of_stream(self):
        data = self.read_to_eof(self.raw_watch(PODS + "?watch=1&timeoutSeconds=1"))
        self.assertTrue(data.endswith(b"\r\n0\r\n\r\n"), data)

    def test_watch_many_events_in_order(self):
        w = self.watch(PODS + "?watch=1")
        for i in range(30):
            self.mkpod("p%02d" % i)
        names = [e["object"]["metadata"]["name"] for e in w.take(30)]
        self.assertEqual(names, ["p%02d" % i for i in range(30)])

    def test_watch_bad_resource_version(self):
        status, doc = self.api.get(PODS + "?watch=1&resourceVersion=abc")
        self.assertEqual(status, 400)


# ------------------------------------------------------------------------------------------
# Subresources: binding, eviction, scale
# ------------------------------------------------------------------------------------------


class BindingTest(ServerTestCase):
    def binding(self, pod_name, node_name, **meta):
        m = {"name": pod_name}
        m.update(meta)
        return {"apiVersion": "v1", "kind": "Binding", "metadata": m,
                "target": {"apiVersion": "v1", "kind": "Node", "name": node_name}}

    def test_bind(self):
        self.mkpod("p1")
        status, doc = self.api.post(PODS + "/p1/binding", self.binding("p1", "n1"))
        self.assertEqual(status, 201)
        self.assertEqual(doc, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Success", "code": 201})
        p = self.api.ok("GET", PODS + "/p1")
        self.assertEqual(p["spec"]["nodeName"], "n1")
        self.assertIn({"type": "PodScheduled", "status": "True"},
                      [{"type": c["type"], "status": c["status"]}
                       for c in p["status"]["conditions"]])

    def test_already_bound(self):
        self.mkpod("p1")
        self.api.ok("POST", PODS + "/p1/binding", self.binding("p1", "n1"))
        status, doc = self.api.post(PODS + "/p1/binding", self.binding("p1", "n2"))
        self.assertEqual(status, 409)
        self.assertStatus(doc, 409, "Conflict")
        self.assertEqual(doc["message"], 'Operation cannot be fulfilled on pods/binding "p1": '
                                         'pod p1 is already assigned to node "n1"')

    def test_binding_errors(self):
        status, doc = self.api.post(PODS + "/nope/binding", self.binding("nope", "n1"))
        self.assertEqual(status, 404)
        self.mkpod("p1")
        status, doc = self.api.post(PODS + "/p1/binding", self.binding("other", "n1"))
        self.assertEqual(status, 400)
        status, doc = self.api.post(PODS + "/p1/binding", {"metadata": {"name": "p1"},
                                                          "target": {"kind": "Pod", "name": "x"}})
        self.assertEqual(status, 422)
        status, doc = self.api.post(PODS + "/p1/binding", self.binding("p1", "n1", uid="bad"))
        self.assertEqual(status, 409)
        self.assertEqual(self.api.ok("GET", PODS + "/p1")["spec"].get("nodeName"), None)

    def test_bindings_collection(self):
        self.mkpod("p1")
        status, doc = self.api.post("/api/v1/namespaces/default/bindings",
                                    self.binding("p1", "n7"))
        self.assertEqual(status, 201)
        self.assertEqual(self.api.ok("GET", PODS + "/p1")["spec"]["nodeName"], "n7")


class EvictionTest(ServerTestCase):
    def evict(self, name):
        return self.api.post(PODS + "/%s/eviction" % name, {
            "apiVersion": "policy/v1", "kind": "Eviction",
            "metadata": {"name": name, "namespace": "default"}})

    def pdb(self, name, spec):
        return self.api.ok("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                           {"metadata": {"name": name}, "spec": spec})

    def pods(self, n, ready=True, labels=None, owner=None):
        for i in range(n):
            body = pod("db-%d" % i, labels=labels or {"app": "db"})
            if owner:
                body["metadata"]["ownerReferences"] = [{
                    "apiVersion": owner["apiVersion"], "kind": owner["kind"],
                    "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
                    "controller": True}]
            self.api.ok("POST", PODS, body)
            self.make_ready("db-%d" % i, "n1", ready=ready)

    def statefulset(self, replicas):
        sts = dict(deployment("db", replicas=replicas), kind="StatefulSet")
        return self.api.ok("POST", "/apis/apps/v1/namespaces/default/statefulsets", sts)

    def test_evict_without_pdb(self):
        self.pods(1)
        status, doc = self.evict("db-0")
        self.assertEqual(status, 201)
        self.assertEqual(doc["status"], "Success")
        self.assertEqual(self.api.get(PODS + "/db-0")[0], 404)
        status, doc = self.evict("db-0")
        self.assertEqual(status, 404)

    def test_min_available_blocks(self):
        self.pods(2)
        self.pdb("db", {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}})
        status, doc = self.evict("db-0")
        self.assertEqual(status, 429)
        self.assertStatus(doc, 429, "TooManyRequests")
        self.assertEqual(doc["message"],
                         "Cannot evict pod as it would violate the pod's disruption budget.")
        self.assertEqual(doc["details"]["causes"][0]["reason"], "DisruptionBudget")
        self.assertEqual(doc["details"]["causes"][0]["message"],
                         "The disruption budget db needs 2 healthy pods and has 2 currently")
        self.assertEqual(self.api.get(PODS + "/db-0")[0], 200)

    def test_min_available_allows_one(self):
        self.pods(3)
        self.pdb("db", {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}})
        self.assertEqual(self.evict("db-0")[0], 201)
        self.assertEqual(self.evict("db-1")[0], 429)

    def test_max_unavailable_percent_uses_controller_replicas(self):
        self.pods(4, owner=self.statefulset(4))
        self.pdb("db", {"maxUnavailable": "50%", "selector": {"matchLabels": {"app": "db"}}})
        # 4 expected (the StatefulSet's replicas), 50% may be unavailable: 2 must stay healthy.
        self.assertEqual(self.evict("db-0")[0], 201)  # 4 healthy
        self.assertEqual(self.evict("db-1")[0], 201)  # 3 healthy
        status, doc = self.evict("db-2")  # 2 healthy: no more
        self.assertEqual(status, 429)
        self.assertIn("needs 2 healthy pods and has 2", doc["details"]["causes"][0]["message"])

    def test_min_available_percent_rounds_up(self):
        self.pods(3, owner=self.statefulset(3))
        self.pdb("db", {"minAvailable": "50%", "selector": {"matchLabels": {"app": "db"}}})
        self.assertEqual(self.evict("db-0")[0], 201)  # needs ceil(1.5) = 2, has 3
        self.assertEqual(self.evict("db-1")[0], 429)  # has 2

    def test_deployment_owned_replicaset_counts_deployment_replicas(self):
        dep = self.api.ok("POST", DEPLOYS, deployment("db", replicas=2))
        rs = dict(deployment("db-abc", replicas=5, labels={"app": "db"}), kind="ReplicaSet")
        rs["metadata"]["ownerReferences"] = [{"apiVersion": "apps/v1", "kind": "Deployment",
                                              "name": "db", "uid": dep["metadata"]["uid"],
                                              "controller": True}]
        rs = self.api.ok("POST", "/apis/apps/v1/namespaces/default/replicasets", rs)
        self.pods(2, owner=rs)
        self.pdb("db", {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "db"}}})
        self.assertEqual(self.evict("db-0")[0], 201)  # 2 expected, 1 needed, 2 healthy
        self.assertEqual(self.evict("db-1")[0], 429)  # 1 healthy

    def test_unready_and_pending_pods(self):
        self.pods(2)
        self.mkpod("db-x", labels={"app": "db"})
        self.make_ready("db-x", "n1", ready=False)
        self.mkpod("db-pending", labels={"app": "db"})
        self.pdb("db", {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}})
        self.assertEqual(self.evict("db-pending")[0], 201)  # pending pods ignore budgets
        self.assertEqual(self.evict("db-x")[0], 201)  # unhealthy, budget healthy (2 >= 2)
        self.assertEqual(self.evict("db-0")[0], 429)

    def test_selector_mismatch_and_multiple_pdbs(self):
        self.pods(1)
        self.pdb("other", {"minAvailable": 5, "selector": {"matchLabels": {"app": "web"}}})
        self.assertEqual(self.evict("db-0")[0], 201)
        self.pods(1)
        self.pdb("a", {"minAvailable": 0, "selector": {"matchLabels": {"app": "db"}}})
        self.pdb("b", {"minAvailable": 0, "selector": {}})
        status, doc = self.evict("db-0")
        self.assertEqual(status, 500)
        self.assertIn("more than one PodDisruptionBudget", doc["message"])


class ScaleTest(ServerTestCase):
    def test_deployment_scale(self):
        d = deployment("web", replicas=2)
        d["spec"]["selector"]["matchExpressions"] = [
            {"key": "tier", "operator": "In", "values": ["fe", "be"]},
            {"key": "canary", "operator": "DoesNotExist"}]
        d["spec"]["template"]["metadata"]["labels"]["tier"] = "fe"
        d = self.api.ok("POST", DEPLOYS, d)
        self.api.ok("PATCH", DEPLOYS + "/web/status", {"status": {"replicas": 2}})
        s = self.api.ok("GET", DEPLOYS + "/web/scale")
        self.assertEqual(s["kind"], "Scale")
        self.assertEqual(s["apiVersion"], "autoscaling/v1")
        self.assertEqual(s["spec"], {"replicas": 2})
        self.assertEqual(s["status"]["replicas"], 2)
        # labels.Selector.String(): requirements sorted by key, values sorted.
        self.assertEqual(s["status"]["selector"], "app=web,!canary,tier in (be,fe)")
        self.assertEqual(s["metadata"]["name"], "web")
        s["spec"]["replicas"] = 5
        s2 = self.api.ok("PUT", DEPLOYS + "/web/scale", s)
        self.assertEqual(s2["spec"]["replicas"], 5)
        self.assertGreater(int(s2["metadata"]["resourceVersion"]),
                           int(s["metadata"]["resourceVersion"]))
        d2 = self.api.ok("GET", DEPLOYS + "/web")
        self.assertEqual(d2["spec"]["replicas"], 5)
        self.assertEqual(d2["metadata"]["generation"], 2)
        self.assertEqual(d2["metadata"]["resourceVersion"], s2["metadata"]["resourceVersion"])
        status, doc = self.api.put(DEPLOYS + "/web/scale", s)  # stale resourceVersion
        self.assertEqual(status, 409)
        self.assertStatus(doc, 409, "Conflict")
        s3 = self.api.ok("PATCH", DEPLOYS + "/web/scale", {"spec": {"replicas": 1}})
        self.assertEqual(s3["spec"]["replicas"], 1)
        status, doc = self.api.patch(DEPLOYS + "/web/scale", {"spec": {"replicas": -1}})
        self.assertEqual(status, 422)
        status, doc = self.api.get(DEPLOYS + "/nope/scale")
        self.assertEqual(status, 404)
        s4 = self.api.ok("PATCH", DEPLOYS + "/web/scale",
                         [{"op": "replace", "path": "/spec/replicas", "value": 3}],
                         ctype=JSONPATCH)
        self.assertEqual(s4["spec"]["replicas"], 3)

    def test_statefulset_and_replicaset_scale(self):
        for plural, kind in (("statefulsets", "StatefulSet"), ("replicasets", "ReplicaSet")):
            base = "/apis/apps/v1/namespaces/default/" + plural
            self.api.ok("POST", base, dict(deployment("x"), kind=kind))
            s = self.api.ok("PATCH", base + "/x/scale", {"spec": {"replicas": 4}})
            self.assertEqual(s["spec"]["replicas"], 4)
            self.assertEqual(self.api.ok("GET", base + "/x")["spec"]["replicas"], 4)

    def test_machinedeployment_scale(self):
        base = "/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machinedeployments"
        self.api.ok("POST", base, {"metadata": {"name": "pool"}, "spec": {
            "clusterName": "c", "replicas": 2,
            "selector": {"matchLabels": {"cluster.x-k8s.io/deployment-name": "pool"}}}})
        s = self.api.ok("GET", base + "/pool/scale")
        self.assertEqual(s["spec"]["replicas"], 2)
        self.assertEqual(s["status"]["selector"], "cluster.x-k8s.io/deployment-name=pool")
        self.api.ok("PATCH", base + "/pool/status", {"status": {"replicas": 2,
                                                               "selector": "a=b"}})
        s = self.api.ok("GET", base + "/pool/scale")
        self.assertEqual(s["status"], {"replicas": 2, "selector": "a=b"})
        s = self.api.ok("PATCH", base + "/pool/scale", {"spec": {"replicas": 0}})
        self.assertEqual(self.api.ok("GET", base + "/pool")["spec"]["replicas"], 0)

    def test_scale_emits_watch_event(self):
        self.api.ok("POST", DEPLOYS, deployment("web"))
        w = WatchStream(self.server, DEPLOYS + "?watch=1")
        self.addCleanup(w.close)
        w.next()
        self.api.ok("PATCH", DEPLOYS + "/web/scale", {"spec": {"replicas": 3}})
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["spec"]["replicas"]), ("MODIFIED", 3))


class LeaseTest(ServerTestCase):
    def test_leader_election_pattern(self):
        path = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases"
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": {"name": "epc-autoscaler"},
                 "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15}}
        mine = self.api.ok("POST", path, lease)
        status, doc = self.api.post(path, dict(lease, spec={"holderIdentity": "b"}))
        self.assertEqual(status, 409)
        theirs = json.loads(json.dumps(mine))
        mine["spec"]["renewTime"] = "2025-01-01T00:00:00.000000Z"
        self.api.ok("PUT", path + "/epc-autoscaler", mine)
        theirs["spec"]["holderIdentity"] = "b"
        status, doc = self.api.put(path + "/epc-autoscaler", theirs)
        self.assertEqual(status, 409)
        self.assertEqual(doc["reason"], "Conflict")
        self.assertIn('leases.coordination.k8s.io "epc-autoscaler"', doc["message"])


class EventsTest(ServerTestCase):
    def test_both_event_apis_share_storage(self):
        core = {"metadata": {"name": "e1"}, "involvedObject": {"kind": "Pod", "name": "p"},
                "reason": "Scheduled", "message": "hello", "type": "Normal",
                "reportingComponent": "epc-extender"}
        self.api.ok("POST", "/api/v1/namespaces/default/events", core)
        status, doc = self.api.get("/apis/events.k8s.io/v1/namespaces/default/events/e1")
        self.assertEqual(doc["apiVersion"], "events.k8s.io/v1")
        self.assertEqual(doc["note"], "hello")
        self.assertEqual(doc["regarding"]["name"], "p")
        self.assertEqual(doc["reportingController"], "epc-extender")
        newer = {"metadata": {"name": "e2"}, "regarding": {"kind": "Node", "name": "n"},
                 "note": "n2", "reason": "R", "type": "Warning", "action": "Scale",
                 "reportingController": "c", "reportingInstance": "i",
                 "eventTime": "2025-01-01T00:00:00.000000Z"}
        self.api.ok("POST", "/apis/events.k8s.io/v1/namespaces/default/events", newer)
        status, doc = self.api.get("/api/v1/namespaces/default/events/e2")
        self.assertEqual((doc["message"], doc["involvedObject"]["kind"]), ("n2", "Node"))
        status, doc = self.api.get(
            "/api/v1/namespaces/default/events?fieldSelector=involvedObject.kind%3DNode")
        self.assertEqual([i["metadata"]["name"] for i in doc["items"]], ["e2"])
        status, doc = self.api.get(
            "/apis/events.k8s.io/v1/namespaces/default/events?fieldSelector=regarding.kind%3DPod")
        self.assertEqual([i["metadata"]["name"] for i in doc["items"]], ["e1"])


# ------------------------------------------------------------------------------------------
# metrics.k8s.io
# ------------------------------------------------------------------------------------------


class MetricsTest(ServerTestCase):
    BASE = "/apis/metrics.k8s.io/v1beta1"

    def test_pod_metrics(self):
        self.mkpod("a", labels={"app": "web"})
        self.mkpod("b", labels={"app": "db"})
        status, doc = self.api.get(self.BASE + "/namespaces/default/pods")
        self.assertEqual((status, doc["kind"], doc["items"]), (200, "PodMetricsList", []))
        status, doc = self.api.get(self.BASE + "/namespaces/default/pods/a")
        self.assertEqual(status, 404)
        usage = {"containers": [{"name": "c", "usage": {"cpu": "250m", "memory": "64Mi"}}]}
        self.api.ok("PUT", "/__test/metrics/pods/default/a", usage)
        self.api.ok("PUT", "/__test/metrics/pods/default/b", usage)
        status, doc = self.api.get(self.BASE + "/namespaces/default/pods/a")
        self.assertEqual(status, 200)
        self.assertEqual(doc["kind"], "PodMetrics")
        self.assertEqual(doc["apiVersion"], "metrics.k8s.io/v1beta1")
        self.assertEqual(doc["containers"], usage["containers"])
        self.assertEqual(doc["metadata"]["labels"], {"app": "web"})
        self.assertTrue(doc["timestamp"])
        self.assertTrue(doc["window"])
        status, doc = self.api.get(self.BASE + "/namespaces/default/pods?labelSelector=app%3Ddb")
        self.assertEqual([i["metadata"]["name"] for i in doc["items"]], ["b"])
        status, doc = self.api.get(self.BASE + "/pods")
        self.assertEqual(len(doc["items"]), 2)
        self.api.ok("DELETE", PODS + "/a")
        self.assertEqual(self.api.get(self.BASE + "/namespaces/default/pods/a")[0], 404)
        self.api.ok("DELETE", "/__test/metrics/pods/default/b")
        self.assertEqual(self.api.get(self.BASE + "/namespaces/default/pods/b")[0], 404)

    def test_node_metrics_and_read_only(self):
        self.api.ok("POST", NODES, node("n1"))
        self.api.ok("PUT", "/__test/metrics/nodes/n1", {"usage": {"cpu": "1", "memory": "1Gi"}})
        status, doc = self.api.get(self.BASE + "/nodes")
        self.assertEqual(doc["kind"], "NodeMetricsList")
        self.assertEqual(doc["items"][0]["usage"], {"cpu": "1", "memory": "1Gi"})
        self.assertEqual(self.api.get(self.BASE + "/nodes/n1")[1]["kind"], "NodeMetrics")
        self.assertEqual(self.api.post(self.BASE + "/nodes", {})[0], 405)
        self.assertEqual(self.api.get(self.BASE + "/nodes?watch=1")[0], 405)


# ------------------------------------------------------------------------------------------
# Test endpoints, persistence, auth, TLS, robustness
# ------------------------------------------------------------------------------------------


class TestEndpointsTest(ServerTestCase):
    def test_request_log(self):
        self.api.get(NODES + "?limit=5")
        self.api.post(NODES, node("n1"))
        log = self.api.ok("GET", "/__test/requests")["items"]
        self.assertEqual([(e["method"], e["path"], e["query"], e["status"]) for e in log],
                         [("GET", NODES, "limit=5", 200), ("POST", NODES, "", 201)])
        self.assertIsNone(log[0]["body"])
        self.assertEqual(log[1]["body"]["metadata"]["name"], "n1")
        self.assertEqual(log[1]["contentType"], JSON)
        self.api.ok("DELETE", "/__test/requests")
        self.assertEqual(self.api.ok("GET", "/__test/requests")["items"], [])

    def test_failure_injection(self):
        self.api.ok("POST", "/__test/fail?path=%5E/api/v1/nodes&code=503&count=2")
        for _ in range(2):
            status, resp, payload = self.api.request("GET", NODES, raw=True)
            self.assertEqual(status, 503)
            self.assertEqual(resp.getheader("Retry-After"), "1")
            self.assertEqual(json.loads(payload)["reason"], "ServiceUnavailable")
        self.assertEqual(self.api.get(NODES)[0], 200)
        self.assertEqual(self.api.get(PODS)[0], 200)
        self.api.ok("POST", "/__test/fail?path=pods&code=500&count=5&method=POST")
        self.assertEqual(self.api.get(PODS)[0], 200)
        self.assertEqual(self.api.post(PODS, pod("a"))[0], 500)
        self.api.ok("DELETE", "/__test/fail")
        self.assertEqual(self.api.post(PODS, pod("a"))[0], 201)
        self.assertEqual(self.api.post("/__test/fail?path=(&code=500", {})[0], 400)

    def test_state_dump(self):
        self.mkpod("a")
        doc = self.api.ok("GET", "/__test/state")
        self.assertEqual(doc["kind"], "FakeApiserverState")
        self.assertIn("a", [o["metadata"]["name"] for o in doc["items"] if o["kind"] == "Pod"])


class StateFileTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fake-apiserver-state-")
        self.state = os.path.join(self.dir, "state.json")
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_restart_keeps_objects_and_watches_resume(self):
        self.server = FakeServer(state_file=self.state)
        api = Client(self.server)
        api.ok("POST", NODES, node("n1"))
        p = api.ok("POST", PODS, pod("a"))
        w = WatchStream(self.server, PODS + "?watch=1")
        self.assertEqual(w.next()["object"]["metadata"]["name"], "a")
        last_rv = p["metadata"]["resourceVersion"]
        port = self.server.port
        self.server.stop(signal.SIGKILL)  # mid-watch
        self.assertTrue(w.ended.wait(5))
        w.close()
        api.close()
        self.server.port = port
        self.server.start()
        self.assertEqual(self.server.port, port)
        api = Client(self.server)
        got = api.ok("GET", PODS + "/a")
        self.assertEqual(got, p)
        status, lst = api.get(PODS)
        self.assertGreaterEqual(int(lst["metadata"]["resourceVersion"]), int(last_rv))
        # A client that saw everything resumes its watch without a relist.
        w = WatchStream(self.server, PODS + "?watch=1&resourceVersion=" +
                        lst["metadata"]["resourceVersion"])
        self.addCleanup(w.close)
        b = api.ok("POST", PODS, pod("b"))
        self.assertGreater(int(b["metadata"]["resourceVersion"]), int(last_rv))
        ev = w.next()
        self.assertEqual((ev["type"], ev["object"]["metadata"]["name"]), ("ADDED", "b"))
        # One that missed events before the restart gets 410 and must relist.
        w2 = WatchStream(self.server, PODS + "?watch=1&resourceVersion=1")
        self.addCleanup(w2.close)
        self.assertEqual(w2.next()["object"]["code"], 410)
        api.close()

    def test_seed_file(self):
        with open(self.state, "w") as f:
            json.dump([node("n1"), pod("a", ns="team"), dict(deployment("web"))], f)
        self.server = FakeServer(state_file=self.state)
        api = Client(self.server)
        self.assertEqual(api.get(NODES + "/n1")[0], 200)
        p = api.ok("GET", "/api/v1/namespaces/team/pods/a")
        self.assertTrue(p["metadata"]["uid"])
        self.assertEqual(api.get("/api/v1/namespaces/team")[0], 200)
        self.assertEqual(api.ok("GET", DEPLOYS + "/web")["metadata"]["generation"], 1)
        with open(self.state) as f:
            self.assertEqual(json.load(f)["kind"], "FakeApiserverState")
        api.close()

    def test_bad_state_file_fails_clearly(self):
        with open(self.state, "w") as f:
            f.write("{not json")
        with self.assertRaises(RuntimeError) as cm:
            FakeServer(state_file=self.state)
        self.assertIn("cannot load state file", str(cm.exception))


class AuthTest(ServerTestCase):
    server_args = ("--token", "s3cret")

    def test_token(self):
        status, doc = self.api.get(NODES)
        self.assertEqual(status, 401)
        self.assertStatus(doc, 401, "Unauthorized")
        good = Client(self.server, token="s3cret")
        self.addCleanup(good.close)
        self.assertEqual(good.get(NODES)[0], 200)
        bad = Client(self.server, token="wrong")
        self.addCleanup(bad.close)
        self.assertEqual(bad.get(NODES)[0], 401)
        self.assertEqual(bad.get("/healthz")[0], 401)
        self.assertEqual(self.api.get("/healthz")[0], 200)  # anonymous
        self.assertEqual(self.api.get("/version")[0], 200)
        self.assertEqual(self.api.get("/__test/requests")[0], 200)


def make_cert(directory, cn="127.0.0.1", ca=None):
    """A self-signed (or CA-signed) certificate for 127.0.0.1, with the openssl CLI."""
    key = os.path.join(directory, cn + ".key")
    crt = os.path.join(directory, cn + ".crt")
    subj = "/CN=" + cn
    if ca is None:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt,
                        "-days", "2", "-subj", subj, "-addext", "subjectAltName=IP:127.0.0.1"],
                       check=True, capture_output=True)
    else:
        csr = os.path.join(directory, cn + ".csr")
        subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", csr,
                        "-subj", subj], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1],
                        "-CAcreateserial", "-out", crt, "-days", "2"], check=True,
                       capture_output=True)
    return crt, key


@unittest.skipUnless(shutil.which("openssl"), "openssl CLI not installed")
class TLSTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fake-apiserver-tls-")
        self.cert = make_cert(self.dir)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_https(self):
        self.server = FakeServer(tls=self.cert)
        api = Client(self.server)
        self.addCleanup(api.close)
        self.assertEqual(api.ok("POST", NODES, node("n1"))["metadata"]["name"], "n1")
        self.assertEqual(len(api.ok("GET", NODES)["items"]), 1)
        w = WatchStream(self.server, NODES + "?watch=1")
        self.addCleanup(w.close)
        self.assertEqual(w.next()["type"], "ADDED")
        # A plain-HTTP client, or a TLS client that does not trust the cert, gets nowhere,
        # and the server keeps serving.
        c = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=5)
        with self.assertRaises((http.client.HTTPException, OSError)):
            c.request("GET", "/healthz")
            c.getresponse().read()
        c.close()
        c = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=5,
                                        context=ssl.create_default_context())
        with self.assertRaises(ssl.SSLError):
            c.request("GET", "/healthz")
        c.close()
        self.assertEqual(api.get("/healthz")[0], 200)

    def test_client_certificates(self):
        ca_dir = os.path.join(self.dir, "ca")
        os.mkdir(ca_dir)
        ca = make_cert(ca_dir, cn="test-ca")
        client_cert = make_cert(ca_dir, cn="client", ca=ca)
        self.server = FakeServer("--client-ca", ca[0], "--token", "t", tls=self.cert)
        ctx = ssl.create_default_context(cafile=self.cert[0])
        ctx.load_cert_chain(*client_cert)
        c = http.client.HTTPSConnection("127.0.0.1", self.server.port, timeout=5, context=ctx)
        c.request("GET", NODES)
        self.assertEqual(c.getresponse().status, 200)
        c.close()
        api = Client(self.server)
        self.addCleanup(api.close)
        self.assertEqual(api.get(NODES)[0], 401)


class RobustnessTest(ServerTestCase):
    def raw(self, data, read=65536):
        s = socket.create_connection(("127.0.0.1", self.server.port), timeout=5)
        try:
            s.sendall(data)
            s.shutdown(socket.SHUT_WR)
            out = b""
            while True:
                chunk = s.recv(read)
                if not chunk:
                    break
                out += chunk
            return out
        finally:
            s.close()

    def test_garbage(self):
        out = self.raw(b"\x00\xff garbage \r\n\r\n")
        self.assertIn(b"400", out.split(b"\r\n")[0])
        self.assertIn(b'"kind":"Status"', out)
        self.raw(b"GET /api/v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
        self.raw(b"POST /api/v1/nodes HTTP/1.1\r\nContent-Length: zz\r\n\r\n")
        out = self.raw(b"POST /api/v1/nodes HTTP/1.1\r\nContent-Length: 99999999\r\n\r\n")
        self.assertIn(b"413", out.split(b"\r\n")[0])
        self.assertEqual(self.api.get("/healthz")[0], 200)

    def test_bad_inputs_are_400(self):
        for body in (b"[]", b"123", b'"x"', b"null", b'{"metadata": 5}'):
            status, doc = self.api.post(NODES, body)
            self.assertIn(status, (400, 422), body)
            self.assertEqual(doc["kind"], "Status")
        status, doc = self.api.get(PODS + "?limit=abc")
        self.assertEqual(status, 400)
        status, doc = self.api.get(PODS + "?watch=1&timeoutSeconds=x")
        self.assertEqual(status, 400)
        status, doc = self.api.post(NODES, {"metadata": {"name": "n1", "labels": ["x"]}})
        self.assertEqual(status, 400)  # like Go's decoder
        self.assertIn("cannot unmarshal array into Go struct field metadata.labels",
                      doc["message"])
        status, doc = self.api.post(NODES, {"metadata": {"name": "n1", "labels": {"a": 1}}})
        self.assertEqual(status, 400)
        status, doc = self.api.post(NODES, {"metadata": {"name": "n1", "labels": {"a b": "c"}}})
        self.assertEqual(status, 422)
        status, doc = self.api.post(PODS + "/x/eviction", b"[1]")
        self.assertEqual(status, 400)
        status, doc = self.api.patch(NODES + "/n1", b"[1]", ctype=SMP)
        self.assertIn(status, (400, 404))
        self.assertEqual(self.api.get("/healthz")[0], 200)

    def test_chunked_request_body_and_keep_alive(self):
        c = self.server.conn()
        body = json.dumps(node("n1")).encode()
        c.putrequest("POST", NODES)
        c.putheader("Content-Type", JSON)
        c.putheader("Transfer-Encoding", "chunked")
        c.endheaders()
        c.send(b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body))
        r = c.getresponse()
        self.assertEqual(r.status, 201)
        r.read()
        sock = c.sock
        for _ in range(5):  # same connection
            c.request("GET", NODES + "/n1")
            r = c.getresponse()
            self.assertEqual(r.status, 200)
            r.read()
        self.assertIs(c.sock, sock)
        c.close()

    def test_bodies_on_error_paths_keep_connection_in_sync(self):
        c = self.server.conn()
        self.addCleanup(c.close)
        for method, path in (("GET", NODES), ("DELETE", NODES + "/nope"), ("POST", "/nothing"),
                             ("PUT", "/api/v1/widgets/x"), ("OPTIONS", NODES)):
            c.request(method, path, body=b'{"junk": true}',
                      headers={"Content-Type": JSON})
            r = c.getresponse()
            r.read()
            self.assertLess(r.status, 500, (method, path))
            c.request("GET", "/healthz")
            r = c.getresponse()
            self.assertEqual((r.status, r.read()), (200, b"ok"), (method, path))

    def test_fuzz_typed_bodies(self):
        """Type-confused objects get 400/404/409/422, never a 500 or a dead server."""
        rnd = random.Random(7)
        weird = [None, 0, -1, 1.5, "", "x", [], [1], {}, {"a": 1}, True, [{}], [None],
                 {"$patch": "delete"}]

        def mutate(o):
            o = json.loads(json.dumps(o))

            def walk(x):
                items = list(x.items()) if isinstance(x, dict) else list(enumerate(x)) \
                    if isinstance(x, list) else []
                for k, v in items:
                    r = rnd.random()
                    if r < 0.15:
                        x[k] = rnd.choice(weird)
                    elif r < 0.2 and isinstance(x, dict):
                        del x[k]
                    else:
                        walk(v)
            walk(o)
            return o

        sts = dict(deployment("s"), kind="StatefulSet")
        base = [(PODS, pod("p", labels={"app": "s"}, epc="1Mi")), (NODES, node("n")),
                (DEPLOYS, deployment("d")), ("/apis/apps/v1/namespaces/default/statefulsets", sts),
                ("/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                 {"metadata": {"name": "pdb"}, "spec": {
                     "minAvailable": 1, "selector": {"matchLabels": {"app": "s"}}}}),
                ("/apis/cluster.x-k8s.io/v1beta1/namespaces/default/machinedeployments",
                 {"metadata": {"name": "md"}, "spec": {"replicas": 1}}),
                ("/apis/events.k8s.io/v1/namespaces/default/events",
                 {"metadata": {"name": "e"}, "regarding": {"kind": "Pod"}})]
        table = {"Accept": "application/json;as=Table;v=v1;g=meta.k8s.io"}
        for _ in range(400):
            path, obj = rnd.choice(base)
            name = obj["metadata"]["name"]
            m = mutate(obj)
            method, p, body, ctype = rnd.choice([
                ("POST", path, m, JSON), ("PUT", path + "/" + name, m, JSON),
                ("PATCH", path + "/" + name, mutate(m), rnd.choice([MERGE, SMP])),
                ("PATCH", path + "/" + name, [{"op": rnd.choice(["add", "remove", "move", 5]),
                                               "path": rnd.choice(["/spec", "", 3, "/x/y"]),
                                               "from": "/spec", "value": rnd.choice(weird)}],
                 JSONPATCH),
                ("PUT", path + "/" + name + "/status", m, JSON),
                ("PATCH", path + "/" + name + "/scale", mutate({"spec": {"replicas": 2}}), MERGE),
                ("POST", PODS + "/p/binding", mutate({"metadata": {"name": "p"},
                                                      "target": {"name": "n"}}), JSON),
                ("POST", PODS + "/p/eviction", mutate({"metadata": {"name": "p"},
                                                       "deleteOptions": {"dryRun": ["All"]}}),
                 JSON),
                ("DELETE", path + "/" + name, mutate({"preconditions": {"uid": "x"},
                                                      "dryRun": ["All"]}), JSON)])
            status, doc = self.api.request(method, p, body, ctype=ctype)
            self.assertTrue(status < 500 or "should not be set" in doc.get("message", "")
                            or "more than one" in doc.get("message", ""), (method, p, body, doc))
            self.assertEqual(self.api.get(path, headers=table)[0], 200)

    def test_fuzz_paths_and_queries(self):
        rnd = random.Random(3)
        self.mkpod("p")
        segs = ["api", "apis", "v1", "apps", "namespaces", "default", "pods", "p", "nodes",
                "watch", "status", "scale", "binding", "eviction", "metrics.k8s.io", "v1beta1",
                "", "..", "%zz", "x" * 300, "bindings", "finalize", "openapi", "v3"]
        qs = ["watch=1&timeoutSeconds=1", "labelSelector=%28", "fieldSelector=a", "limit=-1",
              "continue=abc", "resourceVersion=-5", "resourceVersionMatch=Exact&resourceVersion=1",
              "includeObject=Object", "pretty=true", "dryRun=Bogus", "%%%",
              "allowWatchBookmarks=true&watch=true&timeoutSeconds=1"]
        for _ in range(500):
            path = "/" + "/".join(rnd.choice(segs) for _ in range(rnd.randint(1, 6)))
            if rnd.random() < 0.6:
                path += "?" + "&".join(rnd.choice(qs) for _ in range(rnd.randint(1, 3)))
            method = rnd.choice(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
            body = rnd.choice([b"{}", b"[]", b"null", b"xx"]) if method != "HEAD" else None
            status, resp, payload = self.api.request(
                method, path, body, ctype=rnd.choice([JSON, MERGE, JSONPATCH, "text/x"]),
                headers={"Accept": rnd.choice(["*/*", "application/json;as=Table;v=v1;"
                                               "g=meta.k8s.io", "application/json"])}, raw=True)
            self.assertLess(status, 500, (method, path, payload))

    def test_concurrent_writers(self):
        errors = []

        def writer(i):
            cl = Client(self.server)
            try:
                for j in range(10):
                    cl.ok("POST", PODS, pod("p-%d-%d" % (i, j)))
            except Exception as e:
                errors.append(e)
            finally:
                cl.close()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(errors, [])
        items = self.api.ok("GET", PODS)["items"]
        self.assertEqual(len(items), 60)
        rvs = [int(i["metadata"]["resourceVersion"]) for i in items]
        self.assertEqual(len(set(rvs)), 60)


class CommandLineTest(unittest.TestCase):
    def test_bad_flags(self):
        r = subprocess.run([sys.executable, SERVER, "--tls-cert", "x"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--tls-cert and --tls-key go together", r.stderr)

    def test_binds_loopback_only(self):
        s = FakeServer()
        try:
            out = subprocess.run(["ss", "-ltnH"], capture_output=True, text=True).stdout \
                if shutil.which("ss") else ""
            for line in out.splitlines():
                if line.split()[3].endswith(":%d" % s.port):
                    self.assertTrue(line.split()[3].startswith("127.0.0.1:"), line)
        finally:
            s.cleanup()

    def test_help_documents_test_endpoints(self):
        with open(SERVER) as f:
            head = f.read(8000)
        for ep in ("/__test/drop-watches", "/__test/compact", "/__test/requests",
                   "/__test/fail", "/__test/metrics/pods"):
            self.assertIn(ep, head)


# ------------------------------------------------------------------------------------------
# Fidelity: the real kubectl against the double
# ------------------------------------------------------------------------------------------


@unittest.skipUnless(os.access(KUBECTL, os.X_OK),
                     "tools/bin/kubectl is absent: run scripts/fetch-k8s-tools.sh first "
                     "(the ctest test does)")
class KubectlTest(unittest.TestCase):
    tls = False
    token = None

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="fake-apiserver-kubectl-")
        args = ["--token", self.token] if self.token else []
        tls = make_cert(self.dir) if self.tls else None
        self.server = FakeServer(*args, tls=tls)
        self.api = Client(self.server, token=self.token)
        scheme = "https" if self.tls else "http"
        cluster = {"server": "%s://127.0.0.1:%d" % (scheme, self.server.port)}
        if self.tls:
            with open(tls[0], "rb") as f:
                cluster["certificate-authority-data"] = base64.b64encode(f.read()).decode()
        user = {"token": self.token} if self.token else {}
        self.kubeconfig = os.path.join(self.dir, "kubeconfig")
        with open(self.kubeconfig, "w") as f:
            json.dump({"apiVersion": "v1", "kind": "Config", "current-context": "fake",
                       "clusters": [{"name": "fake", "cluster": cluster}],
                       "users": [{"name": "u", "user": user}],
                       "contexts": [{"name": "fake", "context": {
                           "cluster": "fake", "user": "u", "namespace": "default"}}]}, f)
        self.env = dict(os.environ, KUBECONFIG=self.kubeconfig, HOME=self.dir)
        self.env.pop("KUBERNETES_SERVICE_HOST", None)

    def tearDown(self):
        self.api.close()
        self.server.cleanup()
        shutil.rmtree(self.dir, ignore_errors=True)

    def kubectl(self, *args, check=True, timeout=60, stdin=None):
        cmd = [KUBECTL, "--cache-dir", os.path.join(self.dir, "cache"), "--request-timeout=20s"]
        r = subprocess.run(cmd + list(args), env=self.env, capture_output=True, text=True,
                           timeout=timeout, input=stdin)
        if check and r.returncode != 0:
            self.fail("kubectl %s failed (%d):\n%s\n%s\nserver stderr:\n%s"
                      % (" ".join(args), r.returncode, r.stdout, r.stderr,
                         self.server.read_stderr()))
        return r

    def seed(self):
        self.api.ok("POST", NODES, node("sgx-1", labels={"node-role.kubernetes.io/sgx": ""},
                                        allocatable={"sgx.intel.com/epc": "128Mi"}))
        self.api.ok("POST", NODES, node("general-1", ready=False))
        self.api.ok("POST", PODS, pod("enclave", labels={"app": "enclave"}, epc="10Mi"))
        self.api.ok("POST", "/api/v1/namespaces/kube-system/pods", pod("dns"))

    def test_get_nodes(self):
        self.seed()
        out = self.kubectl("get", "nodes").stdout.splitlines()
        self.assertEqual(out[0].split(), ["NAME", "STATUS", "ROLES", "AGE", "VERSION"])
        rows = {line.split()[0]: line.split() for line in out[1:]}
        self.assertEqual(rows["sgx-1"][1:3], ["Ready", "sgx"])
        self.assertEqual(rows["general-1"][1:3], ["NotReady", "<none>"])
        self.assertEqual(rows["sgx-1"][-1], "v1.33.0")
        out = self.kubectl("get", "no", "-o", "name").stdout.split()
        self.assertEqual(sorted(out), ["node/general-1", "node/sgx-1"])

    def test_get_pods_all_namespaces_json(self):
        self.seed()
        got = json.loads(self.kubectl("get", "pods", "-A", "-o", "json").stdout)
        self.assertEqual(got["kind"], "List")
        want = self.api.ok("GET", "/api/v1/pods")["items"]
        got_items = sorted(got["items"], key=lambda o: o["metadata"]["name"])
        want = sorted(want, key=lambda o: o["metadata"]["name"])
        for g, w in zip(got_items, want):
            self.assertEqual(g["kind"], "Pod")
            g = {k: v for k, v in g.items() if k not in ("kind", "apiVersion")}
            self.assertEqual(g, w)
        self.assertEqual(len(got_items), 2)
        out = self.kubectl("get", "pods", "-A").stdout
        self.assertIn("kube-system", out)
        self.assertIn("enclave", out)
        out = self.kubectl("get", "po", "-l", "app=enclave", "-o", "name").stdout.split()
        self.assertEqual(out, ["pod/enclave"])
        out = self.kubectl("get", "pods", "-A", "--field-selector", "metadata.namespace!=default",
                           "-o", "name").stdout.split()
        self.assertEqual(out, ["pod/dns"])

    @staticmethod
    def parse_json_stream(text):
        decoder, out, idx = json.JSONDecoder(), [], 0
        text = text.strip()
        while idx < len(text):
            try:
                obj, end = decoder.raw_decode(text, idx)
            except ValueError:
                break  # an incomplete object at the end
            out.append(obj)
            idx = end
            while idx < len(text) and text[idx].isspace():
                idx += 1
        return out

    def test_watch_output_watch_events(self):
        self.seed()
        proc = subprocess.Popen(
            [KUBECTL, "--cache-dir", os.path.join(self.dir, "cache"), "get", "pods", "--watch",
             "--output-watch-events", "-o", "json"], env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        chunks = []
        reader = threading.Thread(target=lambda: chunks.extend(iter(proc.stdout.readline, "")),
                                  daemon=True)
        reader.start()
        events = []
        try:
            deadline = time.monotonic() + 20
            while not any(w["resource"] == "pods"
                          for w in self.api.ok("GET", "/__test/watches")["items"]):
                self.assertLess(time.monotonic(), deadline, "kubectl did not start watching")
                time.sleep(0.05)
            self.api.ok("POST", PODS, pod("transient"))
            self.api.ok("DELETE", PODS + "/transient")
            while time.monotonic() < deadline:
                events = [(e["type"], e["object"]["metadata"]["name"])
                          for e in self.parse_json_stream("".join(chunks))]
                if len(events) >= 3:
                    break
                time.sleep(0.05)
        finally:
            proc.terminate()
            _out, err = proc.communicate(timeout=10)
        self.assertEqual(events, [("ADDED", "enclave"), ("ADDED", "transient"),
                                  ("DELETED", "transient")], err)

    def test_scale_deployment(self):
        self.api.ok("POST", DEPLOYS, deployment("web"))
        out = self.kubectl("scale", "deployment", "web", "--replicas=3").stdout
        self.assertIn("deployment.apps/web scaled", out)
        self.assertEqual(self.api.ok("GET", DEPLOYS + "/web")["spec"]["replicas"], 3)
        methods = [(e["method"], e["path"]) for e in
                   self.api.ok("GET", "/__test/requests")["items"]]
        self.assertIn(("PATCH", DEPLOYS + "/web/scale"), methods)
        self.kubectl("scale", "deployment/web", "--replicas=1", "--current-replicas=3")
        self.assertEqual(self.api.ok("GET", DEPLOYS + "/web")["spec"]["replicas"], 1)
        r = self.kubectl("scale", "deployment/web", "--replicas=2", "--current-replicas=5",
                         check=False)
        self.assertNotEqual(r.returncode, 0)
        out = self.kubectl("get", "deploy").stdout.splitlines()
        self.assertEqual(out[0].split()[:4], ["NAME", "READY", "UP-TO-DATE", "AVAILABLE"])

    def test_cordon_uncordon(self):
        self.seed()
        self.assertIn("node/sgx-1 cordoned", self.kubectl("cordon", "sgx-1").stdout)
        self.assertTrue(self.api.ok("GET", NODES + "/sgx-1")["spec"]["unschedulable"])
        self.assertIn("Ready,SchedulingDisabled", self.kubectl("get", "nodes").stdout)
        self.assertIn("node/sgx-1 uncordoned", self.kubectl("uncordon", "sgx-1").stdout)
        self.assertFalse(self.api.ok("GET", NODES + "/sgx-1")["spec"].get("unschedulable"))

    def test_delete_pod_returns_promptly(self):
        self.seed()
        t0 = time.monotonic()
        out = self.kubectl("delete", "pod", "enclave").stdout
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn('pod "enclave" deleted', out)
        self.assertEqual(self.api.get(PODS + "/enclave")[0], 404)
        r = self.kubectl("delete", "pod", "enclave", check=False)
        self.assertIn('pods "enclave" not found', r.stderr)

    def test_get_raw_and_discovery(self):
        doc = json.loads(self.kubectl("get", "--raw", "/apis").stdout)
        self.assertEqual(doc["kind"], "APIGroupList")
        doc = json.loads(self.kubectl("get", "--raw", "/api/v1").stdout)
        self.assertEqual(doc["kind"], "APIResourceList")
        out = self.kubectl("api-resources").stdout
        for needle in ("pods", "po", "deployments", "deploy", "machinedeployments", "leases",
                       "poddisruptionbudgets"):
            self.assertIn(needle, out.split())
        out = self.kubectl("version", "-o", "json").stdout
        self.assertEqual(json.loads(out)["serverVersion"]["minor"], "33")
        self.assertEqual(self.kubectl("get", "--raw", "/readyz").stdout, "ok")

    def test_create_apply_label_patch(self):
        manifest = json.dumps({"apiVersion": "v1", "kind": "List", "items": [
            node("n1"), pod("p1", labels={"app": "x"}), deployment("web")]})
        out = self.kubectl("create", "-f", "-", stdin=manifest).stdout
        self.assertIn("pod/p1 created", out)
        self.assertIn("deployment.apps/web created", out)
        self.kubectl("label", "node", "n1", "epc=yes")
        self.assertEqual(self.api.ok("GET", NODES + "/n1")["metadata"]["labels"], {"epc": "yes"})
        self.kubectl("annotate", "pod", "p1", "a=b")
        self.kubectl("patch", "node", "n1", "--type=json",
                     "-p", '[{"op":"add","path":"/spec/taints","value":[{"key":"sgx",'
                           '"effect":"NoSchedule"}]}]')
        self.assertEqual(self.api.ok("GET", NODES + "/n1")["spec"]["taints"][0]["key"], "sgx")
        self.kubectl("patch", "deploy", "web", "--type=merge", "-p", '{"spec":{"replicas":2}}')
        self.assertEqual(self.api.ok("GET", DEPLOYS + "/web")["spec"]["replicas"], 2)
        d = deployment("web")
        d["spec"]["replicas"] = 4
        self.kubectl("apply", "-f", "-", stdin=json.dumps(d))
        self.assertEqual(self.api.ok("GET", DEPLOYS + "/web")["spec"]["replicas"], 4)
        r = self.kubectl("create", "-f", "-", stdin=json.dumps(node("n1")), check=False)
        self.assertIn('nodes "n1" already exists', r.stderr)

    def test_chunked_list(self):
        for i in range(7):
            self.api.ok("POST", PODS, pod("p%d" % i))
        self.api.ok("DELETE", "/__test/requests")
        out = self.kubectl("get", "pods", "--chunk-size=3", "-o", "name").stdout.split()
        self.assertEqual(out, ["pod/p%d" % i for i in range(7)])
        queries = [e["query"] for e in self.api.ok("GET", "/__test/requests")["items"]
                   if e["path"] == PODS]
        self.assertEqual(len(queries), 3)
        self.assertTrue(all("continue=" in q for q in queries[1:]))

    def test_drain_honours_pdb(self):
        self.seed()
        for name in ("db-0", "db-1"):
            self.api.ok("POST", PODS, pod(name, labels={"app": "db"}))
            self.api.ok("POST", PODS + "/%s/binding" % name,
                        {"metadata": {"name": name}, "target": {"kind": "Node", "name": "sgx-1"}})
            self.api.ok("PATCH", PODS + "/%s/status" % name, {"status": {
                "phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}})
        self.api.ok("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
                    {"metadata": {"name": "db"}, "spec": {
                        "minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}}})
        r = self.kubectl("drain", "sgx-1", "--force", "--timeout=2s", check=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("Cannot evict pod as it would violate the pod's disruption budget",
                      r.stderr)
        self.assertTrue(self.api.ok("GET", NODES + "/sgx-1")["spec"]["unschedulable"])
        self.kubectl("delete", "pdb", "db")
        r = self.kubectl("drain", "sgx-1", "--force", "--timeout=20s")
        self.assertIn("node/sgx-1 drained", r.stdout)
        self.assertEqual(self.api.get(PODS + "/db-0")[0], 404)
        self.assertEqual(self.api.get(PODS + "/enclave")[0], 200)  # not on that node

    def test_wait_for_condition(self):
        self.seed()
        proc = subprocess.Popen(
            [KUBECTL, "--cache-dir", os.path.join(self.dir, "cache"), "wait", "pod/enclave",
             "--for=condition=Ready", "--timeout=20s"], env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True)
        time.sleep(1)
        self.api.ok("PATCH", PODS + "/enclave/status", {"status": {
            "conditions": [{"type": "Ready", "status": "True"}]}})
        out, err = proc.communicate(timeout=30)
        self.assertEqual(proc.returncode, 0, err)
        self.assertIn("condition met", out)

    def test_top_pod_reads_metrics(self):
        self.seed()
        self.api.ok("PUT", "/__test/metrics/pods/default/enclave", {
            "containers": [{"name": "c", "usage": {"cpu": "250m", "memory": "64Mi"}}]})
        out = self.kubectl("top", "pod", "enclave").stdout.splitlines()
        self.assertEqual(out[1].split(), ["enclave", "250m", "64Mi"])


class KubectlTLSTest(KubectlTest):
    """The same kubectl commands over HTTPS (certificate-authority-data) with a bearer token."""
    tls = True
    token = "kubectl-token"


if __name__ == "__main__":
    unittest.main()
