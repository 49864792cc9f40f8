// Explain: why is this pod Pending? The extender's view of every node for one pod, for an
// operator (GET /explain/<namespace>/<pod>).
//
// It asks the same predicate the verbs use, with the full check set (a taint or a selector is
// as good a reason as EPC), and counts the EPC other pods hold between filter and bind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/model/objects.h"
#include "scheduler/extender/extender.h"

namespace epc {

struct NodeExplanation {
  std::string node;
  std::string pool;
  bool confidential = false;
  std::string verdict;  // "fits", "unschedulable" (preemption could help), "unresolvable"
  std::string reason;   // the predicate's message; empty when it fits
  int score = 0;        // the prioritize score (0..10) where it fits
  int64_t epc_allocatable_bytes = 0;
  int64_t epc_requested_bytes = 0;  // by pods on the node plus other pods' holds
  int64_t epc_free_bytes = 0;
};

struct PoolExplanation {
  std::string pool;
  bool confidential = false;
  int nodes = 0;
  int nodes_fitting = 0;
  int64_t epc_free_bytes = 0;          // summed over the pool's nodes
  int64_t largest_epc_free_bytes = 0;  // on one node: the biggest enclave that could still fit
};

struct Explanation {
  std::string pod;  // namespace/name
  int64_t epc_requested_bytes = 0;
  std::vector<PoolExplanation> pools;    // by name
  std::vector<NodeExplanation> nodes;    // fitting nodes first, best score first, then by name
  std::optional<std::string> best_node;  // what the extender would rank first
};

Explanation Explain(const Extender& extender, const Pod& pod);

std::string ExplanationJson(const Explanation& e);
std::string ExplanationText(const Explanation& e);  // a plain-text table

}  // namespace epc
