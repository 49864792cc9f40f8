// Scale-up planning: which node group to grow, and by how much, for the pods kube-scheduler
// could not place. The decision part of cluster-autoscaler's ScaleUp, on the project's one fit
// predicate (CheckSet::All()), so a node the autoscaler adds is one the extender accepts.
//
// One Plan() call:
//  1. Pending pods that fit an existing node or an upcoming one (a group's target size minus its
//     ready nodes, simulated as template nodes) are set aside: they need no new node. Placement
//     is simulated first-fit, accumulating requests, existing nodes (by name) before upcoming
//     ones (by group order).
//  2. Every group that is not at max size, not in backoff and within the cluster-wide node cap
//     gets a binpacking estimate (estimator.h) for the remaining pods, capped at
//     min(max_size - target_size, max_nodes_total - (nodes + upcoming), max_nodes_per_scale_up).
//  3. The expander picks among the groups that place at least one pod.
// The result says what to do and, for every other group, why not; the daemon prints it for
// --dry-run, so its fields are plain values.
//
// Not here: the scale-up cooldown and rate limits, the provider call, events. The daemon calls
// Plan() at most once per loop, applies the decision (target_size += node_count), and then tells
// the ProvisioningTracker (provisioning.h) and sets NodeGroupState::last_scale_up.
//
// The planner keeps references to the EPC resources and the pool classifier it is given: they
// must outlive it. Plan() reads its input only during the call.
#pragma once

#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "autoscaler/cluster/estimator.h"
#include "autoscaler/cluster/expander.h"
#include "autoscaler/cluster/node_group.h"
#include "common/model/epc_resources.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"

namespace epc::cluster {

struct ScaleUpOptions {
  int max_nodes_total = 0;            // --max-nodes-total; 0: no cluster-wide cap
  int max_nodes_per_scale_up = 1000;  // --max-nodes-per-scaleup
  Duration max_node_provision_time = kDefaultMaxNodeProvisionTime;
};

struct ScaleUpInput {
  std::span<const Pod* const> pending;     // pending pods marked unschedulable; not owned
  std::span<const NodeInfo* const> nodes;  // every node of the snapshot, requests included
  std::span<const NodeGroupState> groups;
  SteadyTime now{};
};

// Why a group was not chosen. The names are stable (for JSON and metrics labels).
enum class GroupRejection {
  kAtMaxSize,          // target_size >= max_size
  kInBackoff,          // a provisioning failure put it in backoff
  kClusterAtMaxNodes,  // nodes + upcoming >= max_nodes_total
  kNoPodsPlaced,       // no pending pod fits its template
  kLostToExpander,     // it could help, another group was preferred
};
std::string_view GroupRejectionName(GroupRejection r);  // "at_max_size", ...

struct RejectedGroup {
  std::string group;
  std::string reason;   // GroupRejectionName()
  std::string message;  // for people; kNoPodsPlaced: the predicate's message for the first pod
  int node_count = 0;   // kLostToExpander: the nodes it asked for
  int pod_count = 0;    // kLostToExpander: the pods those would take
  double score = 0;     // kLostToExpander: its expander score (see ScaleUpDecision::score_name)
};

struct ScaleUpDecision {
  bool scale_up = false;
  std::string group;              // the chosen group; empty without scale-up
  int current_size = 0;           // its target size now
  int target_size = 0;            // its target size after the scale-up
  int node_count = 0;             // target_size - current_size
  std::vector<std::string> pods;  // "namespace/name" of the pods the new nodes take
  std::string expander;           // the expander's name
  std::string score_name;         // what `score` and RejectedGroup::score mean
  double score = 0;               // the chosen option's score
  // Pending pods that need no new node, and those no group's new nodes would take.
  std::vector<std::string> pods_fit_existing;
  std::vector<std::string> pods_fit_upcoming;
  std::vector<std::string> pods_unhelped;
  std::vector<RejectedGroup> rejected;  // every group but the chosen one, in input order
  std::string message;                  // one line for people: what was decided and why
};

class ScaleUpPlanner {
 public:
  // `expander` defaults to least-waste.
  ScaleUpPlanner(const EpcResources& epc, const PoolClassifier& pools, SchedulingPolicy policy,
                 ScaleUpOptions options = {}, std::unique_ptr<Expander> expander = nullptr);

  // Not const: an expander may keep state (the random one's generator).
  ScaleUpDecision Plan(const ScaleUpInput& input);

  const ScaleUpOptions& options() const { return options_; }
  const Expander& expander() const { return *expander_; }

 private:
  const EpcResources& epc_;
  const PoolClassifier& pools_;
  Predicate predicate_;  // CheckSet::All()
  ScaleUpOptions options_;
  std::unique_ptr<Expander> expander_;
};

}  // namespace epc::cluster
