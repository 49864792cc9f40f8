#!/usr/bin/env bash
# The extender demo: build, start epc-extender with the example configuration on
# 127.0.0.1:8888, and show kube-scheduler's filter and prioritize calls.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DEPC_BUILD_TESTS=OFF -DEPC_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target epc-extender

"$build/scheduler/epc-extender" --config examples/config.yaml --state examples/cluster-state.json \
  --bind-address 127.0.0.1 --port 8888 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT

for _ in $(seq 50); do
  curl -fs http://127.0.0.1:8888/readyz >/dev/null 2>&1 && break
  sleep 0.1
done

show() {
  echo
  echo "\$ curl -s -X POST http://127.0.0.1:8888/$1 -H 'Content-Type: application/json' -d @$2"
  curl -s -X POST "http://127.0.0.1:8888/$1" -H 'Content-Type: application/json' -d @"$2" |
    python3 -m json.tool
}
echo "epc-extender is running on 127.0.0.1:8888 (pid $pid) with examples/config.yaml"
show filter examples/requests/filter-names-mode.json
show prioritize examples/requests/filter-names-mode.json
show filter examples/requests/filter-full-mode.json
echo
echo "Metrics: curl -s http://127.0.0.1:8888/metrics | grep ^epc_"
curl -s http://127.0.0.1:8888/metrics | grep -E '^epc_pool_epc_(capacity|free)_bytes' || true
if [[ -t 0 && -z "${CI:-}" ]]; then
  echo
  echo "Press Ctrl-C to stop the extender."
  wait $pid
fi
