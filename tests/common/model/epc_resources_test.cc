#include "common/model/epc_resources.h"

#include <cstdint>
#include <limits>

#include <gtest/gtest.h>

namespace epc {
namespace {

constexpr int64_t kMiB = 1048576;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

TEST(EpcResourcesTest, DefaultsKnowIntelAndAzure) {
  EpcResources epc;
  ASSERT_EQ(epc.list().size(), 2u);
  const EpcResource* intel = epc.Find("sgx.intel.com/epc");
  ASSERT_NE(intel, nullptr);
  EXPECT_EQ(intel->unit, EpcUnit::kBytes);
  const EpcResource* azure = epc.Find("kubernetes.azure.com/sgx_epc_mem_in_MiB");
  ASSERT_NE(azure, nullptr);
  EXPECT_EQ(azure->unit, EpcUnit::kMiB);
  EXPECT_TRUE(epc.IsEpc("sgx.intel.com/epc"));
  EXPECT_FALSE(epc.IsEpc("sgx.intel.com/enclave"));
  EXPECT_FALSE(epc.IsEpc("memory"));
  EXPECT_FALSE(epc.IsEpc(""));
  EXPECT_FALSE(epc.IsEpc("SGX.INTEL.COM/EPC"));  // resource names are case-sensitive
}

TEST(EpcResourcesTest, CustomList) {
  EpcResources epc({{"example.com/epc-mib", EpcUnit::kMiB}});
  EXPECT_TRUE(epc.IsEpc("example.com/epc-mib"));
  EXPECT_FALSE(epc.IsEpc("sgx.intel.com/epc"));
  EXPECT_EQ(epc.Find("example.com/epc-mib")->unit, EpcUnit::kMiB);
  EXPECT_FALSE(EpcResources(std::vector<EpcResource>{}).IsEpc("sgx.intel.com/epc"));
}

TEST(EpcResourcesTest, ToBytes) {
  EpcResource bytes{"sgx.intel.com/epc", EpcUnit::kBytes};
  EpcResource mib{"kubernetes.azure.com/sgx_epc_mem_in_MiB", EpcUnit::kMiB};
  EXPECT_EQ(EpcResources::ToBytes(bytes, 134217728), 134217728);
  EXPECT_EQ(EpcResources::ToBytes(mib, 168), 168 * kMiB);
  EXPECT_EQ(EpcResources::ToBytes(mib, 0), 0);
  EXPECT_EQ(EpcResources::ToBytes(mib, -2), -2 * kMiB);
  EXPECT_EQ(EpcResources::ToBytes(bytes, kInt64Max), kInt64Max);
  // Saturation instead of overflow.
  EXPECT_EQ(EpcResources::ToBytes(mib, kInt64Max / kMiB), (kInt64Max / kMiB) * kMiB);
  EXPECT_EQ(EpcResources::ToBytes(mib, kInt64Max / kMiB + 1), kInt64Max);
  EXPECT_EQ(EpcResources::ToBytes(mib, kInt64Max), kInt64Max);
  EXPECT_EQ(EpcResources::ToBytes(mib, kInt64Min / kMiB), kInt64Min);
  EXPECT_EQ(EpcResources::ToBytes(mib, kInt64Min / kMiB - 1), kInt64Min);
  EXPECT_EQ(EpcResources::ToBytes(mib, kInt64Min), kInt64Min);
}

TEST(EpcResourcesTest, ToBytesFromQuantityUsesRoundedValue) {
  EpcResource bytes{"sgx.intel.com/epc", EpcUnit::kBytes};
  EpcResource mib{"kubernetes.azure.com/sgx_epc_mem_in_MiB", EpcUnit::kMiB};
  EXPECT_EQ(EpcResources::ToBytes(bytes, *Quantity::Parse("128Mi")), 128 * kMiB);
  EXPECT_EQ(EpcResources::ToBytes(mib, *Quantity::Parse("10")), 10 * kMiB);
  EXPECT_EQ(EpcResources::ToBytes(mib, *Quantity::Parse("9.5")), 10 * kMiB);  // Value() = 10
  EXPECT_EQ(EpcResources::ToBytes(bytes, *Quantity::Parse("1.5")), 2);
}

TEST(EpcResourcesTest, UnitNames) {
  EXPECT_STREQ(EpcUnitName(EpcUnit::kBytes), "bytes");
  EXPECT_STREQ(EpcUnitName(EpcUnit::kMiB), "MiB");
}

TEST(EpcResourcesTest, FormatMiB) {
  EXPECT_EQ(FormatMiB(0), "0");
  EXPECT_EQ(FormatMiB(10 * kMiB), "10");
  EXPECT_EQ(FormatMiB(10 * kMiB + kMiB / 2), "10.5");
  EXPECT_EQ(FormatMiB(168 * kMiB), "168");
  EXPECT_EQ(FormatMiB(kMiB / 10 + 1), "0.1");
  EXPECT_EQ(FormatMiB(kMiB / 10), "0.1");                   // 0.09999990 rounds to 0.1
  EXPECT_EQ(FormatMiB(1), "0");                             // tiny amounts round to 0
  EXPECT_EQ(FormatMiB(kMiB / 20 - 1), "0");                 // just under 0.05
  EXPECT_EQ(FormatMiB(kMiB / 20 + 1), "0.1");               // just over 0.05
  EXPECT_EQ(FormatMiB(kMiB - 1), "1");                      // 0.99999 rounds to "1", not "1.0"
  EXPECT_EQ(FormatMiB(10 * kMiB + kMiB * 96 / 100), "11");  // 10.96 -> 11
  EXPECT_EQ(FormatMiB(10 * kMiB + kMiB * 94 / 100), "10.9");
  EXPECT_EQ(FormatMiB(-10 * kMiB - kMiB / 2), "-10.5");
  EXPECT_EQ(FormatMiB(-1), "0");  // never "-0"
  EXPECT_EQ(FormatMiB(kInt64Max), "8796093022208");
  EXPECT_EQ(FormatMiB(kInt64Min), "-8796093022208");
}

}  // namespace
}  // namespace epc
