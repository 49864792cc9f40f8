// Cluster state: an immutable snapshot that request handlers read, and the store that writers
// (tests now, the watch caches later) update and publish.
//
// A snapshot is never changed after publication: a handler takes a shared_ptr once and works on
// it without holding any lock. Per-node requested resources are kept incrementally by the store
// (a pod event adjusts one node), never recomputed per request.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/model/epc_resources.h"
#include "common/model/objects.h"
#include "common/model/resources.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"
#include "common/util/name_hash.h"

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

// A node as the name index holds it: its info, and beside it the few fields the extender's
// checks and score read (EpcFitKeyOf(*info)), so thousands of lookups need not touch the infos.
struct IndexedNode {
  const NodeInfo* info = nullptr;  // not owned
  EpcFitKey epc;
};

// A read-only name -> node table laid out for thousands of lookups per request (an extender
// filter in names mode). An open-addressing table of 8-byte slots (32 bits of the name's hash
// and a record number) over an array of records (IndexedNode, where the name is) and one buffer
// of all names back to back. A lookup reads a slot (the table is small enough to stay in cache),
// a record and the name's bytes, where an unordered_map reads a bucket, a list node, a heap
// string and the value's own allocation; ForEachFound() also fetches ahead so lookups overlap.
//
// Built once from a finished set of nodes (ClusterStore builds one per published snapshot) and
// never changed. It does not own the NodeInfos: they must outlive the index (the snapshot owns
// both). Of entries with equal names the first is kept.
class NodeNameIndex {
 public:
  struct Entry {
    std::string_view name;  // copied into the index
    const NodeInfo* info;   // not owned, not null
  };
  NodeNameIndex() = default;
  explicit NodeNameIndex(std::span<const Entry> entries);

  // nullptr when no entry has this name; else valid as long as the index.
  const IndexedNode* Find(std::string_view name) const;
  // Calls found(i, Find(names[i])) for each name in order, the lookups overlapped (see
  // ForEachFound's body): what a caller does with each node runs inside the pipeline, so no
  // array of thousands of results is written and read back. hashes == HashNames(names)
  // (common/util/name_hash.h): a caller that looks the names up in other tables too hashes them
  // once.
  template <typename Found>
  void ForEachFound(std::span<const std::string_view> names, std::span<const uint64_t> hashes,
                    Found&& found) const;
  size_t size() const { return records_.size(); }

 private:
  struct Record {
    IndexedNode node;
    uint32_t offset = 0;  // of the name in names_
    uint32_t length = 0;
  };
  // A slot is 0 when empty, else (hash >> 32) << 32 | (record number + 1).
  static uint64_t Tag(uint64_t hash) { return hash >> 32; }
  // How many names ahead ForEachFound() fetches: enough lookups in flight to hide a miss to
  // memory, few enough that the fetched lines are still in L1 when used.
  static constexpr size_t kFetchAhead = 8;
  std::string_view NameOf(const Record& r) const { return {names_.data() + r.offset, r.length}; }
  const Record* Probe(std::string_view name, uint64_t hash) const;

  std::string names_;
  std::vector<Record> records_;  // in the order given
  std::vector<uint64_t> slots_;  // a power of two in size, at most half full; empty if no records
  uint64_t mask_ = 0;
};

class ClusterSnapshot {
 public:
  // The node with its pool and requested resources; nullptr when unknown. NodeInfo::node points
  // into this snapshot, so it lives as long as the snapshot.
  const NodeInfo* FindNode(std::string_view name) const;
  // found(i, node) for each of names[i] in order, node nullptr when unknown; many names at
  // once, faster than one by one (NodeNameIndex::ForEachFound). The nodes live as long as the
  // snapshot. hashes == HashNames(names).
  template <typename Found>
  void ForEachNode(std::span<const std::string_view> names, std::span<const uint64_t> hashes,
                   Found&& found) const {
    index_.ForEachFound(names, hashes, std::forward<Found>(found));
  }
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
  // Over nodes_, built by ClusterStore::Snapshot() when it publishes; FindNode and ForEachNode
  // read only this. The store's working state has none (it never looks nodes up by it).
  NodeNameIndex index_;
};

template <typename Found>
void NodeNameIndex::ForEachFound(std::span<const std::string_view> names,
                                 std::span<const uint64_t> hashes, Found&& found) const {
  const size_t n = names.size();
  if (slots_.empty()) {
    for (size_t i = 0; i < n; ++i) found(i, static_cast<const IndexedNode*>(nullptr));
    return;
  }
  // Each lookup is a chain of dependent reads (slot -> record -> name bytes), each likely a
  // cache miss. They are pipelined over the names so that the CPU overlaps the misses of
  // different names: at step i, name i + 3k's home slot is fetched, the first record in name
  // i + 2k's probe sequence whose tag matches is found and fetched, name i + k's candidate
  // record is read and its name bytes fetched, and name i is checked against its candidate. A
  // name that is not its candidate's is looked up again in full (a tag collision, or an unknown
  // name with a colliding tag: rare). The candidates in flight live in a ring of kRing.
  constexpr size_t k = kFetchAhead;
  constexpr size_t kRing = 4 * k;  // > 2k candidates in flight; a power of two
  static_assert((kRing & (kRing - 1)) == 0 && kRing > 2 * k);
  const Record* candidates[kRing];
  auto find_candidate = [&](size_t i) {
    const uint64_t tag = Tag(hashes[i]);
    for (size_t s = hashes[i] & mask_; slots_[s] != 0; s = (s + 1) & mask_) {
      if ((slots_[s] >> 32) == tag) {
        const Record* r = &records_[(slots_[s] & 0xFFFFFFFFu) - 1];
        __builtin_prefetch(r);
        candidates[i % kRing] = r;
        return;
      }
    }
    candidates[i % kRing] = nullptr;  // no slot in the probe sequence has the tag: unknown
  };
  for (size_t i = 0; i < std::min(n, 3 * k); ++i) __builtin_prefetch(&slots_[hashes[i] & mask_]);
  for (size_t i = 0; i < std::min(n, 2 * k); ++i) find_candidate(i);
  for (size_t i = 0; i < n; ++i) {
    if (i + 3 * k < n) __builtin_prefetch(&slots_[hashes[i + 3 * k] & mask_]);
    if (i + 2 * k < n) find_candidate(i + 2 * k);
    if (const Record* ahead = i + k < n ? candidates[(i + k) % kRing] : nullptr) {
      __builtin_prefetch(names_.data() + ahead->offset);
    }
    const Record* r = candidates[i % kRing];
    if (r != nullptr && !SameName(NameOf(*r), names[i])) r = Probe(names[i], hashes[i]);
    found(i, r == nullptr ? static_cast<const IndexedNode*>(nullptr) : &r->node);
  }
}

// Thread-safe. Writers serialize on a mutex; Snapshot() returns the latest state, building a new
// snapshot only after a change (shared, unchanged nodes are not copied).
//
// Building a snapshot copies the store's maps and indexes the node names: ~7 ms at 5,000 nodes
// and 15,000 pods, paid by the first reader after a change. A daemon whose readers answer
// requests (the extender) calls PublishInBackground(): a thread of the store's own then builds
// each snapshot a moment after a change, and Snapshot() returns the latest one built, never
// building itself (only the very first).
class ClusterStore {
 public:
  ClusterStore(EpcResources epc, PoolClassifier pools);
  ~ClusterStore();
  ClusterStore(const ClusterStore&) = delete;
  ClusterStore& operator=(const ClusterStore&) = delete;

  // From now on snapshots are built on a background thread, `delay` after the first change not
  // yet published (changes within the delay go into one snapshot). Snapshot() then returns a
  // state at most delay + one build old. Call once; the thread stops with the store.
  void PublishInBackground(std::chrono::milliseconds delay);

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

  // A snapshot of working_; called with mu_ held.
  std::shared_ptr<const ClusterSnapshot> BuildLocked() const;
  // Marks working_ changed; called with mu_ held.
  void ChangedLocked();
  void PublishLoop(std::stop_token stop, std::chrono::milliseconds delay);

  const EpcResources epc_;
  const PoolClassifier pools_;
  mutable std::mutex mu_;  // guards working_ and dirty_; taken before published_mu_
  // The working state; copied into a snapshot on demand.
  ClusterSnapshot working_;
  mutable bool dirty_ = true;  // working_ has changes that published_ lacks
  std::atomic<bool> background_{false};
  std::condition_variable_any changed_;
  // Guards published_ alone, so that readers never wait for a build.
  mutable std::mutex published_mu_;
  mutable std::shared_ptr<const ClusterSnapshot> published_;
  std::jthread publisher_;  // last: stops (and joins) before the state it reads is destroyed
};

}  // namespace epc
