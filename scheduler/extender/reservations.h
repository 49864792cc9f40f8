// Reservations: EPC that filter granted to pods kube-scheduler has not bound yet.
//
// kube-scheduler runs one pod's scheduling cycle after another, but binding happens later and
// asynchronously, and the extender learns of it only through the watch. Without a hold, two pods
// filtered back to back could both be given the last free EPC of a node. A filter that passes
// an EPC pod therefore holds the pod's EPC on every node it passed (the extender cannot know
// which one kube-scheduler will pick; holding on all is safe, and short). The hold ends when
// the cluster snapshot shows the pod bound (its request is then counted for real), when the TTL
// runs out (the pod was deleted, or bound elsewhere by someone else), or it narrows to exactly
// one node when the extender's own bind verb binds the pod.
//
// Not thread-safe: the Extender serializes filter calls and owns this.
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/state/cluster_state.h"

namespace epc {

// An immutable set of node names, built in one go from the names a filter passed.
//
// A filter in a 5,000-node cluster passes thousands of nodes; a hash set of std::string would
// allocate twice per name on every filter call. This copies the names back to back into one
// buffer it owns and indexes them with an open-addressing table of offsets: three allocations
// whatever the count, and lookups by std::string_view.
class NodeNameSet {
 public:
  NodeNameSet() = default;
  explicit NodeNameSet(std::span<const std::string_view> names);
  // The same, given hashes == HashNames(names) (common/util/name_hash.h).
  NodeNameSet(std::span<const std::string_view> names, std::span<const uint64_t> hashes);
  NodeNameSet(std::initializer_list<std::string_view> names)
      : NodeNameSet(std::span<const std::string_view>(names.begin(), names.size())) {}

  bool contains(std::string_view name) const;
  // The same, given HashName(name): a caller asking many sets about one name hashes it once.
  bool contains(std::string_view name, uint64_t hash) const;
  // Calls hit(i) for each names[i] in the set; hashes[i] == HashName(names[i]). Thousands of
  // names are probed in one pass that fetches slots a few names ahead, so the probes' cache
  // misses overlap.
  template <typename F>
  void ForEachContained(std::span<const std::string_view> names, std::span<const uint64_t> hashes,
                        F&& hit) const;
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

 private:
  std::string_view At(uint64_t slot_value) const;

  std::unique_ptr<char[]> text_;  // the names back to back
  std::vector<uint32_t> starts_;  // name i is text_[starts_[i], starts_[i + 1])
  // Open addressing, a power of two at least twice the count: 0 is empty, else the name's
  // hash's high 32 bits (a tag: most probes for other names end without reading text) above
  // name index + 1.
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

class Reservations {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Reservations(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  // Replaces any hold of the same pod.
  void Hold(const std::string& pod_uid, int64_t epc_bytes, NodeNameSet nodes,
            Clock::time_point now);
  // After a successful bind: the hold stays on `node` alone, with a fresh TTL.
  void Narrow(const std::string& pod_uid, const std::string& node, Clock::time_point now);
  void Release(const std::string& pod_uid) { holds_.erase(pod_uid); }
  // Drops expired holds and those of pods the snapshot already counts.
  void Prune(const ClusterSnapshot& snapshot, Clock::time_point now);

  // EPC bytes held on `node` by pods other than `except_uid`.
  int64_t HeldOn(std::string_view node, std::string_view except_uid) const;
  // held[i] = HeldOn(nodes[i], except_uid) for a whole request's nodes at once, a pass per hold
  // rather than a probe of every hold per node (a burst of EPC pods leaves several holds).
  // held.size() must equal nodes.size(); hashes == HashNames(nodes) (common/util/name_hash.h).
  void HeldOnAll(std::span<const std::string_view> nodes, std::span<const uint64_t> hashes,
                 std::string_view except_uid, std::span<int64_t> held) const;
  // Whether any pod other than `except_uid` holds EPC anywhere: when not, a filter skips
  // HeldOn for every node (the common case: kube-scheduler retries the same pod, or none is
  // between filter and bind).
  bool OthersHold(std::string_view except_uid) const;
  bool empty() const { return holds_.empty(); }
  size_t size() const { return holds_.size(); }

 private:
  struct Entry {
    int64_t epc_bytes = 0;
    NodeNameSet nodes;
    Clock::time_point expires;
  };
  const std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, Entry> holds_;
};

template <typename F>
void NodeNameSet::ForEachContained(std::span<const std::string_view> names,
                                   std::span<const uint64_t> hashes, F&& hit) const {
  if (slots_.empty()) return;
  constexpr size_t kAhead = 8;
  const size_t mask = slots_.size() - 1;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i + kAhead < names.size()) __builtin_prefetch(&slots_[hashes[i + kAhead] & mask]);
    if (contains(names[i], hashes[i])) hit(i);
  }
}

}  // namespace epc
