#!/usr/bin/env bash
# `promtool check metrics` on the real epc-extender's /metrics, after real traffic.
#
# Usage: extender_metrics_test.sh EPC_EXTENDER_BINARY
# Starts the binary on 127.0.0.1 with a port of its own (--port 0; the port is read from its
# log), examples/config.yaml and --state examples/cluster-state.json, POSTs every
# examples/requests/*.json to the verbs they are for (filter/prioritize for the Extender
# args; preempt for preemption args), plus one malformed body (a bad request), then checks:
#   - promtool check metrics accepts the exposition (format and naming lint);
#   - every metric family of docs/metrics.md's epc-extender table is present.
# The extender is stopped on every exit path (trap).
set -euo pipefail

die() {
  echo "FAIL extender_metrics_test: $*" >&2
  exit 1
}

[[ $# -eq 1 ]] || die "usage: $0 EPC_EXTENDER_BINARY"
bin="$1"
[[ -x "$bin" ]] || die "$bin is not an executable"
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v promtool >/dev/null || die "promtool not in PATH (scripts/bootstrap.sh installs Debian's prometheus)"
command -v curl >/dev/null || die "curl not in PATH"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/epc-metrics-test.XXXXXX")"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$bin" --config "$repo/examples/config.yaml" --state "$repo/examples/cluster-state.json" \
  --bind-address 127.0.0.1 --port 0 >"$tmp/extender.log" 2>&1 &
pid=$!

port=""
for _ in $(seq 150); do
  port="$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$tmp/extender.log" | head -n1)"
  [[ -n "$port" ]] && break
  kill -0 "$pid" 2>/dev/null || die "epc-extender exited early:
$(cat "$tmp/extender.log")"
  sleep 0.1
done
[[ -n "$port" ]] || die "epc-extender did not log 'listening on 127.0.0.1:PORT' within 15 s:
$(cat "$tmp/extender.log")"
base="http://127.0.0.1:$port"

post() { # post VERB FILE -> HTTP status
  curl -sS --max-time 10 -o "$tmp/answer" -w '%{http_code}' -X POST \
    -H 'Content-Type: application/json' --data-binary "@$2" "$base/$1"
}

sent=0
for f in "$repo"/examples/requests/*.json; do
  case "$(basename "$f")" in
    filter-*) verbs="filter prioritize" ;;
    preempt-*) verbs="preempt" ;;
    *) continue ;; # bind.json: bind is off in examples/config.yaml
  esac
  for verb in $verbs; do
    code="$(post "$verb" "$f")" || die "POST /$verb $(basename "$f") failed"
    [[ "$code" == 200 ]] || die "POST /$verb $(basename "$f") answered $code: $(cat "$tmp/answer")"
    sent=$((sent + 1))
  done
done
((sent >= 4)) || die "only $sent example requests sent; examples/requests changed?"
printf '{"Pod": ' >"$tmp/bad.json"
code="$(post filter "$tmp/bad.json")" || die "POST of a malformed body failed"
[[ "$code" == 400 ]] || die "a malformed filter body answered $code, want 400"

curl -sS --max-time 10 -f "$base/metrics" -o "$tmp/metrics.txt" || die "GET /metrics failed"
if ! promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.out" 2>&1; then
  cat "$tmp/promtool.out" >&2
  die "promtool check metrics rejected epc-extender's /metrics"
fi

for family in epc_extender_requests_total epc_extender_request_duration_seconds \
  epc_extender_filter_rejections_total epc_extender_bad_requests_total \
  epc_pool_epc_capacity_bytes epc_pool_epc_requested_bytes epc_pool_epc_free_bytes \
  epc_node_epc_allocatable_bytes epc_node_epc_requested_bytes; do
  grep -q "^# TYPE $family " "$tmp/metrics.txt" || die "metric $family (docs/metrics.md) missing from /metrics"
done

echo "PASS promtool check metrics on epc-extender (127.0.0.1:$port, $sent verb calls + 1 bad request," \
  "$(grep -c '^# TYPE' "$tmp/metrics.txt") families)"
