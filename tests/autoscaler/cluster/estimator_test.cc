#include "autoscaler/cluster/estimator.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "autoscaler/cluster/pod_equivalence.h"
#include "tests/autoscaler/cluster/cluster_fixtures.h"

namespace epc::cluster {
namespace {

using testing::AppPod;
using testing::SgxNode;

class BinpackingEstimatorTest : public ::testing::Test {
 protected:
  // Pod objects stay put in `pods_`; the PodInfos point at them.
  std::vector<PodInfo> Infos() {
    std::vector<PodInfo> out;
    for (const Pod& p : pods_) out.push_back(MakePodInfo(p, epc_));
    return out;
  }
  Estimate Run(const Node& tmpl, int max_new_nodes) {
    const NodeInfo t = MakeNodeInfo(tmpl, epc_, pools_);
    const std::vector<PodInfo> infos = Infos();
    return estimator_.Run(infos, t, max_new_nodes);
  }

  EpcResources epc_;
  PoolClassifier pools_ = testing::TestPools();
  BinpackingEstimator estimator_{Predicate{&epc_, {}, CheckSet::Extender()}};
  std::vector<Pod> pods_;
};

TEST_F(BinpackingEstimatorTest, TenPodsOf40MiBNeedThree168MiBNodes) {
  for (int i = 0; i < 10; ++i) pods_.push_back(AppPod("epc-" + std::to_string(i), 40));
  const Estimate e = Run(SgxNode("t", 168), 100);
  EXPECT_EQ(e.node_count, 3);
  EXPECT_EQ(e.pods_per_node, (std::vector<int>{4, 4, 2}));
  EXPECT_EQ(e.placed, (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(e.unplaced.empty());
  EXPECT_EQ(e.placed_requests.epc_bytes, 400LL << 20);
  EXPECT_EQ(e.placed_requests.milli_cpu, 1000);
}

TEST_F(BinpackingEstimatorTest, EstimatorAlwaysRunsTheFullCheckSet) {
  // Built with the extender's check set above; a taint (not in that set) must still count.
  EXPECT_TRUE(estimator_.predicate().checks.Has(Check::kTaints));
  EXPECT_TRUE(estimator_.predicate().checks.Has(Check::kResources));
}

TEST_F(BinpackingEstimatorTest, PodLargerThanTemplateIsUnplacedWithThePredicatesReason) {
  pods_.push_back(AppPod("small", 40));
  pods_.push_back(AppPod("huge", 200));
  const Estimate e = Run(SgxNode("t", 168), 100);
  EXPECT_EQ(e.node_count, 1);
  EXPECT_EQ(e.placed, (std::vector<int>{0}));
  ASSERT_EQ(e.unplaced.size(), 1u);
  EXPECT_EQ(e.unplaced[0].pod, 1);
  EXPECT_FALSE(e.unplaced[0].fits_template);
  EXPECT_EQ(e.unplaced[0].reason, "requested EPC 200 MiB exceeds the node's allocatable 168 MiB");
}

TEST_F(BinpackingEstimatorTest, NoNodeOpensWhenNothingFitsTheTemplate) {
  pods_.push_back(AppPod("cpu-hog", 0, "8"));
  const Estimate e = Run(SgxNode("t", 168), 100);
  EXPECT_EQ(e.node_count, 0);
  ASSERT_EQ(e.unplaced.size(), 1u);
  EXPECT_EQ(e.unplaced[0].reason, "insufficient cpu: requested 8000, node allocatable 4000");
}

TEST_F(BinpackingEstimatorTest, TemplateTaintsAreRespected) {
  const Node tainted = testing::NodeBuilder("t")
                           .Label(testing::kPoolLabel, "sgx")
                           .Allocatable(testing::kAzureEpc, "168")
                           .Taint("sgx", "true", "NoSchedule")
                           .Build();
  pods_.push_back(AppPod("plain", 40));
  Pod tolerating = AppPod("tolerating", 40);
  tolerating.tolerations.push_back({"sgx", "Exists", "", "NoSchedule", std::nullopt});
  pods_.push_back(tolerating);
  const Estimate e = Run(tainted, 100);
  EXPECT_EQ(e.node_count, 1);
  EXPECT_EQ(e.placed, (std::vector<int>{1}));
  ASSERT_EQ(e.unplaced.size(), 1u);
  EXPECT_EQ(e.unplaced[0].pod, 0);
  EXPECT_EQ(e.unplaced[0].reason,
            "node has taint {sgx=true:NoSchedule} that the pod does not tolerate");
}

TEST_F(BinpackingEstimatorTest, TemplateLabelsAreMatchedAgainstNodeSelectors) {
  Pod wants_general = AppPod("general-only", 0);
  wants_general.node_selector[testing::kPoolLabel] = "general";
  Pod wants_sgx = AppPod("sgx-only", 10);
  wants_sgx.node_selector[testing::kPoolLabel] = "sgx";
  pods_ = {wants_general, wants_sgx};
  const Estimate e = Run(SgxNode("t", 168), 100);
  EXPECT_EQ(e.node_count, 1);
  EXPECT_EQ(e.placed, (std::vector<int>{1}));
  ASSERT_EQ(e.unplaced.size(), 1u);
  EXPECT_EQ(e.unplaced[0].reason, "node does not match the pod's nodeSelector pool=general");
}

TEST_F(BinpackingEstimatorTest, GeneralPodsStayOffConfidentialTemplatesUnderDeny) {
  BinpackingEstimator deny(Predicate{&epc_, {GeneralPodPolicy::kDeny, {}}, CheckSet::All()});
  pods_.push_back(AppPod("general", 0));
  const Node tmpl = SgxNode("t", 168);  // NodeInfo points at it
  const NodeInfo t = MakeNodeInfo(tmpl, epc_, pools_);
  const std::vector<PodInfo> infos = Infos();
  const Estimate e = deny.Run(infos, t, 10);
  EXPECT_EQ(e.node_count, 0);
  ASSERT_EQ(e.unplaced.size(), 1u);
  EXPECT_EQ(e.unplaced[0].reason,
            "pod requests no EPC and generalPodsOnConfidentialNodes is deny on this confidential "
            "node");
}

TEST_F(BinpackingEstimatorTest, LargestPodsArePlacedFirst) {
  // In input order (first fit, no sorting) the 60s would pair up and the 100s need a node
  // each: 4 nodes. Largest first: {100, 60} x 2 and {60, 60}: 3 nodes.
  for (int i = 0; i < 4; ++i)
    pods_.push_back(AppPod("m" + std::to_string(i), 60, "100m", "128Mi", "m"));
  for (int i = 0; i < 2; ++i)
    pods_.push_back(AppPod("l" + std::to_string(i), 100, "100m", "128Mi", "l"));
  const Estimate e = Run(SgxNode("t", 168), 100);
  EXPECT_EQ(e.node_count, 3);
  EXPECT_EQ(e.pods_per_node, (std::vector<int>{2, 2, 2}));
  EXPECT_EQ(e.placed, (std::vector<int>{4, 5, 0, 1, 2, 3}));
}

TEST_F(BinpackingEstimatorTest, CpuBoundPodsPackByCpu) {
  for (int i = 0; i < 10; ++i) pods_.push_back(AppPod("c" + std::to_string(i), 0, "1", "1Gi"));
  const Estimate e = Run(testing::GeneralNode("t"), 100);
  EXPECT_EQ(e.node_count, 3);
  EXPECT_EQ(e.pods_per_node, (std::vector<int>{4, 4, 2}));
}

TEST_F(BinpackingEstimatorTest, NodeLimitLeavesTheRestUnplaced) {
  for (int i = 0; i < 10; ++i) pods_.push_back(AppPod("epc-" + std::to_string(i), 40));
  const Estimate e = Run(SgxNode("t", 168), 2);
  EXPECT_EQ(e.node_count, 2);
  EXPECT_EQ(e.placed.size(), 8u);
  ASSERT_EQ(e.unplaced.size(), 2u);
  EXPECT_EQ(e.unplaced[0].pod, 8);
  EXPECT_EQ(e.unplaced[1].pod, 9);
  EXPECT_TRUE(e.unplaced[0].fits_template);
  EXPECT_EQ(e.unplaced[0].reason,
            "does not fit in the 2 new node(s) the node group and cluster limits allow");
}

TEST_F(BinpackingEstimatorTest, ZeroLimitPlacesNothing) {
  pods_.push_back(AppPod("epc", 40));
  const Estimate e = Run(SgxNode("t", 168), 0);
  EXPECT_EQ(e.node_count, 0);
  ASSERT_EQ(e.unplaced.size(), 1u);
  EXPECT_TRUE(e.unplaced[0].fits_template);
}

TEST_F(BinpackingEstimatorTest, SmallPodsFillGapsLeftByLargeOnes) {
  // 3 x 100 MiB open 3 nodes with 68 MiB free each; 3 x 60 MiB go into those gaps.
  for (int i = 0; i < 3; ++i)
    pods_.push_back(AppPod("s" + std::to_string(i), 60, "100m", "128Mi", "s"));
  for (int i = 0; i < 3; ++i)
    pods_.push_back(AppPod("l" + std::to_string(i), 100, "100m", "128Mi", "l"));
  const Estimate e = Run(SgxNode("t", 168), 100);
  EXPECT_EQ(e.node_count, 3);
  EXPECT_EQ(e.pods_per_node, (std::vector<int>{2, 2, 2}));
}

TEST_F(BinpackingEstimatorTest, TenThousandReplicasPackExactly) {
  for (int i = 0; i < 10000; ++i) pods_.push_back(AppPod("r" + std::to_string(i), 40));
  const Estimate e = Run(SgxNode("t", 168), 5000);
  EXPECT_EQ(e.node_count, 2500);
  EXPECT_EQ(e.placed.size(), 10000u);
}

TEST_F(BinpackingEstimatorTest, PodScoreCountsEpcOnlyWhenTheTemplateHasIt) {
  const Pod p = AppPod("p", 84, "1", "4Gi");
  const PodInfo info = MakePodInfo(p, epc_);
  const Node sgx_node = SgxNode("t", 168);
  const Node general_node = testing::GeneralNode("g");
  const NodeInfo sgx = MakeNodeInfo(sgx_node, epc_, pools_);
  const NodeInfo general = MakeNodeInfo(general_node, epc_, pools_);
  EXPECT_DOUBLE_EQ(PodScore(info.request, sgx), 0.25 + 0.25 + 0.5);
  EXPECT_DOUBLE_EQ(PodScore(info.request, general), 0.25 + 0.25);
}

TEST(EstimatorPodClassesTest, IdenticalPodsShareAClassAndDifferencesSplitThem) {
  EpcResources epc;
  std::vector<Pod> pods = {AppPod("a", 40), AppPod("b", 40, "100m", "128Mi", "other-rs"),
                           AppPod("c", 50), AppPod("d", 40)};
  pods[3].tolerations.push_back({"sgx", "Exists", "", "NoSchedule", std::nullopt});
  Pod e = AppPod("e", 40);
  e.node_selector["zone"] = "1";
  pods.push_back(e);
  pods.push_back(AppPod("f", 40));
  std::vector<PodInfo> infos;
  for (const Pod& p : pods) infos.push_back(MakePodInfo(p, epc));
  const PodClasses c = ClassifyPods(infos);
  // a, b and f are alike for the predicate (owners do not matter); c, d and e differ.
  EXPECT_EQ(c.class_of, (std::vector<int>{0, 0, 1, 2, 3, 0}));
  ASSERT_EQ(c.members.size(), 4u);
  EXPECT_EQ(c.members[0], (std::vector<int>{0, 1, 5}));
}

}  // namespace
}  // namespace epc::cluster
