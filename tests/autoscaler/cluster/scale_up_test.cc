#include "autoscaler/cluster/scale_up.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "autoscaler/cluster/pod_equivalence.h"
#include "tests/autoscaler/cluster/cluster_fixtures.h"

namespace epc::cluster {
namespace {

using std::chrono::minutes;
using testing::AppPod;
using testing::GeneralNode;
using testing::Group;
using testing::SgxNode;

const SteadyTime kNow = SteadyTime{} + std::chrono::hours(24);

class ScaleUpPlannerTest : public ::testing::Test {
 protected:
  ScaleUpDecision Plan(ScaleUpOptions options = {}, std::unique_ptr<Expander> expander = nullptr,
                       SchedulingPolicy policy = {}) {
    ScaleUpPlanner planner(cluster_.epc(), cluster_.pools(), policy, options, std::move(expander));
    std::vector<const Pod*> pending;
    for (const Pod& p : pending_) pending.push_back(&p);
    const std::vector<const NodeInfo*> nodes = cluster_.NodeInfos();
    return planner.Plan({pending, nodes, groups_, kNow});
  }
  void AddPending(const std::string& prefix, int count, int epc_mib,
                  const std::string& cpu = "100m", const std::string& memory = "128Mi") {
    for (int i = 0; i < count; ++i) {
      pending_.push_back(AppPod(prefix + "-" + std::to_string(i), epc_mib, cpu, memory, prefix));
    }
  }
  static const RejectedGroup* Rejected(const ScaleUpDecision& d, const std::string& group) {
    for (const RejectedGroup& r : d.rejected) {
      if (r.group == group) return &r;
    }
    return nullptr;
  }

  testing::TestCluster cluster_;
  std::vector<NodeGroupState> groups_ = {Group("sgx-168", SgxNode("sgx-168-template", 168), 0, 10),
                                         Group("general", GeneralNode("general-template"), 0, 10)};
  std::vector<Pod> pending_;
};

TEST_F(ScaleUpPlannerTest, NoPendingPodsNoScaleUp) {
  const ScaleUpDecision d = Plan();
  EXPECT_FALSE(d.scale_up);
  EXPECT_EQ(d.message, "no pending pods");
}

TEST_F(ScaleUpPlannerTest, PodsThatFitExistingNodesTriggerNothing) {
  const size_t n = cluster_.AddNode(SgxNode("sgx-0", 168));
  cluster_.AddPod(n, AppPod("running", 80));
  AddPending("epc", 2, 40);
  const ScaleUpDecision d = Plan();
  EXPECT_FALSE(d.scale_up);
  EXPECT_EQ(d.pods_fit_existing, (std::vector<std::string>{"default/epc-0", "default/epc-1"}));
  EXPECT_TRUE(d.pods_fit_upcoming.empty());
  EXPECT_TRUE(d.rejected.empty());
  EXPECT_EQ(d.message, "no scale-up: every pending pod fits an existing or upcoming node");
}

TEST_F(ScaleUpPlannerTest, ExistingRoomIsAccumulatedAcrossPendingPods) {
  // 88 MiB free: two 40 MiB pods fit, the third needs a new node.
  const size_t n = cluster_.AddNode(SgxNode("sgx-0", 168));
  cluster_.AddPod(n, AppPod("running", 80));
  AddPending("epc", 3, 40);
  const ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.pods_fit_existing.size(), 2u);
  EXPECT_EQ(d.group, "sgx-168");
  EXPECT_EQ(d.node_count, 1);
  EXPECT_EQ(d.pods, (std::vector<std::string>{"default/epc-2"}));
}

TEST_F(ScaleUpPlannerTest, PodsThatFitUpcomingNodesTriggerNothing) {
  groups_[0].target_size = 1;  // one node asked for, not there yet
  AddPending("epc", 4, 40);
  const ScaleUpDecision d = Plan();
  EXPECT_FALSE(d.scale_up);
  EXPECT_EQ(d.pods_fit_upcoming.size(), 4u);
  EXPECT_TRUE(d.pods_fit_existing.empty());
}

TEST_F(ScaleUpPlannerTest, UpcomingRoomIsAccumulated) {
  groups_[0].target_size = 1;
  AddPending("epc", 5, 40);
  const ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.pods_fit_upcoming.size(), 4u);
  EXPECT_EQ(d.group, "sgx-168");
  EXPECT_EQ(d.current_size, 1);
  EXPECT_EQ(d.target_size, 2);
  EXPECT_EQ(d.pods, (std::vector<std::string>{"default/epc-4"}));
}

TEST_F(ScaleUpPlannerTest, LongUnreadyNodesAreNotUpcoming) {
  // Target 1 with one node that never became Ready in 20 minutes: nothing is upcoming.
  groups_[0].target_size = 1;
  groups_[0].nodes.push_back({"sgx-stuck", false, kNow - minutes(20)});
  AddPending("epc", 1, 40);
  ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.target_size, 2);
  // Created 5 minutes ago it is still expected.
  groups_[0].nodes[0].created = kNow - minutes(5);
  d = Plan();
  EXPECT_FALSE(d.scale_up);
  EXPECT_EQ(d.pods_fit_upcoming.size(), 1u);
}

TEST_F(ScaleUpPlannerTest, EpcPodPicksTheConfidentialGroup) {
  AddPending("epc", 3, 40);
  const ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.group, "sgx-168");
  EXPECT_EQ(d.current_size, 0);
  EXPECT_EQ(d.target_size, 1);
  EXPECT_EQ(d.pods.size(), 3u);
  EXPECT_EQ(d.expander, "least-waste");
  ASSERT_EQ(d.rejected.size(), 1u);
  EXPECT_EQ(d.rejected[0].group, "general");
  EXPECT_EQ(d.rejected[0].reason, "no_pods_placed");
  EXPECT_EQ(d.rejected[0].message,
            "no pending pod fits a new node; default/epc-0: pod requests 40 MiB of EPC but the "
            "node advertises no EPC");
  EXPECT_TRUE(d.pods_unhelped.empty());
}

TEST_F(ScaleUpPlannerTest, GeneralPodPicksTheGeneralGroup) {
  // Under the default penalize policy a general pod fits both templates; least-waste counts
  // the confidential template's idle EPC and prefers the general group.
  AddPending("web", 1, 0, "500m", "1Gi");
  const ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.group, "general");
  EXPECT_EQ(d.score_name, "waste");
  EXPECT_DOUBLE_EQ(d.score, (0.875 + 0.9375) / 2);
  const RejectedGroup* sgx = Rejected(d, "sgx-168");
  ASSERT_NE(sgx, nullptr);
  EXPECT_EQ(sgx->reason, "lost_to_expander");
  EXPECT_EQ(sgx->node_count, 1);
  EXPECT_EQ(sgx->pod_count, 1);
  EXPECT_DOUBLE_EQ(sgx->score, (0.875 + 0.9375 + 1.0) / 3);
  EXPECT_EQ(sgx->message, "lost to general under expander least-waste (waste 0.938 vs 0.906)");
}

TEST_F(ScaleUpPlannerTest, MixedPendingPodsScaleOneGroupPerDecision) {
  AddPending("epc", 2, 40);
  AddPending("web", 1, 0, "500m", "1Gi");
  SchedulingPolicy deny{GeneralPodPolicy::kDeny, ScoringStrategy::kBinpack};
  const ScaleUpDecision d = Plan({}, nullptr, deny);
  ASSERT_TRUE(d.scale_up);
  // EPC pods waste less of the confidential node: (0.95 + 0.984375 + 0.523810) / 3.
  EXPECT_EQ(d.group, "sgx-168");
  EXPECT_EQ(d.pods, (std::vector<std::string>{"default/epc-0", "default/epc-1"}));
  const RejectedGroup* general = Rejected(d, "general");
  ASSERT_NE(general, nullptr);
  EXPECT_EQ(general->reason, "lost_to_expander");
  EXPECT_EQ(general->pod_count, 1);
  EXPECT_TRUE(d.pods_unhelped.empty());
}

TEST_F(ScaleUpPlannerTest, MaxSizeIsRespected) {
  groups_[0].spec.max_size = 2;
  AddPending("epc", 10, 40);
  const ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.node_count, 2);
  EXPECT_EQ(d.target_size, 2);
  EXPECT_EQ(d.pods.size(), 8u);
  EXPECT_EQ(d.pods_unhelped, (std::vector<std::string>{"default/epc-8", "default/epc-9"}));
}

TEST_F(ScaleUpPlannerTest, GroupAtMaxSizeIsRejected) {
  groups_[0].spec.max_size = 2;
  groups_[0].target_size = 2;
  groups_[0].nodes = {{"a", true, kNow - minutes(60)}, {"b", true, kNow - minutes(60)}};
  AddPending("epc", 1, 40);
  const ScaleUpDecision d = Plan();
  EXPECT_FALSE(d.scale_up);
  const RejectedGroup* sgx = Rejected(d, "sgx-168");
  ASSERT_NE(sgx, nullptr);
  EXPECT_EQ(sgx->reason, "at_max_size");
  EXPECT_EQ(sgx->message, "at max size 2");
  EXPECT_EQ(d.pods_unhelped, (std::vector<std::string>{"default/epc-0"}));
}

TEST_F(ScaleUpPlannerTest, ClusterNodeCapIsRespected) {
  // Two nodes exist, the cap is 3: one more node, whatever the pods would want.
  cluster_.AddNode(GeneralNode("g-0"));
  cluster_.AddNode(GeneralNode("g-1"));
  AddPending("epc", 10, 40);
  ScaleUpOptions options;
  options.max_nodes_total = 3;
  ScaleUpDecision d = Plan(options);
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.node_count, 1);
  EXPECT_EQ(d.pods.size(), 4u);

  // Upcoming nodes count against the cap too.
  groups_[1].target_size = 1;
  d = Plan(options);
  EXPECT_FALSE(d.scale_up);
  const RejectedGroup* sgx = Rejected(d, "sgx-168");
  ASSERT_NE(sgx, nullptr);
  EXPECT_EQ(sgx->reason, "cluster_at_max_nodes");
  EXPECT_EQ(sgx->message, "cluster has 3 nodes including upcoming ones, max-nodes-total is 3");
}

TEST_F(ScaleUpPlannerTest, MaxNodesPerScaleUpIsRespected) {
  AddPending("epc", 10, 40);
  ScaleUpOptions options;
  options.max_nodes_per_scale_up = 1;
  const ScaleUpDecision d = Plan(options);
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.node_count, 1);
}

TEST_F(ScaleUpPlannerTest, BackoffGroupIsSkippedAndTheNextBestChosen) {
  groups_.insert(groups_.begin(), Group("sgx-112", SgxNode("sgx-112-template", 112), 0, 10));
  AddPending("enclave", 2, 100);
  ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.group, "sgx-112");
  EXPECT_EQ(d.node_count, 2);

  groups_[0].backoff_until = kNow + minutes(5);
  d = Plan();
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.group, "sgx-168");
  const RejectedGroup* small = Rejected(d, "sgx-112");
  ASSERT_NE(small, nullptr);
  EXPECT_EQ(small->reason, "in_backoff");
  EXPECT_EQ(small->message, "in backoff after a failed scale-up for another 300s");

  // Backoff over: back to the better group.
  groups_[0].backoff_until = kNow;
  d = Plan();
  EXPECT_EQ(d.group, "sgx-112");
}

TEST_F(ScaleUpPlannerTest, PodsNoGroupCanHelpAreReported) {
  AddPending("huge", 1, 500);
  const ScaleUpDecision d = Plan();
  EXPECT_FALSE(d.scale_up);
  EXPECT_EQ(d.pods_unhelped, (std::vector<std::string>{"default/huge-0"}));
  const RejectedGroup* sgx = Rejected(d, "sgx-168");
  ASSERT_NE(sgx, nullptr);
  EXPECT_EQ(sgx->message,
            "no pending pod fits a new node; default/huge-0: requested EPC 500 MiB exceeds the "
            "node's allocatable 168 MiB");
  EXPECT_EQ(d.message,
            "no scale-up: 1 pending pod(s) need a new node but no node group can add one that "
            "fits");
}

TEST_F(ScaleUpPlannerTest, ManyPendingPodsOverManyGroups) {
  // 20 groups; 10,000 replicas of 5 Deployments.
  groups_.clear();
  for (int i = 0; i < 10; ++i) {
    groups_.push_back(Group("sgx-" + std::to_string(i), SgxNode("t", 168), 0, 5000));
    groups_.push_back(Group("general-" + std::to_string(i), GeneralNode("t"), 0, 5000));
  }
  for (int i = 0; i < 10000; ++i) {
    const int kind = i % 5;
    pending_.push_back(AppPod("p" + std::to_string(i), kind < 3 ? 8 * (kind + 1) : 0, "100m",
                              "256Mi", "d" + std::to_string(kind)));
  }
  const ScaleUpDecision d = Plan();
  ASSERT_TRUE(d.scale_up);
  // The 4,000 general pods fill 100 general nodes by cpu (waste (0 + 0.375) / 2); every
  // confidential option needs > 1,100 nodes for the EPC and idles most of their cpu. Equal
  // groups tie and the name decides.
  EXPECT_EQ(d.group, "general-0");
  EXPECT_EQ(d.node_count, 100);
  EXPECT_EQ(d.pods.size(), 4000u);
  EXPECT_DOUBLE_EQ(d.score, 0.1875);
  EXPECT_EQ(d.rejected.size(), 19u);
}

TEST_F(ScaleUpPlannerTest, ExistingNodesWithRoomButTheWrongTaintOrResourceArePassedOver) {
  // By name: sgx-a has all the room but a taint; sgx-b has EPC but no cpu left; sgx-c has room
  // and the one fpga; sgx-d has room but no fpga. The four 40 MiB pods must pass over a and b
  // and fill sgx-c (160 of 168 MiB), so the 48 MiB fpga pod finds no node: had they gone to a
  // (taint ignored) or d (c skipped), it would fit sgx-c.
  cluster_.AddNode(testing::NodeBuilder("sgx-a")
                       .Label(testing::kPoolLabel, "sgx")
                       .Allocatable(testing::kAzureEpc, "168")
                       .Taint("sgx", "true", "NoSchedule")
                       .Build());
  const size_t b = cluster_.AddNode(SgxNode("sgx-b", 168));
  cluster_.AddPod(b, AppPod("cpu-hog", 0, "3950m"));
  cluster_.AddNode(testing::NodeBuilder("sgx-c")
                       .Label(testing::kPoolLabel, "sgx")
                       .Allocatable(testing::kAzureEpc, "168")
                       .Allocatable("example.com/fpga", "1")
                       .Build());
  cluster_.AddNode(SgxNode("sgx-d", 168));
  AddPending("epc", 4, 40);
  Pod fpga = AppPod("fpga-0", 48, "100m", "128Mi", "fpga");
  fpga.containers.front().requests["example.com/fpga"] = epc::testing::Q("1");
  pending_.push_back(fpga);
  const ScaleUpDecision d = Plan();
  EXPECT_FALSE(d.scale_up);
  EXPECT_EQ(d.pods_fit_existing, (std::vector<std::string>{"default/epc-0", "default/epc-1",
                                                           "default/epc-2", "default/epc-3"}));
  EXPECT_EQ(d.pods_unhelped, (std::vector<std::string>{"default/fpga-0"}));
}

// The planner's first step as first written: classes in order of first appearance, each from
// the first node, its members from where the previous one went, the full predicate on every
// node (existing by name, then upcoming). Returns the pods that fit, existing then upcoming.
std::pair<std::vector<std::string>, std::vector<std::string>> ReferenceFits(
    const Predicate& predicate, std::vector<NodeInfo> sim, size_t existing,
    std::span<const PodInfo> pods) {
  std::pair<std::vector<std::string>, std::vector<std::string>> out;
  const PodClasses classes = ClassifyPods(pods);
  for (const std::vector<int>& members : classes.members) {
    for (int m : members) {
      const PodInfo& pod = pods[static_cast<size_t>(m)];
      size_t at = 0;
      while (at < sim.size() && !predicate.Fit(pod, sim[at]).fits()) ++at;
      if (at == sim.size()) continue;
      sim[at].requested += pod.request;
      (at < existing ? out.first : out.second).push_back(PodKey(*pod.pod));
    }
  }
  return out;
}

TEST_F(ScaleUpPlannerTest, ExistingAndUpcomingRoomIsFoundAsByAPlainScan) {
  std::mt19937 rng(42);
  for (int i = 0; i < 60; ++i) {
    const std::string name = "node-" + std::to_string(1000 + (i * 37) % 60);
    const size_t n = cluster_.AddNode(i % 3 == 0 ? GeneralNode(name) : SgxNode(name, 168));
    const int running = static_cast<int>(rng() % 12);
    for (int k = 0; k < running; ++k) {
      cluster_.AddPod(n, AppPod("r", i % 3 == 0 ? 0 : static_cast<int>(rng() % 30),
                                std::to_string(100 + rng() % 400) + "m"));
    }
  }
  groups_[0].target_size = 2;  // two upcoming nodes of each group
  groups_[1].target_size = 2;
  for (int i = 0; i < 800; ++i) {
    const int shape = static_cast<int>(rng() % 150);
    Pod p = AppPod("p" + std::to_string(i), shape % 3 == 0 ? 0 : 1 + shape % 50,
                   std::to_string(50 + shape * 7) + "m", std::to_string(64 + shape * 13) + "Mi");
    if (shape % 10 == 0) p.node_selector[testing::kPoolLabel] = "general";
    pending_.push_back(p);
  }
  const ScaleUpDecision d = Plan();

  // The reference over the same snapshot.
  const Predicate predicate{&cluster_.epc(), {}, CheckSet::All()};
  std::vector<NodeInfo> sim;
  for (const NodeInfo* n : cluster_.NodeInfos()) sim.push_back(*n);
  std::sort(sim.begin(), sim.end(),
            [](const NodeInfo& a, const NodeInfo& b) { return a.node->name < b.node->name; });
  const size_t existing = sim.size();
  for (const NodeGroupState& g : groups_) {
    for (int i = 0; i < 2; ++i) {
      sim.push_back(MakeNodeInfo(g.spec.template_node, cluster_.epc(), cluster_.pools()));
    }
  }
  std::vector<PodInfo> infos;
  for (const Pod& p : pending_) infos.push_back(MakePodInfo(p, cluster_.epc()));
  const auto [fit_existing, fit_upcoming] = ReferenceFits(predicate, sim, existing, infos);
  EXPECT_EQ(d.pods_fit_existing, fit_existing);
  EXPECT_EQ(d.pods_fit_upcoming, fit_upcoming);
  EXPECT_FALSE(d.pods_fit_existing.empty());
  EXPECT_FALSE(d.pods_fit_upcoming.empty());
  EXPECT_TRUE(d.scale_up);
}

}  // namespace
}  // namespace epc::cluster
