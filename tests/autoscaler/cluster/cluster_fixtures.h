// Fixtures for the cluster-autoscaler decision tests: node templates, pods with owners and
// annotations, and a small cluster whose Node and Pod objects stay put while NodeInfos and
// ScaleDownNodes point at them. Builds on tests/testing/builders.h.
#pragma once

#include <deque>
#include <string>
#include <vector>

#include "autoscaler/cluster/node_group.h"
#include "autoscaler/cluster/scale_down.h"
#include "common/model/epc_resources.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"
#include "tests/testing/builders.h"

namespace epc::cluster::testing {

using epc::testing::kAzureEpc;
using epc::testing::NodeBuilder;
using epc::testing::PodBuilder;

inline constexpr char kPoolLabel[] = "pool";

// Pools "sgx" (confidential, pool=sgx) and "general" (pool=general).
inline PoolClassifier TestPools() {
  PoolSpec sgx{"sgx", true, {}};
  sgx.node_selector.match_labels[kPoolLabel] = "sgx";
  PoolSpec general{"general", false, {}};
  general.node_selector.match_labels[kPoolLabel] = "general";
  return PoolClassifier({sgx, general});
}

// A confidential node: 4 cpu, 16Gi, 110 pods and `epc_mib` MiB of EPC in Azure's units.
inline Node SgxNode(const std::string& name, int epc_mib) {
  return NodeBuilder(name)
      .Label(kPoolLabel, "sgx")
      .Allocatable(kAzureEpc, std::to_string(epc_mib))
      .Build();
}

// A general node: 4 cpu, 16Gi, 110 pods.
inline Node GeneralNode(const std::string& name) {
  return NodeBuilder(name).Label(kPoolLabel, "general").Build();
}

// A pod owned by ReplicaSet `rs` asking for `epc_mib` MiB of EPC (0: none), cpu and memory.
inline Pod AppPod(const std::string& name, int epc_mib, const std::string& cpu = "100m",
                  const std::string& memory = "128Mi", const std::string& rs = "app") {
  PodBuilder b(name);
  b.Request("cpu", cpu).Request("memory", memory);
  if (epc_mib > 0) b.Limit(kAzureEpc, std::to_string(epc_mib));
  Pod p = b.Build();
  p.owners.push_back({"apps/v1", "ReplicaSet", rs, "uid-rs-" + rs, true});
  return p;
}

inline Pod WithoutOwner(Pod p) {
  p.owners.clear();
  return p;
}
inline Pod OwnedBy(Pod p, const std::string& kind, const std::string& name) {
  p.owners.clear();
  p.owners.push_back({"apps/v1", kind, name, "uid-" + kind + "-" + name, true});
  return p;
}
inline Pod Annotated(Pod p, const std::string& key, const std::string& value) {
  p.annotations[key] = value;
  return p;
}
inline Pod InNamespace(Pod p, const std::string& ns) {
  p.namespace_name = ns;
  return p;
}
inline Pod WithLocalStorage(Pod p) {
  p.uses_local_storage = true;
  return p;
}

inline NodeGroupState Group(const std::string& name, const Node& template_node, int min_size,
                            int max_size, int target_size = 0) {
  NodeGroupState g;
  g.spec.name = name;
  g.spec.min_size = min_size;
  g.spec.max_size = max_size;
  g.spec.template_node = template_node;
  g.spec.provider = "test";
  auto it = template_node.labels.find(kPoolLabel);
  g.spec.pool = it == template_node.labels.end() ? "" : it->second;
  g.target_size = target_size;
  return g;
}

// Nodes with their pods, kept at stable addresses; NodeInfo::requested is the sum of the pods'
// requests, as the cluster store keeps it.
class TestCluster {
 public:
  TestCluster() : pools_(TestPools()) {}

  size_t AddNode(Node node) {
    nodes_.push_back(std::move(node));
    infos_.push_back(MakeNodeInfo(nodes_.back(), epc_, pools_));
    pods_on_.emplace_back();
    return nodes_.size() - 1;
  }
  // Binds the pod to node `i` (Running) and adds its request to the node.
  const Pod& AddPod(size_t i, Pod pod) {
    pod.node_name = nodes_[i].name;
    if (pod.phase == "Pending") pod.phase = "Running";
    pods_.push_back(std::move(pod));
    infos_[i].requested += MakePodInfo(pods_.back(), epc_).request;
    pods_on_[i].push_back(&pods_.back());
    return pods_.back();
  }

  std::vector<const NodeInfo*> NodeInfos() const {
    std::vector<const NodeInfo*> out;
    for (const NodeInfo& n : infos_) out.push_back(&n);
    return out;
  }
  std::vector<ScaleDownNode> ScaleDownNodes() const {
    std::vector<ScaleDownNode> out;
    for (size_t i = 0; i < infos_.size(); ++i) out.push_back({&infos_[i], pods_on_[i]});
    return out;
  }
  const Node& node(size_t i) const { return nodes_[i]; }
  const EpcResources& epc() const { return epc_; }
  const PoolClassifier& pools() const { return pools_; }

 private:
  EpcResources epc_;
  PoolClassifier pools_;
  std::deque<Node> nodes_;
  std::deque<NodeInfo> infos_;
  std::deque<Pod> pods_;
  std::vector<std::vector<const Pod*>> pods_on_;
};

}  // namespace epc::cluster::testing
