#include "common/policy/pools.h"

#include "common/model/selectors.h"

namespace epc {

PoolMembership PoolClassifier::Classify(const Labels& labels, int64_t epc_capacity_bytes) const {
  PoolMembership m;
  m.confidential = epc_capacity_bytes > 0;
  for (size_t i = 0; i < pools_.size(); ++i) {
    if (Matches(pools_[i].node_selector, labels)) {
      m.index = static_cast<int>(i);
      m.confidential = m.confidential || pools_[i].confidential;
      break;
    }
  }
  return m;
}

std::string_view PoolClassifier::Name(const PoolMembership& m) const {
  if (m.index < 0 || static_cast<size_t>(m.index) >= pools_.size()) return "unpooled";
  return pools_[static_cast<size_t>(m.index)].name;
}

}  // namespace epc
