#include "common/policy/pools.h"

#include <gtest/gtest.h>

namespace epc {
namespace {

PoolClassifier Classifier() {
  return PoolClassifier({
      {"sgx", true, LabelSelector{{{"pool", "sgx"}}, {}}},
      {"general", false, LabelSelector{{{"pool", "general"}}, {}}},
      {"gpu", false, LabelSelector{{}, {{"gpu", "Exists", {}}}}},
      {"also-sgx", true, LabelSelector{{{"pool", "sgx"}}, {}}},  // shadowed by "sgx"
  });
}

TEST(PoolsTest, FirstMatchingPoolWins) {
  PoolClassifier c = Classifier();
  PoolMembership m = c.Classify({{"pool", "sgx"}}, 0);
  EXPECT_EQ(m.index, 0);
  EXPECT_TRUE(m.confidential);
  EXPECT_EQ(c.Name(m), "sgx");

  m = c.Classify({{"pool", "general"}, {"gpu", "1"}}, 0);
  EXPECT_EQ(m.index, 1);
  EXPECT_FALSE(m.confidential);
  EXPECT_EQ(c.Name(m), "general");

  m = c.Classify({{"gpu", "1"}}, 0);
  EXPECT_EQ(m.index, 2);
  EXPECT_EQ(c.Name(m), "gpu");
}

TEST(PoolsTest, EpcCapacityMakesANodeConfidential) {
  PoolClassifier c = Classifier();
  PoolMembership m = c.Classify({{"pool", "general"}}, 168 * 1048576);
  EXPECT_EQ(m.index, 1);
  EXPECT_TRUE(m.confidential);  // mislabelled SGX node stays protected
  EXPECT_EQ(c.Name(m), "general");

  m = c.Classify({{"pool", "general"}}, -1);
  EXPECT_FALSE(m.confidential);
}

TEST(PoolsTest, Unpooled) {
  PoolClassifier c = Classifier();
  PoolMembership m = c.Classify({{"pool", "other"}}, 0);
  EXPECT_EQ(m.index, -1);
  EXPECT_FALSE(m.confidential);
  EXPECT_EQ(c.Name(m), "unpooled");

  m = c.Classify({}, 1);
  EXPECT_EQ(m.index, -1);
  EXPECT_TRUE(m.confidential);
  EXPECT_EQ(c.Name(m), "unpooled");

  PoolClassifier none;
  EXPECT_TRUE(none.pools().empty());
  m = none.Classify({{"pool", "sgx"}}, 0);
  EXPECT_EQ(m.index, -1);
  EXPECT_FALSE(m.confidential);
  EXPECT_EQ(none.Name(m), "unpooled");
  EXPECT_EQ(none.Name(PoolMembership{5, false}), "unpooled");  // out of range
}

TEST(PoolsTest, EmptySelectorIsACatchAll) {
  PoolClassifier c(
      {{"sgx", true, LabelSelector{{{"pool", "sgx"}}, {}}}, {"rest", false, LabelSelector{}}});
  EXPECT_EQ(c.Classify({{"pool", "sgx"}}, 0).index, 0);
  PoolMembership m = c.Classify({{"anything", "x"}}, 0);
  EXPECT_EQ(m.index, 1);
  EXPECT_EQ(c.Name(m), "rest");
  EXPECT_EQ(c.Classify({}, 0).index, 1);
}

}  // namespace
}  // namespace epc
