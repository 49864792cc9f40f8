#include "autoscaler/cluster/estimator.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <utility>
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

// ---- node limit: the rest of a class stops at the limit, other classes still fill gaps ---------

TEST_F(BinpackingEstimatorTest, LimitStopsAClassButSmallerClassesStillFillTheOpenNodes) {
  // 100 MiB pods: one per 168 MiB node, so a limit of 2 leaves three of five unplaced. The
  // 60 MiB pods come after (smaller score) and still go into the 68 MiB gaps.
  for (int i = 0; i < 5; ++i)
    pods_.push_back(AppPod("l" + std::to_string(i), 100, "100m", "128Mi", "l"));
  for (int i = 0; i < 3; ++i)
    pods_.push_back(AppPod("s" + std::to_string(i), 60, "100m", "128Mi", "s"));
  const Estimate e = Run(SgxNode("t", 168), 2);
  EXPECT_EQ(e.node_count, 2);
  EXPECT_EQ(e.placed, (std::vector<int>{0, 1, 5, 6}));
  EXPECT_EQ(e.pods_per_node, (std::vector<int>{2, 2}));
  EXPECT_EQ(e.placed_requests.epc_bytes, 320LL << 20);
  ASSERT_EQ(e.unplaced.size(), 4u);
  EXPECT_EQ(e.unplaced[0].pod, 2);
  EXPECT_EQ(e.unplaced[1].pod, 3);
  EXPECT_EQ(e.unplaced[2].pod, 4);
  EXPECT_EQ(e.unplaced[3].pod, 7);
  for (const UnplacedPod& u : e.unplaced) {
    EXPECT_TRUE(u.fits_template);
    EXPECT_EQ(u.reason,
              "does not fit in the 2 new node(s) the node group and cluster limits allow");
  }
}

TEST_F(BinpackingEstimatorTest, TenThousandReplicasAtALimitReportEveryUnplacedPod) {
  for (int i = 0; i < 10000; ++i) pods_.push_back(AppPod("r" + std::to_string(i), 40));
  const Estimate e = Run(SgxNode("t", 168), 100);  // 4 per node: 400 placed
  EXPECT_EQ(e.node_count, 100);
  ASSERT_EQ(e.placed.size(), 400u);
  EXPECT_EQ(e.placed.back(), 399);
  ASSERT_EQ(e.unplaced.size(), 9600u);
  EXPECT_EQ(e.unplaced.front().pod, 400);
  EXPECT_EQ(e.unplaced.back().pod, 9999);
  EXPECT_TRUE(e.unplaced.back().fits_template);
}

TEST_F(BinpackingEstimatorTest, FirstOnlyReasonsNameTheLowestIndexedUnplacedPod) {
  pods_.push_back(AppPod("ok", 40));
  pods_.push_back(AppPod("huge", 200));
  pods_.push_back(AppPod("cpu-hog", 0, "8"));
  const Node tmpl = SgxNode("t", 168);
  const NodeInfo t = MakeNodeInfo(tmpl, epc_, pools_);
  const std::vector<PodInfo> infos = Infos();
  const PodClasses classes = ClassifyPods(infos);
  const Estimate every = estimator_.Run(infos, classes, t, 10, UnplacedReasons::kEvery);
  const Estimate first = estimator_.Run(infos, classes, t, 10, UnplacedReasons::kFirst);
  ASSERT_EQ(first.unplaced.size(), 2u);
  EXPECT_EQ(first.unplaced[0].pod, 1);
  EXPECT_EQ(first.unplaced[0].reason, every.unplaced[0].reason);
  EXPECT_EQ(first.unplaced[0].reason,
            "requested EPC 200 MiB exceeds the node's allocatable 168 MiB");
  EXPECT_EQ(first.unplaced[1].pod, 2);
  EXPECT_FALSE(first.unplaced[1].fits_template);
  EXPECT_EQ(first.unplaced[1].reason, "");
  EXPECT_EQ(every.unplaced[1].reason, "insufficient cpu: requested 8000, node allocatable 4000");
  EXPECT_EQ(first.placed, every.placed);
}

TEST_F(BinpackingEstimatorTest, ClassesWithoutProfilesAreEstimatedAlike) {
  // A PodClasses made by hand (no profile_of) checks every class on the template by itself.
  pods_.push_back(AppPod("a", 40));
  pods_.push_back(AppPod("b", 100));
  Pod tainted_only = AppPod("c", 0);
  tainted_only.node_selector[testing::kPoolLabel] = "general";
  pods_.push_back(tainted_only);
  const Node tmpl = SgxNode("t", 168);
  const NodeInfo t = MakeNodeInfo(tmpl, epc_, pools_);
  const std::vector<PodInfo> infos = Infos();
  PodClasses classes = ClassifyPods(infos);
  const Estimate with = estimator_.Run(infos, classes, t, 10);
  classes.profile_of.clear();
  classes.profiles = 0;
  const Estimate without = estimator_.Run(infos, classes, t, 10);
  EXPECT_EQ(with.placed, without.placed);
  EXPECT_EQ(with.pods_per_node, without.pods_per_node);
  ASSERT_EQ(without.unplaced.size(), 1u);
  EXPECT_EQ(without.unplaced[0].pod, 2);
  EXPECT_EQ(without.unplaced[0].reason, with.unplaced[0].reason);
}

// ---- the estimator against a plain first-fit-decreasing scan --------------------------------

// The estimator as first written: classes largest first, each pod to the first new node where
// the full predicate passes, a fresh template node when none has room (if the class fits the
// empty template and the limit allows). No index, no class shortcuts.
Estimate ReferenceEstimate(const Predicate& predicate, std::span<const PodInfo> pods,
                           const NodeInfo& tmpl, int max_new_nodes) {
  const PodClasses classes = ClassifyPods(pods);
  std::vector<std::pair<double, size_t>> order;
  for (size_t c = 0; c < classes.members.size(); ++c) {
    order.emplace_back(PodScore(pods[static_cast<size_t>(classes.members[c][0])].request, tmpl), c);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  Estimate out;
  std::vector<NodeInfo> nodes;
  for (const auto& [score, c] : order) {
    for (int m : classes.members[c]) {
      const PodInfo& pod = pods[static_cast<size_t>(m)];
      const FitResult empty = predicate.Fit(pod, tmpl);
      if (!empty.fits()) {
        out.unplaced.push_back({m, false, empty.Message()});
        continue;
      }
      size_t at = 0;
      while (at < nodes.size() && !predicate.Fits(pod, nodes[at])) ++at;
      if (at == nodes.size()) {
        if (static_cast<int>(nodes.size()) >= std::max(max_new_nodes, 0)) {
          out.unplaced.push_back({m, true, "limit"});
          continue;
        }
        nodes.push_back(tmpl);
        out.pods_per_node.push_back(0);
      }
      nodes[at].requested += pod.request;
      out.placed_requests += pod.request;
      out.placed.push_back(m);
      ++out.pods_per_node[at];
    }
  }
  out.node_count = static_cast<int>(nodes.size());
  std::sort(out.unplaced.begin(), out.unplaced.end(),
            [](const UnplacedPod& a, const UnplacedPod& b) { return a.pod < b.pod; });
  return out;
}

// Random pods over many shapes: cpu, memory, EPC in both units, an extended resource the index
// does not track, zero requests, tolerations and nodeSelectors that some templates reject.
std::vector<Pod> RandomPods(std::mt19937& rng, int count, int shapes) {
  std::vector<Pod> pods;
  for (int i = 0; i < count; ++i) {
    const uint32_t s = rng() % static_cast<uint32_t>(shapes);
    std::mt19937 shape_rng(s);  // a shape's pods are alike
    epc::testing::PodBuilder b("p" + std::to_string(i));
    if (shape_rng() % 8 != 0) b.Request("cpu", std::to_string(50 + shape_rng() % 1500) + "m");
    b.Request("memory", std::to_string(64 + shape_rng() % 3000) + "Mi");
    switch (shape_rng() % 4) {
      case 0:
        b.Limit(testing::kAzureEpc, std::to_string(1 + shape_rng() % 90));
        break;
      case 1:
        b.Limit(epc::testing::kIntelEpc, std::to_string(1 + shape_rng() % 90) + "Mi");
        break;
      default:
        break;
    }
    if (shape_rng() % 6 == 0) b.Request("example.com/fpga", std::to_string(1 + shape_rng() % 2));
    Pod p = b.Build();
    if (shape_rng() % 3 == 0) p.tolerations.push_back({"sgx", "Exists", "", "NoSchedule", {}});
    if (shape_rng() % 7 == 0) p.node_selector[testing::kPoolLabel] = "sgx";
    if (shape_rng() % 11 == 0) p.node_selector[testing::kPoolLabel] = "general";
    pods.push_back(std::move(p));
  }
  return pods;
}

void ExpectSameEstimate(const Estimate& got, const Estimate& want) {
  EXPECT_EQ(got.node_count, want.node_count);
  EXPECT_EQ(got.placed, want.placed);
  EXPECT_EQ(got.pods_per_node, want.pods_per_node);
  EXPECT_EQ(got.placed_requests, want.placed_requests);
  ASSERT_EQ(got.unplaced.size(), want.unplaced.size());
  for (size_t i = 0; i < got.unplaced.size(); ++i) {
    EXPECT_EQ(got.unplaced[i].pod, want.unplaced[i].pod);
    EXPECT_EQ(got.unplaced[i].fits_template, want.unplaced[i].fits_template);
    if (!want.unplaced[i].fits_template) {
      EXPECT_EQ(got.unplaced[i].reason, want.unplaced[i].reason);
    }
  }
}

TEST(EstimatorReferenceTest, PlacesExactlyAsAPlainFirstFitDecreasingScan) {
  EpcResources epc;
  const PoolClassifier pools = testing::TestPools();
  const std::vector<Node> templates = {
      SgxNode("sgx", 168),
      testing::NodeBuilder("sgx-tainted")
          .Label(testing::kPoolLabel, "sgx")
          .Allocatable(testing::kAzureEpc, "112")
          .Allocatable("example.com/fpga", "3")
          .Taint("sgx", "true", "NoSchedule")
          .Build(),
      testing::NodeBuilder("general-fpga")
          .Label(testing::kPoolLabel, "general")
          .Allocatable("example.com/fpga", "4")
          .Allocatable("pods", "9")
          .Build(),
  };
  for (GeneralPodPolicy policy : {GeneralPodPolicy::kPenalize, GeneralPodPolicy::kDeny}) {
    const Predicate predicate{&epc, {policy, {}}, CheckSet::All()};
    const BinpackingEstimator estimator(predicate);
    for (uint32_t seed = 1; seed <= 4; ++seed) {
      std::mt19937 rng(seed);
      const int shapes = seed % 2 == 0 ? 400 : 12;
      const std::vector<Pod> pods = RandomPods(rng, 400, shapes);
      std::vector<PodInfo> infos;
      for (const Pod& p : pods) infos.push_back(MakePodInfo(p, epc));
      for (const Node& node : templates) {
        const NodeInfo tmpl = MakeNodeInfo(node, epc, pools);
        for (int limit : {0, 3, 5000}) {
          SCOPED_TRACE("seed " + std::to_string(seed) + " template " + node.name + " limit " +
                       std::to_string(limit));
          ExpectSameEstimate(estimator.Run(infos, tmpl, limit),
                             ReferenceEstimate(predicate, infos, tmpl, limit));
        }
      }
    }
  }
}

// ---- FreeCapacityIndex ----------------------------------------------------------------------

TEST(FreeCapacityIndexTest, SkipsOnlyNodesThatCannotFit) {
  EpcResources epc;
  const PoolClassifier pools = testing::TestPools();
  const Predicate predicate{&epc, {}, CheckSet::All()};
  const Node sgx = SgxNode("sgx", 168);
  const Node general = testing::GeneralNode("general");
  std::mt19937 rng(7);
  std::vector<NodeInfo> nodes;
  std::vector<Pod> fill;
  for (int i = 0; i < 200; ++i) {
    nodes.push_back(MakeNodeInfo(i % 3 == 0 ? general : sgx, epc, pools));
    const int pods = static_cast<int>(rng() % 6);
    for (int k = 0; k < pods; ++k) {
      const Pod p = AppPod("f", static_cast<int>(rng() % 40), std::to_string(rng() % 900) + "m",
                           std::to_string(rng() % 3000) + "Mi");
      nodes.back().requested += MakePodInfo(p, epc).request;
    }
  }
  FreeCapacityIndex index(CheckSet::All());
  index.Assign(nodes);
  ASSERT_EQ(index.size(), nodes.size());
  const std::vector<Pod> probes = RandomPods(rng, 300, 300);
  for (const Pod& probe : probes) {
    const PodInfo pod = MakePodInfo(probe, epc);
    const FreeCapacityIndex::Need need = index.NeedOf(pod.request);
    for (size_t from : {size_t{0}, size_t{57}, size_t{199}}) {
      // Every node the index skips fails Fits(); the one it returns is the first not skipped.
      const size_t got = index.FirstCandidate(need, from);
      const size_t end = got == FreeCapacityIndex::kNone ? nodes.size() : got;
      for (size_t i = from; i < end; ++i) {
        EXPECT_FALSE(predicate.Fits(pod, nodes[i])) << i;
      }
      if (got != FreeCapacityIndex::kNone) {
        EXPECT_GE(got, from);
      }
    }
  }
  EXPECT_EQ(index.FirstCandidate(index.NeedOf({}), 200), FreeCapacityIndex::kNone);
}

TEST(FreeCapacityIndexTest, PushAndUpdateKeepTheIndexCurrent) {
  EpcResources epc;
  const PoolClassifier pools = testing::TestPools();
  const Node sgx = SgxNode("sgx", 168);
  const NodeInfo tmpl = MakeNodeInfo(sgx, epc, pools);
  FreeCapacityIndex index(CheckSet::All());
  std::vector<NodeInfo> nodes;
  const Pod p100 = AppPod("p", 100);
  const Resources r100 = MakePodInfo(p100, epc).request;
  const FreeCapacityIndex::Need need100 = index.NeedOf(r100);
  for (int i = 0; i < 37; ++i) {  // grows past several powers of two
    nodes.push_back(tmpl);
    index.Push(nodes.back());
    ASSERT_EQ(index.size(), nodes.size());
    nodes.back().requested += r100;  // 68 MiB left: no room for another 100
    index.Update(nodes.size() - 1, nodes.back());
    EXPECT_EQ(index.FirstCandidate(need100, 0), FreeCapacityIndex::kNone);
  }
  nodes[20].requested -= r100;
  index.Update(20, nodes[20]);
  EXPECT_EQ(index.FirstCandidate(need100, 0), 20u);
  EXPECT_EQ(index.FirstCandidate(need100, 21), FreeCapacityIndex::kNone);
  // EPC checks off: EPC no longer constrains; cpu still does.
  FreeCapacityIndex no_epc(CheckSet{Check::kResources});
  no_epc.Assign(nodes);
  EXPECT_EQ(no_epc.FirstCandidate(no_epc.NeedOf(r100), 3), 3u);
}

TEST(CheckPartitionTest, EveryCheckIsEitherNodeSideOrRequestSide) {
  // The estimator asks kNodeChecks once per template and kRequestChecks on template copies; a
  // new Check must be put on one side (does it read NodeInfo::requested?) or it would be lost.
  for (int i = 0; i < 32; ++i) {
    const Check c = static_cast<Check>(i);
    if (CheckName(c) == "Unknown") continue;
    SCOPED_TRACE(std::string(CheckName(c)));
    EXPECT_TRUE(CheckSet::All().Has(c));
    EXPECT_NE(kRequestChecks.Has(c), kNodeChecks.Has(c));
  }
}

TEST(EstimatorPodClassesTest, ClassesDifferingOnlyInRequestsShareAProfile) {
  EpcResources epc;
  std::vector<Pod> pods = {AppPod("a", 40), AppPod("b", 50), AppPod("c", 0), AppPod("d", 0, "1")};
  Pod tolerating = AppPod("e", 40);
  tolerating.tolerations.push_back({"sgx", "Exists", "", "NoSchedule", std::nullopt});
  pods.push_back(tolerating);
  Pod selecting = AppPod("f", 60);
  selecting.node_selector["zone"] = "1";
  pods.push_back(selecting);
  std::vector<PodInfo> infos;
  for (const Pod& p : pods) infos.push_back(MakePodInfo(p, epc));
  const PodClasses c = ClassifyPods(infos);
  ASSERT_EQ(c.members.size(), 6u);
  // a and b want EPC; c and d do not; e tolerates a taint; f selects a zone.
  EXPECT_EQ(c.profile_of, (std::vector<int>{0, 0, 1, 1, 2, 3}));
  EXPECT_EQ(c.profiles, 4);
}

}  // namespace
}  // namespace epc::cluster
