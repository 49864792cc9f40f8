// Scenario: what epc-sim simulates, as plain values parsed from a YAML file (or the built-in
// default): pools and node groups, workloads (deployments with fixed replicas or an HPA and a
// load curve, waves of jobs), node failures, and the policies under test.
//
// Parsing is strict like the shared configuration: unknown keys, wrong types and bad quantities
// are errors naming the key path and its position (`s.yaml:12:5: workloads[0].requests.cpu:
// ...`). examples/scenarios/default.yaml documents every key. Variants (--compare) are small
// overrides of the policies, applied to a parsed Scenario with ApplyVariant().
//
// Everything here is a value; the Scenario owns its node templates and pod templates. Pure: no
// I/O except LoadScenarioFile().
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/hpa_spec.h"
#include "common/model/epc_resources.h"
#include "common/model/objects.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"
#include "common/util/result.h"

namespace epc::sim {

// One node group: a template every node of the group looks like, and its autoscaling bounds.
struct NodeGroupScenario {
  std::string name;
  std::string pool;  // PoolSpec::name, for reports; empty: classified by labels
  int min_size = 0;
  int max_size = 0;
  int initial_size = 0;
  int64_t provisioning_delay_s = 180;  // from scale-up to Ready
  Node template_node;                  // name is the group name; capacity defaults to allocatable
};

// A load curve: requests per second at points of the day, linearly interpolated, constant
// before the first and after the last point.
struct LoadPoint {
  int64_t at_s = 0;
  double rps = 0;
};

struct HpaScenario {
  int32_t min_replicas = 1;
  int32_t max_replicas = 1;
  int32_t target_cpu_utilization = 80;  // percent of the pod's cpu request
  // autoscaling/v2 `behavior`, parsed by the shared configuration's parser (ParseHpaBehavior) so
  // a scenario's HPA reads exactly like a config file's. Unset: Kubernetes' behavior for an HPA
  // without `behavior` (see HpaSpec::behavior).
  std::optional<HpaBehavior> behavior;
};

enum class WorkloadKind { kDeployment, kJob };

struct WorkloadScenario {
  std::string name;
  WorkloadKind kind = WorkloadKind::kDeployment;
  Pod pod;  // the pod template: requests, nodeSelector, tolerations, owner; name = workload name
  int64_t start_s = 0;  // deployments: when they are created
  // Deployments.
  int32_t replicas = 1;
  std::optional<HpaScenario> hpa;
  int64_t cpu_per_request_milli = 0;  // cpu milli-cores one request per second costs
  std::vector<LoadPoint> load;
  // Jobs: `count` pods arriving between arrival_from and arrival_to (evenly, or at random
  // times when arrival_random), each running duration +- jitter once started.
  int32_t count = 0;
  int64_t arrival_from_s = 0;
  int64_t arrival_to_s = 0;
  bool arrival_random = false;
  int64_t duration_s = 600;
  int64_t duration_jitter_s = 0;
};

// A node failure: the node (or `count` nodes of `group`, oldest first) disappear at `at`; their
// pods are recreated by their controllers and the group's target size drops.
struct FailureScenario {
  int64_t at_s = 0;
  std::string node;   // a node name, or
  std::string group;  // a group name with count
  int count = 1;
};

struct AutoscalerScenario {
  bool enabled = true;
  bool epc_aware = true;  // false: stock cluster-autoscaler's EPC-blind simulation
  std::string expander = "least-waste";
  std::vector<std::string> priorities;  // priority expander patterns
  int64_t scan_interval_s = 10;
  double scale_down_utilization_threshold = 0.5;
  int64_t scale_down_unneeded_s = 600;
  int64_t scale_down_delay_after_add_s = 600;
  int max_nodes_total = 0;
};

struct Scenario {
  std::string name = "scenario";
  std::string description;
  int64_t duration_s = 24 * 3600;
  int64_t sample_interval_s = 60;
  int64_t pod_startup_s = 10;  // from binding to Running and Ready
  int64_t hpa_sync_s = 15;
  EpcResources epc_resources;
  std::vector<PoolSpec> pools;
  SchedulingPolicy scheduling;
  AutoscalerScenario autoscaler;
  std::vector<NodeGroupScenario> groups;
  std::vector<WorkloadScenario> workloads;
  std::vector<FailureScenario> failures;
};

// `source` names the text in errors (a file path).
Result<Scenario> ParseScenario(std::string_view yaml_text, std::string_view source);
Result<Scenario> LoadScenarioFile(const std::string& path);

// The built-in default scenario (examples/scenarios/default.yaml, compiled in).
std::string_view DefaultScenarioText();

// A variant of a scenario for --compare: `key=value` overrides joined by '+', e.g.
// "scoring=spread", "autoscaler=epc-blind+expander=most-pods". Keys: scoring (binpack, spread),
// generalPods (deny, penalize, allow), autoscaler (on, off, epc-aware, epc-blind), expander
// (least-waste, most-pods, random, priority). The label is the text itself.
struct Variant {
  std::string label;
  std::vector<std::pair<std::string, std::string>> overrides;
};
Result<Variant> ParseVariant(std::string_view text);
// Splits "a=b,c=d" (and several arguments) into variants.
Result<std::vector<Variant>> ParseVariants(const std::vector<std::string>& args);
Result<Scenario> ApplyVariant(const Scenario& base, const Variant& variant);

// Durations: an integer (seconds) or "90s", "15m", "2h", "1h30m", "1d". "HH:MM" also reads as a
// time of day (for load points).
Result<int64_t> ParseDuration(std::string_view text);

}  // namespace epc::sim
