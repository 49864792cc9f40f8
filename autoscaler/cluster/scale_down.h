// Scale-down planning: which nodes are unneeded, which may go now, and why the others stay.
// The decision part of cluster-autoscaler's scale-down (eligibility, the unneeded-nodes timer,
// the drain rules and the removal simulation), with EPC counted and on the one fit predicate.
//
// A node of an autoscaled group is a candidate when its requested share, the largest of
// requested / allocatable over cpu, memory and EPC, is below the threshold: an EPC-full node
// with idle cpu is not unneeded. A candidate is unneeded when no pod blocks its drain and every
// pod that must move fits another node (Predicate::Fit with CheckSet::All()); the caller-owned
// UnneededTracker remembers since when. It is removed once it has been unneeded for
// `unneeded_time`, its group stays at or above min_size (counting this pass's removals), its
// group has not scaled up within `delay_after_add`, and this pass's limits allow.
//
// Removals in one pass are simulated together: the pods of a removed node are placed (requests
// accumulated on copies of the destinations) before the next node is simulated, a node removed
// in this pass is no destination, and a node that receives pods of a removal is not removed
// itself in the same pass. The simulation of an unneeded node that is not removed now (timer,
// min size, limits) is rolled back, so only real removals take room. Candidates are taken empty
// ones first, then by ascending share, then by name; destinations are tried nodes that are not
// candidates first (in input order), then candidates from the fullest down.
//
// Drain rules, per pod, in cluster-autoscaler's order (first match decides):
//   mirror pod (annotation kubernetes.io/config.mirror), terminating pod, DaemonSet pod (a
//   controller owner of kind DaemonSet) -> stays, does not need to move;
//   safe-to-evict "true" -> moves, whatever follows;
//   Succeeded/Failed pod, or priority below expendable_pods_priority_cutoff -> does not move;
//   no controller ownerReference -> blocks ("not_replicated");
//   kube-system pod not covered by a PodDisruptionBudget -> blocks ("kube_system_pod"); the
//     daemon says which pods PDBs cover (ScaleDownInput::covered_by_pdb; unset: none);
//   safe-to-evict "false" -> blocks ("not_safe_to_evict");
//   an emptyDir or hostPath volume (Pod::uses_local_storage) -> blocks ("local_storage");
//   otherwise the pod moves.
// Whether a PDB allows the eviction is learnt only when the daemon evicts: it then calls
// UnneededTracker::MarkBlockedByPdb, and the node is reported blocked for `pdb_block_time`.
// A node annotated cluster-autoscaler.kubernetes.io/scale-down-disabled: "true" is skipped.
// Unready nodes are judged like ready ones (no separate scale-down-unready-time).
//
// Ownership: the input points to NodeInfos and Pods the caller keeps alive during Plan(); the
// tracker belongs to the caller and persists across passes. Pure: time comes in as `now`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "autoscaler/cluster/node_group.h"
#include "common/model/epc_resources.h"
#include "common/policy/fit.h"

namespace epc::cluster {

inline constexpr std::string_view kSafeToEvictAnnotation =
    "cluster-autoscaler.kubernetes.io/safe-to-evict";
inline constexpr std::string_view kScaleDownDisabledAnnotation =
    "cluster-autoscaler.kubernetes.io/scale-down-disabled";
inline constexpr std::string_view kDaemonSetPodAnnotation =
    "cluster-autoscaler.kubernetes.io/daemonset-pod";
inline constexpr std::string_view kMirrorPodAnnotation = "kubernetes.io/config.mirror";

struct ScaleDownOptions {
  double utilization_threshold = 0.5;                   // --scale-down-utilization-threshold
  Duration unneeded_time = std::chrono::minutes(10);    // --scale-down-unneeded-time
  Duration delay_after_add = std::chrono::minutes(10);  // --scale-down-delay-after-add, per group
  Duration pdb_block_time = std::chrono::minutes(5);    // --unremovable-node-recheck-timeout
  int max_empty_bulk_delete = 10;                       // --max-empty-bulk-delete
  int max_nodes_per_pass = 10;                          // all removals of one pass
  // Write the why of every node's state into NodeScaleDownStatus::reason. A simulation that
  // plans every few simulated seconds over thousands of nodes turns it off.
  bool explain = true;
  bool skip_nodes_with_system_pods = true;        // --skip-nodes-with-system-pods
  bool skip_nodes_with_local_storage = true;      // --skip-nodes-with-local-storage
  int32_t expendable_pods_priority_cutoff = -10;  // --expendable-pods-priority-cutoff
};

// Since when each node has been unneeded, and the PDB refusals the daemon met. Owned by the
// caller, kept across passes, updated by ScaleDownPlanner::Plan().
class UnneededTracker {
 public:
  std::optional<SteadyTime> UnneededSince(std::string_view node) const;
  // An eviction from `node` was refused by a PodDisruptionBudget at `now`.
  void MarkBlockedByPdb(std::string_view node, std::string reason, SteadyTime now);
  void ClearPdbBlock(std::string_view node);
  size_t unneeded_count() const { return since_.size(); }

 private:
  friend class ScaleDownPlanner;
  struct PdbBlock {
    std::string reason;
    SteadyTime at{};
  };
  std::unordered_map<std::string, SteadyTime> since_;
  std::unordered_map<std::string, PdbBlock> pdb_;
};

// One node as the planner sees it: the NodeInfo (requested covers every pod below) and the
// full Pod objects using it, which the drain rules need. Built by the daemon.
struct ScaleDownNode {
  const NodeInfo* info = nullptr;  // not owned
  std::vector<const Pod*> pods;    // not owned
};

struct ScaleDownInput {
  std::span<const ScaleDownNode> nodes;  // every node: candidates and destinations
  // Groups and their nodes (by name); a node in none is not autoscaled but still a destination.
  std::span<const NodeGroupState> groups;
  // Whether a PodDisruptionBudget selects the pod; unset: none does.
  std::function<bool(const Pod&)> covered_by_pdb;
  SteadyTime now{};
};

// What the drain rules say about one pod.
enum class PodDrain { kMove, kStay, kBlock };
struct PodDrainVerdict {
  PodDrain drain = PodDrain::kMove;
  std::string reason;   // kBlock: "not_replicated", "kube_system_pod", "not_safe_to_evict",
                        // "local_storage"; kStay: "mirror", "terminating", "daemonset",
                        // "terminal", "expendable"
  std::string message;  // kBlock: for people
};
PodDrainVerdict DrainVerdict(const Pod& pod, const ScaleDownOptions& options,
                             const std::function<bool(const Pod&)>& covered_by_pdb);

// Node states; the names are stable (for JSON and metrics labels).
enum class NodeScaleDownState {
  kRemovable,          // "removable": remove in this pass
  kUnneeded,           // "unneeded": waiting for unneeded_time
  kNotUnneeded,        // "not_unneeded": requested share at or above the threshold
  kBlockedByPod,       // "blocked_by_pod": a drain rule forbids moving a pod
  kPodsDoNotFit,       // "pods_do_not_fit": a pod that must move fits no other node
  kBlockedByPdb,       // "blocked_by_pdb": an eviction was refused by a PDB recently
  kScaleDownDisabled,  // "scale_down_disabled": annotation
  kNotAutoscaled,      // "not_autoscaled": in no node group
  kAtMinSize,          // "at_min_size": unneeded, but its group would drop below min_size
  kRecentScaleUp,      // "recent_scale_up": unneeded, but its group grew within delay_after_add
  kPassLimit,          // "pass_limit": unneeded and due, but this pass removes enough nodes
  kReceivesPods,       // "receives_pods": unneeded, but pods of this pass's removals go here
};
std::string_view NodeScaleDownStateName(NodeScaleDownState s);

struct NodeScaleDownStatus {
  std::string node;
  std::string group;   // empty when not autoscaled
  std::string status;  // NodeScaleDownStateName()
  std::string reason;  // for people
  double cpu_share = 0;
  double memory_share = 0;
  double epc_share = 0;           // 0 on nodes without EPC
  double share = 0;               // the largest of the three; compared with the threshold
  std::string blocking_pod;       // "namespace/name" (blocked_by_pod, pods_do_not_fit)
  int64_t unneeded_seconds = -1;  // how long unneeded so far; -1 when not unneeded
  int pods_to_move = 0;
};

struct NodeRemoval {
  std::string node;
  std::string group;
  bool empty = false;                      // no pod has to move: delete without draining
  std::vector<std::string> pods_to_evict;  // "namespace/name"
};

struct ScaleDownDecision {
  std::vector<NodeScaleDownStatus> nodes;  // one per input node, in input order
  std::vector<NodeRemoval> remove;         // this pass, in the order decided
};

class ScaleDownPlanner {
 public:
  // Keeps a reference to `epc`, which must outlive the planner.
  ScaleDownPlanner(const EpcResources& epc, SchedulingPolicy policy, ScaleDownOptions options = {});

  // Updates `tracker` (unneeded timers started and dropped, stale PDB blocks forgotten).
  ScaleDownDecision Plan(const ScaleDownInput& input, UnneededTracker& tracker) const;

  const ScaleDownOptions& options() const { return options_; }

 private:
  const EpcResources& epc_;
  Predicate predicate_;  // CheckSet::All()
  ScaleDownOptions options_;
};

}  // namespace epc::cluster
