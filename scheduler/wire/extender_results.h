// Encoders for the extender's answers, with the Go field names kube-scheduler expects
// (k8s.io/kube-scheduler/extender/v1; it decodes case-insensitively, we answer canonically).
//
// Strings are built directly: a full-mode filter answer for thousands of nodes is mostly the
// passing nodes' JSON as received, copied once.
#pragma once

#include <cstdint>
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
  std::vector<std::string_view> passing_nodes_json;               // full mode: raw v1.Node JSON
  std::vector<std::string> passing_node_names;                    // names mode
  std::vector<std::pair<std::string, std::string>> failed;        // FailedNodes: name -> reason
  std::vector<std::pair<std::string, std::string>> unresolvable;  // FailedAndUnresolvableNodes
  std::string error;                                              // Error
};

struct HostPriority {
  std::string host;
  int64_t score = 0;
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
