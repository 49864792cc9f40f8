#include "scheduler/extender/reservations.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <functional>

#include "common/model/resources.h"
#include "common/util/name_hash.h"

namespace epc {

namespace {

// The low half of a NodeNameSet slot: name index + 1.
constexpr uint64_t kIndexBits = 0xFFFFFFFFULL;

}  // namespace

NodeNameSet::NodeNameSet(std::span<const std::string_view> names)
    : NodeNameSet(names, HashNames(names)) {}

NodeNameSet::NodeNameSet(std::span<const std::string_view> names,
                         std::span<const uint64_t> hashes) {
  if (names.empty()) return;
  size_t bytes = 0;
  for (std::string_view name : names) bytes += name.size();
  text_ = std::make_unique_for_overwrite<char[]>(bytes == 0 ? 1 : bytes);
  starts_.reserve(names.size() + 1);
  starts_.push_back(0);
  slots_.assign(std::bit_ceil(names.size() * 2), 0);
  const size_t mask = slots_.size() - 1;
  for (size_t n = 0; n < names.size(); ++n) {
    const std::string_view name = names[n];
    // One probe finds either the name (listed twice: kept once) or where it goes.
    const uint64_t hash = hashes[n];
    const uint64_t tag = hash >> 32 << 32;
    size_t slot = hash & mask;
    bool listed = false;
    for (; slots_[slot] != 0; slot = (slot + 1) & mask) {
      if ((slots_[slot] & ~kIndexBits) == tag && SameName(At(slots_[slot]), name)) {
        listed = true;
        break;
      }
    }
    if (listed) continue;
    const uint32_t at = starts_.back();
    if (!name.empty()) std::memcpy(text_.get() + at, name.data(), name.size());
    starts_.push_back(static_cast<uint32_t>(at + name.size()));
    slots_[slot] = tag | (starts_.size() - 1);  // name index + 1
    ++size_;
  }
}

std::string_view NodeNameSet::At(uint64_t slot_value) const {
  const size_t i = (slot_value & kIndexBits) - 1;
  return {text_.get() + starts_[i], starts_[i + 1] - starts_[i]};
}

bool NodeNameSet::contains(std::string_view name) const { return contains(name, HashName(name)); }

bool NodeNameSet::contains(std::string_view name, uint64_t hash) const {
  if (slots_.empty()) return false;
  const size_t mask = slots_.size() - 1;
  const uint64_t tag = hash >> 32 << 32;
  for (size_t slot = hash & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
    if ((slots_[slot] & ~kIndexBits) == tag && SameName(At(slots_[slot]), name)) return true;
  }
  return false;
}

void Reservations::Hold(const std::string& pod_uid, int64_t epc_bytes, NodeNameSet nodes,
                        Clock::time_point now) {
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
  it->second.nodes = NodeNameSet{node};
  it->second.expires = now + ttl_;
}

void Reservations::Prune(const ClusterSnapshot& snapshot, Clock::time_point now) {
  std::erase_if(holds_, [&](const auto& kv) {
    return kv.second.expires <= now || snapshot.FindPod(kv.first) != nullptr;
  });
}

int64_t Reservations::HeldOn(std::string_view node, std::string_view except_uid) const {
  int64_t total = 0;
  const uint64_t hash = HashName(node);  // once for all the holds
  for (const auto& [uid, entry] : holds_) {
    if (uid != except_uid && entry.nodes.contains(node, hash))
      total = SaturatingAdd(total, entry.epc_bytes);
  }
  return total;
}

void Reservations::HeldOnAll(std::span<const std::string_view> nodes,
                             std::span<const uint64_t> hashes, std::string_view except_uid,
                             std::span<int64_t> held) const {
  std::fill(held.begin(), held.end(), 0);
  for (const auto& [uid, entry] : holds_) {
    if (uid == except_uid) continue;
    entry.nodes.ForEachContained(
        nodes, hashes, [&](size_t i) { held[i] = SaturatingAdd(held[i], entry.epc_bytes); });
  }
}

bool Reservations::OthersHold(std::string_view except_uid) const {
  for (const auto& [uid, entry] : holds_) {
    if (uid != except_uid) return true;
  }
  return false;
}

}  // namespace epc
