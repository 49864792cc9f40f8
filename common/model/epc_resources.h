// EpcResources: which extended-resource names mean SGX EPC, and in which unit each is counted.
//
// Device plugins disagree: Intel's `sgx.intel.com/epc` is a byte quantity ("64Mi"), Azure's
// `kubernetes.azure.com/sgx_epc_mem_in_MiB` is a count of MiB ("10"). The rest of the project
// talks about EPC in bytes; this is the one place that knows the units.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/quantity.h"

namespace epc {

enum class EpcUnit { kBytes, kMiB };

struct EpcResource {
  std::string name;
  EpcUnit unit = EpcUnit::kBytes;
};

class EpcResources {
 public:
  // The defaults: sgx.intel.com/epc (bytes) and kubernetes.azure.com/sgx_epc_mem_in_MiB (MiB).
  EpcResources();
  explicit EpcResources(std::vector<EpcResource> resources) : resources_(std::move(resources)) {}

  const std::vector<EpcResource>& list() const { return resources_; }

  // nullptr when `name` is not an EPC resource.
  const EpcResource* Find(std::string_view name) const;
  bool IsEpc(std::string_view name) const { return Find(name) != nullptr; }

  // The integer amount Kubernetes accounts for this resource (Quantity::Value()) in bytes.
  static int64_t ToBytes(const EpcResource& r, int64_t amount);
  static int64_t ToBytes(const EpcResource& r, const Quantity& q) { return ToBytes(r, q.Value()); }

 private:
  std::vector<EpcResource> resources_;
};

const char* EpcUnitName(EpcUnit unit);  // "bytes" or "MiB"

// Bytes as MiB for messages, e.g. "10" or "10.5".
std::string FormatMiB(int64_t bytes);

}  // namespace epc
