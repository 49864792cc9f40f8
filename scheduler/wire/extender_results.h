// Encoders for the extender's answers, with the Go field names kube-scheduler expects
// (k8s.io/kube-scheduler/extender/v1; it decodes case-insensitively, we answer canonically).
//
// Strings are built directly: a full-mode filter answer for thousands of nodes is mostly the
// passing nodes' JSON as received, copied once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epc {

// ExtenderFilterResult. In names mode `NodeNames` carries the passing nodes and `Nodes` is null;
// in full mode `Nodes.items` carries them (raw JSON) and `NodeNames` is null. kube-scheduler
// reads only the field matching its mode; a missing one filters out every node.
struct FilterAnswer {
  bool names_mode = false;
  // Views into the request (ExtenderArgs): the raw v1.Node JSON of passing nodes as received
  // (full mode), the passing names (names mode).
  std::vector<std::string_view> passing_nodes_json;
  std::vector<std::string_view> passing_node_names;
  // FailedNodes and FailedAndUnresolvableNodes: node name -> reason. The names are views into
  // the request, or into `texts`; the reasons views into `texts`.
  std::vector<std::pair<std::string_view, std::string_view>> failed;
  std::vector<std::pair<std::string_view, std::string_view>> unresolvable;
  std::string error;  // Error

  // Owns the text the views above refer to that is not in the request: each distinct reason
  // once (thousands of rejected nodes share a few), names made up for nameless nodes. Each
  // string is a heap object of its own, so moving the answer keeps the views valid.
  std::vector<std::unique_ptr<const std::string>> texts;
  // Adds `text` to `texts`; the view stays valid as long as the answer.
  std::string_view Keep(std::string text) {
    texts.push_back(std::make_unique<const std::string>(std::move(text)));
    return *texts.back();
  }
};

struct HostPriority {
  // A view: into the request the priorities were computed for, or into Priorities::texts.
  std::string_view host;
  int64_t score = 0;
};

// The priorities of one prioritize call. The hosts are views (a names-mode request's names),
// not a std::string per node; `texts` owns the few names made up here (nameless nodes).
struct Priorities {
  std::vector<HostPriority> hosts;
  // Each string is a heap object of its own, so moving the answer keeps the views valid.
  std::vector<std::unique_ptr<const std::string>> texts;

  std::string_view Keep(std::string text) {
    texts.push_back(std::make_unique<const std::string>(std::move(text)));
    return *texts.back();
  }
  size_t size() const { return hosts.size(); }
  const HostPriority& operator[](size_t i) const { return hosts[i]; }
  auto begin() const { return hosts.begin(); }
  auto end() const { return hosts.end(); }
};

struct MetaVictimsAnswer {
  std::string node_name;
  std::vector<std::string> pod_uids;
  int64_t num_pdb_violations = 0;
};

std::string EncodeFilterResult(const FilterAnswer& answer);
// HostPriorityList: a bare array of {"Host", "Score"}.
std::string EncodePriorities(const std::vector<HostPriority>& priorities);
// ExtenderPreemptionResult: {"NodeNameToMetaVictims": {...}}.
std::string EncodePreemptionResult(const std::vector<MetaVictimsAnswer>& nodes);
// ExtenderBindingResult: {"Error": "..."}.
std::string EncodeBindingResult(std::string_view error);
// The body of every non-200 answer: {"error": "..."}.
std::string EncodeErrorBody(std::string_view message);

// Appends `s` as a JSON string literal (quotes included). Invalid UTF-8 bytes become U+FFFD so
// the output is always valid JSON.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace epc
