#include "common/util/name_hash.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <set>
#include <string>

namespace epc {
namespace {

// Every length from empty to past two 16-byte blocks, so each branch and tail of both functions
// runs: strings differing in any one byte compare unequal, copies compare equal.
TEST(NameHash, SameNameComparesEveryByteOfEveryLength) {
  for (size_t n = 0; n <= 40; ++n) {
    std::string a(n, 'x');
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<char>('a' + (i * 7) % 26);
    const std::string copy = a;  // other storage
    EXPECT_TRUE(SameName(a, copy)) << n;
    EXPECT_EQ(HashName(a), HashName(copy)) << n;
    for (size_t i = 0; i < n; ++i) {
      std::string b = a;
      b[i] = static_cast<char>(b[i] ^ 0x20);
      EXPECT_FALSE(SameName(a, b)) << "length " << n << ", byte " << i;
      EXPECT_NE(HashName(a), HashName(b)) << "length " << n << ", byte " << i;
    }
    EXPECT_FALSE(SameName(a, a + "x")) << n;
    EXPECT_FALSE(SameName(a + "x", a)) << n;
  }
}

// A prefix padded with what overlapping tail reads would see again still hashes apart: the
// length is part of the hash.
TEST(NameHash, PrefixesAndPaddingHashApart) {
  const std::string name = "aks-nodepool-00000003-vmss";
  std::set<uint64_t> hashes;
  for (size_t n = 0; n <= name.size(); ++n) hashes.insert(HashName(name.substr(0, n)));
  EXPECT_EQ(hashes.size(), name.size() + 1);
  EXPECT_NE(HashName(std::string("ab")), HashName(std::string("ab\0", 3)));
}

// Tables take a slot from the low bits and a tag from the high ones: names that differ only in
// a few digits (how clusters name nodes) spread over both.
TEST(NameHash, ClusterNamesSpreadOverLowAndHighBits) {
  std::set<uint64_t> low;
  std::set<uint64_t> high;
  for (int i = 0; i < 4096; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "aks-nodepool-%08d-vmss", i);
    const uint64_t h = HashName(name);
    low.insert(h & 0xFFF);
    high.insert(h >> 52);
  }
  // 4,096 names into 4,096 buckets at random fill about 63% of them.
  EXPECT_GT(low.size(), 2400u);
  EXPECT_GT(high.size(), 2400u);
}

}  // namespace
}  // namespace epc
