"""Loopback HTTP helpers for the Python tests (standard library only).

Every request goes straight to its address (no proxies, whatever the environment says): the
tests' traffic stays on 127.0.0.1.
"""
import json
import socket
import urllib.error
import urllib.request
from datetime import timezone

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(method, url, body=None, ctype="application/json", timeout=10):
    """(status, parsed JSON or text); never raises for HTTP error statuses.

    `body`: bytes are sent as they are, anything else as JSON."""
    data = None
    headers = {"Accept": "application/json"}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = ctype
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with _OPENER.open(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def rfc3339(dt):
    """`dt` as Kubernetes writes timestamps: UTC, whole seconds."""
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
