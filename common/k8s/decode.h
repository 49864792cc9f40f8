// Decoders from Kubernetes JSON (v1.Node, v1.Pod) into the model, on simdjson's on-demand API.
//
// One decoder per kind serves every caller: the extender's hot path (thousands of nodes in one
// request, decoded in place without building a DOM), and small documents (a watch event, a test
// fixture). Object keys match case-insensitively, as Go's encoding/json does. Fields the model
// does not keep are skipped unread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc {

// A node that failed to decode still carries the name when it had one, so a caller can fail
// that node by name and answer the rest. `error` is empty on success and names the field and
// value otherwise: `status.allocatable["cpu"]: quantity "4x": unknown suffix "x"`.
struct NodeDecodeResult {
  Node node;
  std::string error;
};
NodeDecodeResult DecodeNode(simdjson::ondemand::value value);

// What DecodeNode stores of a v1.Node; the default stores all the model has. Labels, annotations,
// uid/resourceVersion and resources a projection leaves out are still read and checked exactly
// as the full decode does, so on their account a node fails to decode with a projection exactly
// when, and with the same error as, without one: the projection only saves building what its
// caller never reads (a 9 KB AKS node carries ~30 labels and a dozen resources; an extender
// needs a pool label and the EPC quantities). Conditions and the taints/unschedulable of spec
// are different: left out, they are skipped unread (JSON that does not parse still fails the
// whole request), since reading a node-problem-detector node's 15 conditions cost the extender
// a fifth of its full-mode decode for checks kube-scheduler runs itself.
struct NodeProjection {
  bool annotations = true;
  bool uid_and_version = true;  // metadata.uid and metadata.resourceVersion
  // false: only the labels named in label_keys.
  bool all_labels = true;
  std::vector<std::string> label_keys;
  // false: only the resources named in resource_names, in capacity and in allocatable.
  bool all_resources = true;
  std::vector<std::string> resource_names;
  // false: status.conditions are skipped unread (Node::ready stays true).
  bool conditions = true;
  // false: spec.taints and spec.unschedulable are skipped unread (none, and schedulable).
  bool taints_and_unschedulable = true;
};
NodeDecodeResult DecodeNode(simdjson::ondemand::value value, const NodeProjection& projection);
Result<Pod> DecodePod(simdjson::ondemand::value value);

// JSON's whitespace (RFC 8259): space, tab, line feed, carriage return.
constexpr bool IsJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// `text` without the JSON whitespace at its end: simdjson's raw_json_token() keeps whatever
// follows a token up to the next one.
inline std::string_view TrimJsonSpaceRight(std::string_view text) {
  while (!text.empty() && IsJsonSpace(text.back())) text.remove_suffix(1);
  return text;
}

// Conveniences for a whole small document (copied into a padded buffer).
NodeDecodeResult ParseNodeJson(std::string_view json);
Result<Pod> ParsePodJson(std::string_view json);

}  // namespace epc
