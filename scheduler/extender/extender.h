// Extender: the decisions behind the extender verbs, free of HTTP.
//
// Every verb reads one cluster snapshot and asks the shared predicate (common/policy/fit.h) with
// the extender's checks: EPC fit and pool policy (kube-scheduler already ran the rest).
//   Filter     names mode: nodes come from the snapshot; full mode: from the request, with the
//              requested resources of the pods the snapshot has bound to them.
//   Prioritize Predicate::Score (0..10) for each node given.
//   Preempt    keeps a candidate node only if the pod fits once the proposed victims are gone.
//   Bind       hands the pod to the Binder.
// Filter and prioritize see each node's requested EPC plus the EPC other pods hold between
// filter and bind (reservations.h); filter calls are serialized so a check and its hold are one
// step.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "common/policy/fit.h"
#include "common/state/cluster_state.h"
#include "scheduler/extender/binder.h"
#include "scheduler/extender/reservations.h"
#include "scheduler/extender/seen_pods.h"
#include "scheduler/wire/extender_args.h"
#include "scheduler/wire/extender_results.h"

namespace epc {

// Short reasons for rejection metrics when a node fails before the predicate runs.
inline constexpr std::string_view kReasonUnknownNode = "unknown_node";
inline constexpr std::string_view kReasonInvalidNode = "invalid_node";

// How many nodes one reason rejected (for metrics).
struct RejectionCount {
  std::string reason;  // the first failure's Failure::reason, or kReasonUnknownNode, ...
  uint64_t nodes = 0;
  bool operator==(const RejectionCount&) const = default;
};

// The answer refers to the ExtenderArgs it was computed from (node names, raw node JSON): keep
// the args (and their request buffer) alive while the answer is used.
struct FilterOutcome {
  FilterAnswer answer;
  // Rejected nodes counted by reason, in the order the reasons first occurred. Counted rather
  // than listed per node: a filter over thousands of nodes rejects thousands with a handful of
  // reasons.
  std::vector<RejectionCount> rejections;
};

struct ExtenderOptions {
  // How long filter holds a pod's EPC when the pod is not seen bound.
  std::chrono::milliseconds reservation_ttl{30'000};
  // The clock reservations expire by; injectable for tests.
  std::function<std::chrono::steady_clock::time_point()> now = [] {
    return std::chrono::steady_clock::now();
  };
};

class Extender {
 public:
  // `store` supplies the EPC resources and pool classifier; `seen` (may be null) remembers the
  // pods filter saw for StoreBinder; `binder` (may be null) serves bind.
  Extender(ClusterStore& store, SchedulingPolicy policy, SeenPods* seen = nullptr,
           Binder* binder = nullptr, ExtenderOptions options = {});

  // The decoder's projection for full-mode nodes: what of a v1.Node the checks read (pool
  // selector labels, EPC quantities, ...), so a request's thousands of nodes are not decoded
  // into whole Node objects nobody reads. Pass it to DecodeExtenderArgs.
  const NodeProjection& node_projection() const { return projection_; }

  FilterOutcome Filter(const ExtenderArgs& args);
  // The answer refers to `args` (node names): keep them alive while it is used.
  Priorities Prioritize(const ExtenderArgs& args) const;
  std::vector<MetaVictimsAnswer> Preempt(const ExtenderPreemptionArgs& args) const;
  // The ExtenderBindingResult's Error: empty on success.
  std::string Bind(const ExtenderBindingArgs& args);

  void set_binder(Binder* binder) { binder_ = binder; }
  const Predicate& predicate() const { return predicate_; }
  ClusterStore& store() { return store_; }
  const ClusterStore& store() const { return store_; }

  // The node's info with other pods' holds added to its requested EPC. Call it while holding
  // LockReservations(): asking about holds updates their running totals.
  NodeInfo WithHolds(const NodeInfo& info, std::string_view pod_uid) const;
  // The reservations locked, and the cluster snapshot taken under that lock and pruned against.
  // The snapshot must be taken under the lock: callers then see snapshots in the order they
  // lock, so once one prunes a hold because its snapshot counts the pod bound, every later
  // caller's snapshot counts it too. (A snapshot taken before the lock could predate the binding
  // its caller finds already pruned: that pod's EPC would be neither held nor counted.)
  struct LockedState {
    std::shared_ptr<const ClusterSnapshot> snapshot;
    std::unique_lock<std::mutex> lock;  // declared last: released before the snapshot
  };
  LockedState LockReservations() const;
  size_t held_pods() const;

 private:
  // Other pods' holds on each node of a request, by HashNames of the nodes' names, in one pass
  // (zeros when no other pod holds EPC); called with LockReservations() held.
  std::vector<int64_t> HeldByOthers(std::span<const uint64_t> hashes,
                                    const std::string& pod_uid) const;

  ClusterStore& store_;
  Predicate predicate_;
  NodeProjection projection_;
  const ExtenderOptions options_;
  mutable std::mutex mu_;  // serializes filter; guards reservations_
  mutable Reservations reservations_;
  SeenPods* seen_;
  Binder* binder_;
};

// The message for a node the extender has no object for.
std::string UnknownNodeMessage(std::string_view name);

}  // namespace epc
