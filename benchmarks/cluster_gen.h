// Synthetic cluster for the benchmarks: v1.Node and v1.Pod JSON shaped like what kube-scheduler
// sends an extender (Go encoding/json: compact, Go field names in ExtenderArgs, `null` for the
// unused field), and a ClusterStore holding the same nodes with pods bound to them.
//
// A node is about 9 KB of JSON, like an AKS node with node-problem-detector: ~30 labels, the CSI
// node-id annotation, 15 conditions, addresses, nodeInfo and a dozen images. Six nodes in ten
// advertise EPC (four in Azure MiB units, two in Intel byte units), the rest are general nodes.
// Every seventh SGX node is nearly full, so a filter answer has passing, failed and
// unresolvable nodes.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "common/config/config.h"
#include "common/state/cluster_state.h"

namespace epc::bench {

// The node's name: "aks-pool-<index>" zero-padded to a fixed width.
std::string NodeName(size_t index);
// One compact v1.Node, ~9 KB.
std::string NodeJson(size_t index);
// The pod being scheduled: asks 10 MiB of EPC in Azure units (compact v1.Pod).
std::string PendingPodJson();

// ExtenderArgs bodies for nodes 0..count-1.
std::string FullModeBody(size_t count);   // Nodes: a NodeList of whole objects; NodeNames: null
std::string NamesModeBody(size_t count);  // NodeNames: the names; Nodes: null

// Pools "confidential" and "general" by the epc.acceptance/pool label; extender on 127.0.0.1,
// port 0.
Config BenchConfig();

// A store with nodes 0..count-1 and the pods bound to them (about 3 per node).
std::unique_ptr<ClusterStore> NewFilledStore(const Config& config, size_t count);
// How many pods NewFilledStore binds for `count` nodes.
size_t BoundPodCount(size_t count);

}  // namespace epc::bench
