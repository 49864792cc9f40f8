// Resources: an integer amount of each resource, as kube-scheduler accounts them.
//
// cpu in milli-cores, memory and ephemeral-storage in bytes, pods as a count, every other
// resource (extended resources, hugepages, and each EPC resource under its own name) as its
// integer Value(). `epc_bytes` is the sum of the EPC resources converted to bytes: EPC is one
// resource in bytes whichever device plugin's name and unit advertise or request it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "common/model/epc_resources.h"
#include "common/model/objects.h"

namespace epc {

// a + b and a - b, clamped to int64's range instead of overflowing: amounts come from
// quantities anyone can write, and sums of many never wrap around. Inline: a filter adds up
// thousands of nodes' amounts.
inline int64_t SaturatingAdd(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) {
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}

struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t pods = 0;
  int64_t epc_bytes = 0;
  std::map<std::string, int64_t, std::less<>> scalar;

  Resources& operator+=(const Resources& o);
  Resources& operator-=(const Resources& o);
  // Each field becomes the larger of the two (Kubernetes' maxResourceList).
  void SetToMax(const Resources& o);
  bool operator==(const Resources&) const = default;

  // The amount of a resource by its Kubernetes name ("cpu" in milli-cores).
  int64_t Get(std::string_view name) const;
};

// The resources ToResources counts in their own fields: cpu, memory, ephemeral-storage, pods.
// Every other name is a scalar (extended) resource, and may be EPC.
bool IsStandardResource(std::string_view name);
// Converts a ResourceList. cpu uses MilliValue(), everything else Value() (rounded up).
Resources ToResources(const ResourceQuantities& list, const EpcResources& epc);
// ToResources(list, epc).epc_bytes, without building the rest (a node's capacity is read for
// its EPC alone).
int64_t EpcBytes(const ResourceQuantities& list, const EpcResources& epc);

}  // namespace epc
