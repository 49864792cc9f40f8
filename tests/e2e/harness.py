"""Helpers for end-to-end tests that run the project's daemons as separate processes.

Everything listens on 127.0.0.1 on ports picked at run time; every process a test starts is
stopped by the test (use `Processes` as a context or call stop_all in tearDown).
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FAKE_APISERVER = os.path.join(REPO, "tests", "doubles", "fake_apiserver.py")
KUBECTL = os.path.join(REPO, "tools", "bin", "kubectl")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(what, predicate, timeout=15.0, interval=0.05):
    """Polls predicate() until it returns a truthy value; fails the test with `what` on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = predicate()
            if last:
                return last
        except (OSError, urllib.error.URLError, ValueError) as e:
            last = e
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what} (last: {last!r})")


class Processes:
    """Starts processes with their output in files, and stops them all (TERM, then KILL)."""

    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, argv, env=None):
        log = open(os.path.join(self.workdir, name + ".log"), "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                stdin=subprocess.DEVNULL)
        log.close()
        proc.name = name
        self.procs.append(proc)
        return proc

    def log(self, name):
        with open(os.path.join(self.workdir, name + ".log"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    @staticmethod
    def stop(proc, sig=signal.SIGTERM, timeout=10):
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        return proc.returncode

    def stop_all(self):
        for proc in reversed(self.procs):
            self.stop(proc)
        self.procs = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop_all()


class ApiServer:
    """The Kubernetes API server test double, plus a kubeconfig pointing at it."""

    def __init__(self, procs, workdir, name="apiserver", port=None):
        self.procs = procs
        self.workdir = workdir
        self.name = name
        self.port = port or free_port()
        self.state_file = os.path.join(workdir, name + "-state.json")
        self.kubeconfig = os.path.join(workdir, name + ".kubeconfig")
        with open(self.kubeconfig, "w") as f:
            f.write(f"""apiVersion: v1
kind: Config
current-context: test
contexts: [{{name: test, context: {{cluster: test, user: test}}}}]
clusters: [{{name: test, cluster: {{server: "http://127.0.0.1:{self.port}"}}}}]
users: [{{name: test, user: {{}}}}]
""")
        self.proc = None

    def start(self):
        self.proc = self.procs.start(self.name, [sys.executable, FAKE_APISERVER, "--port",
                                                 str(self.port), "--state-file", self.state_file,
                                                 "--bookmark-interval", "1"])
        wait_until("the API server double to answer", lambda: self.get("/healthz") is not None)
        return self

    def kill(self):
        Processes.stop(self.proc, signal.SIGKILL)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def request(self, method, path, body=None, content_type="application/json"):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url(path), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                text = res.read().decode()
                return json.loads(text) if text.startswith(("{", "[")) else text
        except urllib.error.HTTPError as e:
            raise AssertionError(f"{method} {path}: HTTP {e.code}: {e.read().decode()[:300]}")

    def get(self, path):
        return self.request("GET", path)

    def create(self, path, obj):
        return self.request("POST", path, obj)

    def kubectl(self, *args, timeout=30):
        res = subprocess.run([KUBECTL, "--kubeconfig", self.kubeconfig, *args],
                             capture_output=True, text=True, timeout=timeout)
        if res.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {res.stderr}")
        return res.stdout


def node(name, epc_mib=None, labels=None):
    alloc = {"cpu": "8", "memory": "32Gi", "pods": "110"}
    if epc_mib is not None:
        alloc["kubernetes.azure.com/sgx_epc_mem_in_MiB"] = str(epc_mib)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": labels or {"kubernetes.io/hostname": name}},
            "status": {"capacity": dict(alloc), "allocatable": dict(alloc),
                       "conditions": [{"type": "Ready", "status": "True"}]}}


def pod(name, epc_mib=0, namespace="default", cpu="100m"):
    res = {"requests": {"cpu": cpu}, "limits": {}}
    if epc_mib:
        res["requests"]["kubernetes.azure.com/sgx_epc_mem_in_MiB"] = str(epc_mib)
        res["limits"]["kubernetes.azure.com/sgx_epc_mem_in_MiB"] = str(epc_mib)
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace,
                         "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                              "name": "rs", "uid": "rs-uid", "controller": True}]},
            "spec": {"containers": [{"name": "app", "image": "example/app:1",
                                     "resources": res}]}}


def http_json(method, url, body=None, headers=None, timeout=10):
    """Returns (status, parsed JSON or text) without raising on HTTP errors."""
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            status, text = res.status, res.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)
