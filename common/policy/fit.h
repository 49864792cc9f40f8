// The one fit-and-score predicate: does this pod fit on this node, and how good is the node.
//
// The extender, the autoscaler's scale-up and scale-down simulation and the simulator all call
// Fit() and Score(); if two of them could disagree, a user would get a node the scheduler then
// refuses. Fit() is built from small named checks a caller composes with a CheckSet: the
// extender runs EPC fit + pool policy (kube-scheduler already ran the rest), the autoscaler and
// simulator run all of them. Pure: no I/O, no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/epc_resources.h"
#include "common/model/objects.h"
#include "common/model/resources.h"
#include "common/policy/pools.h"

namespace epc {

enum class Check : uint8_t {
  kNodeCondition,  // not cordoned, Ready
  kPoolPolicy,     // general pods on confidential nodes (generalPodsOnConfidentialNodes)
  kEpcFit,         // EPC requested by the pod fits the node's free EPC (in bytes)
  kResources,      // cpu, memory, pods, ephemeral-storage, other extended resources
  kTaints,         // NoSchedule / NoExecute taints are tolerated
  kNodeAffinity,   // nodeSelector and required node affinity
};
std::string_view CheckName(Check c);  // "NodeCondition", "PoolPolicy", ...

class CheckSet {
 public:
  constexpr CheckSet() = default;
  constexpr CheckSet(std::initializer_list<Check> checks) {
    for (Check c : checks) bits_ |= Bit(c);
  }
  static constexpr CheckSet Extender() { return {Check::kEpcFit, Check::kPoolPolicy}; }
  static constexpr CheckSet All() {
    return {Check::kNodeCondition, Check::kPoolPolicy, Check::kEpcFit,
            Check::kResources,     Check::kTaints,     Check::kNodeAffinity};
  }
  constexpr bool Has(Check c) const { return (bits_ & Bit(c)) != 0; }

 private:
  static constexpr uint32_t Bit(Check c) { return 1u << static_cast<uint32_t>(c); }
  uint32_t bits_ = 0;
};

enum class GeneralPodPolicy { kDeny, kPenalize, kAllow };
enum class ScoringStrategy { kBinpack, kSpread };

struct SchedulingPolicy {
  GeneralPodPolicy general_pods_on_confidential = GeneralPodPolicy::kPenalize;
  ScoringStrategy strategy = ScoringStrategy::kBinpack;
};

// What the predicate needs of a pod, computed once per scheduling request.
struct PodInfo {
  const Pod* pod = nullptr;  // not owned; outlives the PodInfo
  Resources request;         // PodRequests()
  bool wants_epc() const { return request.epc_bytes > 0; }
};
PodInfo MakePodInfo(const Pod& pod, const EpcResources& epc);

// What the predicate needs of a node: the object, what it offers and what is already taken.
struct NodeInfo {
  const Node* node = nullptr;  // not owned
  Resources allocatable;       // ToResources(node->allocatable)
  int64_t epc_capacity_bytes = 0;
  PoolMembership pool;
  Resources requested;  // by pods using the node, plus reservations
};
NodeInfo MakeNodeInfo(const Node& node, const EpcResources& epc, const PoolClassifier& pools);

enum class Verdict {
  kFits,
  kUnschedulable,  // might fit once other pods go (preemption can help)
  kUnresolvable,   // can never fit as the node is (FailedAndUnresolvableNodes)
};

struct Failure {
  Check check;
  bool unresolvable;
  std::string reason;  // short, stable, for metrics labels: "insufficient_epc", "untolerated_taint"
  std::string message;  // for people: "insufficient EPC: requested 10 MiB, free 4 MiB of 168 MiB"
};

struct FitResult {
  std::vector<Failure> failures;  // empty when the pod fits
  Verdict verdict() const;
  bool fits() const { return failures.empty(); }
  std::string Message() const;  // the failures' messages joined with "; "
};

// What Fit() reads of a node when the checks are at most EPC fit and pool policy (the
// extender's CheckSet): for one pod, nodes with equal keys get equal FitResults. A caller that
// rejects thousands of nodes (an extender filter) builds each distinct rejection once.
struct EpcFitKey {
  int64_t epc_allocatable_bytes = 0;
  int64_t epc_requested_bytes = 0;
  bool confidential = false;
  bool operator==(const EpcFitKey&) const = default;
};
// The node's EpcFitKey fields, whatever the checks (Predicate::Score reads exactly these).
EpcFitKey EpcFitKeyOf(const NodeInfo& node);
// EpcFitKeyOf(MakeNodeInfo(node, epc, pools)) with `epc_requested_bytes` requested, without
// building the rest of the NodeInfo: for a caller keying thousands of nodes it has as objects
// (an extender's full-mode request).
EpcFitKey MakeEpcFitKey(const Node& node, const EpcResources& epc, const PoolClassifier& pools,
                        int64_t epc_requested_bytes);
// Sets the key's fields of `node` (the inverse of EpcFitKeyOf). On a default NodeInfo this
// makes the node Predicate::Fits(pod, key) and Score(pod, key) run on; a caller asking about
// thousands of keys reuses one such node instead of building one per key.
NodeInfo& AssignEpcFitKey(NodeInfo& node, const EpcFitKey& key);

struct Predicate {
  const EpcResources* epc = nullptr;  // not owned
  SchedulingPolicy policy;
  CheckSet checks = CheckSet::Extender();

  FitResult Fit(const PodInfo& pod, const NodeInfo& node) const;
  // The same checks, answering only whether the pod fits: stops at the first failure and
  // builds no messages. For simulations that try many nodes (the autoscaler, the simulator).
  bool Fits(const PodInfo& pod, const NodeInfo& node) const;
  // The node's EpcFitKey, or nullopt when the checks read more of a node than the key holds.
  std::optional<EpcFitKey> FitKey(const NodeInfo& node) const;
  // Whether FitKey() has a value, i.e. the checks read of a node only what an EpcFitKey holds.
  bool Keyed() const;
  // Fits() and Score() of any node whose key is `node`, for callers that keep nodes' keys side
  // by side (the snapshot's name index) and so need not read thousands of NodeInfos. The same
  // answers by construction: Fits() runs the same checks on a NodeInfo holding only the key and
  // requires Keyed() (throws std::logic_error otherwise); Score() is written on the key, and the
  // NodeInfo overload scores the node's key.
  bool Fits(const PodInfo& pod, const EpcFitKey& node) const;
  int Score(const PodInfo& pod, const EpcFitKey& node) const;

  // 0..10 (kube-scheduler's MaxExtenderPriority). EPC pods: binpack prefers the node left
  // fullest in EPC, spread the emptiest. Pods without EPC under `penalize`: general nodes 10,
  // confidential nodes 0; otherwise every node scores 0 (no preference).
  int Score(const PodInfo& pod, const NodeInfo& node) const;
};

}  // namespace epc
