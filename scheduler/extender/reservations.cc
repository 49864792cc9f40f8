#include "scheduler/extender/reservations.h"

#include <algorithm>
#include <bit>
#include <limits>

#include "common/util/name_hash.h"

namespace epc {

NodeNameSet::NodeNameSet(std::span<const uint64_t> hashes) {
  if (hashes.empty()) return;
  slots_.assign(std::bit_ceil(hashes.size() * 2), 0);
  const size_t mask = slots_.size() - 1;
  for (const uint64_t hash : hashes) {
    const uint64_t key = HoldKey(hash);
    size_t slot = key & mask;
    while (slots_[slot] != 0 && slots_[slot] != key) slot = (slot + 1) & mask;
    if (slots_[slot] == 0) {
      slots_[slot] = key;
      ++size_;
    }
  }
}

NodeNameSet::NodeNameSet(std::span<const std::string_view> names)
    : NodeNameSet(std::span<const uint64_t>(HashNames(names))) {}

bool NodeNameSet::contains(std::string_view name) const { return contains_hash(HashName(name)); }

bool NodeNameSet::contains_hash(uint64_t hash) const {
  if (slots_.empty()) return false;
  const uint64_t key = HoldKey(hash);
  const size_t mask = slots_.size() - 1;
  for (size_t slot = key & mask; slots_[slot] != 0; slot = (slot + 1) & mask) {
    if (slots_[slot] == key) return true;
  }
  return false;
}

size_t Reservations::Totals::Find(uint64_t key) const {
  const size_t mask = slots_.size() - 1;
  size_t slot = key & mask;
  while (slots_[slot].key != 0 && slots_[slot].key != key) slot = (slot + 1) & mask;
  return slot;
}

__int128 Reservations::Totals::Get(uint64_t key) const {
  if (live_ == 0) return 0;
  const Slot& slot = slots_[Find(key)];
  return slot.key == key ? slot.bytes : 0;
}

// Rebuilds the table without the keys no counted hold names any more; twice as large if most
// of its keys are still named.
void Reservations::Totals::Rebuild() {
  const size_t capacity =
      slots_.empty() ? 64 : (2 * live_ >= size_ ? slots_.size() * 2 : slots_.size());
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(capacity, Slot{});
  for (const Slot& s : old) {
    if (s.holds > 0) slots_[Find(s.key)] = s;
  }
  size_ = live_;
}

void Reservations::Totals::Add(uint64_t key, int64_t bytes) {
  if (2 * (size_ + 1) > slots_.size()) Rebuild();
  Slot& slot = slots_[Find(key)];
  if (slot.key == 0) {
    slot.key = key;
    ++size_;
  }
  if (slot.holds++ == 0) ++live_;
  slot.bytes += bytes;
}

// A key whose last counted hold went stays in the table, empty, until a rebuild: holds are
// taken and let go on the same nodes over and over.
void Reservations::Totals::Subtract(uint64_t key, int64_t bytes) {
  if (live_ == 0) return;
  Slot& slot = slots_[Find(key)];
  if (slot.key != key || slot.holds == 0) return;
  slot.bytes -= bytes;
  if (--slot.holds == 0) --live_;
}

const Reservations::Entry* Reservations::CountOthers(std::string_view except_uid) {
  const Entry* own = nullptr;
  for (auto& [uid, entry] : holds_) {
    if (uid == except_uid) {
      if (entry.counted) own = &entry;
      continue;
    }
    if (entry.counted) continue;
    if (!entry.unindexed.empty()) {
      entry.nodes = NodeNameSet(entry.unindexed);
      entry.unindexed = std::vector<uint64_t>();
    }
    entry.nodes.ForEachKey([&](uint64_t key) { totals_.Add(key, entry.epc_bytes); });
    entry.counted = true;
  }
  return own;
}

void Reservations::Uncount(Entry& entry) {
  if (!entry.counted) return;
  entry.nodes.ForEachKey([&](uint64_t key) { totals_.Subtract(key, entry.epc_bytes); });
  entry.counted = false;
}

void Reservations::Hold(const std::string& pod_uid, int64_t epc_bytes, NodeNameSet nodes,
                        Clock::time_point now) {
  Release(pod_uid);
  if (pod_uid.empty() || epc_bytes <= 0 || nodes.empty()) return;
  holds_.emplace(pod_uid, Entry{epc_bytes, std::move(nodes), {}, now + ttl_});
}

void Reservations::HoldOnHashes(const std::string& pod_uid, int64_t epc_bytes,
                                std::vector<uint64_t> node_hashes, Clock::time_point now) {
  Release(pod_uid);
  if (pod_uid.empty() || epc_bytes <= 0 || node_hashes.empty()) return;
  Entry entry{epc_bytes, NodeNameSet(), std::move(node_hashes), now + ttl_};
  holds_.emplace(pod_uid, std::move(entry));
}

void Reservations::Narrow(const std::string& pod_uid, const std::string& node,
                          Clock::time_point now) {
  auto it = holds_.find(pod_uid);
  if (it == holds_.end()) return;
  Uncount(it->second);
  it->second.nodes = NodeNameSet{node};
  it->second.unindexed = std::vector<uint64_t>();
  it->second.expires = now + ttl_;
}

void Reservations::Release(const std::string& pod_uid) {
  auto it = holds_.find(pod_uid);
  if (it == holds_.end()) return;
  Uncount(it->second);
  holds_.erase(it);
}

void Reservations::Prune(const ClusterSnapshot& snapshot, Clock::time_point now) {
  for (auto it = holds_.begin(); it != holds_.end();) {
    if (it->second.expires <= now || snapshot.FindPod(it->first) != nullptr) {
      Uncount(it->second);
      it = holds_.erase(it);
    } else {
      ++it;
    }
  }
}

int64_t Reservations::HeldOnHash(uint64_t hash, const Entry* own) const {
  __int128 total = totals_.Get(NodeNameSet::HoldKey(hash));
  if (own != nullptr && own->nodes.contains_hash(hash)) total -= own->epc_bytes;
  return static_cast<int64_t>(std::min<__int128>(total, std::numeric_limits<int64_t>::max()));
}

int64_t Reservations::HeldOn(std::string_view node, std::string_view except_uid) {
  if (holds_.empty()) return 0;
  return HeldOnHash(HashName(node), CountOthers(except_uid));
}

void Reservations::HeldOnAll(std::span<const uint64_t> hashes, std::string_view except_uid,
                             std::span<int64_t> held) {
  if (holds_.empty()) {
    std::fill(held.begin(), held.end(), 0);
    return;
  }
  const Entry* own = CountOthers(except_uid);
  for (size_t i = 0; i < hashes.size(); ++i) held[i] = HeldOnHash(hashes[i], own);
}

bool Reservations::OthersHold(std::string_view except_uid) const {
  for (const auto& [uid, entry] : holds_) {
    if (uid != except_uid) return true;
  }
  return false;
}

}  // namespace epc
