// Cluster state: an immutable snapshot that request handlers read, and the store that writers
// (tests now, the watch caches later) update and publish.
//
// A snapshot is never changed after publication: a handler takes a shared_ptr once and works on
// it without holding any lock. Per-node requested resources are kept incrementally by the store
// (a pod event adjusts one node), never recomputed per request.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/model/epc_resources.h"
#include "common/model/objects.h"
#include "common/model/resources.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"

namespace epc {

// A pod that uses a node's resources (UsesNodeResources()).
struct PodUse {
  std::string uid;
  std::string namespace_name;
  std::string name;
  std::string node_name;
  Resources request;  // PodRequests()
};

// What pods bound to one node name use. Kept for names the store has no Node object for too, so
// a full-mode request (which brings its own Node objects) still sees the pods on each node.
struct NodeUse {
  Resources requested;
  std::vector<std::shared_ptr<const PodUse>> pods;
};

// Hash and equality that let the maps below be searched with a std::string_view (C++20
// heterogeneous lookup), so a lookup by a name from a request builds no std::string.
struct NameHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
template <typename V>
using NameMap = std::unordered_map<std::string, V, NameHash, std::equal_to<>>;

class ClusterSnapshot {
 public:
  // The node with its pool and requested resources; nullptr when unknown. NodeInfo::node points
  // into this snapshot, so it lives as long as the snapshot.
  const NodeInfo* FindNode(std::string_view name) const;
  // Every known node, in no particular order.
  std::vector<const NodeInfo*> Nodes() const;
  // Use by pods bound to `node_name`, known node or not; nullptr when none.
  const NodeUse* UseOf(std::string_view node_name) const;
  const PodUse* FindPod(std::string_view uid) const;
  size_t node_count() const { return nodes_.size(); }

 private:
  friend class ClusterStore;
  struct NodeEntry {
    std::shared_ptr<const Node> node;
    NodeInfo info;  // info.node == node.get()
  };
  NameMap<std::shared_ptr<const NodeEntry>> nodes_;
  NameMap<std::shared_ptr<const NodeUse>> use_;
  NameMap<std::shared_ptr<const PodUse>> pods_;
};

// Thread-safe. Writers serialize on a mutex; Snapshot() returns the latest state, building a new
// snapshot only after a change (shared, unchanged nodes are not copied).
class ClusterStore {
 public:
  ClusterStore(EpcResources epc, PoolClassifier pools);

  void UpsertNode(Node node);
  void DeleteNode(std::string_view name);
  // A pod that does not use node resources (pending, finished) is removed from accounting.
  void UpsertPod(const Pod& pod);
  void DeletePod(std::string_view uid);
  // After a relist: the given objects become the whole set; anything else is deleted.
  void ReplaceNodes(std::vector<Node> nodes);
  void ReplacePods(const std::vector<Pod>& pods);

  std::shared_ptr<const ClusterSnapshot> Snapshot() const;

  const EpcResources& epc() const { return epc_; }
  const PoolClassifier& pools() const { return pools_; }

 private:
  void UpsertNodeLocked(Node node);
  void UpsertPodLocked(const Pod& pod);
  void RemovePodLocked(std::string_view uid);
  void RefreshNodeLocked(const std::string& name);

  const EpcResources epc_;
  const PoolClassifier pools_;
  mutable std::mutex mu_;
  // The working state; copied into a snapshot on demand.
  ClusterSnapshot working_;
  mutable std::shared_ptr<const ClusterSnapshot> published_;
};

}  // namespace epc
