#include "common/model/selectors.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace epc {
namespace {

// strconv.ParseInt(s, 10, 64): an optional sign, decimal digits, int64 range.
std::optional<int64_t> ParseInt64(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  // Accumulate negatively so that INT64_MIN is reachable.
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    int d = c - '0';
    if (v < (std::numeric_limits<int64_t>::min() + d) / 10) return std::nullopt;
    v = v * 10 - d;
  }
  if (!negative) {
    if (v == std::numeric_limits<int64_t>::min()) return std::nullopt;
    v = -v;
  }
  return v;
}

bool Contains(const std::vector<std::string>& values, std::string_view v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

// Shared by matching and validation: nullopt when valid, else the reason.
std::optional<std::string> Problem(const SelectorRequirement& req, bool node_selector) {
  if (req.key.empty()) return "key is empty";
  const std::string& op = req.op;
  if (op == "In" || op == "NotIn") {
    if (req.values.empty()) return "operator " + op + " needs at least one value";
    return std::nullopt;
  }
  if (op == "Exists" || op == "DoesNotExist") {
    if (!req.values.empty()) return "operator " + op + " takes no values";
    return std::nullopt;
  }
  if (op == "Gt" || op == "Lt") {
    if (!node_selector) return "operator " + op + " is only valid in node selectors";
    if (req.values.size() != 1 || !ParseInt64(req.values[0])) {
      return "operator " + op + " needs exactly one integer value";
    }
    return std::nullopt;
  }
  return "unknown operator \"" + op + "\"";
}

}  // namespace

bool Matches(const SelectorRequirement& req, const Labels& labels) {
  // Like Kubernetes, a requirement that does not parse (In without values, ...) matches nothing.
  auto it = labels.find(req.key);
  const bool present = it != labels.end();
  const std::string& op = req.op;
  if (op == "In") return present && Contains(req.values, it->second);
  if (op == "NotIn") return !req.values.empty() && (!present || !Contains(req.values, it->second));
  if (op == "Exists") return req.values.empty() && present;
  if (op == "DoesNotExist") return req.values.empty() && !present;
  if (op == "Gt" || op == "Lt") {
    if (!present || req.values.size() != 1) return false;
    std::optional<int64_t> have = ParseInt64(it->second);
    std::optional<int64_t> want = ParseInt64(req.values[0]);
    if (!have || !want) return false;
    return op == "Gt" ? *have > *want : *have < *want;
  }
  return false;
}

bool Matches(const LabelSelector& selector, const Labels& labels) {
  for (const auto& [key, value] : selector.match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  for (const SelectorRequirement& req : selector.match_expressions) {
    if (!Matches(req, labels)) return false;
  }
  return true;
}

namespace {

bool MatchesTerm(const NodeSelectorTerm& term, const Node& node) {
  // An empty term matches no objects.
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const SelectorRequirement& req : term.match_expressions) {
    if (!Matches(req, node.labels)) return false;
  }
  if (!term.match_fields.empty()) {
    const Labels fields{{"metadata.name", node.name}};
    for (const SelectorRequirement& req : term.match_fields) {
      // Field selectors know only metadata.name, with In and NotIn.
      if (req.key != "metadata.name" || (req.op != "In" && req.op != "NotIn")) return false;
      if (!Matches(req, fields)) return false;
    }
  }
  return true;
}

}  // namespace

bool MatchesAnyTerm(const std::vector<NodeSelectorTerm>& terms, const Node& node) {
  if (terms.empty()) return true;
  for (const NodeSelectorTerm& term : terms) {
    if (MatchesTerm(term, node)) return true;
  }
  return false;
}

Result<bool> ValidateRequirement(const SelectorRequirement& req, bool node_selector) {
  if (std::optional<std::string> problem = Problem(req, node_selector)) {
    return Error{"selector requirement on key \"" + req.key + "\": " + *problem};
  }
  return true;
}

}  // namespace epc
