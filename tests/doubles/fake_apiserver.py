#!/usr/bin/env python3
"""A test double of the Kubernetes API server (Python 3 standard library only).

Faithful, for what this project uses, to kube-apiserver v1.33 over HTTP/1.1 + JSON, so the real
`kubectl` and our C++ client can talk to it. It binds 127.0.0.1 only.

Command line
------------
  python3 fake_apiserver.py --port 0 [--port-file F] [--tls-cert C --tls-key K [--client-ca CA]]
                            [--token T] [--state-file S] [--watch-cache-size N]
                            [--bookmark-interval SEC] [--verbose]

  --port P               TCP port on 127.0.0.1; 0 picks a free one.
  --port-file F          write the bound port (decimal, newline) to F, atomically, once listening.
  --tls-cert/--tls-key   serve HTTPS with this PEM certificate and key (else plain HTTP).
  --client-ca CA         with TLS: also accept client certificates signed by CA as credentials.
  --token T              require `Authorization: Bearer T` (or a client certificate); 401 otherwise.
                         /healthz, /livez, /readyz, /version and /__test/* stay open to anonymous.
  --state-file S         load objects from S at start (if present) and rewrite S atomically after
                         every change, so a test can kill and restart the server (same --port) and
                         clients resume. Format: {"kind": "FakeApiserverState", "resourceVersion":
                         "N", "items": [full objects with apiVersion and kind]}; a seed file may
                         also be a bare list or {"items": [...]}, missing uid/resourceVersion/
                         creationTimestamp are filled in.
  --watch-cache-size N   events kept per resource for watch resumption and consistent paging
                         (default 1000); older resourceVersions answer 410 Expired.
  --bookmark-interval S  seconds between BOOKMARK events on watches with allowWatchBookmarks=true
                         (default 60, the real server's cadence).
  --verbose              log every request to stderr.

The API
-------
Discovery (/api, /api/v1, /apis, /apis/<group>[/<version>]; legacy JSON with Content-Type
application/json even when aggregated discovery is asked for, which clients accept), /version,
/healthz, /livez, /readyz, a minimal /openapi/v3 (and /openapi/v2, JSON or protobuf) that lets
kubectl leave validation to the server, and these resources:
  v1: namespaces, nodes, pods (+status, binding, eviction), bindings, events, configmaps, secrets,
      services, endpoints
  apps/v1: deployments, statefulsets, replicasets (+status, scale), daemonsets (+status)
  autoscaling/v1: horizontalpodautoscalers    coordination.k8s.io/v1: leases
  policy/v1: poddisruptionbudgets (+status)   events.k8s.io/v1: events (same storage as v1 events)
  cluster.x-k8s.io/v1beta1: machinedeployments, machinesets (+status, scale), machines (+status)
  metrics.k8s.io/v1beta1: pods, nodes (read-only; values from /__test/metrics below)
Verbs: get, list (label/field selectors, limit/continue over one consistent snapshot,
resourceVersion[Match]), watch (?watch=1 or /watch/ paths; chunked, one JSON event per line;
resourceVersion replay from a per-resource history, 410 Expired as an ERROR event then a clean
end; BOOKMARKs; sendInitialEvents; timeoutSeconds; selector-aware ADDED/DELETED), create,
update (409 Conflict on a stale metadata.resourceVersion), patch (merge, strategic-merge with the
usual list merge keys, json-patch; apply approximated as a merge patch), delete (finalizers
respected; pods otherwise go at once), deletecollection. Objects get uid, creationTimestamp,
resourceVersion (one global counter, strings) and, for apps/policy/CAPI objects,
metadata.generation (bumped on spec changes). Typed lists carry no per-item kind/apiVersion, as
the real server's do (CAPI custom resources keep theirs).

Like the real server: bodies are decoded strictly enough that wrong JSON types are 400s; status
subresources separate spec from status (writes to the main resource keep the old status, writes
to /status change only status, create resets status: pods start as {"phase": "Pending",
"qosClass": ...}, so a test playing kubelet writes pods/status); pods get the API server's
defaults (schedulerName, restartPolicy, requests copied from limits, ...) and an immutable spec
(nodeName only through pods/binding); errors are v1 Status objects with the real code, reason
and message; human-readable `kubectl get` gets server-side Tables (Accept: ...;as=Table).
Not there: protobuf/CBOR/YAML bodies, controllers and garbage collection (tests play them),
graceful pod termination, admission, RBAC, managedFields, server-side field validation.

Test-only endpoints (never used by production code; no authentication needed)
-------------------------------------------------------------------------------
  POST   /__test/drop-watches            close every open watch stream abruptly -> {"dropped": n}
  POST   /__test/compact                 forget the event history: any older resourceVersion
                                          now gets 410 -> {"resourceVersion": "N"}
  GET    /__test/requests                {"items": [{"method", "path", "query", "status",
                                          "contentType", "accept", "userAgent", "body"}]}
                                          received so far (not /__test/ ones; body is the parsed
                                          JSON, or text, or null); DELETE clears the log
  POST   /__test/fail?path=RE&code=503&count=N[&method=GET]
                                          answer the next N requests whose path matches RE
                                          (re.search) with a Status of that code; DELETE clears
  GET    /__test/watches                 {"count": n, "items": [{"resource", "namespace",
                                          "labelSelector", "fieldSelector"}]} open watches
  PUT    /__test/metrics/pods/<ns>/<name> body {"containers": [{"name": "c", "usage":
                                          {"cpu": "250m", "memory": "64Mi"}}], "window"?: "15s"}
  PUT    /__test/metrics/nodes/<name>    body {"usage": {"cpu": "1", "memory": "1Gi"}}
                                          (DELETE either to remove; a pod or node without
                                          metrics is absent, like a fresh one in metrics-server)
  GET    /__test/state                   the whole store, in the --state-file format
"""

import argparse
import base64
import collections
import copy
import json
import math
import os
import queue
import random
import re
import select
import signal
import socket
import ssl
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

K8S_VERSION = {
    "major": "1",
    "minor": "33",
    "emulationMajor": "1",
    "emulationMinor": "33",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "32",
    "gitVersion": "v1.33.0-fake",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2025-04-23T00:00:00Z",
    "goVersion": "go1.24.2",
    "compiler": "gc",
    "platform": "linux/amd64",
}
MAX_BODY = 3 * 1024 * 1024  # the real server's limit for JSON request bodies
DEFAULT_WATCH_TIMEOUT = 1800  # minRequestTimeout
INITIAL_EVENTS_END = "k8s.io/initial-events-end"


# --------------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------------


def now_rfc3339():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(s):
    try:
        return datetime.strptime(s[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None


def human_duration(seconds):
    """k8s.io/apimachinery/pkg/util/duration.HumanDuration."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return "%ds" % s
    minutes = s // 60
    if minutes < 10:
        return "%dm" % minutes if s % 60 == 0 else "%dm%ds" % (minutes, s % 60)
    if minutes < 180:
        return "%dm" % minutes
    hours = s // 3600
    if hours < 8:
        return "%dh" % hours if minutes % 60 == 0 else "%dh%dm" % (hours, minutes % 60)
    if hours < 48:
        return "%dh" % hours
    if hours < 24 * 8:
        return "%dd" % (hours // 24) if hours % 24 == 0 else "%dd%dh" % (hours // 24, hours % 24)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)
    if hours < 24 * 365 * 8:
        dy = (hours // 24) % 365
        return "%dy" % (hours // 24 // 365) if dy == 0 else "%dy%dd" % (hours // 24 // 365, dy)
    return "%dy" % (hours // 24 // 365)


def age(obj):
    ts = parse_rfc3339((obj.get("metadata") or {}).get("creationTimestamp") or "")
    if ts is None:
        return "<unknown>"
    return human_duration((datetime.now(timezone.utc) - ts).total_seconds())


def dumps(obj, pretty=False):
    if pretty:
        return json.dumps(obj, indent=2)
    return json.dumps(obj, separators=(",", ":"))


def deepcopy(obj):
    return copy.deepcopy(obj)


def meta(obj):
    m = obj.get("metadata")
    if not isinstance(m, dict):
        m = {}
        obj["metadata"] = m
    return m


def dig(obj, path, default=None):
    cur = obj
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def go_str(v):
    """How Go's fmt prints a scalar field value for field selectors."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


# --------------------------------------------------------------------------------------------
# Errors: every failure is a v1 Status
# --------------------------------------------------------------------------------------------

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_obj(code, reason, message, details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message, "reason": reason}
    if details is not None:
        st["details"] = details
    st["code"] = code
    return st


class ApiError(Exception):
    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.status = status_obj(code, reason or REASONS.get(code, ""), message, details)
        self.headers = headers or {}


def _details(rdef, name, **extra):
    d = {}
    if name:
        d["name"] = name
    if rdef is not None and rdef.group:
        d["group"] = rdef.group
    if rdef is not None:
        d["kind"] = rdef.plural
    d.update(extra)
    return d


def err_not_found(rdef, name):
    return ApiError(404, '%s "%s" not found' % (rdef.gr, name), "NotFound", _details(rdef, name))


def err_already_exists(rdef, name):
    return ApiError(409, '%s "%s" already exists' % (rdef.gr, name), "AlreadyExists",
                    _details(rdef, name))


def err_conflict(rdef, name, why="the object has been modified; please apply your changes to "
                 "the latest version and try again", kind=None):
    d = _details(rdef, name)
    if kind:
        d["kind"] = kind
        d.pop("group", None)
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": %s'
                    % (kind or rdef.gr, name, why), "Conflict", d)


def err_bad_request(message):
    return ApiError(400, message, "BadRequest")


def err_method_not_allowed():
    return ApiError(405, "the server does not allow this method on the requested resource",
                    "MethodNotAllowed", {})


def err_invalid(kind, name, causes, group=""):
    """causes: list of (field, reason, message) like field.ErrorList."""
    parts = []
    for f, _r, m in causes:
        parts.append("%s: %s" % (f, m) if f else m)
    if len(parts) == 1:
        msg = '%s "%s" is invalid: %s' % (kind, name, parts[0])
    else:
        msg = '%s "%s" is invalid: [%s]' % (kind, name, ", ".join(parts))
    d = {"name": name, "kind": kind,
         "causes": [{"reason": r, "message": m, "field": f} for f, r, m in causes]}
    if group:
        d["group"] = group
    return ApiError(422, msg, "Invalid", d)


def err_expired(message):
    return ApiError(410, message, "Expired")


def err_too_large_rv(rv, current):
    return ApiError(504, "Too large resource version: %d, current: %d" % (rv, current), "Timeout",
                    {"causes": [{"reason": "ResourceVersionTooLarge",
                                 "message": "Too large resource version"}],
                     "retryAfterSeconds": 1})


def err_not_found_path():
    return ApiError(404, "the server could not find the requested resource", "NotFound", {})


# --------------------------------------------------------------------------------------------
# Resource registry
# --------------------------------------------------------------------------------------------

STD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")

POD_FIELDS = frozenset({
    "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
    "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"})
EVENT_FIELDS = frozenset({
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
    "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
    "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"})
EVENTS_V1_FIELD_ALIASES = {
    "regarding.kind": "involvedObject.kind", "regarding.namespace": "involvedObject.namespace",
    "regarding.name": "involvedObject.name", "regarding.uid": "involvedObject.uid",
    "regarding.apiVersion": "involvedObject.apiVersion",
    "regarding.resourceVersion": "involvedObject.resourceVersion",
    "regarding.fieldPath": "involvedObject.fieldPath",
    "reportingController": "reportingComponent", "deprecatedSource": "source"}


class ResourceDef:
    def __init__(self, group, version, plural, kind, namespaced, short_names=(), categories=(),
                 verbs=STD_VERBS, subresources=(), generation=False, crd=False,
                 create_on_update=False, field_labels=frozenset(), storage=None, metrics=False,
                 status_on_create="reset"):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.short_names = list(short_names)
        self.categories = list(categories)
        self.verbs = list(verbs)
        self.subresources = set(subresources)
        self.generation = generation
        self.crd = crd
        self.create_on_update = create_on_update
        self.field_labels = set(field_labels) | {"metadata.name"}
        if namespaced:
            self.field_labels.add("metadata.namespace")
        self.skey = storage or (group, plural)
        self.metrics = metrics
        self.status_on_create = status_on_create  # reset | keep | pod | namespace | none

    @property
    def api_version(self):
        return "%s/%s" % (self.group, self.version) if self.group else self.version

    @property
    def gv(self):
        return self.api_version

    @property
    def list_kind(self):
        return self.kind + "List"

    @property
    def gr(self):
        return "%s.%s" % (self.plural, self.group) if self.group else self.plural

    @property
    def singular(self):
        return self.kind.lower()

    @property
    def has_status(self):
        return "status" in self.subresources


def _r(*a, **k):
    return ResourceDef(*a, **k)


RESOURCES = [
    _r("", "v1", "namespaces", "Namespace", False, ["ns"], subresources=["status"],
       field_labels={"status.phase"}, status_on_create="namespace"),
    _r("", "v1", "nodes", "Node", False, ["no"], subresources=["status"],
       field_labels={"spec.unschedulable"}, status_on_create="keep"),
    _r("", "v1", "pods", "Pod", True, ["po"], ["all"],
       subresources=["status", "binding", "eviction"], field_labels=POD_FIELDS,
       status_on_create="pod"),
    _r("", "v1", "bindings", "Binding", True, verbs=["create"], status_on_create="none"),
    _r("", "v1", "events", "Event", True, ["ev"], create_on_update=True,
       field_labels=EVENT_FIELDS, status_on_create="none"),
    _r("", "v1", "configmaps", "ConfigMap", True, ["cm"], status_on_create="none"),
    _r("", "v1", "secrets", "Secret", True, field_labels={"type"}, status_on_create="none"),
    _r("", "v1", "services", "Service", True, ["svc"], ["all"], subresources=["status"]),
    _r("", "v1", "endpoints", "Endpoints", True, ["ep"], create_on_update=True,
       status_on_create="none"),
    _r("apps", "v1", "deployments", "Deployment", True, ["deploy"], ["all"],
       subresources=["status", "scale"], generation=True),
    _r("apps", "v1", "statefulsets", "StatefulSet", True, ["sts"], ["all"],
       subresources=["status", "scale"], generation=True),
    _r("apps", "v1", "replicasets", "ReplicaSet", True, ["rs"], ["all"],
       subresources=["status", "scale"], generation=True, field_labels={"status.replicas"}),
    _r("apps", "v1", "daemonsets", "DaemonSet", True, ["ds"], ["all"], subresources=["status"],
       generation=True),
    _r("autoscaling", "v1", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True, ["hpa"],
       ["all"], subresources=["status"], generation=True),
    _r("coordination.k8s.io", "v1", "leases", "Lease", True, status_on_create="none"),
    _r("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", True, ["pdb"],
       subresources=["status"], generation=True),
    _r("events.k8s.io", "v1", "events", "Event", True, ["ev"], create_on_update=True,
       field_labels=EVENT_FIELDS | set(EVENTS_V1_FIELD_ALIASES), storage=("", "events"),
       status_on_create="none"),
    _r("cluster.x-k8s.io", "v1beta1", "machinedeployments", "MachineDeployment", True, ["md"],
       ["cluster-api"], subresources=["status", "scale"], generation=True, crd=True),
    _r("cluster.x-k8s.io", "v1beta1", "machinesets", "MachineSet", True, ["ms"],
       ["cluster-api"], subresources=["status", "scale"], generation=True, crd=True),
    _r("cluster.x-k8s.io", "v1beta1", "machines", "Machine", True, ["ma"], ["cluster-api"],
       subresources=["status"], generation=True, crd=True),
    _r("metrics.k8s.io", "v1beta1", "pods", "PodMetrics", True, verbs=["get", "list"],
       metrics=True, status_on_create="none"),
    _r("metrics.k8s.io", "v1beta1", "nodes", "NodeMetrics", False, verbs=["get", "list"],
       metrics=True, status_on_create="none"),
]

GROUP_ORDER = []  # (group, version) in discovery order
BY_GV = collections.OrderedDict()  # (group, version) -> {plural: ResourceDef}
BY_GVK = {}  # (apiVersion, kind) -> ResourceDef (storage-canonical ones first)
BY_SKEY = {}  # storage key -> the canonical ResourceDef (the one storing objects as-is)
for _rd in RESOURCES:
    gv = (_rd.group, _rd.version)
    if gv not in BY_GV:
        BY_GV[gv] = collections.OrderedDict()
        GROUP_ORDER.append(gv)
    BY_GV[gv][_rd.plural] = _rd
    if _rd.metrics or _rd.plural == "bindings":
        continue
    BY_GVK.setdefault((_rd.api_version, _rd.kind), _rd)
    if _rd.skey == (_rd.group, _rd.plural):
        BY_SKEY[_rd.skey] = _rd
NS_DEF = BY_GV[("", "v1")]["namespaces"]
POD_DEF = BY_GV[("", "v1")]["pods"]
NODE_DEF = BY_GV[("", "v1")]["nodes"]
PDB_DEF = BY_GV[("policy", "v1")]["poddisruptionbudgets"]
EVENTS_V1_DEF = BY_GV[("events.k8s.io", "v1")]["events"]


def storage_def(rdef):
    return BY_SKEY[rdef.skey]


# --------------------------------------------------------------------------------------------
# Conversion between the two Event APIs (one storage, like the real server)
# --------------------------------------------------------------------------------------------

_EVENT_RENAMES = [  # (core v1 field, events.k8s.io/v1 field)
    ("involvedObject", "regarding"), ("message", "note"), ("source", "deprecatedSource"),
    ("firstTimestamp", "deprecatedFirstTimestamp"), ("lastTimestamp", "deprecatedLastTimestamp"),
    ("count", "deprecatedCount"), ("reportingComponent", "reportingController")]


def to_external(rdef, obj):
    """Storage form -> the form of the API the client used."""
    if rdef is EVENTS_V1_DEF and obj is not None:
        out = {}
        for k, v in obj.items():
            for core, ev in _EVENT_RENAMES:
                if k == core:
                    k = ev
                    break
            out[k] = v
        out["apiVersion"] = "events.k8s.io/v1"
        out["kind"] = "Event"
        return out
    return obj


def to_storage(rdef, obj):
    if rdef is EVENTS_V1_DEF and obj is not None:
        out = {}
        for k, v in obj.items():
            for core, ev in _EVENT_RENAMES:
                if k == ev:
                    k = core
                    break
            out[k] = v
        out["apiVersion"] = "v1"
        out["kind"] = "Event"
        return out
    return obj


# --------------------------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------------------------

_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _check_label_key(key):
    prefix, _, name = key.rpartition("/")
    if "/" in key and (not prefix or len(prefix) > 253 or not _DNS_SUBDOMAIN.match(prefix)):
        return False
    return 0 < len(name) <= 63 and bool(_QUALIFIED_NAME.match(name))


def _check_label_value(v):
    return len(v) <= 63 and bool(_QUALIFIED_NAME.match(v))


class Requirement:
    def __init__(self, key, op, values):
        self.key, self.op, self.values = key, op, list(values)

    def matches(self, labels):
        has = self.key in labels
        v = labels.get(self.key)
        if self.op in ("=", "=="):
            return has and v == self.values[0]
        if self.op == "in":
            return has and v in self.values
        if self.op == "!=":
            return not has or v != self.values[0]
        if self.op == "notin":
            return not has or v not in self.values
        if self.op == "exists":
            return has
        if self.op == "!":
            return not has
        if self.op in (">", "<"):
            if not has:
                return False
            try:
                lv = int(v)
            except ValueError:
                return False
            return lv > int(self.values[0]) if self.op == ">" else lv < int(self.values[0])
        return False

    def __str__(self):
        if self.op == "exists":
            return self.key
        if self.op == "!":
            return "!" + self.key
        if self.op in ("in", "notin"):
            return "%s %s (%s)" % (self.key, self.op, ",".join(sorted(self.values)))
        return "%s%s%s" % (self.key, self.op, self.values[0])


class LabelSelector:
    """labels.Parse: `a=b,c!=d,e in (x,y),f notin (z),g,!h,i>3`; empty selects everything."""

    def __init__(self, reqs=(), nothing=False):
        self.reqs = list(reqs)
        self.nothing = nothing

    @staticmethod
    def parse(text):
        reqs = []
        text = text or ""
        parts, depth, cur = [], 0, ""
        for ch in text:
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur.strip() or parts:
            parts.append(cur)
        for raw in parts:
            p = raw.strip()
            if not p:
                raise err_bad_request("unable to parse requirement: found '', expected: "
                                      "identifier")
            m = re.match(r"^([^\s!=<>(),]+)\s+(in|notin)\s*\((.*)\)$", p)
            if m:
                key, op = m.group(1), m.group(2)
                values = [v.strip() for v in m.group(3).split(",")]
                if m.group(3).strip() == "":
                    raise err_bad_request(
                        "unable to parse requirement: for 'in', 'notin' operators, values set "
                        "can't be empty")
            elif p.startswith("!"):
                key, op, values = p[1:].strip(), "!", []
            else:
                m = re.match(r"^([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)$", p)
                if m:
                    key, op, values = m.group(1), m.group(2), [m.group(3)]
                    if op in (">", "<"):
                        try:
                            int(values[0])
                        except ValueError:
                            raise err_bad_request(
                                "unable to parse requirement: for 'Gt', 'Lt' operators, the "
                                "value must be an integer")
                elif re.match(r"^[^\s!=<>(),]+$", p):
                    key, op, values = p, "exists", []
                else:
                    raise err_bad_request("unable to parse requirement: found '%s', expected: "
                                          "',', '!=', '==', '=', 'in', 'notin'" % p)
            if not _check_label_key(key):
                raise err_bad_request(
                    'unable to parse requirement: key: Invalid value: "%s": name part must '
                    "consist of alphanumeric characters, '-', '_' or '.', and must start and end "
                    "with an alphanumeric character" % key)
            for v in values:
                if op not in (">", "<") and not _check_label_value(v):
                    raise err_bad_request(
                        'unable to parse requirement: values[0][%s]: Invalid value: "%s": a '
                        "valid label must be an empty string or consist of alphanumeric "
                        "characters, '-', '_' or '.', and must start and end with an "
                        "alphanumeric character" % (key, v))
            reqs.append(Requirement(key, op, values))
        return LabelSelector(reqs)

    @staticmethod
    def from_struct(sel):
        """metav1.LabelSelector -> selector; None selects nothing, {} everything."""
        if sel is None:
            return LabelSelector(nothing=True)
        if not isinstance(sel, dict):
            raise ValueError("selector must be an object")
        reqs = []
        for k, v in sorted((sel.get("matchLabels") or {}).items()):
            reqs.append(Requirement(k, "=", [str(v)]))
        for e in sel.get("matchExpressions") or []:
            op = {"In": "in", "NotIn": "notin", "Exists": "exists",
                  "DoesNotExist": "!"}.get(e.get("operator"))
            if op is None:
                raise ValueError("%r is not a valid label selector operator"
                                 % e.get("operator"))
            reqs.append(Requirement(e.get("key", ""), op, e.get("values") or []))
        reqs.sort(key=lambda r: r.key)
        return LabelSelector(reqs)

    def empty(self):
        return not self.reqs and not self.nothing

    def matches(self, labels):
        if self.nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.reqs)

    def __str__(self):
        return ",".join(str(r) for r in self.reqs)


def _unescape_field_value(v):
    out, i = "", 0
    while i < len(v):
        if v[i] == "\\" and i + 1 < len(v):
            out += v[i + 1]
            i += 2
        else:
            out += v[i]
            i += 1
    return out


class FieldSelector:
    """fields.ParseSelector: `a=b,c!=d` (also `==`), ANDed; only supported labels allowed."""

    def __init__(self, reqs=()):
        self.reqs = list(reqs)  # (field, op, value)

    @staticmethod
    def parse(text, rdef):
        reqs = []
        if not text:
            return FieldSelector()
        for part in re.split(r"(?<!\\),", text):
            if part == "":
                continue
            m = re.match(r"^(.*?)(!=|==|=)(.*)$", part)
            if not m:
                raise err_bad_request("invalid selector: '%s'; can't understand '%s'"
                                      % (text, part))
            field, op, value = m.group(1).strip(), m.group(2), _unescape_field_value(m.group(3))
            if field not in rdef.field_labels:
                raise err_bad_request("field label not supported: %s" % field)
            if rdef is EVENTS_V1_DEF:
                field = EVENTS_V1_FIELD_ALIASES.get(field, field)
            reqs.append((field, "!=" if op == "!=" else "=", value))
        return FieldSelector(reqs)

    def empty(self):
        return not self.reqs

    def names_only(self):
        return [v for f, op, v in self.reqs if f == "metadata.name" and op == "="]

    def matches(self, obj):
        for field, op, value in self.reqs:
            actual = field_value(obj, field)
            if (actual == value) != (op == "="):
                return False
        return True

    def __str__(self):
        return ",".join("%s%s%s" % r for r in self.reqs)


def field_value(obj, field):
    if field == "source":
        return go_str(dig(obj, "source.component"))
    if field == "metadata.namespace":
        return go_str(dig(obj, "metadata.namespace", ""))
    return go_str(dig(obj, field))


# --------------------------------------------------------------------------------------------
# Patches
# --------------------------------------------------------------------------------------------


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


# patchMergeKey of the lists that kubectl and controllers patch (patchStrategy=merge).
SMP_MERGE_KEYS = {
    "containers": "name", "initContainers": "name", "ephemeralContainers": "name",
    "conditions": "type", "env": "name", "volumes": "name", "volumeMounts": "mountPath",
    "volumeDevices": "devicePath", "ownerReferences": "uid", "imagePullSecrets": "name",
    "addresses": "type", "ports": "containerPort", "hostAliases": "ip",
    "topologySpreadConstraints": "topologyKey", "resourceClaims": "name",
}
SMP_PRIMITIVE_MERGE = {"finalizers"}


def strategic_merge_patch(orig, patch):
    """Strategic merge patch: merge patch for maps, plus merge-by-key for the usual lists and
    the $patch / $deleteFromPrimitiveList / $setElementOrder / $retainKeys directives."""
    if not isinstance(patch, dict):
        return deepcopy(patch)
    if not isinstance(orig, dict):
        orig = {}
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    result = dict(orig)
    deletes = []
    for k, v in patch.items():
        if k in ("$patch", "$retainKeys") or k.startswith("$setElementOrder/"):
            continue
        if k.startswith("$deleteFromPrimitiveList/"):
            deletes.append((k.split("/", 1)[1], v))
            continue
        if v is None:
            result.pop(k, None)
        elif isinstance(v, dict):
            merged = strategic_merge_patch(result.get(k), v)
            if merged is None:
                result.pop(k, None)
            else:
                result[k] = merged
        elif isinstance(v, list) and k in SMP_MERGE_KEYS and all(isinstance(i, dict) for i in v):
            result[k] = _smp_merge_list(result.get(k), v, SMP_MERGE_KEYS[k])
        elif isinstance(v, list) and k in SMP_PRIMITIVE_MERGE:
            cur = list(result.get(k) or [])
            for item in v:
                if item not in cur:
                    cur.append(item)
            result[k] = cur
        else:
            result[k] = deepcopy(v)
    for field, values in deletes:
        if isinstance(result.get(field), list):
            result[field] = [x for x in result[field] if x not in (values or [])]
    if "$retainKeys" in patch and isinstance(patch["$retainKeys"], list):
        keep = set(patch["$retainKeys"])
        result = {k: v for k, v in result.items() if k in keep}
    return result


def _smp_merge_list(orig, patch_items, key):
    if any(i.get("$patch") == "replace" for i in patch_items):
        return [deepcopy(i) for i in patch_items if i.get("$patch") != "replace"]
    out = [deepcopy(i) for i in (orig or []) if isinstance(i, dict)]
    for item in patch_items:
        kv = item.get(key)
        idx = next((n for n, o in enumerate(out) if o.get(key) == kv), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                out.pop(idx)
            continue
        if idx is None:
            out.append({k: v for k, v in item.items() if not k.startswith("$")})
        else:
            merged = strategic_merge_patch(out[idx], item)
            if merged is None:
                out.pop(idx)
            else:
                out[idx] = merged
    return out


class PatchError(Exception):
    pass


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError("JSON pointer must start with '/': %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def _walk(doc, parts):
    cur = doc
    for p in parts:
        if isinstance(cur, dict):
            if p not in cur:
                raise PatchError("path not found: %s" % p)
            cur = cur[p]
        elif isinstance(cur, list):
            try:
                cur = cur[int(p)]
            except (ValueError, IndexError):
                raise PatchError("invalid index: %s" % p)
        else:
            raise PatchError("cannot traverse into a scalar at %s" % p)
    return cur


def _list_index(lst, p, allow_end):
    if p == "-" and allow_end:
        return len(lst)
    try:
        i = int(p)
    except ValueError:
        raise PatchError("invalid array index: %s" % p)
    if i < 0 or i > len(lst) or (i == len(lst) and not allow_end):
        raise PatchError("array index out of bounds: %d" % i)
    return i


def _add(doc, parts, value):
    if not parts:
        return value
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_list_index(parent, last, True), value)
    else:
        raise PatchError("cannot add to a scalar")
    return doc


def _remove(doc, parts):
    if not parts:
        raise PatchError("cannot remove the whole document")
    parent = _walk(doc, parts[:-1])
    last = parts[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchError("unable to remove nonexistent key: %s: missing value" % last)
        return parent.pop(last)
    if isinstance(parent, list):
        return parent.pop(_list_index(parent, last, False))
    raise PatchError("cannot remove from a scalar")


def json_patch(doc, ops):
    """RFC 6902 JSON patch."""
    if not isinstance(ops, list):
        raise ApiError(400, "json patch must be a list of operations", "BadRequest")
    doc = deepcopy(doc)
    for op in ops:
        if not isinstance(op, dict) or "op" not in op:
            raise ApiError(400, "invalid json patch operation: %s" % dumps(op), "BadRequest")
        kind = op["op"]
        if not isinstance(op.get("path", ""), str) or not isinstance(op.get("from", ""), str):
            raise ApiError(400, "invalid json patch operation: path and from must be strings",
                           "BadRequest")
        try:
            path = _pointer(op.get("path", ""))
            if kind == "add":
                doc = _add(doc, path, deepcopy(op.get("value")))
            elif kind == "remove":
                _remove(doc, path)
            elif kind == "replace":
                if not path:
                    doc = deepcopy(op.get("value"))
                else:
                    _walk(doc, path)  # must exist
                    parent = _walk(doc, path[:-1])
                    if isinstance(parent, list):
                        parent[_list_index(parent, path[-1], False)] = deepcopy(op.get("value"))
                    else:
                        parent[path[-1]] = deepcopy(op.get("value"))
            elif kind == "move":
                frm = _pointer(op.get("from", ""))
                value = _remove(doc, frm)
                doc = _add(doc, path, value)
            elif kind == "copy":
                value = deepcopy(_walk(doc, _pointer(op.get("from", ""))))
                doc = _add(doc, path, value)
            elif kind == "test":
                if _walk(doc, path) != op.get("value"):
                    raise PatchError("testing value %s failed" % op.get("path"))
            else:
                raise ApiError(400, "Unexpected kind: %s" % kind, "BadRequest")
        except PatchError as e:
            raise ApiError(422, str(e), "Invalid")
    return doc


# --------------------------------------------------------------------------------------------
# Decoding: the JSON types of the typed fields this double reads (Go's decoder rejects others)
# --------------------------------------------------------------------------------------------

# Types: str int bool num obj list map (map of strings) qty (map of quantities: string or
# number) ios (int or string). A path segment "[]" means every item of a list.
_META_SCHEMA = [
    ("metadata", "obj"), ("metadata.name", "str"), ("metadata.generateName", "str"),
    ("metadata.namespace", "str"), ("metadata.uid", "str"), ("metadata.resourceVersion", "str"),
    ("metadata.creationTimestamp", "str"), ("metadata.deletionTimestamp", "str"),
    ("metadata.generation", "int"), ("metadata.labels", "map"),
    ("metadata.annotations", "map"), ("metadata.finalizers", "list"),
    ("metadata.finalizers[]", "str"), ("metadata.ownerReferences", "list"),
    ("metadata.ownerReferences[]", "obj"), ("metadata.ownerReferences[].apiVersion", "str"),
    ("metadata.ownerReferences[].kind", "str"), ("metadata.ownerReferences[].name", "str"),
    ("metadata.ownerReferences[].uid", "str"), ("metadata.ownerReferences[].controller", "bool"),
    ("spec", "obj"), ("status", "obj")]
_CONDITIONS = [("status.conditions", "list"), ("status.conditions[]", "obj"),
               ("status.conditions[].type", "str"), ("status.conditions[].status", "str")]
_SELECTOR = [("selector", "obj"), ("selector.matchLabels", "map"),
             ("selector.matchExpressions", "list"), ("selector.matchExpressions[]", "obj"),
             ("selector.matchExpressions[].key", "str"),
             ("selector.matchExpressions[].operator", "str"),
             ("selector.matchExpressions[].values", "list"),
             ("selector.matchExpressions[].values[]", "str")]


def _pod_spec_schema(prefix):
    out = []
    for cs in ("containers", "initContainers"):
        c = prefix + cs
        out += [(c, "list"), (c + "[]", "obj"), (c + "[].name", "str"), (c + "[].image", "str"),
                (c + "[].resources", "obj"), (c + "[].resources.limits", "qty"),
                (c + "[].resources.requests", "qty")]
    out += [(prefix + "nodeName", "str"), (prefix + "schedulerName", "str"),
            (prefix + "tolerations", "list"), (prefix + "tolerations[]", "obj"),
            (prefix + "schedulingGates", "list"), (prefix + "readinessGates", "list"),
            (prefix + "priority", "int"), (prefix + "nodeSelector", "map"),
            (prefix + "overhead", "qty")]
    return out


def _with_prefix(prefix, schema):
    return [(prefix + p, t) for p, t in schema]


_POD_STATUS = _CONDITIONS + [
    ("status.phase", "str"), ("status.reason", "str"), ("status.podIP", "str"),
    ("status.nominatedNodeName", "str"), ("status.containerStatuses", "list"),
    ("status.containerStatuses[]", "obj"), ("status.containerStatuses[].ready", "bool"),
    ("status.containerStatuses[].restartCount", "int"),
    ("status.containerStatuses[].state", "obj"),
    ("status.containerStatuses[].state.waiting", "obj"),
    ("status.containerStatuses[].state.waiting.reason", "str"),
    ("status.containerStatuses[].state.terminated", "obj"),
    ("status.containerStatuses[].state.terminated.reason", "str")]
_WORKLOAD = (_with_prefix("spec.", _SELECTOR) + [
    ("spec.replicas", "int"), ("spec.template", "obj"), ("spec.template.metadata", "obj"),
    ("spec.template.metadata.labels", "map"), ("spec.template.spec", "obj")] +
    _pod_spec_schema("spec.template.spec.") + [
    ("status.replicas", "int"), ("status.readyReplicas", "int"),
    ("status.updatedReplicas", "int"), ("status.availableReplicas", "int")])
SCHEMAS = {
    "Pod": _pod_spec_schema("spec.") + _POD_STATUS,
    "Node": [("spec.unschedulable", "bool"), ("spec.taints", "list"), ("spec.taints[]", "obj"),
             ("status.allocatable", "qty"), ("status.capacity", "qty"),
             ("status.addresses", "list"), ("status.addresses[]", "obj"),
             ("status.nodeInfo", "obj"), ("status.nodeInfo.kubeletVersion", "str")] +
            _CONDITIONS,
    "Namespace": [("status.phase", "str")],
    "Deployment": _WORKLOAD, "StatefulSet": _WORKLOAD, "ReplicaSet": _WORKLOAD,
    "DaemonSet": _WORKLOAD,
    "PodDisruptionBudget": _with_prefix("spec.", _SELECTOR) + [
        ("spec.minAvailable", "ios"), ("spec.maxUnavailable", "ios"),
        ("spec.unhealthyPodEvictionPolicy", "str")],
    "Lease": [("spec.holderIdentity", "str"), ("spec.leaseDurationSeconds", "int"),
              ("spec.leaseTransitions", "int"), ("spec.acquireTime", "str"),
              ("spec.renewTime", "str")],
    "Event": [("involvedObject", "obj"), ("regarding", "obj"), ("source", "obj"),
              ("deprecatedSource", "obj"), ("count", "int"), ("deprecatedCount", "int"),
              ("message", "str"), ("note", "str"), ("reason", "str"), ("type", "str")],
    "MachineDeployment": _with_prefix("spec.", _SELECTOR) + [
        ("spec.replicas", "int"), ("status.replicas", "int"), ("status.selector", "str")],
    "MachineSet": _with_prefix("spec.", _SELECTOR) + [
        ("spec.replicas", "int"), ("status.replicas", "int"), ("status.selector", "str")],
    "Binding": [("target", "obj"), ("target.kind", "str"), ("target.name", "str")],
    "Eviction": [("deleteOptions", "obj")] + _with_prefix("deleteOptions.", [
        ("preconditions", "obj"), ("preconditions.uid", "str"),
        ("preconditions.resourceVersion", "str"), ("dryRun", "list"), ("dryRun[]", "str"),
        ("gracePeriodSeconds", "int")]),
    "DeleteOptions": [("preconditions", "obj"), ("preconditions.uid", "str"),
                      ("preconditions.resourceVersion", "str"), ("dryRun", "list"),
                      ("dryRun[]", "str"), ("gracePeriodSeconds", "int"),
                      ("propagationPolicy", "str")],
    "Scale": [("spec.replicas", "int")],
}
_GO_TYPES = {"str": "string", "int": "int32", "bool": "bool", "num": "float64", "obj": "struct",
             "list": "slice", "map": "map[string]string", "qty": "ResourceList",
             "ios": "IntOrString"}


def _json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def _type_ok(v, t):
    if v is None:
        return True  # null decodes to the zero value
    if t == "str":
        return isinstance(v, str)
    if t == "int":
        return isinstance(v, int) and not isinstance(v, bool) or \
            isinstance(v, float) and v.is_integer()
    if t == "bool":
        return isinstance(v, bool)
    if t == "obj":
        return isinstance(v, dict)
    if t == "list":
        return isinstance(v, list)
    if t == "map":
        return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())
    if t == "qty":
        return isinstance(v, dict) and all(isinstance(x, (str, int, float))
                                           and not isinstance(x, bool) for x in v.values())
    if t == "ios":
        return isinstance(v, str) or isinstance(v, int) and not isinstance(v, bool)
    return True


def check_types(kind, obj, with_meta=True, api_version="v1"):
    """Reject what Go's JSON decoder would: 400 BadRequest."""
    if not isinstance(obj, dict):
        raise err_bad_request("%s in version \"%s\" cannot be handled as a %s: json: cannot "
                              "unmarshal %s into Go value of type %s"
                              % (kind, api_version, kind, _json_type(obj), kind))
    schema = (_META_SCHEMA if with_meta else []) + SCHEMAS.get(kind, [])
    for k in ("metadata", "spec", "status"):
        if k in obj and obj[k] is None:
            obj[k] = {}  # null decodes to the zero struct, which encodes as {}
    for path, t in schema:
        if t == "obj" and path.endswith("[]"):  # [null] decodes to [zero struct]
            for _w, lst in _values_at(obj, path[:-2].replace("[]", ".[]").split(".")):
                if isinstance(lst, list):
                    lst[:] = [{} if x is None else x for x in lst]
        for where, v in _values_at(obj, path.replace("[]", ".[]").split(".")):
            if not _type_ok(v, t):
                raise err_bad_request(
                    "%s in version \"%s\" cannot be handled as a %s: json: cannot unmarshal %s "
                    "into Go struct field %s of type %s" % (kind, api_version, kind,
                                                            _json_type(v), where, _GO_TYPES[t]))


def _values_at(obj, parts, where=""):
    if not parts:
        yield where, obj
        return
    head, rest = parts[0], parts[1:]
    if head == "[]":
        if isinstance(obj, list):
            for i, item in enumerate(obj):
                yield from _values_at(item, rest, "%s[%d]" % (where, i))
        return
    if isinstance(obj, dict) and head in obj:
        yield from _values_at(obj[head], rest, (where + "." + head) if where else head)


# --------------------------------------------------------------------------------------------
# Strategies: defaulting, validation and status handling of the real registries
# --------------------------------------------------------------------------------------------

_NAME_CHARS = "bcdfghjklmnpqrstvwxz2456789"


def _pod_qos(pod):
    containers = (dig(pod, "spec.containers") or []) + (dig(pod, "spec.initContainers") or [])
    any_set, guaranteed = False, True
    for c in containers:
        res = c.get("resources") or {}
        req = {k: v for k, v in (res.get("requests") or {}).items() if k in ("cpu", "memory")}
        lim = {k: v for k, v in (res.get("limits") or {}).items() if k in ("cpu", "memory")}
        if req or lim:
            any_set = True
        if set(lim) != {"cpu", "memory"} or any(req.get(k, lim[k]) != lim[k] for k in lim):
            guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


def _default_container(c):
    if not isinstance(c, dict):
        return
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    image = c.get("image") or ""
    tagless = ":" not in image.rsplit("/", 1)[-1] and "@" not in image
    c.setdefault("imagePullPolicy",
                 "Always" if tagless or image.endswith(":latest") else "IfNotPresent")
    res = c.setdefault("resources", {})
    if isinstance(res, dict) and isinstance(res.get("limits"), dict) and res["limits"]:
        req = res.setdefault("requests", {})
        if isinstance(req, dict):
            for k, v in res["limits"].items():
                req.setdefault(k, v)  # requests default to limits


def default_pod_spec(spec):
    if not isinstance(spec, dict):
        return
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("securityContext", {})
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("enableServiceLinks", True)
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        _default_container(c)


def apply_defaults(rdef, obj):
    spec = obj.get("spec")
    if rdef is POD_DEF:
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        default_pod_spec(spec)
        spec.setdefault("priority", 0)
        spec.setdefault("preemptionPolicy", "PreemptLowerPriority")
        tol = spec.setdefault("tolerations", [])
        if isinstance(tol, list):
            for key in ("node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"):
                if not any(isinstance(t, dict) and t.get("key") == key for t in tol):
                    tol.append({"key": key, "operator": "Exists", "effect": "NoExecute",
                                "tolerationSeconds": 300})
    elif rdef.group == "apps" and isinstance(spec, dict):
        if rdef.plural != "daemonsets":
            spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        if rdef.plural == "deployments":
            spec.setdefault("strategy", {"type": "RollingUpdate", "rollingUpdate": {
                "maxUnavailable": "25%", "maxSurge": "25%"}})
            spec.setdefault("progressDeadlineSeconds", 600)
        if rdef.plural == "statefulsets":
            spec.setdefault("podManagementPolicy", "OrderedReady")
            spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                               "rollingUpdate": {"partition": 0}})
        default_pod_spec(dig(spec, "template.spec"))
    elif rdef.crd and rdef.plural in ("machinedeployments", "machinesets") \
            and isinstance(spec, dict):
        spec.setdefault("replicas", 1)  # what Cluster API's defaulting webhook does
    elif rdef is NS_DEF:
        meta(obj).setdefault("labels", {})["kubernetes.io/metadata.name"] = meta(obj)["name"]
        obj.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])


def validate(rdef, obj, old=None):
    """A few of the real validations (those a client is likely to trip over)."""
    m = meta(obj)
    name = m.get("name", "")
    causes = []
    if not name:
        causes.append(("metadata.name", "FieldValueRequired",
                       "Required value: name or generateName is required"))
    else:
        ok = _DNS_LABEL.match(name) if rdef in (NS_DEF,) else _DNS_SUBDOMAIN.match(name)
        if not ok or len(name) > 253:
            causes.append(("metadata.name", "FieldValueInvalid",
                           'Invalid value: "%s": a lowercase RFC 1123 subdomain must consist '
                           "of lower case alphanumeric characters, '-' or '.', and must start "
                           "and end with an alphanumeric character" % name))
    for what in ("labels", "annotations"):
        val = m.get(what)
        if val is not None and (not isinstance(val, dict)
                                or not all(isinstance(v, str) for v in val.values())):
            causes.append(("metadata." + what, "FieldValueInvalid",
                           "Invalid value: must be a map of strings"))
    for k, v in (m.get("labels") or {}).items() if isinstance(m.get("labels"), dict) else []:
        if not _check_label_key(k) or not isinstance(v, str) or not _check_label_value(v):
            causes.append(("metadata.labels", "FieldValueInvalid",
                           'Invalid value: "%s": invalid label' % k))
    if rdef is POD_DEF:
        containers = dig(obj, "spec.containers")
        if not containers:
            causes.append(("spec.containers", "FieldValueRequired", "Required value"))
        elif isinstance(containers, list):
            for i, c in enumerate(containers):
                if not isinstance(c, dict) or not c.get("name"):
                    causes.append(("spec.containers[%d].name" % i, "FieldValueRequired",
                                   "Required value"))
                elif not c.get("image"):
                    causes.append(("spec.containers[%d].image" % i, "FieldValueRequired",
                                   "Required value"))
        if old is not None:
            causes.extend(_pod_update_causes(old, obj))
    elif rdef.group == "apps" or rdef is PDB_DEF:
        sel = dig(obj, "spec.selector")
        if rdef.group == "apps" and sel is None:
            causes.append(("spec.selector", "FieldValueRequired", "Required value"))
        elif sel is not None:
            try:
                ls = LabelSelector.from_struct(sel)
            except (ValueError, AttributeError) as e:
                causes.append(("spec.selector", "FieldValueInvalid", "Invalid value: %s" % e))
                ls = None
            if rdef.group == "apps" and ls is not None:
                tl = dig(obj, "spec.template.metadata.labels") or {}
                if ls.empty():
                    causes.append(("spec.selector", "FieldValueInvalid",
                                   "Invalid value: empty selector is invalid for deployment"))
                elif not ls.matches(tl):
                    causes.append(("spec.template.metadata.labels", "FieldValueInvalid",
                                   "Invalid value: %s: `selector` does not match template "
                                   "`labels`" % dumps(tl)))
                if not dig(obj, "spec.template.spec.containers"):
                    causes.append(("spec.template.spec.containers", "FieldValueRequired",
                                   "Required value"))
        rep = dig(obj, "spec.replicas")
        if rep is not None and (not isinstance(rep, int) or isinstance(rep, bool) or rep < 0):
            causes.append(("spec.replicas", "FieldValueInvalid",
                           "Invalid value: %s: must be greater than or equal to 0" % dumps(rep)))
        if rdef is PDB_DEF and dig(obj, "spec.minAvailable") is not None \
                and dig(obj, "spec.maxUnavailable") is not None:
            causes.append(("spec", "FieldValueInvalid",
                           "Invalid value: minAvailable and maxUnavailable cannot be both set"))
    if causes:
        raise err_invalid(rdef.kind, name, causes, rdef.group)


_POD_MUTABLE_NOTE = (
    "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only "
    "additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set "
    "to 1 if it was previously negative)")


def _pod_update_causes(old, new):
    def masked(spec):
        spec = deepcopy(spec or {})
        for key in ("containers", "initContainers"):
            for c in spec.get(key) or []:
                if isinstance(c, dict):
                    c.pop("image", None)
        for key in ("activeDeadlineSeconds", "tolerations", "terminationGracePeriodSeconds",
                    "schedulingGates"):
            spec.pop(key, None)
        return spec

    if masked(old.get("spec")) != masked(new.get("spec")):
        return [("spec", "FieldValueForbidden", _POD_MUTABLE_NOTE)]
    return []


def reset_status_on_create(rdef, obj):
    mode = rdef.status_on_create
    if mode == "reset" and rdef.has_status:
        obj.pop("status", None)
        if not rdef.crd:
            obj["status"] = {}
    elif mode == "pod":
        obj["status"] = {"phase": "Pending", "qosClass": _pod_qos(obj)}
    elif mode == "namespace":
        obj["status"] = {"phase": "Active"}


def non_meta_non_status(obj):
    return {k: v for k, v in obj.items()
            if k not in ("metadata", "status", "apiVersion", "kind")}


# --------------------------------------------------------------------------------------------
# The store and the watch hub
# --------------------------------------------------------------------------------------------


class Event:
    __slots__ = ("rv", "type", "obj", "prev")

    def __init__(self, rv, type_, obj, prev):
        self.rv, self.type, self.obj, self.prev = rv, type_, obj, prev


class Watcher:
    DROP = object()

    def __init__(self, rdef, namespace, labels, fields, path):
        self.rdef = rdef
        self.namespace = namespace
        self.labels = labels
        self.fields = fields
        self.path = path
        self.queue = queue.Queue()
        self.sock = None

    def _matches(self, obj):
        if obj is None:
            return False
        m = obj.get("metadata") or {}
        if self.namespace is not None and m.get("namespace") != self.namespace:
            return False
        return self.labels.matches(m.get("labels")) and self.fields.matches(obj)

    def filter(self, ev):
        """Map a store event to what this watch sees (like the watch cache's cacheWatcher)."""
        if ev.type == "ADDED":
            return ("ADDED", ev.obj) if self._matches(ev.obj) else None
        if ev.type == "DELETED":
            return ("DELETED", ev.obj) if self._matches(ev.obj) else None
        cur, old = self._matches(ev.obj), self._matches(ev.prev)
        if cur and old:
            return ("MODIFIED", ev.obj)
        if cur:
            return ("ADDED", ev.obj)
        if old:
            gone = deepcopy(ev.prev)
            meta(gone)["resourceVersion"] = str(ev.rv)
            return ("DELETED", gone)
        return None


class WatchHub:
    """Open watches, fed by the store under its lock, so each watch sees events in order."""

    def __init__(self):
        self.watchers = set()
        self.lock = threading.Lock()

    def add(self, w):
        with self.lock:
            self.watchers.add(w)

    def remove(self, w):
        with self.lock:
            self.watchers.discard(w)

    def publish(self, skey, ev):
        with self.lock:
            targets = [w for w in self.watchers if w.rdef.skey == skey]
        for w in targets:
            w.queue.put(ev)

    def drop_all(self):
        with self.lock:
            targets = list(self.watchers)
        for w in targets:
            w.queue.put(Watcher.DROP)
            if w.sock is not None:
                try:
                    w.sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        return len(targets)

    def describe(self):
        with self.lock:
            return [{"resource": w.rdef.gr, "namespace": w.namespace or "",
                     "labelSelector": str(w.labels), "fieldSelector": str(w.fields),
                     "path": w.path} for w in self.watchers]


class Store:
    """All objects, one global resourceVersion counter, a bounded per-resource event history.

    Callers hold `lock` across read-modify-write sequences; `commit` and `remove` record an
    event, publish it to the hub and persist the state file."""

    def __init__(self, cache_size=1000, state_file=None):
        self.lock = threading.RLock()
        self.rv = 0
        self.data = collections.defaultdict(dict)  # skey -> {(ns, name): obj}
        self.history = collections.defaultdict(collections.deque)  # skey -> deque[Event]
        self.floors = {}  # skey -> oldest resourceVersion from which events can be replayed
        self.base_floor = 0
        self.cache_size = max(1, cache_size)
        self.state_file = state_file
        self.hub = WatchHub()
        self.pod_metrics = {}  # (ns, name) -> {"containers": [...], "window", "timestamp"}
        self.node_metrics = {}  # name -> {"usage": {...}, ...}
        self.changed = threading.Condition(self.lock)

    # --- reading
    def get(self, skey, ns, name):
        obj = self.data[skey].get((ns or "", name))
        return deepcopy(obj) if obj is not None else None

    def items(self, skey, ns=None, state=None):
        src = state if state is not None else self.data[skey]
        keys = sorted(k for k in src if ns is None or k[0] == ns)
        return [(k, src[k]) for k in keys]

    def floor(self, skey):
        return self.floors.get(skey, self.base_floor)

    def snapshot_at(self, skey, rv):
        """The objects of one resource as they were at resourceVersion rv (raises 410)."""
        if rv < self.floor(skey):
            raise err_expired("too old resource version: %d (%d)" % (rv, self.floor(skey)))
        state = dict(self.data[skey])
        for ev in reversed(self.history[skey]):
            if ev.rv <= rv:
                break
            key = (ev.obj["metadata"].get("namespace", ""), ev.obj["metadata"]["name"])
            if ev.type == "ADDED":
                state.pop(key, None)
            else:
                state[key] = ev.prev
        return state

    def events_since(self, skey, rv):
        if rv < self.floor(skey):
            raise err_expired("too old resource version: %d (%d)" % (rv, self.floor(skey)))
        return [ev for ev in self.history[skey] if ev.rv > rv]

    # --- writing (caller holds self.lock)
    def next_rv(self):
        self.rv += 1
        return self.rv

    def _record(self, skey, ev):
        h = self.history[skey]
        h.append(ev)
        while len(h) > self.cache_size:
            self.floors[skey] = h.popleft().rv
        self.hub.publish(skey, ev)
        self.persist()
        self.changed.notify_all()

    def commit(self, skey, obj, prev):
        """Store obj (a new object if prev is None) with a fresh resourceVersion."""
        rv = self.next_rv()
        obj = canonical(obj)
        m = meta(obj)
        m["resourceVersion"] = str(rv)
        key = (m.get("namespace", ""), m["name"])
        self.data[skey][key] = obj
        self._record(skey, Event(rv, "MODIFIED" if prev is not None else "ADDED", obj, prev))
        return deepcopy(obj)

    def remove(self, skey, obj):
        m = obj["metadata"]
        key = (m.get("namespace", ""), m["name"])
        prev = self.data[skey].pop(key)
        rv = self.next_rv()
        gone = deepcopy(prev)
        gone["metadata"]["resourceVersion"] = str(rv)
        self._record(skey, Event(rv, "DELETED", gone, prev))
        if skey == POD_DEF.skey:
            self.pod_metrics.pop(key, None)
        return deepcopy(gone)

    def compact(self):
        with self.lock:
            self.history.clear()
            self.floors.clear()
            self.base_floor = self.rv
            return self.rv

    def ensure_namespace(self, ns):
        if not ns or (("", ns) in self.data[NS_DEF.skey]):
            return
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
        fill_new_metadata(NS_DEF, obj)
        apply_defaults(NS_DEF, obj)
        reset_status_on_create(NS_DEF, obj)
        self.commit(NS_DEF.skey, obj, None)

    # --- persistence
    def dump(self):
        items = []
        for skey in sorted(self.data):
            for _k, obj in self.items(skey):
                items.append(obj)
        return {"kind": "FakeApiserverState", "resourceVersion": str(self.rv), "items": items}

    def persist(self):
        if not self.state_file:
            return
        d = os.path.dirname(os.path.abspath(self.state_file))
        fd, tmp = tempfile.mkstemp(prefix=".fake-apiserver-state.", dir=d)
        try:
            with os.fdopen(fd, "w") as f:
                json.dump(self.dump(), f, separators=(",", ":"))
            os.replace(tmp, self.state_file)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    def load(self, doc):
        """Objects from a state/seed file; missing metadata is filled in."""
        if isinstance(doc, dict):
            items = doc.get("items") or []
            rv = int(doc.get("resourceVersion") or 0)
        else:
            items, rv = doc, 0
        self.rv = max(self.rv, rv)
        pending = []
        for obj in items:
            rdef = BY_GVK.get((obj.get("apiVersion"), obj.get("kind")))
            if rdef is None:
                raise ValueError("unknown apiVersion/kind in state: %s/%s"
                                 % (obj.get("apiVersion"), obj.get("kind")))
            obj = to_storage(rdef, obj)
            m = meta(obj)
            if rdef.namespaced:
                m.setdefault("namespace", "default")
            m.setdefault("uid", str(uuid.uuid4()))
            m.setdefault("creationTimestamp", now_rfc3339())
            if rdef.generation:
                m.setdefault("generation", 1)
            try:
                self.rv = max(self.rv, int(m.get("resourceVersion") or 0))
            except ValueError:
                m.pop("resourceVersion")
            pending.append((rdef, obj))
        for rdef, obj in pending:
            m = obj["metadata"]
            if not m.get("resourceVersion"):
                m["resourceVersion"] = str(self.next_rv())
            self.data[rdef.skey][(m.get("namespace", ""), m["name"])] = obj
        for rdef, obj in pending:
            if rdef.namespaced:
                ns = obj["metadata"]["namespace"]
                if ("", ns) not in self.data[NS_DEF.skey]:
                    nsobj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
                    fill_new_metadata(NS_DEF, nsobj)
                    apply_defaults(NS_DEF, nsobj)
                    reset_status_on_create(NS_DEF, nsobj)
                    nsobj["metadata"]["resourceVersion"] = str(self.next_rv())
                    self.data[NS_DEF.skey][("", ns)] = nsobj
        self.base_floor = self.rv


def fill_new_metadata(rdef, obj):
    m = meta(obj)
    m["uid"] = str(uuid.uuid4())
    m["creationTimestamp"] = now_rfc3339()
    if rdef.generation:
        m["generation"] = 1
    for k in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"):
        m.pop(k, None)


# --------------------------------------------------------------------------------------------
# Server-side printing (Tables) for human-readable kubectl get
# --------------------------------------------------------------------------------------------


def _col(name, type_="string", fmt="", priority=0, desc=""):
    return {"name": name, "type": type_, "format": fmt, "description": desc or name,
            "priority": priority}


NAME_COL = _col("Name", fmt="name", desc="Name must be unique within a namespace.")
AGE_COL = _col("Age", desc="CreationTimestamp is a timestamp representing the server time when "
                           "this object was created.")


def _node_row(n):
    conds = {c.get("type"): c.get("status") for c in dig(n, "status.conditions") or []
             if isinstance(c, dict)}
    ready = conds.get("Ready")
    status = {"True": "Ready", "False": "NotReady"}.get(ready, "Unknown")
    if dig(n, "spec.unschedulable"):
        status += ",SchedulingDisabled"
    roles = set()
    for k, v in (dig(n, "metadata.labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/"):
            roles.add(k.split("/", 1)[1])
        elif k == "kubernetes.io/role":
            roles.add(v)
    addrs = {a.get("type"): a.get("address") for a in dig(n, "status.addresses") or []
             if isinstance(a, dict)}
    info = dig(n, "status.nodeInfo") or {}
    return [n["metadata"]["name"], status, ",".join(sorted(r for r in roles if r)) or "<none>",
            age(n), info.get("kubeletVersion", ""), addrs.get("InternalIP", "<none>"),
            addrs.get("ExternalIP", "<none>"), info.get("osImage", "<unknown>"),
            info.get("kernelVersion", "<unknown>"), info.get("containerRuntimeVersion",
                                                             "<unknown>")]


def _pod_row(p):
    containers = dig(p, "spec.containers") or []
    statuses = dig(p, "status.containerStatuses") or []
    ready = sum(1 for s in statuses if isinstance(s, dict) and s.get("ready"))
    restarts = sum(int(s.get("restartCount") or 0) for s in statuses if isinstance(s, dict))
    reason = dig(p, "status.reason") or dig(p, "status.phase") or "Unknown"
    for s in statuses:
        st = (s or {}).get("state") or {}
        if (st.get("waiting") or {}).get("reason"):
            reason = st["waiting"]["reason"]
        elif (st.get("terminated") or {}).get("reason"):
            reason = st["terminated"]["reason"]
    if dig(p, "metadata.deletionTimestamp"):
        reason = "Terminating"
    gates = dig(p, "spec.readinessGates") or []
    return [p["metadata"]["name"], "%d/%d" % (ready, len(containers)), reason, str(restarts),
            age(p), dig(p, "status.podIP") or "<none>", dig(p, "spec.nodeName") or "<none>",
            dig(p, "status.nominatedNodeName") or "<none>",
            "%d/%d" % (0, len(gates)) if gates else "<none>"]


def _deploy_row(d):
    cs = dig(d, "spec.template.spec.containers") or []
    sel = dig(d, "spec.selector")
    try:
        sel_s = str(LabelSelector.from_struct(sel)) if sel is not None else "<none>"
    except (ValueError, AttributeError):
        sel_s = "<invalid>"
    return [d["metadata"]["name"], "%d/%d" % (dig(d, "status.readyReplicas", 0) or 0,
                                              dig(d, "spec.replicas", 0) or 0),
            int(dig(d, "status.updatedReplicas", 0) or 0),
            int(dig(d, "status.availableReplicas", 0) or 0), age(d),
            ",".join(c.get("name", "") for c in cs), ",".join(c.get("image", "") for c in cs),
            sel_s]


PRINTERS = {
    "Node": ([NAME_COL, _col("Status"), _col("Roles"), AGE_COL, _col("Version"),
              _col("Internal-IP", priority=1), _col("External-IP", priority=1),
              _col("OS-Image", priority=1), _col("Kernel-Version", priority=1),
              _col("Container-Runtime", priority=1)], _node_row),
    "Pod": ([NAME_COL, _col("Ready"), _col("Status"), _col("Restarts"), AGE_COL,
             _col("IP", priority=1), _col("Node", priority=1),
             _col("Nominated Node", priority=1), _col("Readiness Gates", priority=1)], _pod_row),
    "Deployment": ([NAME_COL, _col("Ready"), _col("Up-to-date", "integer"),
                    _col("Available", "integer"), AGE_COL, _col("Containers", priority=1),
                    _col("Images", priority=1), _col("Selector", priority=1)], _deploy_row),
    "Namespace": ([NAME_COL, _col("Status"), AGE_COL],
                  lambda o: [o["metadata"]["name"], dig(o, "status.phase", ""), age(o)]),
    "Lease": ([NAME_COL, _col("Holder"), AGE_COL],
              lambda o: [o["metadata"]["name"], dig(o, "spec.holderIdentity", ""), age(o)]),
}


def partial_metadata(obj):
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
            "metadata": deepcopy(obj.get("metadata") or {})}


def to_table(rdef, objs, include_object, list_meta):
    cols, rowfn = PRINTERS.get(rdef.kind, ([NAME_COL, AGE_COL],
                                           lambda o: [o["metadata"]["name"], age(o)]))
    rows = []
    for o in objs:
        row = {"cells": rowfn(o)}
        if include_object == "Object":
            row["object"] = o
        elif include_object != "None":
            row["object"] = partial_metadata(o)
        rows.append(row)
    return {"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": list_meta,
            "columnDefinitions": cols, "rows": rows}


# --------------------------------------------------------------------------------------------
# Discovery documents
# --------------------------------------------------------------------------------------------


def discovery_resources(group, version):
    out = []
    for rd in BY_GV[(group, version)].values():
        entry = {"name": rd.plural, "singularName": rd.singular, "namespaced": rd.namespaced,
                 "kind": rd.kind, "verbs": list(rd.verbs)}
        if rd.short_names:
            entry["shortNames"] = list(rd.short_names)
        if rd.categories:
            entry["categories"] = list(rd.categories)
        out.append(entry)
        for sub in sorted(rd.subresources):
            e = {"name": "%s/%s" % (rd.plural, sub), "singularName": "",
                 "namespaced": rd.namespaced}
            if sub == "status":
                e.update(kind=rd.kind, verbs=["get", "patch", "update"])
            elif sub == "scale":
                e.update(group="autoscaling", version="v1", kind="Scale",
                         verbs=["get", "patch", "update"])
            elif sub == "binding":
                e.update(kind="Binding", verbs=["create"])
            elif sub == "eviction":
                e.update(group="policy", version="v1", kind="Eviction", verbs=["create"])
            out.append(e)
    doc = {"kind": "APIResourceList", "groupVersion": "%s/%s" % (group, version)
           if group else version, "resources": out}
    if group:
        doc = {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": doc["groupVersion"],
               "resources": out}
    return doc


def api_group(group):
    versions = [{"groupVersion": "%s/%s" % (g, v), "version": v} for g, v in GROUP_ORDER
                if g == group]
    return {"name": group, "versions": versions, "preferredVersion": versions[0]}


def api_group_list():
    groups = []
    for g, _v in GROUP_ORDER:
        if g and not any(x["name"] == g for x in groups):
            groups.append(api_group(g))
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def openapi_v3(segs):
    """/openapi/v3 (the index) and /openapi/v3/<api/v1|apis/G/V>: a minimal but valid OpenAPI
    v3 document per group-version. kubectl reads it only to learn that PATCH takes the
    fieldValidation query parameter; with that it leaves validation to the server (which this
    double does not do) instead of validating client-side against schemas."""
    if len(segs) == 1:
        paths = {}
        for g, v in GROUP_ORDER:
            key = "apis/%s/%s" % (g, v) if g else "api/%s" % v
            paths[key] = {"serverRelativeURL": "/openapi/v3/%s?hash=%s" % (key, "0" * 32)}
        return {"paths": paths}
    rest = segs[1:]
    if rest[:2] == ["api", "v1"] and len(rest) == 2:
        gv = ("", "v1")
    elif rest[:1] == ["apis"] and len(rest) == 3 and (rest[1], rest[2]) in BY_GV:
        gv = (rest[1], rest[2])
    else:
        return None
    prefix = "/apis/%s/%s" % gv if gv[0] else "/api/v1"
    paths = {}
    params = [{"name": n, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
              for n in ("dryRun", "fieldManager", "fieldValidation")]
    for rd in BY_GV[gv].values():
        gvk = {"group": rd.group, "version": rd.version, "kind": rd.kind}
        base = prefix + ("/namespaces/{namespace}/" if rd.namespaced else "/") + rd.plural
        ok = {"200": {"description": "OK"}}
        item = {"get": {"operationId": "read" + rd.kind, "responses": ok,
                        "x-kubernetes-action": "get", "x-kubernetes-group-version-kind": gvk}}
        if "patch" in rd.verbs:
            item["patch"] = {"operationId": "patch" + rd.kind, "parameters": params,
                             "responses": ok, "x-kubernetes-action": "patch",
                             "x-kubernetes-group-version-kind": gvk}
        paths[base + "/{name}"] = item
        paths[base] = {"get": {"operationId": "list" + rd.kind, "responses": ok,
                               "x-kubernetes-action": "list",
                               "x-kubernetes-group-version-kind": gvk}}
    return {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": K8S_VERSION[
        "gitVersion"]}, "paths": paths, "components": {"schemas": {}}}


OPENAPI_V2_PB = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
OPENAPI_V2_DOC = {"swagger": "2.0", "info": {"title": "Kubernetes",
                                             "version": K8S_VERSION["gitVersion"]},
                  "paths": {}, "definitions": {}}


def openapi_v2_protobuf():
    """The same minimal document as a gnostic openapi_v2.Document in protobuf (what kubectl
    asks for): swagger=1, info=2 {title=1, version=2}, paths=8. Without definitions, kubectl's
    client-side validation (used for kind List) has no schema to check items against and lets
    the server decide, as it does for any kind missing from a real server's schema."""
    def field(num, payload):
        n, out = len(payload), bytearray([(num << 3) | 2])
        while True:
            b = n & 0x7F
            n >>= 7
            out.append(b | (0x80 if n else 0))
            if not n:
                return bytes(out) + payload
    info = field(1, b"Kubernetes") + field(2, K8S_VERSION["gitVersion"].encode())
    return field(1, b"2.0") + field(2, info) + field(8, b"")


def canonical(obj):
    """Key order of the real server's JSON: kind, apiVersion, metadata, spec, status, rest."""
    if not isinstance(obj, dict):
        return obj
    out = {}
    for k in ("kind", "apiVersion", "metadata", "spec"):
        if k in obj:
            out[k] = obj[k]
    for k, v in obj.items():
        if k not in out and k != "status":
            out[k] = v
    if "status" in obj:
        out["status"] = obj["status"]
    m = out.get("metadata")
    if isinstance(m, dict):
        order = ("name", "generateName", "namespace", "uid", "resourceVersion", "generation",
                 "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds",
                 "labels", "annotations", "ownerReferences", "finalizers")
        nm = {k: m[k] for k in order if k in m}
        nm.update((k, v) for k, v in m.items() if k not in nm)
        out["metadata"] = nm
    return out


# --------------------------------------------------------------------------------------------
# Request handling
# --------------------------------------------------------------------------------------------


class ParsedPath:
    def __init__(self):
        self.rdef = None
        self.namespace = None
        self.name = None
        self.sub = None
        self.legacy_watch = False


def parse_resource_path(segs):
    """segs after /api/v1 or /apis/G/V -> ParsedPath, or None when no such path."""
    pp = ParsedPath()
    gv_res = segs[0]
    segs = segs[1]
    if segs and segs[0] == "watch":
        pp.legacy_watch = True
        segs = segs[1:]
    if not segs:
        return None
    table = BY_GV[gv_res]
    if segs[0] == "namespaces" and len(segs) >= 3 and segs[2] not in ("status", "finalize"):
        pp.namespace = segs[1]
        res = segs[2]
        rest = segs[3:]
        rd = table.get(res)
        if rd is None or not rd.namespaced:
            return None
    else:
        res = segs[0]
        rest = segs[1:]
        rd = table.get(res)
        if rd is None:
            return None
    pp.rdef = rd
    if len(rest) >= 1:
        pp.name = rest[0]
    if len(rest) == 2:
        pp.sub = rest[1]
    if len(rest) > 2:
        return None
    if pp.name is not None and rd.namespaced and pp.namespace is None:
        return None
    if pp.sub is not None and pp.sub not in rd.subresources:
        return None
    return pp


def _reject_constant(name):
    raise ValueError("invalid JSON constant %s" % name)


def parse_accept(header):
    out = []
    for part in (header or "").split(","):
        bits = [b.strip() for b in part.split(";")]
        if not bits[0]:
            continue
        params = {}
        for b in bits[1:]:
            if "=" in b:
                k, v = b.split("=", 1)
                params[k.strip()] = v.strip()
        out.append((bits[0].lower(), params))
    return out


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, opts, store):
        self.opts = opts
        self.store = store
        self.ssl_context = None
        self.request_log = collections.deque(maxlen=20000)
        self.request_log_lock = threading.Lock()
        self.failures = []  # [{"re", "code", "count", "method"}]
        self.failures_lock = threading.Lock()
        super().__init__(addr, Handler)
        if opts.tls_cert:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
            ctx.set_alpn_protocols(["http/1.1"])
            if opts.client_ca:
                ctx.load_verify_locations(opts.client_ca)
                ctx.verify_mode = ssl.CERT_OPTIONAL
            self.ssl_context = ctx

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread.
        if self.ssl_context is not None:
            try:
                request.settimeout(30)
                request = self.ssl_context.wrap_socket(request, server_side=True)
                request.settimeout(None)
            except (ssl.SSLError, OSError) as e:
                if self.opts.verbose:
                    sys.stderr.write("fake-apiserver: TLS handshake failed: %s\n" % e)
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            if self.ssl_context is not None:
                try:
                    request.close()
                except OSError:
                    pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, socket.timeout)):
            return
        traceback.print_exc(file=sys.stderr)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300  # idle keep-alive connections are closed after this many seconds
    disable_nagle_algorithm = True  # TCP_NODELAY: no 40 ms delayed-ACK stalls per request
    server: Server

    # ---- plumbing -------------------------------------------------------------------------
    def log_message(self, fmt, *args):
        if self.server.opts.verbose:
            sys.stderr.write("fake-apiserver: %s %s\n" % (self.address_string(), fmt % args))

    def send_response(self, code, message=None):
        # Like the real server: no Server header.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        self._status_code = code

    def send_error(self, code, message=None, explain=None):
        # Malformed requests (bad request line, oversized headers): a Status, then close.
        self.close_connection = True
        try:
            body = (dumps(status_obj(code, REASONS.get(code, "BadRequest"),
                                     message or "bad request")) + "\n").encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Connection", "close")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        except OSError:
            pass

    def do_GET(self):
        self.dispatch("GET")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def do_POST(self):
        self.dispatch("POST")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_OPTIONS(self):
        self.dispatch("OPTIONS")

    def read_body(self):
        if self._body is not None:
            return self._body
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks, total = [], 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    raise err_bad_request("malformed chunked request body")
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                total += size
                if total > MAX_BODY:
                    self.close_connection = True
                    raise ApiError(413, "Request entity too large: limit is %d" % MAX_BODY)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
            self._body = b"".join(chunks)
        else:
            try:
                n = int(self.headers.get("Content-Length") or 0)
            except ValueError:
                self.close_connection = True
                raise err_bad_request("invalid Content-Length")
            if n > MAX_BODY:
                self.close_connection = True
                raise ApiError(413, "Request entity too large: limit is %d" % MAX_BODY)
            self._body = self.rfile.read(n) if n > 0 else b""
        return self._body

    def logged_body(self):
        body = self._body or b""
        if not body:
            return None
        try:
            return json.loads(body[:1 << 20])
        except (ValueError, UnicodeDecodeError, RecursionError):
            return body[:4096].decode("utf-8", "replace")

    def read_json(self, allow_empty=False):
        body = self.read_body()
        ctype = (self.headers.get("Content-Type") or "application/json").split(";")[0].strip()
        if "protobuf" in ctype or "yaml" in ctype and self.command != "PATCH":
            raise ApiError(415, 'the body of the request was in an unknown format - accepted '
                           'media types include: application/json')
        if not body.strip():
            if allow_empty:
                return None
            raise err_bad_request("the body of the request was empty")
        try:
            return json.loads(body, parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise err_bad_request("the body of the request could not be decoded as JSON: %s" % e)

    def send_bytes(self, code, body, ctype="application/json", headers=None):
        self.send_response(code)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, code, obj, headers=None):
        pretty = self.query.get("pretty", [""])[0] in ("true", "1")
        self.send_bytes(code, (dumps(obj, pretty) + "\n").encode(), headers=headers)

    def send_error_status(self, e):
        self.send_json(e.code, e.status, e.headers)

    def q(self, name, default=""):
        v = self.query.get(name)
        return v[0] if v else default

    def q_bool(self, name):
        return self.q(name).lower() in ("true", "1")

    # ---- entry point ----------------------------------------------------------------------
    def dispatch(self, method):
        self._body = None
        self._status_code = 0
        try:
            url = urllib.parse.urlsplit(self.path)
            self.url_path = urllib.parse.unquote(url.path)
            self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        except ValueError:
            self.url_path, self.query = self.path, {}
        entry = None
        try:
            # Consume the body up front, whatever happens next, so that a keep-alive
            # connection never reads leftover body bytes as the next request.
            self.read_body()
            if self.url_path.startswith("/__test/") or self.url_path == "/__test":
                self.handle_test_endpoint(method)
                return
            entry = {"method": method, "path": self.url_path,
                     "query": urllib.parse.urlsplit(self.path).query,
                     "contentType": self.headers.get("Content-Type", ""),
                     "accept": self.headers.get("Accept", ""),
                     "userAgent": self.headers.get("User-Agent", ""), "status": 0,
                     "body": self.logged_body()}
            with self.server.request_log_lock:
                self.server.request_log.append(entry)
            self.authenticate()
            self.inject_failure(method)
            self.route(method)
        except ApiError as e:
            try:
                self.send_error_status(e)
            except OSError:
                self.close_connection = True
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, socket.timeout):
            self.close_connection = True
        except Exception as e:  # never crash: answer a 500 Status
            traceback.print_exc(file=sys.stderr)
            try:
                self.send_json(500, status_obj(500, "InternalError",
                                               "Internal error occurred: %s" % e))
            except OSError:
                pass
            self.close_connection = True
        finally:
            if entry is not None:
                entry["status"] = self._status_code

    def authenticate(self):
        opts = self.server.opts
        if not opts.token and not opts.client_ca:
            return
        auth = self.headers.get("Authorization") or ""
        if auth:
            if opts.token and auth == "Bearer " + opts.token:
                return
            raise ApiError(401, "Unauthorized", "Unauthorized")
        if opts.client_ca and isinstance(self.connection, ssl.SSLSocket):
            try:
                if self.connection.getpeercert():
                    return
            except (ValueError, ssl.SSLError):
                pass
        if self.url_path in ("/healthz", "/livez", "/readyz", "/version") \
                or self.url_path.startswith(("/healthz/", "/livez/", "/readyz/")):
            return  # anonymous may read these (system:public-info-viewer)
        raise ApiError(401, "Unauthorized", "Unauthorized")

    def inject_failure(self, method):
        with self.server.failures_lock:
            for rule in self.server.failures:
                if rule["count"] <= 0:
                    continue
                if rule["method"] and rule["method"] != method:
                    continue
                if not rule["re"].search(self.url_path):
                    continue
                rule["count"] -= 1
                code = rule["code"]
                self.server.failures = [r for r in self.server.failures if r["count"] > 0]
                break
            else:
                return
        headers = {"Retry-After": "1"} if code in (429, 503) else None
        details = {"retryAfterSeconds": 1} if code in (429, 503) else None
        msg = {429: "Too many requests, please try again later.",
               503: "the server is currently unable to handle the request",
               504: "the server was unable to return a response in the time allotted, but may "
                    "still be processing the request",
               500: "Internal error occurred: injected failure"}.get(code, "injected failure")
        raise ApiError(code, msg, REASONS.get(code, "Unknown"), details, headers)

    # ---- routing --------------------------------------------------------------------------
    def route(self, method):
        path = self.url_path.rstrip("/") or "/"
        segs = [s for s in path.split("/") if s]
        reading = method in ("GET", "HEAD")
        if path in ("/healthz", "/livez", "/readyz") or \
                (len(segs) == 2 and segs[0] in ("healthz", "livez", "readyz")):
            if not reading:
                raise err_method_not_allowed()
            if "verbose" in self.query and len(segs) == 1:
                body = "[+]ping ok\n[+]log ok\n[+]etcd ok\n%s check passed\n" % segs[0]
            else:
                body = "ok"
            self.send_bytes(200, body.encode(), "text/plain; charset=utf-8",
                            {"X-Content-Type-Options": "nosniff"})
            return
        if path == "/version":
            if not reading:
                raise err_method_not_allowed()
            self.send_json(200, K8S_VERSION)
            return
        if path == "/":
            self.send_json(200, {"paths": sorted(
                ["/api", "/api/v1", "/apis", "/healthz", "/livez", "/readyz", "/version"] +
                ["/apis/%s" % g for g in {g for g, _ in GROUP_ORDER if g}] +
                ["/apis/%s/%s" % gv for gv in GROUP_ORDER if gv[0]])})
            return
        if segs == ["openapi", "v2"]:
            self.require_read(method)
            if "protobuf" in (self.headers.get("Accept") or ""):
                self.send_bytes(200, openapi_v2_protobuf(), OPENAPI_V2_PB)
            else:
                self.send_json(200, OPENAPI_V2_DOC)
            return
        if segs and segs[0] == "openapi":
            self.require_read(method)
            doc = openapi_v3(segs[1:]) if segs[1:2] == ["v3"] else None
            if doc is None:
                raise err_not_found_path()
            self.send_json(200, doc)
            return
        if segs[:1] == ["api"]:
            if len(segs) == 1:
                self.require_read(method)
                host = "127.0.0.1:%d" % self.server.server_address[1]
                self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                     "serverAddressByClientCIDRs": [
                                         {"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})
                return
            if segs[1] != "v1":
                raise err_not_found_path()
            if len(segs) == 2:
                self.require_read(method)
                self.send_json(200, discovery_resources("", "v1"))
                return
            self.handle_resource(method, ("", "v1"), segs[2:])
            return
        if segs[:1] == ["apis"]:
            if len(segs) == 1:
                self.require_read(method)
                self.send_json(200, api_group_list())
                return
            group = segs[1]
            if not any(g == group for g, _ in GROUP_ORDER):
                raise err_not_found_path()
            if len(segs) == 2:
                self.require_read(method)
                doc = api_group(group)
                doc = dict(kind="APIGroup", apiVersion="v1", **doc)
                self.send_json(200, doc)
                return
            gv = (group, segs[2])
            if gv not in BY_GV:
                raise err_not_found_path()
            if len(segs) == 3:
                self.require_read(method)
                self.send_json(200, discovery_resources(*gv))
                return
            self.handle_resource(method, gv, segs[3:])
            return
        self.send_bytes(404, b"404 page not found\n", "text/plain; charset=utf-8",
                        {"X-Content-Type-Options": "nosniff"})

    def require_read(self, method):
        if method not in ("GET", "HEAD"):
            raise err_method_not_allowed()

    def output_mode(self):
        accepts = parse_accept(self.headers.get("Accept"))
        if not accepts:
            return "json"
        for mt, params in accepts:
            if params.get("as") == "Table" and params.get("g") == "meta.k8s.io":
                return "table"
            if params.get("as") in ("PartialObjectMetadata", "PartialObjectMetadataList") \
                    and params.get("g") == "meta.k8s.io":
                return "partial"
        for mt, params in accepts:
            if mt in ("application/json", "*/*", "application/*") and "as" not in params:
                return "json"
        raise ApiError(406, "only the following media types are accepted: application/json",
                       "NotAcceptable")

    def handle_resource(self, method, gv, segs):
        pp = parse_resource_path((gv, segs))
        if pp is None:
            raise err_not_found_path()
        rdef = pp.rdef
        if rdef.metrics:
            self.handle_metrics(method, pp)
            return
        if pp.namespace is not None and method in ("POST", "PUT", "PATCH") and pp.sub is None \
                and pp.namespace == "":
            raise err_bad_request("namespace is required")
        if pp.legacy_watch:
            if method != "GET":
                raise err_method_not_allowed()
            self.do_watch(pp)
            return
        if rdef.plural == "bindings":
            if method != "POST" or pp.name is not None:
                raise err_method_not_allowed()
            body = self.read_json()
            check_types("Binding", body)
            self.do_binding(pp.namespace, (body.get("metadata") or {}).get("name") or "", body)
            return
        if pp.sub is not None:
            self.handle_subresource(method, pp)
            return
        if pp.name is None:
            if method in ("GET", "HEAD"):
                if self.q_bool("watch"):
                    self.do_watch(pp)
                else:
                    self.do_list(pp)
            elif method == "POST":
                if rdef.namespaced and pp.namespace is None:
                    raise err_method_not_allowed()
                self.do_create(pp)
            elif method == "DELETE":
                self.do_delete_collection(pp)
            else:
                raise err_method_not_allowed()
            return
        if method in ("GET", "HEAD"):
            self.do_get(pp)
        elif method == "PUT":
            self.do_update(pp)
        elif method == "PATCH":
            self.do_patch(pp)
        elif method == "DELETE":
            self.do_delete(pp)
        else:
            raise err_method_not_allowed()

    # ---- verbs ----------------------------------------------------------------------------
    def emit_object(self, code, rdef, obj):
        """One object, in the form the client asked for (json, Table, partial metadata)."""
        mode = self.output_mode()
        obj = to_external(rdef, obj)
        if mode == "table":
            out = to_table(rdef, [obj], self.q("includeObject", "Metadata"),
                           {"resourceVersion": obj["metadata"].get("resourceVersion", "")})
        elif mode == "partial":
            out = partial_metadata(obj)
        else:
            out = obj
        self.send_json(code, out)

    def do_get(self, pp):
        rdef = pp.rdef
        self.output_mode()  # 406 before 404, like the real server
        with self.server.store.lock:
            obj = self.server.store.get(rdef.skey, pp.namespace, pp.name)
        if obj is None:
            raise err_not_found(rdef, pp.name)
        self.emit_object(200, rdef, obj)

    def selectors(self, rdef):
        labels = LabelSelector.parse(self.q("labelSelector"))
        fields = FieldSelector.parse(self.q("fieldSelector"), rdef)
        return labels, fields

    def do_list(self, pp):
        rdef = pp.rdef
        store = self.server.store
        mode = self.output_mode()
        labels, fields = self.selectors(rdef)
        try:
            limit = int(self.q("limit") or 0)
        except ValueError:
            raise err_bad_request("limit must be an integer")
        cont = self.q("continue")
        rv_param = self.q("resourceVersion")
        rv_match = self.q("resourceVersionMatch")
        if rv_match and rv_match not in ("Exact", "NotOlderThan"):
            raise err_invalid("ListOptions", "", [("resourceVersionMatch", "FieldValueNotSupported",
                                                   'Unsupported value: "%s"' % rv_match)])
        if rv_match and not rv_param:
            raise err_invalid("ListOptions", "", [("resourceVersionMatch", "FieldValueForbidden",
                                                   "Forbidden: resourceVersionMatch is forbidden"
                                                   " unless resourceVersion is provided")])
        start_after = None
        with store.lock:
            if cont:
                if rv_param:
                    raise err_bad_request("specifying resource version is not allowed when "
                                          "using continue")
                try:
                    tok = json.loads(base64.urlsafe_b64decode(cont + "=" * (-len(cont) % 4)))
                    snap_rv, start_after = int(tok["rv"]), tok["start"]
                    start_after = (start_after[0], start_after[1])
                except (ValueError, KeyError, TypeError, IndexError):
                    raise err_bad_request("continue key is not valid: incorrect encoded start "
                                          "resourceVersion (version meta.k8s.io/v1)")
                try:
                    state = store.snapshot_at(rdef.skey, snap_rv)
                except ApiError:
                    raise err_expired(
                        "The provided continue parameter is too old to display a consistent "
                        "list result. You can start a new list without the continue parameter, "
                        "or use the continue value from the response to get a consistent "
                        "result.")
            else:
                snap_rv = store.rv
                state = None
                if rv_param and rv_param != "0":
                    try:
                        want = int(rv_param)
                    except ValueError:
                        raise err_bad_request("Invalid value for resourceVersion: %s"
                                              % rv_param)
                    if rv_match == "Exact":
                        if want > store.rv:
                            raise err_too_large_rv(want, store.rv)
                        try:
                            state = store.snapshot_at(rdef.skey, want)
                        except ApiError:
                            raise err_expired("The resourceVersion for the provided list is too "
                                              "old.")
                        snap_rv = want
                    else:
                        deadline = time.monotonic() + 3
                        while store.rv < want and time.monotonic() < deadline:
                            store.changed.wait(deadline - time.monotonic())
                        if store.rv < want:
                            raise err_too_large_rv(want, store.rv)
                        snap_rv = store.rv
            matched = []
            remaining = 0
            next_key = None
            for key, obj in store.items(rdef.skey, pp.namespace, state):
                if start_after is not None and key <= start_after:
                    continue
                m = obj.get("metadata") or {}
                if not labels.matches(m.get("labels")) or not fields.matches(obj):
                    continue
                if limit > 0 and len(matched) >= limit:
                    remaining += 1
                    continue
                matched.append(deepcopy(obj))
                next_key = key
        list_meta = {"resourceVersion": str(snap_rv)}
        if remaining:
            tok = {"v": "meta.k8s.io/v1", "rv": snap_rv, "start": list(next_key)}
            list_meta["continue"] = base64.urlsafe_b64encode(
                dumps(tok).encode()).decode().rstrip("=")
            if labels.empty() and fields.empty():
                list_meta["remainingItemCount"] = remaining
        items = [to_external(rdef, o) for o in matched]
        if mode == "table":
            out = to_table(rdef, items, self.q("includeObject", "Metadata"), list_meta)
        elif mode == "partial":
            out = {"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                   "metadata": list_meta, "items": [partial_metadata(o) for o in items]}
        else:
            if not rdef.crd:  # typed lists carry no per-item kind/apiVersion
                for o in items:
                    o.pop("kind", None)
                    o.pop("apiVersion", None)
            out = {"kind": rdef.list_kind, "apiVersion": rdef.api_version, "metadata": list_meta,
                   "items": items}
        self.send_json(200, out)

    def dry_run(self):
        v = self.query.get("dryRun") or []
        for x in v:
            if x != "All":
                raise err_bad_request('Unsupported value: "%s": supported values: "All"' % x)
        return bool(v)

    def prepare_incoming(self, rdef, body, namespace, name=None):
        if not isinstance(body, dict):
            raise err_bad_request("the body of the request must be a JSON object")
        av, kind = body.get("apiVersion"), body.get("kind")
        if av and av != rdef.api_version:
            raise err_bad_request("the API version in the data (%s) does not match the expected "
                                  "API version (%s)" % (av, rdef.api_version))
        if kind and kind != rdef.kind:
            raise err_bad_request("the kind in the data (%s) does not match the expected kind "
                                  "(%s)" % (kind, rdef.kind))
        body = deepcopy(body)
        body["apiVersion"], body["kind"] = rdef.api_version, rdef.kind
        check_types(rdef.kind, body, api_version=rdef.api_version)
        m = meta(body)
        if rdef.namespaced:
            if m.get("namespace") and m["namespace"] != namespace:
                raise err_bad_request("the namespace of the provided object does not match the "
                                      "namespace sent on the request")
            m["namespace"] = namespace
        else:
            m.pop("namespace", None)
        if name is not None and m.get("name") and m["name"] != name:
            raise err_bad_request("the name of the object (%s) does not match the name on the "
                                  "URL (%s)" % (m["name"], name))
        if name is not None:
            m["name"] = name
        return to_storage(rdef, body)

    def do_create(self, pp, body=None, code=201):
        rdef = pp.rdef
        srdef = storage_def(rdef)
        body = self.prepare_incoming(rdef, body if body is not None else self.read_json(),
                                     pp.namespace)
        dry = self.dry_run()
        m = body["metadata"]
        if m.get("resourceVersion"):
            raise ApiError(500, "resourceVersion should not be set on objects to be created",
                           "InternalError")
        store = self.server.store
        with store.lock:
            if not m.get("name") and m.get("generateName"):
                for _ in range(20):
                    m["name"] = m["generateName"] + "".join(random.choice(_NAME_CHARS)
                                                            for _ in range(5))
                    if store.get(rdef.skey, pp.namespace, m["name"]) is None:
                        break
            fill_new_metadata(srdef, body)
            apply_defaults(srdef, body)
            reset_status_on_create(srdef, body)
            validate(srdef, body)
            if store.get(rdef.skey, pp.namespace, m["name"]) is not None:
                raise err_already_exists(rdef, m["name"])
            if dry:
                out = body
            else:
                if rdef.namespaced:
                    store.ensure_namespace(pp.namespace)
                out = store.commit(rdef.skey, body, None)
        self.emit_object(code, rdef, out)

    def finish_update(self, rdef, old, new, status_only=False, check_rv=True):
        """Apply the update strategy, check preconditions, commit. Caller holds the lock."""
        srdef = storage_def(rdef)
        store = self.server.store
        om, nm = old["metadata"], meta(new)
        if check_rv and nm.get("resourceVersion") and nm["resourceVersion"] != \
                om["resourceVersion"]:
            raise err_conflict(rdef, om["name"])
        if nm.get("uid") and nm["uid"] != om["uid"]:
            raise err_conflict(rdef, om["name"], "Precondition failed: UID in precondition: %s, "
                               "UID in object meta: %s" % (nm["uid"], om["uid"]))
        if status_only:
            merged = deepcopy(old)
            if "status" in new:
                merged["status"] = new["status"]
            else:
                merged.pop("status", None)
            new = merged
        else:
            if srdef.has_status:
                if "status" in old:
                    new["status"] = deepcopy(old["status"])
                else:
                    new.pop("status", None)
            for k in ("uid", "creationTimestamp", "generation", "deletionTimestamp",
                      "deletionGracePeriodSeconds"):
                if k in om:
                    nm[k] = om[k]
                else:
                    nm.pop(k, None)
            if srdef is POD_DEF:
                apply_defaults(srdef, new)
            validate(srdef, new, old)
        nm = meta(new)
        nm["resourceVersion"] = om["resourceVersion"]
        if new == old:
            return deepcopy(old)  # no-op updates change nothing, not even resourceVersion
        if srdef.generation and non_meta_non_status(new) != non_meta_non_status(old):
            nm["generation"] = int(om.get("generation") or 0) + 1
        if self.dry_run():
            return new
        if nm.get("deletionTimestamp") and not nm.get("finalizers"):
            return store.remove(rdef.skey, new)  # last finalizer removed
        return store.commit(rdef.skey, new, old)

    def do_update(self, pp, status_only=False):
        rdef = pp.rdef
        srdef = storage_def(rdef)
        body = self.prepare_incoming(rdef, self.read_json(), pp.namespace, pp.name)
        store = self.server.store
        with store.lock:
            old = store.get(rdef.skey, pp.namespace, pp.name)
            if old is None:
                if status_only or not rdef.create_on_update:
                    raise err_not_found(rdef, pp.name)
                if body["metadata"].get("resourceVersion"):
                    raise err_not_found(rdef, pp.name)
                fill_new_metadata(srdef, body)
                apply_defaults(srdef, body)
                reset_status_on_create(srdef, body)
                validate(srdef, body)
                if self.dry_run():
                    out, code = body, 201
                else:
                    if rdef.namespaced:
                        store.ensure_namespace(pp.namespace)
                    out, code = store.commit(rdef.skey, body, None), 201
            else:
                out, code = self.finish_update(rdef, old, body, status_only), 200
        self.emit_object(code, rdef, out)

    def apply_patch_body(self, rdef, current):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body = self.read_body()
        try:
            patch = json.loads(body, parse_constant=_reject_constant) if body.strip() else None
        except (ValueError, UnicodeDecodeError, RecursionError) as e:
            raise err_bad_request("error decoding patch: %s" % e)
        if patch is None:
            raise err_bad_request("the body of the request was empty")
        if ctype == "application/json-patch+json":
            return json_patch(current, patch)
        if ctype == "application/merge-patch+json":
            if not isinstance(patch, dict):
                raise err_bad_request("merge patch must be a JSON object")
            return merge_patch(current, patch)
        if ctype == "application/strategic-merge-patch+json":
            if rdef is not None and rdef.crd:
                raise ApiError(415, "strategic merge patch is not supported for custom "
                               "resources", "UnsupportedMediaType")
            if not isinstance(patch, dict):
                raise err_bad_request("strategic merge patch must be a JSON object")
            return strategic_merge_patch(current, patch)
        if ctype == "application/apply-patch+yaml":
            if not self.q("fieldManager"):
                raise err_bad_request("PATCH with apply-patch+yaml requires a fieldManager "
                                      "query parameter")
            if not isinstance(patch, dict):
                raise err_bad_request("apply patch must be a JSON object (YAML is not supported "
                                      "by this test double)")
            return merge_patch(current, patch)
        raise ApiError(415, "the body of the request was in an unknown format - accepted media "
                       "types include: application/json-patch+json, application/merge-patch+json,"
                       " application/apply-patch+yaml, application/strategic-merge-patch+json",
                       "UnsupportedMediaType")

    def do_patch(self, pp, status_only=False):
        rdef = pp.rdef
        srdef = storage_def(rdef)
        store = self.server.store
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        with store.lock:
            old = store.get(rdef.skey, pp.namespace, pp.name)
            if old is None:
                if ctype == "application/apply-patch+yaml" and not status_only:
                    new = self.apply_patch_body(rdef, {})
                    new = self.prepare_incoming(rdef, new, pp.namespace, pp.name)
                    fill_new_metadata(srdef, new)
                    apply_defaults(srdef, new)
                    reset_status_on_create(srdef, new)
                    validate(srdef, new)
                    if self.dry_run():
                        out = new
                    else:
                        if rdef.namespaced:
                            store.ensure_namespace(pp.namespace)
                        out = store.commit(rdef.skey, new, None)
                    self.emit_object(201, rdef, out)
                    return
                self.read_body()
                raise err_not_found(rdef, pp.name)
            current = to_external(rdef, deepcopy(old))
            new = self.apply_patch_body(rdef, current)
            if not isinstance(new, dict):
                raise err_bad_request("the patched object is not a JSON object")
            new = self.prepare_incoming(rdef, new, pp.namespace, pp.name)
            out = self.finish_update(rdef, old, new, status_only)
        self.emit_object(200, rdef, out)

    def delete_options(self):
        body = self.read_json(allow_empty=True)
        if body is None:
            return {}
        check_types("DeleteOptions", body, with_meta=False)
        return body

    def delete_one(self, rdef, obj, opts, dry):
        """Delete (or mark for deletion when finalizers remain). Caller holds the lock.
        Returns (object, immediately_deleted)."""
        store = self.server.store
        m = obj["metadata"]
        pre = opts.get("preconditions") or {}
        if pre.get("uid") and pre["uid"] != m.get("uid"):
            raise err_conflict(rdef, m["name"], "Precondition failed: UID in precondition: %s, "
                               "UID in object meta: %s" % (pre["uid"], m.get("uid")))
        if pre.get("resourceVersion") and pre["resourceVersion"] != m.get("resourceVersion"):
            raise err_conflict(rdef, m["name"], "Precondition failed: ResourceVersion in "
                               "precondition: %s, ResourceVersion in object meta: %s"
                               % (pre["resourceVersion"], m.get("resourceVersion")))
        if rdef is NS_DEF and m["name"] in ("default", "kube-system", "kube-public"):
            raise ApiError(403, 'namespaces "%s" is forbidden: this namespace may not be deleted'
                           % m["name"], "Forbidden", {"name": m["name"], "kind": "namespaces"})
        if dry:
            return obj, True
        if m.get("finalizers"):
            if m.get("deletionTimestamp"):
                return obj, False
            new = deepcopy(obj)
            new["metadata"]["deletionTimestamp"] = now_rfc3339()
            new["metadata"]["deletionGracePeriodSeconds"] = 0
            return store.commit(rdef.skey, new, obj), False
        if rdef is NS_DEF:
            for skey in list(store.data):
                if skey == NS_DEF.skey or not BY_SKEY[skey].namespaced:
                    continue
                for key, o in store.items(skey, m["name"]):
                    store.remove(skey, o)
        return store.remove(rdef.skey, obj), True

    def do_delete(self, pp):
        rdef = pp.rdef
        opts = self.delete_options()
        dry = self.dry_run() or opts.get("dryRun") == ["All"]
        store = self.server.store
        with store.lock:
            obj = store.get(rdef.skey, pp.namespace, pp.name)
            if obj is None:
                raise err_not_found(rdef, pp.name)
            out, gone = self.delete_one(rdef, obj, opts, dry)
        self.emit_object(200 if gone else 202, rdef, out)

    def do_delete_collection(self, pp):
        rdef = pp.rdef
        labels, fields = self.selectors(rdef)
        opts = self.delete_options()
        dry = self.dry_run() or opts.get("dryRun") == ["All"]
        store = self.server.store
        deleted = []
        with store.lock:
            for _key, obj in store.items(rdef.skey, pp.namespace):
                if labels.matches(obj["metadata"].get("labels")) and fields.matches(obj):
                    out, _ = self.delete_one(rdef, deepcopy(obj), opts, dry)
                    deleted.append(to_external(rdef, out))
            rv = store.rv
        for o in deleted:
            if not rdef.crd:
                o.pop("kind", None)
                o.pop("apiVersion", None)
        self.send_json(200, {"kind": rdef.list_kind, "apiVersion": rdef.api_version,
                             "metadata": {"resourceVersion": str(rv)}, "items": deleted})

    # ---- subresources ---------------------------------------------------------------------
    def handle_subresource(self, method, pp):
        sub = pp.sub
        if sub == "status":
            if method in ("GET", "HEAD"):
                self.do_get(pp)
            elif method == "PUT":
                self.do_update(pp, status_only=True)
            elif method == "PATCH":
                self.do_patch(pp, status_only=True)
            else:
                raise err_method_not_allowed()
        elif sub == "scale":
            if method in ("GET", "HEAD"):
                self.do_scale(pp, None)
            elif method in ("PUT", "PATCH"):
                self.do_scale(pp, method)
            else:
                raise err_method_not_allowed()
        elif sub == "binding":
            if method != "POST":
                raise err_method_not_allowed()
            body = self.read_json()
            check_types("Binding", body)
            bname = (body.get("metadata") or {}).get("name")
            if bname and bname != pp.name:
                raise err_bad_request("name in URL does not match name in Binding object")
            self.do_binding(pp.namespace, pp.name, body)
        elif sub == "eviction":
            if method != "POST":
                raise err_method_not_allowed()
            self.do_eviction(pp)
        else:
            raise err_not_found_path()

    def do_binding(self, namespace, name, body):
        target = body.get("target") or {}
        causes = []
        if not name:
            causes.append(("metadata.name", "FieldValueRequired", "Required value"))
        if target.get("kind") not in (None, "", "Node"):
            causes.append(("target.kind", "FieldValueNotSupported",
                           'Unsupported value: "%s": supported values: "Node"'
                           % target.get("kind")))
        if not target.get("name"):
            causes.append(("target.name", "FieldValueRequired", "Required value"))
        if causes:
            raise err_invalid("Binding", name, causes)
        store = self.server.store
        bm = body.get("metadata") or {}
        dry = self.dry_run()
        with store.lock:
            pod = store.get(POD_DEF.skey, namespace, name)
            if pod is None:
                raise err_not_found(POD_DEF, name)
            pm = pod["metadata"]
            if bm.get("uid") and bm["uid"] != pm["uid"]:
                raise err_conflict(POD_DEF, name, "Precondition failed: UID in precondition: "
                                   "%s, UID in object meta: %s" % (bm["uid"], pm["uid"]))
            if bm.get("resourceVersion") and bm["resourceVersion"] != pm["resourceVersion"]:
                raise err_conflict(POD_DEF, name)
            why = None
            if pm.get("deletionTimestamp"):
                why = "pod %s is being deleted, cannot be assigned to a host" % name
            elif dig(pod, "spec.nodeName"):
                why = "pod %s is already assigned to node %s" % (
                    name, dumps(dig(pod, "spec.nodeName")))
            elif dig(pod, "spec.schedulingGates"):
                why = "pod %s has non-empty .spec.schedulingGates" % name
            if why:
                raise err_conflict(POD_DEF, name, why, kind="pods/binding")
            new = deepcopy(pod)
            new["spec"]["nodeName"] = target["name"]
            if bm.get("annotations"):
                meta(new).setdefault("annotations", {}).update(bm["annotations"])
            conds = new.setdefault("status", {}).setdefault("conditions", [])
            for c in conds:
                if c.get("type") == "PodScheduled":
                    if c.get("status") != "True":
                        c.update(status="True", lastTransitionTime=now_rfc3339())
                        c.pop("reason", None)
                        c.pop("message", None)
                    break
            else:
                conds.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                              "lastTransitionTime": now_rfc3339()})
            if not dry:
                store.commit(POD_DEF.skey, new, pod)
        self.send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Success", "code": 201})

    def do_eviction(self, pp):
        body = self.read_json()
        check_types("Eviction", body, api_version="policy/v1")
        ename = (body.get("metadata") or {}).get("name")
        if ename and ename != pp.name:
            raise err_bad_request("name in URL does not match name in Eviction object")
        opts = body.get("deleteOptions") or {}
        dry = self.dry_run() or opts.get("dryRun") == ["All"]
        store = self.server.store
        with store.lock:
            pod = store.get(POD_DEF.skey, pp.namespace, pp.name)
            if pod is None:
                raise err_not_found(POD_DEF, pp.name)
            phase = dig(pod, "status.phase")
            if not (phase in ("Succeeded", "Failed", "Pending")
                    or pod["metadata"].get("deletionTimestamp")):
                self.check_disruption_budget(pod)
            self.delete_one(POD_DEF, pod, opts, dry)
        self.send_json(201, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                             "status": "Success"})

    def check_disruption_budget(self, pod):
        store = self.server.store
        ns = pod["metadata"]["namespace"]
        labels = pod["metadata"].get("labels") or {}
        pdbs = []
        for _k, pdb in store.items(PDB_DEF.skey, ns):
            try:
                sel = LabelSelector.from_struct(dig(pdb, "spec.selector"))
            except (ValueError, AttributeError):
                continue
            if sel.matches(labels):
                pdbs.append((pdb, sel))
        if not pdbs:
            return
        if len(pdbs) > 1:
            raise ApiError(500, "This pod has more than one PodDisruptionBudget, which the "
                           "eviction subresource does not support.", "InternalError")
        pdb, sel = pdbs[0]
        pods = [p for _k, p in store.items(POD_DEF.skey, ns)
                if sel.matches((p.get("metadata") or {}).get("labels"))]

        def healthy(p):
            if (p.get("metadata") or {}).get("deletionTimestamp"):
                return False
            return any(c.get("type") == "Ready" and c.get("status") == "True"
                       for c in dig(p, "status.conditions") or [] if isinstance(c, dict))

        current = sum(1 for p in pods if healthy(p))
        min_av, max_un = dig(pdb, "spec.minAvailable"), dig(pdb, "spec.maxUnavailable")
        if max_un is None and isinstance(min_av, int):
            expected = len(pods)
        else:
            expected = self.expected_pod_count(ns, pods)

        def scaled(v):
            if isinstance(v, str) and v.endswith("%"):
                try:
                    return int(math.ceil(float(v[:-1]) * expected / 100.0))
                except ValueError:
                    return 0
            try:
                return int(v)
            except (TypeError, ValueError):
                return 0

        if max_un is not None:
            desired = max(0, expected - scaled(max_un))
        elif min_av is not None:
            desired = scaled(min_av)
        else:
            desired = 0
        allowed = max(0, current - desired)
        if not healthy(pod):
            policy = dig(pdb, "spec.unhealthyPodEvictionPolicy") or "IfHealthyBudget"
            if policy == "AlwaysAllow" or current >= desired:
                return
        elif allowed > 0:
            return
        raise ApiError(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                       "TooManyRequests", {"causes": [{
                           "reason": "DisruptionBudget",
                           "message": "The disruption budget %s needs %d healthy pods and has "
                                      "%d currently" % (pdb["metadata"]["name"], desired,
                                                        current)}]})

    def expected_pod_count(self, ns, pods):
        """Like the disruption controller: the sum of the replicas of the pods' controllers
        (a ReplicaSet owned by a Deployment counts the Deployment's). A pod without a known
        controller counts as one (the real controller would refuse to compute the budget)."""
        store = self.server.store
        seen, total = set(), 0
        for p in pods:
            ref = next((r for r in dig(p, "metadata.ownerReferences") or []
                        if isinstance(r, dict) and r.get("controller")), None)
            owner = None
            if ref is not None:
                rd = BY_GVK.get((ref.get("apiVersion"), ref.get("kind")))
                if rd is not None and "scale" in rd.subresources:
                    owner = store.get(rd.skey, ns, ref.get("name", ""))
                    if owner is not None and rd.plural == "replicasets":
                        up = next((r for r in dig(owner, "metadata.ownerReferences") or []
                                   if isinstance(r, dict) and r.get("controller")
                                   and r.get("kind") == "Deployment"), None)
                        if up is not None:
                            dep = store.get(("apps", "deployments"), ns, up.get("name", ""))
                            owner = dep or owner
            if owner is None:
                total += 1
                continue
            if owner["metadata"]["uid"] not in seen:
                seen.add(owner["metadata"]["uid"])
                total += int(dig(owner, "spec.replicas", 0) or 0)
        return total

    def do_scale(self, pp, method):
        rdef = pp.rdef
        store = self.server.store
        with store.lock:
            parent = store.get(rdef.skey, pp.namespace, pp.name)
            if parent is None:
                if method:
                    self.read_body()
                raise err_not_found(rdef, pp.name)
            scale = self.scale_of(rdef, parent)
            if method is None:
                self.send_json(200, scale)
                return
            if method == "PUT":
                body = self.read_json()
            else:
                body = self.apply_patch_body(None, scale)
            check_types("Scale", body, api_version="autoscaling/v1")
            bm = body.get("metadata") or {}
            if bm.get("name") and bm["name"] != pp.name:
                raise err_bad_request("the name of the object (%s) does not match the name on "
                                      "the URL (%s)" % (bm["name"], pp.name))
            if bm.get("resourceVersion") and bm["resourceVersion"] != \
                    parent["metadata"]["resourceVersion"]:
                raise err_conflict(rdef, pp.name)
            replicas = dig(body, "spec.replicas", 0)
            if isinstance(replicas, float):
                replicas = int(replicas)
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise err_invalid("Scale", pp.name, [
                    ("spec.replicas", "FieldValueInvalid",
                     "Invalid value: %s: must be greater than or equal to 0" % dumps(replicas))],
                    "autoscaling")
            new = deepcopy(parent)
            if not isinstance(new.get("spec"), dict):
                new["spec"] = {}
            new["spec"]["replicas"] = replicas
            out = self.finish_update(rdef, parent, new, check_rv=False)
            self.send_json(200, self.scale_of(rdef, out))

    @staticmethod
    def scale_of(rdef, obj):
        m = obj["metadata"]
        sel = dig(obj, "status.selector") if rdef.crd else None
        if not isinstance(sel, str):
            try:
                sel = str(LabelSelector.from_struct(dig(obj, "spec.selector") or {}))
            except (ValueError, AttributeError):
                sel = ""
        status = {"replicas": int(dig(obj, "status.replicas", 0) or 0)}
        if sel:
            status["selector"] = sel
        smeta = {k: m[k] for k in ("name", "namespace", "uid", "resourceVersion",
                                   "creationTimestamp") if k in m}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": smeta,
                "spec": {"replicas": int(dig(obj, "spec.replicas", 0) or 0)}, "status": status}

    # ---- metrics.k8s.io -------------------------------------------------------------------
    def handle_metrics(self, method, pp):
        if method not in ("GET", "HEAD") or pp.sub is not None:
            raise err_method_not_allowed()
        if self.q_bool("watch") or pp.legacy_watch:
            raise err_method_not_allowed()
        rdef = pp.rdef
        store = self.server.store
        labels, fields = self.selectors(rdef)
        out = []
        with store.lock:
            if rdef.kind == "PodMetrics":
                for key, pod in store.items(POD_DEF.skey, pp.namespace):
                    if pp.name is not None and key[1] != pp.name:
                        continue
                    metrics = store.pod_metrics.get(key)
                    if metrics is None:
                        continue
                    out.append(self.metrics_obj(rdef, pod, metrics))
            else:
                for key, node in store.items(NODE_DEF.skey):
                    if pp.name is not None and key[1] != pp.name:
                        continue
                    metrics = store.node_metrics.get(key[1])
                    if metrics is None:
                        continue
                    out.append(self.metrics_obj(rdef, node, metrics))
        if pp.name is not None:
            if not out:
                raise err_not_found(rdef, pp.name)
            self.send_json(200, out[0])
            return
        out = [o for o in out if labels.matches(o["metadata"].get("labels"))
               and fields.matches(o)]
        for o in out:
            o.pop("kind")
            o.pop("apiVersion")
        self.send_json(200, {"kind": rdef.list_kind, "apiVersion": rdef.api_version,
                             "metadata": {}, "items": out})

    @staticmethod
    def metrics_obj(rdef, src, metrics):
        sm = src["metadata"]
        m = {"name": sm["name"], "creationTimestamp": now_rfc3339()}
        if rdef.namespaced:
            m["namespace"] = sm.get("namespace", "")
        if sm.get("labels"):
            m["labels"] = dict(sm["labels"])
        obj = {"kind": rdef.kind, "apiVersion": rdef.api_version, "metadata": m,
               "timestamp": metrics.get("timestamp") or now_rfc3339(),
               "window": metrics.get("window") or "15s"}
        if rdef.kind == "PodMetrics":
            obj["containers"] = deepcopy(metrics.get("containers") or [])
        else:
            obj["usage"] = deepcopy(metrics.get("usage") or {})
        return obj

    # ---- watch ----------------------------------------------------------------------------
    def do_watch(self, pp):
        rdef = pp.rdef
        store = self.server.store
        mode = self.output_mode()
        labels, fields = self.selectors(rdef)
        if pp.name is not None:
            fields = FieldSelector(fields.reqs + [("metadata.name", "=", pp.name)])
        rv_param = self.q("resourceVersion")
        send_initial = self.q("sendInitialEvents")
        bookmarks = self.q_bool("allowWatchBookmarks")
        try:
            timeout = int(self.q("timeoutSeconds") or 0)
        except ValueError:
            raise err_bad_request("timeoutSeconds must be an integer")
        if timeout <= 0:
            timeout = DEFAULT_WATCH_TIMEOUT  # like the real server's minRequestTimeout
        if send_initial:
            causes = []
            if self.q("resourceVersionMatch") != "NotOlderThan":
                causes.append(("resourceVersionMatch", "FieldValueForbidden",
                               "Forbidden: sendInitialEvents requires setting "
                               "resourceVersionMatch to NotOlderThan"))
            if not bookmarks:
                causes.append(("allowWatchBookmarks", "FieldValueForbidden",
                               "Forbidden: allowWatchBookmarks must be set to true when "
                               "sendInitialEvents is specified"))
            if causes:
                raise err_invalid("ListOptions", "", causes, "meta.k8s.io")
            initial_wanted = send_initial.lower() in ("true", "1")
        else:
            initial_wanted = rv_param in ("", "0")
        w = Watcher(rdef, pp.namespace, labels, fields, self.path)
        w.sock = self.connection
        error_event = None
        initial = []
        with store.lock:
            if rv_param in ("", "0") or initial_wanted:
                if initial_wanted:
                    for _k, obj in store.items(rdef.skey, pp.namespace):
                        m = obj.get("metadata") or {}
                        if labels.matches(m.get("labels")) and fields.matches(obj):
                            initial.append(("ADDED", deepcopy(obj)))
                start_rv = store.rv
                replay = []
            else:
                try:
                    start_rv = int(rv_param)
                except ValueError:
                    raise err_bad_request("Invalid value for resourceVersion: %s" % rv_param)
                if start_rv > store.rv:
                    deadline = time.monotonic() + 3
                    while store.rv < start_rv and time.monotonic() < deadline:
                        store.changed.wait(deadline - time.monotonic())
                    if store.rv < start_rv:
                        raise err_too_large_rv(start_rv, store.rv)
                try:
                    replay = store.events_since(rdef.skey, start_rv)
                except ApiError as e:
                    error_event = e.status
                    replay = []
            if error_event is None:
                store.hub.add(w)
            initial_end_rv = store.rv
        try:
            self.stream_watch(w, mode, initial, replay, error_event,
                              initial_wanted and bool(send_initial), bookmarks, timeout,
                              initial_end_rv)
        finally:
            store.hub.remove(w)

    def stream_watch(self, w, mode, initial, replay, error_event, initial_end_bookmark,
                     bookmarks, timeout, initial_end_rv):
        rdef = w.rdef
        store = self.server.store
        self.send_response(200)
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True  # a watch ends its connection's life

        def write_event(type_, obj):
            if mode == "table" and type_ not in ("ERROR", "BOOKMARK"):
                obj = to_table(rdef, [to_external(rdef, obj)], self.q("includeObject",
                                                                      "Metadata"), {})
            elif mode == "partial" and type_ not in ("ERROR",):
                obj = partial_metadata(to_external(rdef, obj))
            elif type_ not in ("ERROR", "BOOKMARK"):
                obj = to_external(rdef, obj)
            data = (dumps({"type": type_, "object": obj}) + "\n").encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()

        def bookmark(rv, initial_end=False):
            m = {"resourceVersion": str(rv)}
            if initial_end:
                m["annotations"] = {INITIAL_EVENTS_END: "true"}
            write_event("BOOKMARK", {"kind": rdef.kind, "apiVersion": rdef.api_version,
                                     "metadata": m})

        try:
            if error_event is not None:
                write_event("ERROR", error_event)
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()
                return
            for type_, obj in initial:
                write_event(type_, obj)
            if initial_end_bookmark and bookmarks:
                bookmark(initial_end_rv, True)
            for ev in replay:
                out = w.filter(ev)
                if out:
                    write_event(*out)
            now = time.monotonic()
            deadline = now + timeout
            interval = self.server.opts.bookmark_interval
            next_bookmark = now + interval if bookmarks else float("inf")
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                wait = max(0.0, min(deadline, next_bookmark, now + 1.0) - now)
                try:
                    ev = w.queue.get(timeout=wait)
                except queue.Empty:
                    ev = None
                if ev is Watcher.DROP:
                    self.abort_connection()
                    return
                if ev is not None:
                    out = w.filter(ev)
                    if out:
                        write_event(*out)
                    continue
                if time.monotonic() >= next_bookmark:
                    with store.lock:
                        rv = store.rv if w.queue.empty() else None
                    if rv is not None:
                        bookmark(rv)
                        next_bookmark = time.monotonic() + interval
                if self.client_gone():
                    return
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            self.close_connection = True

    def abort_connection(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self.connection.close()
        except OSError:
            pass

    def client_gone(self):
        sock = self.connection
        try:
            r, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        if not r:
            return False
        try:
            if isinstance(sock, ssl.SSLSocket):
                sock.setblocking(False)
                try:
                    data = sock.recv(1)
                finally:
                    sock.setblocking(True)
            else:
                data = sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (ssl.SSLWantReadError, BlockingIOError):
            return False
        except OSError:
            return True
        return data == b""

    # ---- test-only endpoints --------------------------------------------------------------
    def handle_test_endpoint(self, method):
        server = self.server
        store = server.store
        segs = [s for s in self.url_path.split("/") if s][1:]
        what = segs[0] if segs else ""
        if what == "drop-watches" and method == "POST":
            self.send_json(200, {"dropped": store.hub.drop_all()})
        elif what == "compact" and method == "POST":
            self.send_json(200, {"resourceVersion": str(store.compact())})
        elif what == "requests" and method == "GET":
            with server.request_log_lock:
                items = [dict(e) for e in server.request_log]
            self.send_json(200, {"items": items})
        elif what == "requests" and method == "DELETE":
            with server.request_log_lock:
                server.request_log.clear()
            self.send_json(200, {"items": []})
        elif what == "fail" and method == "POST":
            try:
                rule = {"re": re.compile(self.q("path") or ".*"),
                        "code": int(self.q("code") or 503),
                        "count": int(self.q("count") or 1),
                        "method": self.q("method").upper()}
            except (re.error, ValueError) as e:
                raise err_bad_request("bad failure rule: %s" % e)
            with server.failures_lock:
                server.failures.append(rule)
            self.send_json(200, {"path": rule["re"].pattern, "code": rule["code"],
                                 "count": rule["count"], "method": rule["method"]})
        elif what == "fail" and method == "DELETE":
            with server.failures_lock:
                server.failures = []
            self.send_json(200, {})
        elif what == "watches" and method == "GET":
            items = store.hub.describe()
            self.send_json(200, {"count": len(items), "items": items})
        elif what == "state" and method == "GET":
            with store.lock:
                self.send_json(200, store.dump())
        elif what == "metrics" and len(segs) >= 3 and method in ("PUT", "DELETE"):
            body = self.read_json() if method == "PUT" else None
            if body is not None and not isinstance(body, dict):
                raise err_bad_request("metrics body must be a JSON object")
            with store.lock:
                if segs[1] == "pods" and len(segs) == 4:
                    key = (segs[2], segs[3])
                    if method == "PUT":
                        if not isinstance(body.get("containers"), list):
                            raise err_bad_request("containers must be a list")
                        store.pod_metrics[key] = body
                    else:
                        store.pod_metrics.pop(key, None)
                elif segs[1] == "nodes" and len(segs) == 3:
                    if method == "PUT":
                        if not isinstance(body.get("usage"), dict):
                            raise err_bad_request("usage must be an object")
                        store.node_metrics[segs[2]] = body
                    else:
                        store.node_metrics.pop(segs[2], None)
                else:
                    raise err_not_found_path()
            self.send_json(200, body or {})
        else:
            raise err_not_found_path()


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def build_arg_parser():
    p = argparse.ArgumentParser(description="Test double of the Kubernetes API server "
                                "(127.0.0.1 only).")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--tls-cert")
    p.add_argument("--tls-key")
    p.add_argument("--client-ca")
    p.add_argument("--token")
    p.add_argument("--state-file")
    p.add_argument("--watch-cache-size", type=int, default=1000)
    p.add_argument("--bookmark-interval", type=float, default=60.0)
    p.add_argument("--verbose", action="store_true")
    return p


def make_store(opts):
    store = Store(opts.watch_cache_size, opts.state_file)
    if opts.state_file and os.path.exists(opts.state_file) and \
            os.path.getsize(opts.state_file) > 0:
        with open(opts.state_file) as f:
            store.load(json.load(f))
    with store.lock:
        saved, store.state_file = store.state_file, None
        for ns in ("default", "kube-system", "kube-public", "kube-node-lease"):
            store.ensure_namespace(ns)
        store.history.clear()
        store.base_floor = store.rv
        store.state_file = saved
        store.persist()
    return store


def main(argv=None):
    opts = build_arg_parser().parse_args(argv)
    if bool(opts.tls_cert) != bool(opts.tls_key):
        sys.stderr.write("fake-apiserver: --tls-cert and --tls-key go together\n")
        return 2
    if opts.client_ca and not opts.tls_cert:
        sys.stderr.write("fake-apiserver: --client-ca needs --tls-cert/--tls-key\n")
        return 2
    try:
        store = make_store(opts)
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        sys.stderr.write("fake-apiserver: cannot load state file %s: %s: %s\n"
                         % (opts.state_file, type(e).__name__, e))
        return 2
    try:
        server = Server(("127.0.0.1", opts.port), opts, store)
    except (OSError, ssl.SSLError) as e:
        sys.stderr.write("fake-apiserver: cannot listen on 127.0.0.1:%d: %s\n" % (opts.port, e))
        return 1
    port = server.server_address[1]
    if opts.port_file:
        d = os.path.dirname(os.path.abspath(opts.port_file))
        fd, tmp = tempfile.mkstemp(prefix=".port.", dir=d)
        with os.fdopen(fd, "w") as f:
            f.write("%d\n" % port)
        os.replace(tmp, opts.port_file)

    def stop(_sig, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if opts.verbose:
        sys.stderr.write("fake-apiserver: listening on %s://127.0.0.1:%d\n"
                         % ("https" if opts.tls_cert else "http", port))
    try:
        server.serve_forever(poll_interval=0.2)
    except SystemExit:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
