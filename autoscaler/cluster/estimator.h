// Binpacking estimator: how many new nodes of one node group the pending pods need, and which
// pods they would take. The approach of cluster-autoscaler's BinpackingNodeEstimator (first fit
// decreasing), built on the project's one fit predicate.
//
// Pods are taken largest first (score: the pod's share of the template's cpu + memory + EPC) and
// each goes to the first simulated new node where Predicate::Fit with CheckSet::All() passes.
// When none has room, a fresh template node is opened, but only if the pod fits an empty
// template node at all; a pod that does not is not helped by this group and keeps the
// predicate's message as its reason. Simulated nodes are copies of the template NodeInfo whose
// `requested` accumulates the placed pods. Pure; the caller owns every input.
//
// Pods the predicate cannot tell apart (pod_equivalence.h) are placed as a run: a member starts
// looking where the previous one was placed, since the nodes before it had no room for it and
// only fill up. This keeps 10,000 replicas of a few Deployments linear in pods + nodes. Once a
// member finds no room and the node limit is reached, the rest of its class cannot fit either
// and is reported unplaced without another search.
//
// Pods of many distinct shapes would each scan every open node from the first; a
// FreeCapacityIndex (below) skips the nodes whose free resources cannot hold the pod, so a
// search costs about log(nodes) and the placements stay exactly those of the plain scan. The
// predicate is asked in two parts (kNodeChecks, kRequestChecks below), which answer together
// what CheckSet::All() answers: the node-side part once per template and class profile, and on
// the new nodes, copies of the template, only the request part.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "autoscaler/cluster/pod_equivalence.h"
#include "common/model/resources.h"
#include "common/policy/fit.h"

namespace epc::cluster {

struct UnplacedPod {
  int pod = -1;  // index into the estimator's input
  // false: the pod does not fit an empty template node (reason: the predicate's message);
  // true: it would, but the new-node limit was reached first.
  bool fits_template = false;
  std::string reason;
};

struct Estimate {
  int node_count = 0;
  std::vector<int> placed;            // indices of the placed pods, in placement order
  std::vector<int> pods_per_node;     // node_count entries: pods placed on each new node
  Resources placed_requests;          // sum of the placed pods' requests
  std::vector<UnplacedPod> unplaced;  // ascending by pod index
};

// Fit's checks split by what they read of the node. kRequestChecks read NodeInfo::requested;
// kNodeChecks only the Node object, its pool and the pod. So every copy of a template (the
// estimator's new nodes) gets from kNodeChecks the verdict the template got, and pods that
// differ only in their requests (one PodClasses profile) get one verdict per template. Together
// they are CheckSet::All() (a test holds every Check to one side).
inline constexpr CheckSet kRequestChecks{Check::kEpcFit, Check::kResources};
inline constexpr CheckSet kNodeChecks{Check::kNodeCondition, Check::kPoolPolicy, Check::kTaints,
                                      Check::kNodeAffinity};

// Which unplaced pods get a reason string. kFirst: only unplaced.front() (the pod with the
// lowest index, which is what ScaleUpPlanner reports); the others' reasons are left empty. With
// thousands of distinct pod shapes and 20 groups, building every message costs tens of ms.
enum class UnplacedReasons { kEvery, kFirst };

// An index over simulated nodes for first-fit searches. Per node it keeps the free amount
// (allocatable - requested) of the resources Predicate::Fits compares that way: pods, cpu,
// memory and ephemeral-storage (Check::kResources) and EPC in bytes (Check::kEpcFit), in a max
// segment tree. A node whose free amount of one of them is below a positive request cannot pass
// Fits(), whatever else it checks; the index only skips such nodes. It decides nothing: the
// node FirstCandidate() returns must still be confirmed with Fits() (taints, affinity, pool
// policy, conditions, other extended resources), and searched past when that fails.
class FreeCapacityIndex {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);
  // What a pod needs, per indexed resource; unconstrained where the pod requests nothing or the
  // predicate does not check the resource.
  using Need = std::array<int64_t, 5>;

  explicit FreeCapacityIndex(CheckSet checks) : checks_(checks) {}

  Need NeedOf(const Resources& request) const;
  void Assign(std::span<const NodeInfo> nodes);
  void Push(const NodeInfo& node);              // appends a node at index size()
  void Update(size_t i, const NodeInfo& node);  // node i's requested changed
  // The first node at index >= from whose free amounts cover `need`; kNone when there is none.
  size_t FirstCandidate(const Need& need, size_t from) const;
  size_t size() const { return size_; }

 private:
  using Free = std::array<int64_t, 5>;
  static Free FreeOf(const NodeInfo& node);
  void Pull(size_t v);
  size_t Find(size_t v, size_t lo, size_t hi, const Need& need, size_t from) const;

  CheckSet checks_;
  size_t size_ = 0;
  size_t leaves_ = 0;       // a power of two >= size_; leaf i is tree_[leaves_ + i]
  std::vector<Free> tree_;  // tree_[v]: per resource, the largest free amount below v
};

// The "pod score" that orders pods, largest first: the request's share of the template's
// allocatable cpu, plus memory, plus EPC when the template has EPC.
double PodScore(const Resources& request, const NodeInfo& node_template);

class BinpackingEstimator {
 public:
  // Uses the predicate's EPC resources and policy; the check set is always CheckSet::All().
  explicit BinpackingEstimator(Predicate predicate);

  // Opens at most `max_new_nodes` nodes (none when <= 0). `node_template.requested` is what an
  // empty new node already carries (zero, or DaemonSet pods when the caller models them).
  Estimate Run(std::span<const PodInfo> pods, const NodeInfo& node_template,
               int max_new_nodes) const;
  // The same with `classes` = ClassifyPods(pods), computed once and reused for every group.
  Estimate Run(std::span<const PodInfo> pods, const PodClasses& classes,
               const NodeInfo& node_template, int max_new_nodes,
               UnplacedReasons reasons = UnplacedReasons::kEvery) const;

  const Predicate& predicate() const { return predicate_; }

 private:
  Predicate predicate_;
};

}  // namespace epc::cluster
