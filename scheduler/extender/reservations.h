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
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/state/cluster_state.h"

namespace epc {

// An immutable set of node names, kept as their 64-bit name hashes (common/util/name_hash.h),
// built in one go from the names a filter passed.
//
// A filter in a 5,000-node cluster passes thousands of nodes, and every hold is asked about
// every node of the next filters: a set of hashes needs no copy of the names and answers with
// one probe of a table of words. Two names with one hash (a chance of about one in 2^64 per
// pair) are one member: a hold on either counts on both, which can only make filter refuse a
// node it could have taken, never pass a node without room.
class NodeNameSet {
 public:
  NodeNameSet() = default;
  // `hashes` == HashNames(names); a name listed twice is kept once.
  explicit NodeNameSet(std::span<const uint64_t> hashes);
  explicit NodeNameSet(std::span<const std::string_view> names);
  NodeNameSet(std::initializer_list<std::string_view> names)
      : NodeNameSet(std::span<const std::string_view>(names.begin(), names.size())) {}

  bool contains(std::string_view name) const;
  // The same, given HashName(name).
  bool contains_hash(uint64_t hash) const;
  // Calls f(key) for each member's key (HoldKey of its hash).
  template <typename F>
  void ForEachKey(F&& f) const {
    for (uint64_t slot : slots_) {
      if (slot != 0) f(slot);
    }
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

  // A name hash as a table key: 0 marks an empty slot, so a hash of 0 is kept as 1 (the two
  // then count as one name: see above).
  static uint64_t HoldKey(uint64_t hash) { return hash == 0 ? 1 : hash; }

 private:
  // Open addressing, a power of two at least twice the count; 0 is empty.
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
  // The same on the nodes with these name hashes (HashNames of their names; repeats allowed),
  // put into a NodeNameSet only when another pod first asks about the hold: a hold replaced or
  // narrowed before that (kube-scheduler retrying the pod, the extender's bind) never is.
  void HoldOnHashes(const std::string& pod_uid, int64_t epc_bytes,
                    std::vector<uint64_t> node_hashes, Clock::time_point now);
  // After a successful bind: the hold stays on `node` alone, with a fresh TTL.
  void Narrow(const std::string& pod_uid, const std::string& node, Clock::time_point now);
  void Release(const std::string& pod_uid);
  // Drops expired holds and those of pods the snapshot already counts.
  void Prune(const ClusterSnapshot& snapshot, Clock::time_point now);

  // EPC bytes held on `node` by pods other than `except_uid` (at most INT64_MAX).
  int64_t HeldOn(std::string_view node, std::string_view except_uid);
  // held[i] = HeldOn(nodes[i], except_uid) for a whole request's nodes, given their hashes
  // (hashes == HashNames(nodes), held.size() == hashes.size()): one probe of the running
  // totals per node however many pods hold EPC (a burst of EPC pods leaves several holds).
  void HeldOnAll(std::span<const uint64_t> hashes, std::string_view except_uid,
                 std::span<int64_t> held);
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
    std::vector<uint64_t> unindexed;  // name hashes not yet put into `nodes`
    Clock::time_point expires;
    bool counted = false;  // in totals_; `unindexed` is then empty
  };

  // EPC held on each node by the counted holds together, by HoldKey: what HeldOn adds up, kept
  // as holds come and go so that asking costs one probe however many pods hold. Open
  // addressing with linear probing, at most half full; sums are 128-bit, so taking a hold off
  // is exact whatever the amounts.
  class Totals {
   public:
    __int128 Get(uint64_t key) const;  // 0 if no counted hold names the key
    void Add(uint64_t key, int64_t bytes);
    void Subtract(uint64_t key, int64_t bytes);

   private:
    struct Slot {
      uint64_t key = 0;    // 0: empty
      uint32_t holds = 0;  // how many counted holds name the key; 0: left for the next rebuild
      __int128 bytes = 0;
    };
    size_t Find(uint64_t key) const;  // the key's slot, or the empty slot where it would go
    void Rebuild();
    std::vector<Slot> slots_;
    size_t size_ = 0;  // keys in the table
    size_t live_ = 0;  // of which a counted hold names
  };

  // Holds are counted into the totals when another pod first asks about them, not when taken:
  // kube-scheduler filters one pod again and again while it waits, and a hold that is replaced
  // before anyone else asks is never counted at all. Counts every hold but `except_uid`'s and
  // returns `except_uid`'s hold if it is counted (its bytes are then in the totals, to be taken
  // off), else null.
  const Entry* CountOthers(std::string_view except_uid);
  void Uncount(Entry& entry);
  int64_t HeldOnHash(uint64_t hash, const Entry* own) const;

  const std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, Entry> holds_;
  Totals totals_;
};

}  // namespace epc
