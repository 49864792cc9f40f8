#include "common/state/cluster_state.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

#include "common/model/pod_request.h"
#include "common/util/name_hash.h"

namespace epc {

NodeNameIndex::NodeNameIndex(std::span<const Entry> entries) {
  if (entries.empty()) return;
  size_t bytes = 0;
  for (const Entry& e : entries) bytes += e.name.size();
  if (bytes > std::numeric_limits<uint32_t>::max() ||
      entries.size() >= std::numeric_limits<uint32_t>::max()) {
    throw std::length_error("NodeNameIndex: too many nodes or name bytes");
  }
  names_.reserve(bytes);
  records_.reserve(entries.size());
  // At most half full so that probe sequences stay short (8 bytes a slot: 128 KiB for 5,000
  // nodes).
  const size_t capacity = std::bit_ceil(2 * entries.size());
  slots_.assign(capacity, 0);
  mask_ = capacity - 1;
  for (const Entry& e : entries) {
    const uint64_t hash = HashName(e.name);
    if (Probe(e.name, hash) != nullptr) continue;  // a duplicate: the first is kept
    size_t i = hash & mask_;
    while (slots_[i] != 0) i = (i + 1) & mask_;
    records_.push_back(Record{IndexedNode{e.info, EpcFitKeyOf(*e.info)},
                              static_cast<uint32_t>(names_.size()),
                              static_cast<uint32_t>(e.name.size())});
    names_.append(e.name);
    slots_[i] = (Tag(hash) << 32) | records_.size();
  }
}

const NodeNameIndex::Record* NodeNameIndex::Probe(std::string_view name, uint64_t hash) const {
  if (slots_.empty()) return nullptr;
  const uint64_t tag = Tag(hash);
  for (size_t i = hash & mask_; slots_[i] != 0; i = (i + 1) & mask_) {
    if ((slots_[i] >> 32) != tag) continue;
    const Record& r = records_[(slots_[i] & 0xFFFFFFFFu) - 1];
    if (SameName(NameOf(r), name)) return &r;
  }
  return nullptr;
}

const IndexedNode* NodeNameIndex::Find(std::string_view name) const {
  const Record* r = Probe(name, HashName(name));
  return r == nullptr ? nullptr : &r->node;
}

const NodeInfo* ClusterSnapshot::FindNode(std::string_view name) const {
  const IndexedNode* node = index_.Find(name);
  return node == nullptr ? nullptr : node->info;
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
  ChangedLocked();
}

void ClusterStore::DeleteNode(std::string_view name) {
  std::lock_guard lock(mu_);
  // Pods bound to a deleted node keep their accounting until they are deleted themselves, as
  // the pod garbage collector removes them shortly after.
  if (working_.nodes_.erase(std::string(name)) > 0) ChangedLocked();
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
  ChangedLocked();
}

void ClusterStore::DeletePod(std::string_view uid) {
  std::lock_guard lock(mu_);
  RemovePodLocked(uid);
  ChangedLocked();
}

void ClusterStore::ReplaceNodes(std::vector<Node> nodes) {
  std::lock_guard lock(mu_);
  working_.nodes_.clear();
  for (Node& node : nodes) UpsertNodeLocked(std::move(node));
  ChangedLocked();
}

void ClusterStore::ReplacePods(const std::vector<Pod>& pods) {
  std::lock_guard lock(mu_);
  working_.pods_.clear();
  working_.use_.clear();
  for (auto& [name, entry] : working_.nodes_) RefreshNodeLocked(name);
  for (const Pod& pod : pods) UpsertPodLocked(pod);
  ChangedLocked();
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

ClusterStore::~ClusterStore() = default;

std::shared_ptr<const ClusterSnapshot> ClusterStore::BuildLocked() const {
  auto snapshot = std::make_shared<ClusterSnapshot>(working_);
  std::vector<NodeNameIndex::Entry> entries;
  entries.reserve(snapshot->nodes_.size());
  for (const auto& [name, entry] : snapshot->nodes_) entries.push_back({name, &entry->info});
  snapshot->index_ = NodeNameIndex(entries);
  return snapshot;
}

void ClusterStore::ChangedLocked() {
  dirty_ = true;
  if (background_) changed_.notify_one();
}

std::shared_ptr<const ClusterSnapshot> ClusterStore::Snapshot() const {
  if (background_) {
    std::lock_guard published(published_mu_);
    if (published_) return published_;
  }
  std::lock_guard lock(mu_);
  std::lock_guard published(published_mu_);
  if (!published_ || (dirty_ && !background_)) {
    published_ = BuildLocked();
    dirty_ = false;
  }
  return published_;
}

void ClusterStore::PublishInBackground(std::chrono::milliseconds delay) {
  std::lock_guard lock(mu_);
  if (background_) return;
  background_ = true;
  publisher_ = std::jthread([this, delay](std::stop_token stop) { PublishLoop(stop, delay); });
}

void ClusterStore::PublishLoop(std::stop_token stop, std::chrono::milliseconds delay) {
  // The snapshot before the current one, released a round later than it was replaced: readers
  // are done with it by then, so its destruction (a few ms at thousands of nodes) falls on this
  // thread rather than on the request that would have dropped the last reference.
  std::shared_ptr<const ClusterSnapshot> retired;
  std::unique_lock lock(mu_);
  while (changed_.wait(lock, stop, [&] { return dirty_; })) {
    // Let a burst of changes (a scheduling burst's bindings) go into one snapshot.
    changed_.wait_for(lock, stop, delay, [] { return false; });
    if (stop.stop_requested()) break;
    std::shared_ptr<const ClusterSnapshot> next = BuildLocked();
    dirty_ = false;
    lock.unlock();
    std::shared_ptr<const ClusterSnapshot> previous;
    {
      std::lock_guard published(published_mu_);
      previous = std::exchange(published_, std::move(next));
    }
    retired = std::move(previous);
    lock.lock();
  }
}

}  // namespace epc
