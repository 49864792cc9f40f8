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
// only fill up. This keeps 10,000 replicas of a few Deployments linear in pods + nodes.
#pragma once

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
               const NodeInfo& node_template, int max_new_nodes) const;

  const Predicate& predicate() const { return predicate_; }

 private:
  Predicate predicate_;
};

}  // namespace epc::cluster
