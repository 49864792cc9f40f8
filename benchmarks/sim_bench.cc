// sim_bench: times epc-sim's simulation (no file output) on a scenario, by default
// examples/scenarios/bench-1000-nodes.yaml (1,000 nodes, 24 simulated hours, ~50,000 pod
// lifetimes). Target: <= 10 s on a 2-core machine in a Release build.
//
//   sim_bench [SCENARIO.yaml] [--repeat N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "simulator/scenario.h"
#include "simulator/simulation.h"

int main(int argc, char** argv) {
  std::string path = std::string(EPC_SOURCE_DIR) + "/examples/scenarios/bench-1000-nodes.yaml";
  int repeat = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--repeat" && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else {
      path = arg;
    }
  }
  epc::Result<epc::sim::Scenario> scenario = epc::sim::LoadScenarioFile(path);
  if (!scenario.ok()) {
    std::fprintf(stderr, "sim_bench: %s\n", scenario.error().c_str());
    return 1;
  }
  for (int r = 0; r < repeat; ++r) {
    const auto start = std::chrono::steady_clock::now();
    epc::Result<epc::sim::SimResult> result = epc::sim::RunSimulation(*scenario, 1);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!result.ok()) {
      std::fprintf(stderr, "sim_bench: %s\n", result.error().c_str());
      return 1;
    }
    int peak_nodes = 0;
    for (const epc::sim::Sample& s : result->samples) {
      int n = 0;
      for (int x : s.nodes) n += x;
      peak_nodes = std::max(peak_nodes, n);
    }
    std::printf("%s: %.1f simulated h, peak %d nodes, %lld pods, %lld events: %.2f s\n",
                scenario->name.c_str(), static_cast<double>(scenario->duration_s) / 3600.0,
                peak_nodes, static_cast<long long>(result->summary.pods_created),
                static_cast<long long>(result->summary.events_processed), seconds);
  }
  return 0;
}
