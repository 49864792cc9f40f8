#!/usr/bin/env bash
# The main job: install what is missing, build epc-sim (Release), simulate a day of the built-in
# default scenario (an AKS-like cluster with general and SGX node pools) and print the summary.
# The report opens offline: out/sim/report.html (timeline: out/sim/timeline.csv).
# The extender demo that used to live here is scripts/extender-demo.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/bootstrap.sh
build=build/release
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DEPC_BUILD_TESTS=OFF -DEPC_BUILD_BENCHMARKS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" --target epc-sim

"$build/simulator/epc-sim" --out out/sim "$@"
echo
echo "Report: $(pwd)/out/sim/report.html (open it in a browser; it needs no network)"
