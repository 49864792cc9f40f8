#include "common/model/epc_resources.h"

#include <cstdint>
#include <limits>
#include <string>

namespace epc {

EpcResources::EpcResources()
    : resources_{{"sgx.intel.com/epc", EpcUnit::kBytes},
                 {"kubernetes.azure.com/sgx_epc_mem_in_MiB", EpcUnit::kMiB}} {}

const EpcResource* EpcResources::Find(std::string_view name) const {
  for (const EpcResource& r : resources_) {
    if (r.name == name) return &r;
  }
  return nullptr;
}

int64_t EpcResources::ToBytes(const EpcResource& r, int64_t amount) {
  switch (r.unit) {
    case EpcUnit::kBytes:
      return amount;
    case EpcUnit::kMiB: {
      constexpr int64_t kMiB = 1 << 20;
      constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
      constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
      if (amount > kMax / kMiB) return kMax;
      if (amount < kMin / kMiB) return kMin;
      return amount * kMiB;
    }
  }
  return amount;
}

const char* EpcUnitName(EpcUnit unit) {
  switch (unit) {
    case EpcUnit::kBytes:
      return "bytes";
    case EpcUnit::kMiB:
      return "MiB";
  }
  return "bytes";
}

std::string FormatMiB(int64_t bytes) {
  // Tenths of a MiB, rounded to nearest (halves away from zero); 128 bits so that bytes * 10
  // cannot overflow.
  constexpr __int128 kMiB = 1 << 20;
  __int128 magnitude = bytes < 0 ? -static_cast<__int128>(bytes) : static_cast<__int128>(bytes);
  __int128 tenths = (magnitude * 10 + kMiB / 2) / kMiB;
  std::string out;
  if (bytes < 0 && tenths != 0) out += '-';
  out += std::to_string(static_cast<int64_t>(tenths / 10));
  if (tenths % 10 != 0) {
    out += '.';
    out += static_cast<char>('0' + static_cast<int>(tenths % 10));
  }
  return out;
}

}  // namespace epc
