// SeenPods: the pods filter saw last, by UID, so bind can account a pod's request without the
// API server. Bounded: past `capacity` the least recently seen pod is forgotten. Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/model/objects.h"

namespace epc {

class SeenPods {
 public:
  static constexpr size_t kDefaultCapacity = 10'000;
  explicit SeenPods(size_t capacity = kDefaultCapacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // A pod without a UID is not remembered.
  void Remember(const Pod& pod);
  // nullptr when the pod was never seen or was evicted.
  std::shared_ptr<const Pod> Find(std::string_view uid) const;
  size_t size() const;

 private:
  struct Entry {
    std::shared_ptr<const Pod> pod;
    std::list<std::string>::iterator order;  // position in order_
  };
  const size_t capacity_;
  mutable std::mutex mu_;
  std::list<std::string> order_;  // least recently seen first
  std::unordered_map<std::string, Entry> pods_;
};

}  // namespace epc
