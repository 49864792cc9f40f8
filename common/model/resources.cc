#include "common/model/resources.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string_view>

// Scalar resources: an absent entry means 0, and no entry is ever 0. Every operation drops the
// entries that come out as 0, so operator== compares amounts: {"foo": 0} cannot arise and
// `a += b; a -= b;` gives back an equal value.

namespace epc {

namespace {

using ScalarMap = std::map<std::string, int64_t, std::less<>>;

template <typename Op>
void Combine(ScalarMap& mine, const ScalarMap& theirs, Op op) {
  for (const auto& [name, amount] : theirs) {
    auto it = mine.find(name);
    int64_t current = it == mine.end() ? 0 : it->second;
    int64_t next = op(current, amount);
    if (next == 0) {
      if (it != mine.end()) mine.erase(it);
    } else if (it == mine.end()) {
      mine.emplace(name, next);
    } else {
      it->second = next;
    }
  }
}

}  // namespace

Resources& Resources::operator+=(const Resources& o) {
  milli_cpu = SaturatingAdd(milli_cpu, o.milli_cpu);
  memory = SaturatingAdd(memory, o.memory);
  ephemeral_storage = SaturatingAdd(ephemeral_storage, o.ephemeral_storage);
  pods = SaturatingAdd(pods, o.pods);
  epc_bytes = SaturatingAdd(epc_bytes, o.epc_bytes);
  Combine(scalar, o.scalar, SaturatingAdd);
  return *this;
}

Resources& Resources::operator-=(const Resources& o) {
  milli_cpu = SaturatingSub(milli_cpu, o.milli_cpu);
  memory = SaturatingSub(memory, o.memory);
  ephemeral_storage = SaturatingSub(ephemeral_storage, o.ephemeral_storage);
  pods = SaturatingSub(pods, o.pods);
  epc_bytes = SaturatingSub(epc_bytes, o.epc_bytes);
  Combine(scalar, o.scalar, SaturatingSub);
  return *this;
}

void Resources::SetToMax(const Resources& o) {
  milli_cpu = std::max(milli_cpu, o.milli_cpu);
  memory = std::max(memory, o.memory);
  ephemeral_storage = std::max(ephemeral_storage, o.ephemeral_storage);
  pods = std::max(pods, o.pods);
  epc_bytes = std::max(epc_bytes, o.epc_bytes);
  Combine(scalar, o.scalar, [](int64_t a, int64_t b) { return std::max(a, b); });
}

int64_t Resources::Get(std::string_view name) const {
  if (name == "cpu") return milli_cpu;
  if (name == "memory") return memory;
  if (name == "ephemeral-storage") return ephemeral_storage;
  if (name == "pods") return pods;
  auto it = scalar.find(name);
  return it == scalar.end() ? 0 : it->second;
}

bool IsStandardResource(std::string_view name) {
  return name == "cpu" || name == "memory" || name == "ephemeral-storage" || name == "pods";
}

Resources ToResources(const ResourceQuantities& list, const EpcResources& epc) {
  Resources r;
  for (const auto& [name, quantity] : list) {
    if (name == "cpu") {
      r.milli_cpu = quantity.MilliValue();
    } else if (name == "memory") {
      r.memory = quantity.Value();
    } else if (name == "ephemeral-storage") {
      r.ephemeral_storage = quantity.Value();
    } else if (name == "pods") {
      r.pods = quantity.Value();
    } else if (int64_t value = quantity.Value(); value != 0) {
      r.scalar[name] = value;
    }
  }
  r.epc_bytes = EpcBytes(list, epc);
  return r;
}

int64_t EpcBytes(const ResourceQuantities& list, const EpcResources& epc) {
  int64_t bytes = 0;
  for (const auto& [name, quantity] : list) {
    if (const EpcResource* e = epc.Find(name)) {
      bytes = SaturatingAdd(bytes, EpcResources::ToBytes(*e, quantity));
    }
  }
  return bytes;
}

}  // namespace epc
