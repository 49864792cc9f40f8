// Pod equivalence classes: pods the fit predicate cannot tell apart.
//
// Predicate::Fit reads of a pod only its request, its tolerations, its nodeSelector and its
// required node affinity (and whether it wants EPC, which follows from the request). Pods equal
// in all four get the same verdict on every node, so the estimator and the simulations can
// reason about a class once: if one member does not fit a node, no later member will while that
// node only fills up. Classes are exact (field by field), not a guess from owner references:
// replicas of one Deployment land in one class, and two unrelated but identical pods too.
#pragma once

#include <span>
#include <vector>

#include "common/policy/fit.h"

namespace epc::cluster {

struct PodClasses {
  // Each class lists its members as indices into the input, ascending.
  std::vector<std::vector<int>> members;
  // class_of[i]: the class of input pod i.
  std::vector<int> class_of;
  // profile_of[c]: the class's node-side profile (0 .. profiles-1, in order of first class).
  // Classes that differ only in the amounts they request share one: Fit's checks that do not
  // read NodeInfo::requested see the same pod (PodsAlikeForNodeChecks) and give one verdict per
  // node. Optional: a PodClasses without it (empty) is still valid, each class then counts as
  // its own profile.
  std::vector<int> profile_of;
  int profiles = 0;
};

// Classes in order of their first member, with their profiles. Every PodInfo must have its pod
// set.
PodClasses ClassifyPods(std::span<const PodInfo> pods);

// Whether Predicate::Fit treats the two pods alike (see above).
bool FitEquivalent(const PodInfo& a, const PodInfo& b);

// Whether the checks that read the pod but not the node's requests (pool policy: whether it
// wants EPC; taints: its tolerations; node affinity: its nodeSelector and required affinity)
// treat the two pods alike. FitEquivalent implies it.
bool PodsAlikeForNodeChecks(const PodInfo& a, const PodInfo& b);

}  // namespace epc::cluster
