// Label selectors and node selector terms, with Kubernetes' matching rules.
#pragma once

#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc {

bool Matches(const SelectorRequirement& req, const Labels& labels);
bool Matches(const LabelSelector& selector, const Labels& labels);  // empty selector: everything
// Terms are ORed; an empty list matches every node. matchFields knows metadata.name.
bool MatchesAnyTerm(const std::vector<NodeSelectorTerm>& terms, const Node& node);

// Checks operator and value count ("In needs at least one value"); for config validation.
Result<bool> ValidateRequirement(const SelectorRequirement& req, bool node_selector);

}  // namespace epc
