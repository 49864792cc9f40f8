// The simulation: a scenario run on a virtual clock through the production decision code.
//
// Scheduling is THE predicate (Predicate::Fit with CheckSet::All()) and the extender's scorer
// (Predicate::Score with the scenario's SchedulingPolicy): the best-scoring fitting node wins,
// ties go to the node name. The HPA is autoscaler/horizontal (ReplicaCalculator +
// HorizontalScaler) fed with simulated cpu samples; the cluster autoscaler is
// autoscaler/cluster (ScaleUpPlanner, ScaleDownPlanner, UnneededTracker, ProvisioningTracker)
// over a simulated node-group provider. See simulation.cc for the event loop.
//
// Deterministic: a discrete event queue ordered by (time, sequence number), one
// std::mt19937_64 seeded from `seed`, no wall clock. Pure: no I/O; the optional progress
// callback is the only way out while running. RunSimulation() owns all simulation state; the
// result is a plain value.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "simulator/scenario.h"

namespace epc::sim {

// The cluster at one sample time (every scenario.sample_interval_s, from 0 to the end).
struct Sample {
  int64_t t = 0;                       // seconds since the start
  std::vector<int> nodes;              // per report pool: ready nodes
  std::vector<int> provisioning;       // per report pool: nodes asked for, not yet ready
  int pending_pods = 0;                // created, not bound
  std::vector<int64_t> epc_requested;  // per report pool, bytes, on ready nodes
  std::vector<int64_t> epc_capacity;   // per report pool, bytes, of ready nodes
  std::vector<int> replicas;           // per workload: desired replicas (jobs: running pods)
};

struct NeverPlaced {
  std::string workload;
  int count = 0;
  std::string reason;
};

struct PoolSummary {
  std::string name;
  double node_hours = 0;       // from creation (billing) to removal or the end
  int peak_nodes = 0;          // ready
  double epc_mean_bytes = 0;   // requested, averaged over samples
  int64_t epc_peak_bytes = 0;  // requested, largest sample
  double epc_mean_share = 0;   // requested / capacity, averaged over samples with capacity
  double epc_peak_share = 0;
};

struct Summary {
  int64_t pods_created = 0;
  int64_t pods_placed = 0;  // bound at least once
  int64_t pending_p50_s = 0;
  int64_t pending_p95_s = 0;
  int64_t pending_max_s = 0;
  int64_t never_placed = 0;  // pending at the end, never bound
  std::vector<NeverPlaced> never_placed_by_workload;
  int64_t deleted_before_placed = 0;  // scaled away by the HPA while pending
  int64_t jobs_completed = 0;
  int64_t pods_evicted = 0;  // by scale-down and node failures
  std::vector<PoolSummary> pools;
  int hpa_scale_ups = 0;
  int hpa_scale_downs = 0;
  int ca_scale_ups = 0;  // scale-up decisions
  int nodes_added = 0;
  int nodes_removed = 0;  // by scale-down
  int node_failures = 0;
  int64_t events_processed = 0;
};

// A scale event, for events.csv.
struct EventRecord {
  int64_t t = 0;
  std::string kind;  // hpa-scale-up, hpa-scale-down, ca-scale-up, ca-scale-down, node-failure
  std::string subject;
  std::string detail;
};

struct SimResult {
  std::string scenario;
  std::string label;                   // the variant label, or "baseline"
  std::vector<std::string> pools;      // report pools: the scenario's pools (+ "unpooled")
  std::vector<std::string> workloads;  // in scenario order
  std::vector<Sample> samples;
  Summary summary;
  std::vector<EventRecord> events;
};

// progress(fraction in [0, 1]); called a few hundred times per run at most.
using ProgressFn = std::function<void(double)>;

// Errors: a scenario the decision code rejects (a bad priority expander pattern).
Result<SimResult> RunSimulation(const Scenario& scenario, uint64_t seed, std::string label = "",
                                const ProgressFn& progress = {});

}  // namespace epc::sim
