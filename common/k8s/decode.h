// Decoders from Kubernetes JSON (v1.Node, v1.Pod) into the model, on simdjson's on-demand API.
//
// One decoder per kind serves every caller: the extender's hot path (thousands of nodes in one
// request, decoded in place without building a DOM), and small documents (a watch event, a test
// fixture). Object keys match case-insensitively, as Go's encoding/json does. Fields the model
// does not keep are skipped unread.
#pragma once

#include <string>
#include <string_view>

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
Result<Pod> DecodePod(simdjson::ondemand::value value);

// Conveniences for a whole small document (copied into a padded buffer).
NodeDecodeResult ParseNodeJson(std::string_view json);
Result<Pod> ParsePodJson(std::string_view json);

}  // namespace epc
