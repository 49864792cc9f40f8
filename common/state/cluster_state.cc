#include "common/state/cluster_state.h"

#include <algorithm>

#include "common/model/pod_request.h"

namespace epc {

const NodeInfo* ClusterSnapshot::FindNode(std::string_view name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : &it->second->info;
}

std::vector<const NodeInfo*> ClusterSnapshot::Nodes() const {
  std::vector<const NodeInfo*> out;
  out.reserve(nodes_.size());
  for (const auto& [name, entry] : nodes_) out.push_back(&entry->info);
  return out;
}

const NodeUse* ClusterSnapshot::UseOf(std::string_view node_name) const {
  auto it = use_.find(node_name);
  return it == use_.end() ? nullptr : it->second.get();
}

const PodUse* ClusterSnapshot::FindPod(std::string_view uid) const {
  auto it = pods_.find(uid);
  return it == pods_.end() ? nullptr : it->second.get();
}

ClusterStore::ClusterStore(EpcResources epc, PoolClassifier pools)
    : epc_(std::move(epc)), pools_(std::move(pools)) {}

void ClusterStore::UpsertNode(Node node) {
  std::lock_guard lock(mu_);
  UpsertNodeLocked(std::move(node));
}

void ClusterStore::UpsertNodeLocked(Node node) {
  const std::string name = node.name;
  auto entry = std::make_shared<ClusterSnapshot::NodeEntry>();
  entry->node = std::make_shared<const Node>(std::move(node));
  entry->info = MakeNodeInfo(*entry->node, epc_, pools_);
  if (auto use = working_.use_.find(name); use != working_.use_.end()) {
    entry->info.requested = use->second->requested;
  }
  working_.nodes_[name] = std::move(entry);
  published_.reset();
}

void ClusterStore::DeleteNode(std::string_view name) {
  std::lock_guard lock(mu_);
  // Pods bound to a deleted node keep their accounting until they are deleted themselves, as
  // the pod garbage collector removes them shortly after.
  if (working_.nodes_.erase(std::string(name)) > 0) published_.reset();
}

void ClusterStore::UpsertPod(const Pod& pod) {
  std::lock_guard lock(mu_);
  UpsertPodLocked(pod);
}

void ClusterStore::UpsertPodLocked(const Pod& pod) {
  RemovePodLocked(pod.uid);
  if (UsesNodeResources(pod)) {
    auto use = std::make_shared<PodUse>();
    use->uid = pod.uid;
    use->namespace_name = pod.namespace_name;
    use->name = pod.name;
    use->node_name = pod.node_name;
    use->request = PodRequests(pod, epc_);

    auto& slot = working_.use_[pod.node_name];
    auto node_use = slot ? std::make_shared<NodeUse>(*slot) : std::make_shared<NodeUse>();
    node_use->requested += use->request;
    node_use->pods.push_back(use);
    slot = std::move(node_use);
    working_.pods_[pod.uid] = std::move(use);
    RefreshNodeLocked(pod.node_name);
  }
  published_.reset();
}

void ClusterStore::DeletePod(std::string_view uid) {
  std::lock_guard lock(mu_);
  RemovePodLocked(uid);
  published_.reset();
}

void ClusterStore::ReplaceNodes(std::vector<Node> nodes) {
  std::lock_guard lock(mu_);
  working_.nodes_.clear();
  for (Node& node : nodes) UpsertNodeLocked(std::move(node));
  published_.reset();
}

void ClusterStore::ReplacePods(const std::vector<Pod>& pods) {
  std::lock_guard lock(mu_);
  working_.pods_.clear();
  working_.use_.clear();
  for (auto& [name, entry] : working_.nodes_) RefreshNodeLocked(name);
  for (const Pod& pod : pods) UpsertPodLocked(pod);
  published_.reset();
}

void ClusterStore::RemovePodLocked(std::string_view uid) {
  auto it = working_.pods_.find(uid);
  if (it == working_.pods_.end()) return;
  const std::shared_ptr<const PodUse> old = it->second;
  working_.pods_.erase(it);

  auto slot = working_.use_.find(old->node_name);
  if (slot != working_.use_.end()) {
    auto node_use = std::make_shared<NodeUse>(*slot->second);
    node_use->requested -= old->request;
    std::erase_if(node_use->pods, [&](const auto& p) { return p->uid == old->uid; });
    if (node_use->pods.empty()) {
      working_.use_.erase(slot);
    } else {
      slot->second = std::move(node_use);
    }
  }
  RefreshNodeLocked(old->node_name);
}

void ClusterStore::RefreshNodeLocked(const std::string& name) {
  auto it = working_.nodes_.find(name);
  if (it == working_.nodes_.end()) return;
  auto entry = std::make_shared<ClusterSnapshot::NodeEntry>(*it->second);
  auto use = working_.use_.find(name);
  entry->info.requested = use == working_.use_.end() ? Resources{} : use->second->requested;
  entry->info.node = entry->node.get();
  it->second = std::move(entry);
}

std::shared_ptr<const ClusterSnapshot> ClusterStore::Snapshot() const {
  std::lock_guard lock(mu_);
  if (!published_) published_ = std::make_shared<const ClusterSnapshot>(working_);
  return published_;
}

}  // namespace epc
