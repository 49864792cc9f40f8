#include "autoscaler/cluster/expander.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/autoscaler/cluster/cluster_fixtures.h"

namespace epc::cluster {
namespace {

using testing::GeneralNode;
using testing::SgxNode;

class ExpanderTest : public ::testing::Test {
 protected:
  ExpansionOption Option(const std::string& group, const NodeInfo& tmpl, int nodes, int pods,
                         int64_t milli_cpu, int64_t memory, int64_t epc_mib) {
    ExpansionOption o;
    o.group = group;
    o.node_count = nodes;
    for (int i = 0; i < pods; ++i) o.pods.push_back(i);
    o.pods_requested.milli_cpu = milli_cpu;
    o.pods_requested.memory = memory;
    o.pods_requested.epc_bytes = epc_mib << 20;
    o.node_template = &tmpl;
    return o;
  }

  EpcResources epc_;
  PoolClassifier pools_ = testing::TestPools();
  const Node n112_ = SgxNode("t112", 112);
  const Node n168_ = SgxNode("t168", 168);
  const Node general_ = GeneralNode("tg");
  const NodeInfo t112_ = MakeNodeInfo(n112_, epc_, pools_);
  const NodeInfo t168_ = MakeNodeInfo(n168_, epc_, pools_);
  const NodeInfo tgeneral_ = MakeNodeInfo(general_, epc_, pools_);
  static constexpr int64_t kGi = 1LL << 30;
};

TEST_F(ExpanderTest, WasteAveragesCpuMemoryAndEpc) {
  // 1 cpu of 4, 2Gi of 16Gi, 100 MiB of 112 MiB.
  const ExpansionOption o = Option("g", t112_, 1, 1, 1000, 2 * kGi, 100);
  EXPECT_DOUBLE_EQ(WasteScore(o), (0.75 + 0.875 + 12.0 / 112.0) / 3);
  // Two nodes double what is available.
  const ExpansionOption two = Option("g", t112_, 2, 2, 1000, 2 * kGi, 100);
  EXPECT_DOUBLE_EQ(WasteScore(two), (0.875 + 0.9375 + 124.0 / 224.0) / 3);
  // Without EPC on the template only cpu and memory count.
  const ExpansionOption general = Option("g", tgeneral_, 1, 1, 1000, 2 * kGi, 0);
  EXPECT_DOUBLE_EQ(WasteScore(general), (0.75 + 0.875) / 2);
}

TEST_F(ExpanderTest, LeastWasteCountsEpc112Over168) {
  // Same cpu and memory; only the EPC waste differs. Counting cpu and memory alone, the tie
  // would go to "a-168" by name.
  std::vector<ExpansionOption> options = {Option("a-168", t168_, 1, 1, 1000, 2 * kGi, 100),
                                          Option("b-112", t112_, 1, 1, 1000, 2 * kGi, 100)};
  LeastWasteExpander e;
  const ExpanderChoice c = e.Choose(options);
  EXPECT_EQ(c.chosen, 1);
  ASSERT_EQ(c.scores.size(), 2u);
  EXPECT_DOUBLE_EQ(c.scores[0], (0.75 + 0.875 + 68.0 / 168.0) / 3);
  EXPECT_DOUBLE_EQ(c.scores[1], (0.75 + 0.875 + 12.0 / 112.0) / 3);
  EXPECT_EQ(e.Name(), "least-waste");
}

TEST_F(ExpanderTest, LeastWasteTiesGoToFewerNodesThenName) {
  // All three leave half of the cpu and half of the memory idle.
  std::vector<ExpansionOption> options = {Option("z", tgeneral_, 1, 1, 2000, 8 * kGi, 0),
                                          Option("y", tgeneral_, 2, 2, 4000, 16 * kGi, 0),
                                          Option("x", tgeneral_, 1, 1, 2000, 8 * kGi, 0)};
  LeastWasteExpander e;
  EXPECT_EQ(e.Choose(options).chosen, 2);  // x: 1 node, and "x" < "z"
  options.pop_back();
  EXPECT_EQ(e.Choose(options).chosen, 0);  // z: fewer nodes than y
}

TEST_F(ExpanderTest, EmptyOptionsChooseNothing) {
  LeastWasteExpander e;
  EXPECT_EQ(e.Choose({}).chosen, -1);
  std::mt19937 rng;
  RandomExpander r(rng);
  EXPECT_EQ(r.Choose({}).chosen, -1);
}

TEST_F(ExpanderTest, MostPodsWinsAndTiesFallBackToLeastWaste) {
  std::vector<ExpansionOption> options = {Option("a", t168_, 1, 3, 300, kGi, 120),
                                          Option("b", t168_, 2, 5, 500, kGi, 200),
                                          Option("c", t112_, 2, 5, 500, kGi, 200)};
  MostPodsExpander e;
  const ExpanderChoice c = e.Choose(options);
  // b and c both place 5; c wastes less EPC (24 of 224 MiB vs 136 of 336 MiB).
  EXPECT_EQ(c.chosen, 2);
  EXPECT_EQ(c.scores, (std::vector<double>{3, 5, 5}));
  EXPECT_EQ(e.ScoreName(), "pods");
}

TEST_F(ExpanderTest, PriorityPatternsHighestFirst) {
  auto created = PriorityExpander::Create({"^sgx-small", "sgx-", "general"});
  ASSERT_TRUE(created.ok()) << created.error();
  PriorityExpander& e = *created.value();
  EXPECT_EQ(e.PriorityOf("sgx-small-1"), 3);
  EXPECT_EQ(e.PriorityOf("sgx-large"), 2);
  EXPECT_EQ(e.PriorityOf("pool-general-a"), 1);  // matched anywhere in the name
  EXPECT_EQ(e.PriorityOf("gpu"), 0);

  std::vector<ExpansionOption> options = {Option("gpu", tgeneral_, 1, 1, 100, kGi, 0),
                                          Option("sgx-large", t168_, 1, 1, 100, kGi, 100),
                                          Option("general-1", tgeneral_, 1, 1, 100, kGi, 0)};
  ExpanderChoice c = e.Choose(options);
  EXPECT_EQ(c.chosen, 1);
  EXPECT_EQ(c.scores, (std::vector<double>{0, 2, 1}));

  // Equal priority: least waste decides.
  options = {Option("sgx-168", t168_, 1, 1, 100, kGi, 100),
             Option("sgx-112", t112_, 1, 1, 100, kGi, 100)};
  c = e.Choose(options);
  EXPECT_EQ(c.chosen, 1);
}

TEST_F(ExpanderTest, PriorityRejectsBadPatterns) {
  auto created = PriorityExpander::Create({"ok", "sgx-("});
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().find("\"sgx-(\""), std::string::npos) << created.error();
}

TEST_F(ExpanderTest, RandomIsDeterministicForASeed) {
  std::vector<ExpansionOption> options = {Option("a", tgeneral_, 1, 1, 100, kGi, 0),
                                          Option("b", tgeneral_, 1, 1, 100, kGi, 0),
                                          Option("c", tgeneral_, 1, 1, 100, kGi, 0)};
  // std::mt19937 with the default seed yields 3499211612, 581869302, 3890346734 first.
  RandomExpander e{std::mt19937()};
  EXPECT_EQ(e.Choose(options).chosen, 2);
  EXPECT_EQ(e.Choose(options).chosen, 0);
  EXPECT_EQ(e.Choose(options).chosen, 2);
  // Seed 42 yields 1608637542 first.
  RandomExpander seeded{std::mt19937(42)};
  EXPECT_EQ(seeded.Choose(options).chosen, 0);
}

TEST_F(ExpanderTest, MakeExpanderByName) {
  for (const char* name : {"least-waste", "most-pods", "priority", "random"}) {
    ExpanderConfig config;
    config.name = name;
    auto e = MakeExpander(config);
    ASSERT_TRUE(e.ok()) << e.error();
    EXPECT_EQ(e.value()->Name(), name);
  }
  ExpanderConfig bad;
  bad.name = "price";
  auto e = MakeExpander(bad);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error(),
            "unknown expander \"price\" (known: least-waste, most-pods, priority, random)");
  ExpanderConfig bad_priority;
  bad_priority.name = "priority";
  bad_priority.priorities = {"["};
  EXPECT_FALSE(MakeExpander(bad_priority).ok());
}

}  // namespace
}  // namespace epc::cluster
