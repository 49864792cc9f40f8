#include "common/state/pod_cache.h"

namespace epc {

void PodCache::Replace(const std::vector<Pod>& pods) {
  std::map<std::string, Pod> next;
  for (const Pod& pod : pods) next.insert_or_assign(Key(pod), pod);
  std::lock_guard lock(mu_);
  pods_.swap(next);
}

void PodCache::Upsert(const Pod& pod) {
  std::string key = Key(pod);
  std::lock_guard lock(mu_);
  pods_.insert_or_assign(std::move(key), pod);
}

// Only the pod with that uid: the DELETED of an earlier pod of the same name leaves a newer one.
void PodCache::Delete(const Pod& pod) {
  std::lock_guard lock(mu_);
  auto it = pods_.find(Key(pod));
  if (it != pods_.end() && (pod.uid.empty() || it->second.uid == pod.uid)) pods_.erase(it);
}

std::vector<Pod> PodCache::List() const {
  std::lock_guard lock(mu_);
  std::vector<Pod> out;
  out.reserve(pods_.size());
  for (const auto& [key, pod] : pods_) out.push_back(pod);
  return out;
}

size_t PodCache::size() const {
  std::lock_guard lock(mu_);
  return pods_.size();
}

}  // namespace epc
