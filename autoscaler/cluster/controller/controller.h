// ClusterAutoscaler: the cluster autoscaler's control loop. One Reconcile(now) reads the cluster
// (the ClusterStore's snapshot, fed by ClusterInformer, plus every Pod from ClusterPodLister),
// asks the node-group provider where its groups stand, runs the pure decision code
// (ScaleUpPlanner, ScaleDownPlanner, ProvisioningTracker) and applies the decisions:
//
//  - scale-up: pending pods (PodScheduled=False, reason Unschedulable) -> ScaleUpPlanner (groups
//    in provisioning backoff skipped, --max-nodes-total, a cluster-wide scale-up cooldown) ->
//    provider IncreaseSize; Events TriggeredScaleUp / NotTriggerScaleUp on the pods.
//  - scale-down (not in a loop that scaled up or acted on a provisioning timeout):
//    ScaleDownPlanner -> per removal: taint ToBeDeletedByClusterAutoscaler:NoSchedule, evict
//    the pods that must move; a 429 (PDB) untaints, UnneededTracker::MarkBlockedByPdb and
//    records an event; when every eviction went through, provider DeleteNodes for exactly that
//    node.
//  - provisioning: nodes first seen at `now`; scale-ups not Ready within max provision time put
//    the group in backoff, so the next best group is chosen; instances never created are
//    withdrawn (provider DecreaseTargetSize), then registered but unready nodes are deleted
//    through the provider.
// With dry_run, nothing is written (no provider call, taint, eviction or event); the report says
// what would have been done.
//
// Ownership: the controller holds references to the store, provider, lister, drainer and
// recorder, which the caller owns and keeps alive longer. Not thread-safe: one loop thread.
// Time comes in as `now` (steady clock), so tests drive it with a fake clock.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autoscaler/cluster/controller/interfaces.h"
#include "autoscaler/cluster/expander.h"
#include "autoscaler/cluster/node_group.h"
#include "autoscaler/cluster/providers/provider.h"
#include "autoscaler/cluster/provisioning.h"
#include "autoscaler/cluster/scale_down.h"
#include "autoscaler/cluster/scale_up.h"
#include "common/state/cluster_state.h"
#include "common/util/logging.h"

namespace epc::cluster {

struct ClusterAutoscalerOptions {
  ScaleUpOptions scale_up;
  ScaleDownOptions scale_down;
  BackoffOptions backoff;  // max provision time: scale_up.max_node_provision_time
  ExpanderConfig expander;
  SchedulingPolicy policy;
  Duration scale_up_cooldown{};  // no scale-up within this long after the last one (any group)
  bool scale_down_enabled = true;
  // Delete the nodes of a timed-out scale-up that are registered but not Ready (as
  // cluster-autoscaler removes long-unready new nodes), so a broken instance stops costing money.
  bool delete_unready_after_timeout = true;
  bool dry_run = false;
  // Group name -> pool name for reports, from the configuration. Other groups get the pool their
  // template's labels classify into.
  std::map<std::string, std::string> group_pools;
};

// The values docs/metrics.md lists for cluster autoscaling, after the last Reconcile().
// Counters are totals since the controller was built. main.cc exports them.
struct NodeGroupMetrics {
  std::string group;
  // The group's registered Node objects, and its instances without a Node yet.
  int current_size = 0;
  int target_size = 0;
  int min_size = 0;
  int max_size = 0;
  int64_t scale_ups_total = 0;
  int64_t scale_downs_total = 0;
  int64_t backoffs_total = 0;
  int unneeded_nodes = 0;
};
struct ClusterAutoscalerMetrics {
  std::vector<NodeGroupMetrics> groups;
  // scale_up_triggered, fits_existing, no_group_fits, groups_at_max
  std::map<std::string, int> pending_pods;
  std::map<std::string, int64_t> errors_total;  // api_error, provider_error, scale_failed
};

// What one Reconcile() saw and did; printed for --dry-run.
struct GroupReport {
  std::string group;
  std::string pool;  // PoolClassifier::Name(): a pool's name or "unpooled"
  int min_size = 0;
  int max_size = 0;
  int target_size = 0;
  int nodes = 0;  // registered nodes, and instances without a Node yet
  int ready = 0;
  bool in_backoff = false;
  bool has_template = false;
};
struct RemovalReport {
  std::string node;
  std::string group;
  std::string outcome;  // "deleted", "blocked_by_pdb", "failed", "dry_run"
  std::string cause;    // "unneeded", or "provisioning_timeout" for a node that never got Ready
  std::string message;
};
// A timed-out scale-up's instances that were never created, withdrawn from the group's target
// (cluster-autoscaler's fixNodeGroupSize). Left in the target they would count as coming
// forever, and the pods waiting for them would never get a node from another group.
struct WithdrawalReport {
  std::string group;
  int instances = 0;    // never created, asked to be withdrawn
  int target_size = 0;  // the target after a withdrawal; before, when none happened
  std::string outcome;  // "withdrawn", "failed", "dry_run"
  std::string message;
};
struct ClusterReconcileReport {
  bool dry_run = false;
  std::vector<GroupReport> groups;
  int pending_pods = 0;
  std::optional<ScaleUpDecision> scale_up;  // set when there were pending pods to plan for
  bool scale_up_applied = false;            // the provider accepted it (never in dry-run)
  std::string scale_up_skipped;             // why no plan ran despite pending pods (cooldown)
  std::optional<ScaleDownDecision> scale_down;
  std::vector<RemovalReport> removals;
  std::vector<ProvisioningTimeout> timeouts;
  std::vector<WithdrawalReport> withdrawals;
  std::vector<std::string> errors;
};

class ClusterAutoscaler {
 public:
  // Errors: a bad expander configuration.
  static Result<std::unique_ptr<ClusterAutoscaler>> Create(
      ClusterAutoscalerOptions options, const ClusterStore& store, NodeGroupProvider& provider,
      ClusterPodLister& pods, NodeDrainer& drainer, ObjectEventRecorder& events, Logger& log);

  ClusterReconcileReport Reconcile(SteadyTime now);

  const ClusterAutoscalerMetrics& metrics() const { return metrics_; }
  const UnneededTracker& unneeded() const { return unneeded_; }

 private:
  ClusterAutoscaler(ClusterAutoscalerOptions options, const ClusterStore& store,
                    NodeGroupProvider& provider, ClusterPodLister& pods, NodeDrainer& drainer,
                    ObjectEventRecorder& events, Logger& log, std::unique_ptr<Expander> expander);
  void Fail(ClusterReconcileReport& report, const std::string& kind, std::string message);
  bool ScaleUp(const std::vector<NodeGroupState>& groups, const std::vector<Pod>& pods,
               const std::vector<const NodeInfo*>& nodes, SteadyTime now,
               ClusterReconcileReport& report);
  void ScaleDown(const std::vector<NodeGroupState>& groups, const std::vector<Pod>& pods,
                 const std::vector<const NodeInfo*>& nodes, SteadyTime now,
                 ClusterReconcileReport& report);
  NodeGroupMetrics& GroupMetrics(const std::string& group);
  void DeleteUnready(const ProvisioningTimeout& timeout, ClusterReconcileReport& report);
  // Withdraws the timeout's never-created instances; lowers `group`'s target when done.
  void WithdrawMissing(const ProvisioningTimeout& timeout, NodeGroupState& group,
                       ClusterReconcileReport& report);

  ClusterAutoscalerOptions options_;
  const ClusterStore& store_;
  NodeGroupProvider& provider_;
  ClusterPodLister& pods_;
  NodeDrainer& drainer_;
  ObjectEventRecorder& events_;
  Logger& log_;
  ScaleUpPlanner scale_up_;
  ScaleDownPlanner scale_down_;
  ProvisioningTracker provisioning_;
  UnneededTracker unneeded_;
  std::unordered_map<std::string, SteadyTime> first_seen_;     // node name -> first seen
  std::unordered_set<std::string> ever_ready_;                 // nodes seen Ready at least once
  std::unordered_map<std::string, SteadyTime> last_scale_up_;  // group -> last scale-up
  std::optional<SteadyTime> last_any_scale_up_;
  ClusterAutoscalerMetrics metrics_;
  std::map<std::string, NodeGroupMetrics> counters_;  // by group, kept across loops
};

}  // namespace epc::cluster
