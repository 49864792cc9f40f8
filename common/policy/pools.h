// Pools: named groups of nodes, confidential (SGX) or general, chosen by node labels.
//
// A node belongs to the first pool whose selector matches its labels. A node that advertises EPC
// capacity is confidential whatever its pool says, so a mislabelled SGX node is still protected.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/objects.h"

namespace epc {

struct PoolSpec {
  std::string name;
  bool confidential = false;
  LabelSelector node_selector;
};

struct PoolMembership {
  // Index into PoolClassifier::pools(), or -1 when no pool's selector matches.
  int index = -1;
  bool confidential = false;
};

class PoolClassifier {
 public:
  PoolClassifier() = default;
  explicit PoolClassifier(std::vector<PoolSpec> pools) : pools_(std::move(pools)) {}

  PoolMembership Classify(const Labels& labels, int64_t epc_capacity_bytes) const;

  // The pool's name, or "unpooled" for index -1 (the label value metrics use).
  std::string_view Name(const PoolMembership& m) const;
  const std::vector<PoolSpec>& pools() const { return pools_; }

 private:
  std::vector<PoolSpec> pools_;
};

}  // namespace epc
