#include "autoscaler/cluster/scale_down.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/autoscaler/cluster/cluster_fixtures.h"

namespace epc::cluster {
namespace {

using std::chrono::minutes;
using testing::AppPod;
using testing::GeneralNode;
using testing::Group;
using testing::kAzureEpc;
using testing::NodeBuilder;
using testing::SgxNode;

const SteadyTime kT0 = SteadyTime{} + std::chrono::hours(24);

class ScaleDownPlannerTest : public ::testing::Test {
 protected:
  // Adds a node to the cluster and to group `g` (ready, created long ago).
  size_t AddNode(Node node, size_t g) {
    groups_[g].nodes.push_back({node.name, true, kT0 - std::chrono::hours(5)});
    return cluster_.AddNode(std::move(node));
  }
  ScaleDownDecision Plan(SteadyTime now) {
    for (NodeGroupState& g : groups_) {
      if (g.target_size == 0) g.target_size = static_cast<int>(g.nodes.size());
    }
    ScaleDownPlanner planner(cluster_.epc(), {}, options_);
    const std::vector<ScaleDownNode> nodes = cluster_.ScaleDownNodes();
    return planner.Plan({nodes, groups_, covered_by_pdb_, now}, tracker_);
  }
  static const NodeScaleDownStatus& Status(const ScaleDownDecision& d, const std::string& node) {
    for (const NodeScaleDownStatus& s : d.nodes) {
      if (s.node == node) return s;
    }
    static const NodeScaleDownStatus kMissing;
    ADD_FAILURE() << "no status for " << node;
    return kMissing;
  }
  static std::vector<std::string> Removed(const ScaleDownDecision& d) {
    std::vector<std::string> out;
    for (const NodeRemoval& r : d.remove) out.push_back(r.node);
    return out;
  }

  testing::TestCluster cluster_;
  std::vector<NodeGroupState> groups_ = {Group("sgx", SgxNode("sgx-template", 168), 0, 10),
                                         Group("general", GeneralNode("general-template"), 0, 10)};
  ScaleDownOptions options_;
  UnneededTracker tracker_;
  std::function<bool(const Pod&)> covered_by_pdb_;
};

TEST_F(ScaleDownPlannerTest, EpcFullNodeWithIdleCpuAndMemoryIsNotUnneeded) {
  const size_t n = AddNode(SgxNode("sgx-0", 168), 0);
  cluster_.AddPod(n, AppPod("enclave", 160, "100m", "128Mi"));
  const ScaleDownDecision d = Plan(kT0);
  const NodeScaleDownStatus& s = Status(d, "sgx-0");
  EXPECT_EQ(s.status, "not_unneeded");
  EXPECT_DOUBLE_EQ(s.cpu_share, 0.025);
  EXPECT_DOUBLE_EQ(s.memory_share, 1.0 / 128);
  EXPECT_DOUBLE_EQ(s.epc_share, 160.0 / 168);
  EXPECT_DOUBLE_EQ(s.share, 160.0 / 168);
  EXPECT_EQ(s.reason, "requested share 0.95 >= threshold 0.50 (cpu 0.03, memory 0.01, EPC 0.95)");
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(tracker_.unneeded_count(), 0u);
}

TEST_F(ScaleDownPlannerTest, EmptyConfidentialNodeIsRemovableAfterUnneededTime) {
  const size_t busy = AddNode(SgxNode("sgx-0", 168), 0);
  cluster_.AddPod(busy, AppPod("enclave", 120));
  const size_t idle = AddNode(SgxNode("sgx-1", 168), 0);
  // DaemonSet and mirror pods neither block nor need to move.
  cluster_.AddPod(idle, testing::OwnedBy(AppPod("agent", 0), "DaemonSet", "sgx-plugin"));
  cluster_.AddPod(idle, testing::Annotated(testing::WithoutOwner(AppPod("static", 0)),
                                           "kubernetes.io/config.mirror", "abc"));

  ScaleDownDecision d = Plan(kT0);
  EXPECT_EQ(Status(d, "sgx-1").status, "unneeded");
  EXPECT_EQ(Status(d, "sgx-1").unneeded_seconds, 0);
  EXPECT_EQ(Status(d, "sgx-0").status, "not_unneeded");
  EXPECT_TRUE(d.remove.empty());
  EXPECT_EQ(tracker_.UnneededSince("sgx-1"), kT0);

  d = Plan(kT0 + minutes(9));
  EXPECT_EQ(Status(d, "sgx-1").status, "unneeded");
  EXPECT_EQ(Status(d, "sgx-1").unneeded_seconds, 540);
  EXPECT_EQ(Status(d, "sgx-1").reason,
            "requested share 0.05 < threshold 0.50; unneeded for 540s of 600s");
  EXPECT_TRUE(d.remove.empty());

  d = Plan(kT0 + minutes(10));
  EXPECT_EQ(Status(d, "sgx-1").status, "removable");
  ASSERT_EQ(d.remove.size(), 1u);
  EXPECT_EQ(d.remove[0].node, "sgx-1");
  EXPECT_EQ(d.remove[0].group, "sgx");
  EXPECT_TRUE(d.remove[0].empty);
  EXPECT_TRUE(d.remove[0].pods_to_evict.empty());
}

TEST_F(ScaleDownPlannerTest, TimerRestartsWhenANodeStopsBeingUnneeded) {
  const size_t n = AddNode(GeneralNode("g-0"), 1);
  AddNode(GeneralNode("g-1"), 1);
  Plan(kT0);
  EXPECT_EQ(tracker_.UnneededSince("g-0"), kT0);
  cluster_.AddPod(n, AppPod("big", 0, "3"));
  ScaleDownDecision d = Plan(kT0 + minutes(5));
  EXPECT_EQ(Status(d, "g-0").status, "not_unneeded");
  EXPECT_FALSE(tracker_.UnneededSince("g-0").has_value());
}

TEST_F(ScaleDownPlannerTest, PodsMustFitElsewhereAndReservationsAreShared) {
  // a and b each hold a 60 MiB enclave; c has 68 MiB free. Either pod fits c, not both.
  const size_t a = AddNode(SgxNode("sgx-a", 168), 0);
  const size_t b = AddNode(SgxNode("sgx-b", 168), 0);
  const size_t c = AddNode(SgxNode("sgx-c", 168), 0);
  cluster_.AddPod(a, AppPod("enclave-a", 60));
  cluster_.AddPod(b, AppPod("enclave-b", 60));
  cluster_.AddPod(c, AppPod("enclave-c", 100));

  // Before the unneeded time each is judged on its own (nothing is removed, nothing reserved).
  ScaleDownDecision d = Plan(kT0);
  EXPECT_EQ(Status(d, "sgx-a").status, "unneeded");
  EXPECT_EQ(Status(d, "sgx-b").status, "unneeded");
  EXPECT_EQ(Status(d, "sgx-c").status, "not_unneeded");

  d = Plan(kT0 + minutes(10));
  EXPECT_EQ(Removed(d), (std::vector<std::string>{"sgx-a"}));
  EXPECT_EQ(d.remove[0].pods_to_evict, (std::vector<std::string>{"default/enclave-a"}));
  EXPECT_FALSE(d.remove[0].empty);
  const NodeScaleDownStatus& sb = Status(d, "sgx-b");
  EXPECT_EQ(sb.status, "pods_do_not_fit");
  EXPECT_EQ(sb.blocking_pod, "default/enclave-b");
  EXPECT_EQ(sb.reason, "pod default/enclave-b fits no other node");
  EXPECT_EQ(sb.unneeded_seconds, -1);
  EXPECT_FALSE(tracker_.UnneededSince("sgx-b").has_value());
}

TEST_F(ScaleDownPlannerTest, ANodeThatReceivesPodsIsNotRemovedInTheSamePass) {
  const size_t a = AddNode(SgxNode("sgx-a", 168), 0);
  const size_t b = AddNode(SgxNode("sgx-b", 168), 0);
  cluster_.AddPod(a, AppPod("enclave-a", 30));
  cluster_.AddPod(b, AppPod("enclave-b", 60));
  Plan(kT0);
  const ScaleDownDecision d = Plan(kT0 + minutes(10));
  EXPECT_EQ(Removed(d), (std::vector<std::string>{"sgx-a"}));
  EXPECT_EQ(Status(d, "sgx-b").status, "receives_pods");
  // It stays unneeded for the next pass.
  EXPECT_EQ(Status(d, "sgx-b").unneeded_seconds, 600);
  EXPECT_EQ(tracker_.UnneededSince("sgx-b"), kT0);
}

TEST_F(ScaleDownPlannerTest, ARolledBackSimulationLeavesNoTrace) {
  // d has 50 MiB of EPC free. x (cordoned) is tried first: a1 takes d's room, a2 then misses d
  // and goes to y, b fits nowhere, so x's whole simulation is undone. y's a3 (alike a1 and a2)
  // must then find d's 50 MiB again.
  const Node big_sgx = NodeBuilder("")
                           .Label(testing::kPoolLabel, "sgx")
                           .Allocatable("cpu", "16")
                           .Allocatable(kAzureEpc, "512")
                           .Build();
  Node d_node = big_sgx;
  d_node.name = "d";
  Node x_node = big_sgx;
  x_node.name = "x";
  x_node.unschedulable = true;
  const size_t d = AddNode(d_node, 0);
  const size_t x = AddNode(x_node, 0);
  const size_t y = AddNode(SgxNode("y", 168), 0);
  cluster_.AddPod(d, AppPod("filler", 462, "100m", "128Mi", "filler"));
  cluster_.AddPod(x, AppPod("a1", 40, "1600m"));
  cluster_.AddPod(x, AppPod("a2", 40, "1600m"));
  cluster_.AddPod(x, AppPod("b", 100, "100m", "128Mi", "b"));
  cluster_.AddPod(y, AppPod("a3", 40, "1600m"));

  const ScaleDownDecision dec = Plan(kT0);
  EXPECT_EQ(Status(dec, "d").status, "not_unneeded");
  EXPECT_DOUBLE_EQ(Status(dec, "x").share, 180.0 / 512);
  EXPECT_DOUBLE_EQ(Status(dec, "y").share, 0.4);
  EXPECT_EQ(Status(dec, "x").status, "pods_do_not_fit");
  EXPECT_EQ(Status(dec, "x").blocking_pod, "default/b");
  EXPECT_EQ(Status(dec, "y").status, "unneeded");
}

TEST_F(ScaleDownPlannerTest, EnclavePodsDoNotMoveToGeneralNodes) {
  const size_t s = AddNode(SgxNode("sgx-0", 168), 0);
  AddNode(GeneralNode("g-0"), 1);
  cluster_.AddPod(s, AppPod("enclave", 10));
  const ScaleDownDecision d = Plan(kT0);
  EXPECT_EQ(Status(d, "sgx-0").status, "pods_do_not_fit");
  EXPECT_EQ(Status(d, "g-0").status, "unneeded");
}

TEST_F(ScaleDownPlannerTest, MinSizeCountsRemovalsOfThisPass) {
  groups_[1].spec.min_size = 1;
  AddNode(GeneralNode("g-0"), 1);
  AddNode(GeneralNode("g-1"), 1);
  Plan(kT0);
  const ScaleDownDecision d = Plan(kT0 + minutes(10));
  EXPECT_EQ(Removed(d), (std::vector<std::string>{"g-0"}));
  EXPECT_EQ(Status(d, "g-1").status, "at_min_size");
  EXPECT_EQ(Status(d, "g-1").reason,
            "group general would drop below min size 1 (target 2, 1 removed in this pass)");
  // Still unneeded: it goes when the group grows again.
  EXPECT_TRUE(tracker_.UnneededSince("g-1").has_value());
}

TEST_F(ScaleDownPlannerTest, NoScaleDownSoonAfterTheGroupScaledUp) {
  AddNode(GeneralNode("g-0"), 1);
  groups_[1].last_scale_up = kT0 + minutes(5);
  Plan(kT0);
  ScaleDownDecision d = Plan(kT0 + minutes(12));
  EXPECT_EQ(Status(d, "g-0").status, "recent_scale_up");
  EXPECT_EQ(Status(d, "g-0").reason, "group general scaled up 420s ago, less than 600s");
  EXPECT_TRUE(d.remove.empty());
  d = Plan(kT0 + minutes(15));
  EXPECT_EQ(Removed(d), (std::vector<std::string>{"g-0"}));
}

struct BlockingCase {
  const char* name;
  Pod pod;
  std::string reason;
};

TEST_F(ScaleDownPlannerTest, EachBlockingPodKind) {
  const std::vector<BlockingCase> cases = {
      {"no controller", testing::WithoutOwner(AppPod("bare", 0)),
       "pod default/bare has no controller ownerReference and would not be recreated"},
      {"local storage", testing::WithLocalStorage(AppPod("scratch", 0)),
       "pod default/scratch uses local storage (emptyDir or hostPath)"},
      {"safe-to-evict false",
       testing::Annotated(AppPod("precious", 0), "cluster-autoscaler.kubernetes.io/safe-to-evict",
                          "false"),
       "pod default/precious is annotated cluster-autoscaler.kubernetes.io/safe-to-evict: "
       "\"false\""},
      {"kube-system without PDB", testing::InNamespace(AppPod("coredns", 0), "kube-system"),
       "pod kube-system/coredns is a kube-system pod without a PodDisruptionBudget"},
  };
  for (const BlockingCase& c : cases) {
    SCOPED_TRACE(c.name);
    cluster_ = testing::TestCluster();
    groups_[1].nodes.clear();
    groups_[1].target_size = 0;
    tracker_ = UnneededTracker();
    const size_t n = AddNode(GeneralNode("g-0"), 1);
    AddNode(GeneralNode("g-1"), 1);
    const Pod& pod = cluster_.AddPod(n, c.pod);
    const ScaleDownDecision d = Plan(kT0);
    const NodeScaleDownStatus& s = Status(d, "g-0");
    EXPECT_EQ(s.status, "blocked_by_pod");
    EXPECT_EQ(s.blocking_pod, pod.namespace_name + "/" + pod.name);
    EXPECT_EQ(s.reason, c.reason);
    EXPECT_FALSE(tracker_.UnneededSince("g-0").has_value());
  }
}

TEST_F(ScaleDownPlannerTest, PodsThatMoveOrStayByRule) {
  const ScaleDownOptions o;
  auto verdict = [&](const Pod& p, std::function<bool(const Pod&)> pdb = nullptr) {
    return DrainVerdict(p, o, pdb);
  };
  // safe-to-evict "true" overrides the blocking rules.
  EXPECT_EQ(
      verdict(testing::Annotated(testing::WithLocalStorage(testing::WithoutOwner(AppPod("p", 0))),
                                 "cluster-autoscaler.kubernetes.io/safe-to-evict", "true"))
          .drain,
      PodDrain::kMove);
  // A kube-system pod a PDB covers moves.
  const Pod dns = testing::InNamespace(AppPod("coredns", 0), "kube-system");
  EXPECT_EQ(verdict(dns, [](const Pod&) { return true; }).drain, PodDrain::kMove);
  EXPECT_EQ(verdict(dns).reason, "kube_system_pod");
  // Without a controller, the first blocking rule in cluster-autoscaler's order wins.
  EXPECT_EQ(verdict(testing::WithLocalStorage(testing::WithoutOwner(AppPod("p", 0)))).reason,
            "not_replicated");
  EXPECT_EQ(verdict(testing::OwnedBy(AppPod("ds", 0), "DaemonSet", "x")).reason, "daemonset");
  Pod done = testing::WithoutOwner(AppPod("job", 0));
  done.phase = "Succeeded";
  EXPECT_EQ(verdict(done).drain, PodDrain::kStay);
  Pod expendable = testing::WithoutOwner(AppPod("low", 0));
  expendable.priority = -100;
  EXPECT_EQ(verdict(expendable).reason, "expendable");
  Pod terminating = testing::WithoutOwner(AppPod("bye", 0));
  terminating.deleting = true;
  EXPECT_EQ(verdict(terminating).reason, "terminating");
  EXPECT_EQ(verdict(AppPod("web", 0)).drain, PodDrain::kMove);
}

TEST_F(ScaleDownPlannerTest, KubeSystemPodWithPdbMoves) {
  const size_t n = AddNode(GeneralNode("g-0"), 1);
  AddNode(GeneralNode("g-1"), 1);
  cluster_.AddPod(n, testing::InNamespace(AppPod("coredns", 0), "kube-system"));
  covered_by_pdb_ = [](const Pod& p) { return p.name == "coredns"; };
  const ScaleDownDecision d = Plan(kT0);
  EXPECT_EQ(Status(d, "g-0").status, "unneeded");
  EXPECT_EQ(Status(d, "g-0").pods_to_move, 1);
}

TEST_F(ScaleDownPlannerTest, ScaleDownDisabledAnnotationSkipsTheNode) {
  Node node = GeneralNode("g-0");
  node.annotations["cluster-autoscaler.kubernetes.io/scale-down-disabled"] = "true";
  AddNode(node, 1);
  Plan(kT0);
  const ScaleDownDecision d = Plan(kT0 + minutes(30));
  EXPECT_EQ(Status(d, "g-0").status, "scale_down_disabled");
  EXPECT_TRUE(d.remove.empty());
}

TEST_F(ScaleDownPlannerTest, NodesOutsideGroupsAreNotAutoscaledButTakePods) {
  cluster_.AddNode(GeneralNode("static-0"));
  const size_t n = AddNode(GeneralNode("g-0"), 1);
  cluster_.AddPod(n, AppPod("web", 0, "1"));
  Plan(kT0);
  const ScaleDownDecision d = Plan(kT0 + minutes(10));
  EXPECT_EQ(Status(d, "static-0").status, "not_autoscaled");
  EXPECT_EQ(Status(d, "static-0").group, "");
  EXPECT_EQ(Removed(d), (std::vector<std::string>{"g-0"}));
}

TEST_F(ScaleDownPlannerTest, PdbRefusalBlocksTheNodeForAWhile) {
  AddNode(GeneralNode("g-0"), 1);
  Plan(kT0);
  tracker_.MarkBlockedByPdb("g-0", "PDB default/web allows 0 disruptions", kT0 + minutes(10));
  ScaleDownDecision d = Plan(kT0 + minutes(11));
  EXPECT_EQ(Status(d, "g-0").status, "blocked_by_pdb");
  EXPECT_EQ(Status(d, "g-0").reason,
            "an eviction was refused by a PodDisruptionBudget: PDB default/web allows 0 "
            "disruptions");
  EXPECT_TRUE(d.remove.empty());
  // After pdb_block_time (5 min) it is judged again, its unneeded timer started afresh.
  d = Plan(kT0 + minutes(15));
  EXPECT_EQ(Status(d, "g-0").status, "unneeded");
  d = Plan(kT0 + minutes(25));
  EXPECT_EQ(Removed(d), (std::vector<std::string>{"g-0"}));
}

TEST_F(ScaleDownPlannerTest, RemovalsPerPassAreBounded) {
  for (int i = 0; i < 12; ++i) AddNode(GeneralNode("g-" + std::to_string(100 + i)), 1);
  Plan(kT0);
  const ScaleDownDecision d = Plan(kT0 + minutes(10));
  EXPECT_EQ(d.remove.size(), 10u);
  EXPECT_EQ(Status(d, "g-110").status, "pass_limit");
  EXPECT_EQ(Status(d, "g-111").status, "pass_limit");
  EXPECT_EQ(Status(d, "g-109").status, "removable");
}

TEST_F(ScaleDownPlannerTest, ManyNodesWithPodsToMove) {
  // 1,000 general nodes at 25% cpu, in one group; each pass removes at most 10.
  groups_[1].spec.max_size = 2000;
  for (int i = 0; i < 1000; ++i) {
    const size_t n = AddNode(GeneralNode("g-" + std::to_string(1000 + i)), 1);
    cluster_.AddPod(n, AppPod("w-" + std::to_string(i), 0, "500m", "1Gi"));
    cluster_.AddPod(n, AppPod("v-" + std::to_string(i), 0, "500m", "1Gi", "other"));
  }
  Plan(kT0);
  const ScaleDownDecision d = Plan(kT0 + minutes(10));
  EXPECT_EQ(d.remove.size(), 10u);
  int pass_limit = 0;
  int receives = 0;
  for (const NodeScaleDownStatus& s : d.nodes) {
    pass_limit += s.status == "pass_limit" ? 1 : 0;
    receives += s.status == "receives_pods" ? 1 : 0;
  }
  // The 20 pods of the 10 removed nodes go to the destinations tried first, g-1999, g-1998,
  // g-1997 (6 more pods of 500m each) and g-1996 (2); every other node is unneeded but over
  // this pass's limit.
  EXPECT_EQ(receives, 4);
  EXPECT_EQ(Status(d, "g-1996").status, "receives_pods");
  EXPECT_EQ(Status(d, "g-1995").status, "pass_limit");
  EXPECT_EQ(pass_limit, 1000 - 10 - 4);
}

}  // namespace
}  // namespace epc::cluster

namespace epc::cluster {
namespace {

// explain = false changes no decision, only leaves the reasons out.
TEST_F(ScaleDownPlannerTest, WithoutExplanationsTheDecisionsAreTheSame) {
  const size_t full = AddNode(SgxNode("sgx-0", 168), 0);
  cluster_.AddPod(full, AppPod("enclave", 160, "100m", "128Mi"));
  AddNode(SgxNode("sgx-1", 168), 0);
  Plan(kT0);
  const ScaleDownDecision explained = Plan(kT0 + std::chrono::minutes(11));
  ASSERT_EQ(Removed(explained), std::vector<std::string>{"sgx-1"});
  options_.explain = false;
  tracker_ = UnneededTracker();
  Plan(kT0);
  const ScaleDownDecision quiet = Plan(kT0 + std::chrono::minutes(11));
  EXPECT_EQ(Removed(quiet), Removed(explained));
  ASSERT_EQ(quiet.nodes.size(), explained.nodes.size());
  for (size_t i = 0; i < quiet.nodes.size(); ++i) {
    EXPECT_EQ(quiet.nodes[i].status, explained.nodes[i].status);
  }
  EXPECT_EQ(Status(quiet, "sgx-0").reason, "");
  EXPECT_NE(Status(explained, "sgx-0").reason, "");
}

}  // namespace
}  // namespace epc::cluster
