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
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/state/cluster_state.h"

namespace epc {

class Reservations {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Reservations(std::chrono::milliseconds ttl) : ttl_(ttl) {}

  // Replaces any hold of the same pod.
  void Hold(const std::string& pod_uid, int64_t epc_bytes, std::unordered_set<std::string> nodes,
            Clock::time_point now);
  // After a successful bind: the hold stays on `node` alone, with a fresh TTL.
  void Narrow(const std::string& pod_uid, const std::string& node, Clock::time_point now);
  void Release(const std::string& pod_uid) { holds_.erase(pod_uid); }
  // Drops expired holds and those of pods the snapshot already counts.
  void Prune(const ClusterSnapshot& snapshot, Clock::time_point now);

  // EPC bytes held on `node` by pods other than `except_uid`.
  int64_t HeldOn(std::string_view node, std::string_view except_uid) const;
  bool empty() const { return holds_.empty(); }
  size_t size() const { return holds_.size(); }

 private:
  struct Entry {
    int64_t epc_bytes = 0;
    std::unordered_set<std::string> nodes;
    Clock::time_point expires;
  };
  const std::chrono::milliseconds ttl_;
  std::unordered_map<std::string, Entry> holds_;
};

}  // namespace epc
