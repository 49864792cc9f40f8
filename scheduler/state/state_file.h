// A cluster state file: nodes and pods to load into the ClusterStore at start-up, until the
// Kubernetes API watch feeds it. Shape: {"nodes": [v1.Node...], "pods": [v1.Pod...]}; both keys
// optional, matched case-insensitively. Pods without spec.nodeName are skipped by the store.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/state/cluster_state.h"
#include "common/util/result.h"

namespace epc {

struct StateFileSummary {
  size_t nodes = 0;
  size_t pods = 0;
  std::vector<Pod> all_pods;  // pending ones too, for /explain
};

// Errors name the file and the item: `state.json: nodes[1] ("sgx-0"): allocatable["cpu"]: ...`.
// Nothing is loaded into `store` unless the whole file decodes.
Result<StateFileSummary> LoadStateFile(const std::string& path, ClusterStore& store);
Result<StateFileSummary> LoadStateJson(std::string_view json, std::string_view source,
                                       ClusterStore& store);

}  // namespace epc
