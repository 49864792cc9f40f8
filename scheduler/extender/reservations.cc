#include "scheduler/extender/reservations.h"

namespace epc {

void Reservations::Hold(const std::string& pod_uid, int64_t epc_bytes,
                        std::unordered_set<std::string> nodes, Clock::time_point now) {
  if (pod_uid.empty() || epc_bytes <= 0 || nodes.empty()) {
    holds_.erase(pod_uid);
    return;
  }
  holds_[pod_uid] = Entry{epc_bytes, std::move(nodes), now + ttl_};
}

void Reservations::Narrow(const std::string& pod_uid, const std::string& node,
                          Clock::time_point now) {
  auto it = holds_.find(pod_uid);
  if (it == holds_.end()) return;
  it->second.nodes = {node};
  it->second.expires = now + ttl_;
}

void Reservations::Prune(const ClusterSnapshot& snapshot, Clock::time_point now) {
  std::erase_if(holds_, [&](const auto& kv) {
    return kv.second.expires <= now || snapshot.FindPod(kv.first) != nullptr;
  });
}

int64_t Reservations::HeldOn(std::string_view node, std::string_view except_uid) const {
  if (holds_.empty()) return 0;
  int64_t total = 0;
  const std::string key(node);
  for (const auto& [uid, entry] : holds_) {
    if (uid != except_uid && entry.nodes.contains(key)) total += entry.epc_bytes;
  }
  return total;
}

}  // namespace epc
