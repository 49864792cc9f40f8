#include "common/model/resources.h"

#include <cstdint>
#include <limits>
#include <string>

#include <gtest/gtest.h>

namespace epc {
namespace {

constexpr int64_t kMiB = 1048576;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();

ResourceQuantities List(std::initializer_list<std::pair<std::string, std::string>> items) {
  ResourceQuantities list;
  for (const auto& [name, text] : items) {
    Result<Quantity> q = Quantity::Parse(text);
    EXPECT_TRUE(q.ok()) << text;
    if (q.ok()) list[name] = *q;
  }
  return list;
}

TEST(ResourcesTest, ToResourcesConvertsEachKind) {
  Resources r = ToResources(List({{"cpu", "1500m"},
                                  {"memory", "1.5Gi"},
                                  {"ephemeral-storage", "10G"},
                                  {"pods", "110"},
                                  {"nvidia.com/gpu", "2"},
                                  {"hugepages-2Mi", "20Mi"}}),
                            EpcResources());
  EXPECT_EQ(r.milli_cpu, 1500);
  EXPECT_EQ(r.memory, 1610612736);
  EXPECT_EQ(r.ephemeral_storage, 10'000'000'000);
  EXPECT_EQ(r.pods, 110);
  EXPECT_EQ(r.epc_bytes, 0);
  ASSERT_EQ(r.scalar.size(), 2u);
  EXPECT_EQ(r.scalar.at("nvidia.com/gpu"), 2);
  EXPECT_EQ(r.scalar.at("hugepages-2Mi"), 20 * kMiB);
}

TEST(ResourcesTest, ToResourcesRoundsUp) {
  Resources r = ToResources(List({{"cpu", "0.0001"}, {"memory", "1.5"}, {"example.com/x", "0.1"}}),
                            EpcResources());
  EXPECT_EQ(r.milli_cpu, 1);
  EXPECT_EQ(r.memory, 2);
  EXPECT_EQ(r.scalar.at("example.com/x"), 1);
}

TEST(ResourcesTest, ToResourcesCountsEpcInBytes) {
  EpcResources epc;
  Resources intel = ToResources(List({{"sgx.intel.com/epc", "64Mi"}}), epc);
  EXPECT_EQ(intel.scalar.at("sgx.intel.com/epc"), 64 * kMiB);
  EXPECT_EQ(intel.epc_bytes, 64 * kMiB);

  Resources azure = ToResources(List({{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "10"}}), epc);
  EXPECT_EQ(azure.scalar.at("kubernetes.azure.com/sgx_epc_mem_in_MiB"), 10);
  EXPECT_EQ(azure.epc_bytes, 10 * kMiB);

  Resources both = ToResources(
      List({{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "10"}, {"sgx.intel.com/epc", "1Mi"}}), epc);
  EXPECT_EQ(both.epc_bytes, 11 * kMiB);

  // Not an EPC resource under a custom list.
  Resources custom = ToResources(List({{"sgx.intel.com/epc", "64Mi"}}),
                                 EpcResources({{"example.com/epc", EpcUnit::kMiB}}));
  EXPECT_EQ(custom.epc_bytes, 0);
  EXPECT_EQ(custom.scalar.at("sgx.intel.com/epc"), 64 * kMiB);

  // Saturates rather than overflowing.
  Resources huge = ToResources(
      List({{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "1e18"}, {"sgx.intel.com/epc", "8Ei"}}),
      epc);
  EXPECT_EQ(huge.epc_bytes, kInt64Max);
}

TEST(ResourcesTest, StandardResourcesAreTheOnesToResourcesCountsAsThemselves) {
  for (const char* name : {"cpu", "memory", "ephemeral-storage", "pods"}) {
    EXPECT_TRUE(IsStandardResource(name)) << name;
    EXPECT_TRUE(ToResources(List({{name, "1"}}), EpcResources()).scalar.empty()) << name;
  }
  for (const char* name : {"sgx.intel.com/epc", "nvidia.com/gpu", "hugepages-2Mi", "Memory"}) {
    EXPECT_FALSE(IsStandardResource(name)) << name;
    EXPECT_EQ(ToResources(List({{name, "1"}}), EpcResources()).scalar.size(), 1u) << name;
  }
}

// EpcBytes is ToResources' EPC figure, built alone.
TEST(ResourcesTest, EpcBytesIsToResourcesEpcBytes) {
  const EpcResources epc;
  const EpcResources custom({{"example.com/epc", EpcUnit::kMiB}});
  for (const ResourceQuantities& list :
       {List({}), List({{"cpu", "8"}, {"memory", "64Gi"}}), List({{"sgx.intel.com/epc", "64Mi"}}),
        List({{"sgx.intel.com/epc", "0.5"}, {"cpu", "1"}}),
        List({{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "10"}, {"sgx.intel.com/epc", "1Mi"}}),
        List({{"kubernetes.azure.com/sgx_epc_mem_in_MiB", "1e18"}, {"sgx.intel.com/epc", "8Ei"}}),
        List({{"example.com/epc", "3"}, {"sgx.intel.com/epc", "1Mi"}})}) {
    EXPECT_EQ(EpcBytes(list, epc), ToResources(list, epc).epc_bytes);
    EXPECT_EQ(EpcBytes(list, custom), ToResources(list, custom).epc_bytes);
  }
  EXPECT_EQ(EpcBytes(List({{"sgx.intel.com/epc", "0.5"}}), epc), 1);  // rounded up, as Value()
  EXPECT_EQ(EpcBytes(List({{"example.com/epc", "3"}, {"sgx.intel.com/epc", "1Mi"}}), custom),
            3 * kMiB);
}

TEST(ResourcesTest, ZeroScalarsAreNotStored) {
  Resources r =
      ToResources(List({{"example.com/x", "0"}, {"sgx.intel.com/epc", "0"}}), EpcResources());
  EXPECT_TRUE(r.scalar.empty());
  EXPECT_EQ(r, Resources());
  EXPECT_EQ(r.Get("example.com/x"), 0);
}

TEST(ResourcesTest, AddAndSubtract) {
  Resources a;
  a.milli_cpu = 1000;
  a.memory = 100;
  a.ephemeral_storage = 5;
  a.pods = 1;
  a.epc_bytes = 10;
  a.scalar = {{"x", 1}, {"y", 2}};
  Resources b;
  b.milli_cpu = 500;
  b.memory = 50;
  b.ephemeral_storage = 1;
  b.pods = 2;
  b.epc_bytes = 3;
  b.scalar = {{"y", 3}, {"z", 4}};

  Resources sum = a;
  sum += b;
  EXPECT_EQ(sum.milli_cpu, 1500);
  EXPECT_EQ(sum.memory, 150);
  EXPECT_EQ(sum.ephemeral_storage, 6);
  EXPECT_EQ(sum.pods, 3);
  EXPECT_EQ(sum.epc_bytes, 13);
  EXPECT_EQ(sum.scalar,
            (std::map<std::string, int64_t, std::less<>>{{"x", 1}, {"y", 5}, {"z", 4}}));

  // Subtracting back gives an equal value: entries that reach 0 are dropped.
  Resources back = sum;
  back -= b;
  EXPECT_EQ(back, a);

  Resources diff = a;
  diff -= b;
  EXPECT_EQ(diff.milli_cpu, 500);
  EXPECT_EQ(diff.pods, -1);
  EXPECT_EQ(diff.scalar,
            (std::map<std::string, int64_t, std::less<>>{{"x", 1}, {"y", -1}, {"z", -4}}));

  Resources zero = a;
  zero -= a;
  EXPECT_EQ(zero, Resources());
  EXPECT_TRUE(zero.scalar.empty());
}

TEST(ResourcesTest, ArithmeticSaturates) {
  Resources big;
  big.memory = kInt64Max - 1;
  big.scalar["x"] = kInt64Max;
  Resources one;
  one.memory = 10;
  one.scalar["x"] = 1;
  big += one;
  EXPECT_EQ(big.memory, kInt64Max);
  EXPECT_EQ(big.scalar.at("x"), kInt64Max);

  Resources small;
  small.milli_cpu = kInt64Min + 1;
  Resources take;
  take.milli_cpu = 5;
  small -= take;
  EXPECT_EQ(small.milli_cpu, kInt64Min);
  Resources neg;
  neg.milli_cpu = kInt64Min;
  Resources r;
  r.milli_cpu = 1;
  r -= neg;
  EXPECT_EQ(r.milli_cpu, kInt64Max);
}

TEST(ResourcesTest, SetToMax) {
  Resources a;
  a.milli_cpu = 1000;
  a.memory = 10;
  a.ephemeral_storage = 7;
  a.pods = 1;
  a.epc_bytes = 5;
  a.scalar = {{"x", 5}, {"y", 1}};
  Resources b;
  b.milli_cpu = 200;
  b.memory = 20;
  b.ephemeral_storage = 7;
  b.pods = 0;
  b.epc_bytes = 9;
  b.scalar = {{"y", 3}, {"z", 2}, {"w", -1}};
  a.SetToMax(b);
  EXPECT_EQ(a.milli_cpu, 1000);
  EXPECT_EQ(a.memory, 20);
  EXPECT_EQ(a.ephemeral_storage, 7);
  EXPECT_EQ(a.pods, 1);
  EXPECT_EQ(a.epc_bytes, 9);
  // Absent counts as 0: a negative amount does not beat it.
  EXPECT_EQ(a.scalar, (std::map<std::string, int64_t, std::less<>>{{"x", 5}, {"y", 3}, {"z", 2}}));
}

TEST(ResourcesTest, GetByName) {
  Resources r;
  r.milli_cpu = 250;
  r.memory = 1024;
  r.ephemeral_storage = 2048;
  r.pods = 3;
  r.epc_bytes = 99;
  r.scalar = {{"sgx.intel.com/epc", 99}, {"example.com/x", 4}};
  EXPECT_EQ(r.Get("cpu"), 250);
  EXPECT_EQ(r.Get("memory"), 1024);
  EXPECT_EQ(r.Get("ephemeral-storage"), 2048);
  EXPECT_EQ(r.Get("pods"), 3);
  EXPECT_EQ(r.Get("sgx.intel.com/epc"), 99);
  EXPECT_EQ(r.Get("example.com/x"), 4);
  EXPECT_EQ(r.Get("example.com/absent"), 0);
  EXPECT_EQ(r.Get(""), 0);
}

TEST(ResourcesTest, EqualityComparesEveryField) {
  Resources a;
  Resources b;
  EXPECT_EQ(a, b);
  b.epc_bytes = 1;
  EXPECT_NE(a, b);
  b = Resources();
  b.scalar["x"] = 1;
  EXPECT_NE(a, b);
}

}  // namespace
}  // namespace epc
