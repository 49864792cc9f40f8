#include "scheduler/extender/seen_pods.h"

namespace epc {

void SeenPods::Remember(const Pod& pod) {
  if (pod.uid.empty()) return;
  auto copy = std::make_shared<const Pod>(pod);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(pod.uid);
  if (it != pods_.end()) {
    it->second.pod = std::move(copy);
    order_.splice(order_.end(), order_, it->second.order);
    return;
  }
  while (pods_.size() >= capacity_ && !order_.empty()) {
    pods_.erase(order_.front());
    order_.pop_front();
  }
  order_.push_back(pod.uid);
  pods_.emplace(pod.uid, Entry{std::move(copy), std::prev(order_.end())});
}

std::shared_ptr<const Pod> SeenPods::Find(std::string_view uid) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = pods_.find(std::string(uid));
  return it == pods_.end() ? nullptr : it->second.pod;
}

size_t SeenPods::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pods_.size();
}

}  // namespace epc
