#include "common/policy/fit.h"

#include <gtest/gtest.h>

#include <limits>

#include <stdexcept>
#include <vector>

#include "tests/testing/builders.h"

namespace epc {
namespace {

using testing::kAzureEpc;
using testing::kIntelEpc;
using testing::NodeBuilder;
using testing::PodBuilder;

class FitTest : public ::testing::Test {
 protected:
  FitTest()
      : pools_({PoolSpec{"sgx", true, {{{"agentpool", "sgxpool"}}, {}}},
                PoolSpec{"general", false, {{{"agentpool", "general"}}, {}}}}) {
    predicate_.epc = &epc_;
  }

  NodeInfo Info(const Node& node, const Resources& requested = {}) {
    NodeInfo info = MakeNodeInfo(node, epc_, pools_);
    info.requested = requested;
    return info;
  }
  Resources Used(const Pod& pod) { return MakePodInfo(pod, epc_).request; }

  EpcResources epc_;
  PoolClassifier pools_;
  Predicate predicate_;
};

Node AzureSgxNode(const std::string& name, const std::string& mib = "168") {
  return NodeBuilder(name).Label("agentpool", "sgxpool").Allocatable(kAzureEpc, mib).Build();
}
Node IntelSgxNode(const std::string& name, const std::string& bytes = "128Mi") {
  return NodeBuilder(name).Label("agentpool", "sgxpool").Allocatable(kIntelEpc, bytes).Build();
}
Node GeneralNode(const std::string& name) {
  return NodeBuilder(name).Label("agentpool", "general").Build();
}

TEST_F(FitTest, EpcPodOnGeneralNodeIsUnresolvable) {
  const Pod pod = PodBuilder("enclave").Request(kAzureEpc, "10").Build();
  const Node node = GeneralNode("gen-0");
  const FitResult r = predicate_.Fit(MakePodInfo(pod, epc_), Info(node));
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].reason, "no_epc");
  EXPECT_EQ(r.failures[0].check, Check::kEpcFit);
  EXPECT_NE(r.Message().find("10 MiB"), std::string::npos) << r.Message();
}

TEST_F(FitTest, InsufficientEpcNamesRequestedAndFreeInMiB) {
  const Pod pod = PodBuilder("enclave").Request(kAzureEpc, "10").Build();
  const Node node = AzureSgxNode("sgx-0");
  const Pod resident = PodBuilder("r").Request(kAzureEpc, "164").OnNode("sgx-0").Build();
  const FitResult r = predicate_.Fit(MakePodInfo(pod, epc_), Info(node, Used(resident)));
  EXPECT_EQ(r.verdict(), Verdict::kUnschedulable);
  ASSERT_EQ(r.failures.size(), 1u);
  EXPECT_EQ(r.failures[0].reason, "insufficient_epc");
  EXPECT_EQ(r.Message(), "insufficient EPC: requested 10 MiB, free 4 MiB of 168 MiB");
}

TEST_F(FitTest, EpcFitsExactlyAtTheBoundaryInBytes) {
  const Node node = IntelSgxNode("sgx-1", "128Mi");
  const Pod resident = PodBuilder("r").Request(kIntelEpc, "64Mi").OnNode("sgx-1").Build();
  const NodeInfo info = Info(node, Used(resident));
  const Pod exact = PodBuilder("exact").Request(kIntelEpc, "64Mi").Build();
  const Pod one_more = PodBuilder("more").Request(kIntelEpc, "67108865").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(exact, epc_), info).fits());
  EXPECT_EQ(predicate_.Fit(MakePodInfo(one_more, epc_), info).verdict(), Verdict::kUnschedulable);
}

TEST_F(FitTest, EpcOverAllocatableIsUnresolvable) {
  const Pod pod = PodBuilder("big").Request(kAzureEpc, "200").Build();
  const Node node = AzureSgxNode("sgx-0");
  const FitResult r = predicate_.Fit(MakePodInfo(pod, epc_), Info(node));
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
  EXPECT_EQ(r.failures[0].reason, "epc_exceeds_allocatable");
}

TEST_F(FitTest, EpcIsComparedInBytesAcrossPluginUnits) {
  // 10 MiB in Azure units against an Intel node with 112Mi of which 100Mi are taken.
  const Pod pod = PodBuilder("enclave").Request(kAzureEpc, "10").Build();
  const Pod resident = PodBuilder("r").Request(kIntelEpc, "100Mi").OnNode("sgx-1").Build();
  const Node node = IntelSgxNode("sgx-1", "112Mi");
  const NodeInfo info = Info(node, Used(resident));
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(pod, epc_), info).fits());
  const Pod bigger = PodBuilder("enclave").Request(kAzureEpc, "13").Build();
  EXPECT_EQ(predicate_.Fit(MakePodInfo(bigger, epc_), info).Message(),
            "insufficient EPC: requested 13 MiB, free 12 MiB of 112 MiB");
}

TEST_F(FitTest, LimitOnlyEpcIsRequested) {
  const Pod pod = PodBuilder("enclave").Limit(kIntelEpc, "200Mi").Build();
  const Node node = IntelSgxNode("sgx-1");
  const FitResult r = predicate_.Fit(MakePodInfo(pod, epc_), Info(node));
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
}

TEST_F(FitTest, GeneralPodPolicyOnConfidentialNodes) {
  const Pod pod = PodBuilder("web").Request("cpu", "100m").Build();
  const PodInfo info = MakePodInfo(pod, epc_);
  const Node sgx_node = AzureSgxNode("sgx-0");
  const Node gen_node = GeneralNode("gen-0");
  const NodeInfo sgx = Info(sgx_node);
  const NodeInfo gen = Info(gen_node);

  predicate_.policy.general_pods_on_confidential = GeneralPodPolicy::kDeny;
  FitResult r = predicate_.Fit(info, sgx);
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
  EXPECT_EQ(r.failures[0].reason, "general_pod_on_confidential_node");
  EXPECT_TRUE(predicate_.Fit(info, gen).fits());

  predicate_.policy.general_pods_on_confidential = GeneralPodPolicy::kPenalize;
  EXPECT_TRUE(predicate_.Fit(info, sgx).fits());
  EXPECT_EQ(predicate_.Score(info, sgx), 0);
  EXPECT_EQ(predicate_.Score(info, gen), 10);

  predicate_.policy.general_pods_on_confidential = GeneralPodPolicy::kAllow;
  EXPECT_TRUE(predicate_.Fit(info, sgx).fits());
  EXPECT_EQ(predicate_.Score(info, sgx), predicate_.Score(info, gen));
}

TEST_F(FitTest, NodeWithEpcIsConfidentialWithoutAPool) {
  const Node unlabelled = NodeBuilder("odd").Allocatable(kIntelEpc, "64Mi").Build();
  const NodeInfo info = Info(unlabelled);
  EXPECT_TRUE(info.pool.confidential);
  EXPECT_EQ(info.pool.index, -1);
  predicate_.policy.general_pods_on_confidential = GeneralPodPolicy::kDeny;
  const Pod pod = PodBuilder("web").Build();
  EXPECT_FALSE(predicate_.Fit(MakePodInfo(pod, epc_), info).fits());
}

TEST_F(FitTest, BinpackPrefersTheFullerNodeAndSpreadTheEmptier) {
  const Pod pod = PodBuilder("enclave").Request(kAzureEpc, "10").Build();
  const PodInfo info = MakePodInfo(pod, epc_);
  const Node a = AzureSgxNode("a");
  const Node b = AzureSgxNode("b");
  const Pod resident = PodBuilder("r").Request(kAzureEpc, "100").OnNode("a").Build();
  const NodeInfo fuller = Info(a, Used(resident));
  const NodeInfo empty = Info(b);

  // (100 + 10) / 168 = 0.65 -> 7; 10 / 168 = 0.06 -> 1.
  EXPECT_EQ(predicate_.Score(info, fuller), 7);
  EXPECT_EQ(predicate_.Score(info, empty), 1);
  predicate_.policy.strategy = ScoringStrategy::kSpread;
  EXPECT_EQ(predicate_.Score(info, fuller), 3);
  EXPECT_EQ(predicate_.Score(info, empty), 9);
  const Node general = GeneralNode("g");
  EXPECT_EQ(predicate_.Score(info, Info(general)), 0);
}

TEST_F(FitTest, ScoresStayWithinZeroToTen) {
  const Pod pod = PodBuilder("enclave").Request(kAzureEpc, "168").Build();
  const PodInfo info = MakePodInfo(pod, epc_);
  const Pod resident = PodBuilder("r").Request(kAzureEpc, "168").OnNode("a").Build();
  const Node node = AzureSgxNode("a");
  EXPECT_EQ(predicate_.Score(info, Info(node, Used(resident))), 10);
  predicate_.policy.strategy = ScoringStrategy::kSpread;
  EXPECT_EQ(predicate_.Score(info, Info(node, Used(resident))), 0);
}

// The score is 10 * used / allocatable rounded half up, exact in integers for any amounts.
TEST_F(FitTest, ScoresRoundHalfUpExactlyForAnyAmounts) {
  const PodInfo pod = MakePodInfo(PodBuilder("enclave").Request(kAzureEpc, "5").Build(), epc_);
  constexpr int64_t kMiB = int64_t{1} << 20;
  auto score = [&](int64_t allocatable, int64_t requested) {
    return predicate_.Score(pod, EpcFitKey{allocatable, requested, true});
  };
  EXPECT_EQ(score(100 * kMiB, 0), 1);              // 0.5 -> 1
  EXPECT_EQ(score(100 * kMiB, 9 * kMiB), 1);       // 1.4 -> 1
  EXPECT_EQ(score(100 * kMiB, 10 * kMiB), 2);      // 1.5 -> 2
  EXPECT_EQ(score(100 * kMiB, 20 * kMiB), 3);      // 2.5 -> 3
  EXPECT_EQ(score(100 * kMiB, 90 * kMiB), 10);     // 9.5 -> 10
  EXPECT_EQ(score(100 * kMiB - 1, 10 * kMiB), 2);  // a byte less allocatable: just over 1.5
  EXPECT_EQ(score(100 * kMiB + 1, 10 * kMiB), 1);  // a byte more: just under 1.5
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  EXPECT_EQ(score(kMax, kMax / 2 - 5 * kMiB), 5);  // no overflow at the largest amounts
  EXPECT_EQ(score(kMax, kMax - 5 * kMiB), 10);
  EXPECT_EQ(score(kMax, kMax), 10);  // requested beyond allocatable: capped
  EXPECT_EQ(score(0, 0), 0);
}

TEST_F(FitTest, ExtenderCheckSetIgnoresWhatKubeSchedulerChecks) {
  const Node node = NodeBuilder("sgx-0")
                        .Label("agentpool", "sgxpool")
                        .Allocatable(kAzureEpc, "168")
                        .Taint("sgx", "true", "NoSchedule")
                        .Unschedulable()
                        .Build();
  const Pod pod = PodBuilder("enclave").Request(kAzureEpc, "10").Request("cpu", "64").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(pod, epc_), Info(node)).fits());

  predicate_.checks = CheckSet::All();
  const FitResult r = predicate_.Fit(MakePodInfo(pod, epc_), Info(node));
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
  std::vector<std::string> reasons;
  for (const auto& f : r.failures) reasons.push_back(f.reason);
  EXPECT_EQ(reasons, (std::vector<std::string>{"node_unschedulable", "insufficient_cpu",
                                               "untolerated_taint"}));
}

TEST_F(FitTest, ResourcesCheck) {
  predicate_.checks = {Check::kResources};
  const Node node = GeneralNode("g");
  const Pod used = PodBuilder("u").Request("cpu", "3500m").Request("memory", "1Gi").Build();
  const NodeInfo info = Info(node, Used(used));

  const Pod small = PodBuilder("s").Request("cpu", "500m").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(small, epc_), info).fits());

  const Pod more = PodBuilder("m").Request("cpu", "501m").Build();
  FitResult r = predicate_.Fit(MakePodInfo(more, epc_), info);
  EXPECT_EQ(r.verdict(), Verdict::kUnschedulable);
  EXPECT_EQ(r.failures[0].reason, "insufficient_cpu");

  const Pod gpu = PodBuilder("gpu").Request("nvidia.com/gpu", "1").Build();
  r = predicate_.Fit(MakePodInfo(gpu, epc_), info);
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
  EXPECT_EQ(r.failures[0].reason, "insufficient_nvidia.com/gpu");

  // EPC is the EPC check's business, not reported twice.
  const Pod enclave = PodBuilder("e").Request(kAzureEpc, "10").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(enclave, epc_), info).fits());

  Resources full = Used(used);
  full.pods = 110;
  r = predicate_.Fit(MakePodInfo(small, epc_), Info(node, full));
  EXPECT_EQ(r.failures.at(0).reason, "insufficient_pods");
}

TEST_F(FitTest, Taints) {
  predicate_.checks = {Check::kTaints};
  const Node node = NodeBuilder("n")
                        .Taint("sgx", "true", "NoSchedule")
                        .Taint("soft", "", "PreferNoSchedule")
                        .Build();
  const Pod plain = PodBuilder("p").Build();
  const FitResult r = predicate_.Fit(MakePodInfo(plain, epc_), Info(node));
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
  EXPECT_EQ(r.Message(), "node has taint {sgx=true:NoSchedule} that the pod does not tolerate");

  const Pod equal = PodBuilder("p").Tolerate("sgx", "Equal", "true", "NoSchedule").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(equal, epc_), Info(node)).fits());
  const Pod wrong_value = PodBuilder("p").Tolerate("sgx", "Equal", "false", "").Build();
  EXPECT_FALSE(predicate_.Fit(MakePodInfo(wrong_value, epc_), Info(node)).fits());
  const Pod exists = PodBuilder("p").Tolerate("sgx", "Exists", "", "").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(exists, epc_), Info(node)).fits());
  const Pod everything = PodBuilder("p").Tolerate("", "Exists", "", "").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(everything, epc_), Info(node)).fits());
  const Pod other_effect = PodBuilder("p").Tolerate("sgx", "Exists", "", "NoExecute").Build();
  EXPECT_FALSE(predicate_.Fit(MakePodInfo(other_effect, epc_), Info(node)).fits());
}

TEST_F(FitTest, NodeSelectorAndRequiredAffinity) {
  predicate_.checks = {Check::kNodeAffinity};
  const Node sgx_node = AzureSgxNode("sgx-0");
  const Node gen_node = GeneralNode("gen-0");
  const NodeInfo sgx = Info(sgx_node);
  const NodeInfo gen = Info(gen_node);
  const Pod sel = PodBuilder("p").NodeSelector("agentpool", "sgxpool").Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(sel, epc_), sgx).fits());
  EXPECT_EQ(predicate_.Fit(MakePodInfo(sel, epc_), gen).failures.at(0).reason,
            "node_selector_mismatch");
  const Pod aff = PodBuilder("p").RequireNodeLabelIn("agentpool", {"general", "other"}).Build();
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(aff, epc_), gen).fits());
  EXPECT_EQ(predicate_.Fit(MakePodInfo(aff, epc_), sgx).verdict(), Verdict::kUnresolvable);
}

TEST_F(FitTest, NodeConditions) {
  predicate_.checks = {Check::kNodeCondition};
  const Pod pod = PodBuilder("p").Build();
  const Node general = GeneralNode("g");
  EXPECT_TRUE(predicate_.Fit(MakePodInfo(pod, epc_), Info(general)).fits());
  const Node cordoned = NodeBuilder("c").Unschedulable().Build();
  const Node not_ready = NodeBuilder("nr").NotReady().Build();
  EXPECT_EQ(predicate_.Fit(MakePodInfo(pod, epc_), Info(cordoned)).failures.at(0).reason,
            "node_unschedulable");
  EXPECT_EQ(predicate_.Fit(MakePodInfo(pod, epc_), Info(not_ready)).failures.at(0).reason,
            "node_not_ready");
}

TEST_F(FitTest, UnschedulableAndUnresolvableTogetherAreUnresolvable) {
  predicate_.checks = CheckSet::All();
  const Node node = NodeBuilder("sgx").Allocatable(kAzureEpc, "20").NotReady().Build();
  const Pod resident = PodBuilder("r").Request(kAzureEpc, "15").OnNode("sgx").Build();
  const Pod pod = PodBuilder("p").Request(kAzureEpc, "10").Build();
  const FitResult r = predicate_.Fit(MakePodInfo(pod, epc_), Info(node, Used(resident)));
  EXPECT_EQ(r.verdict(), Verdict::kUnresolvable);
  EXPECT_EQ(r.Message(),
            "node is not Ready; insufficient EPC: requested 10 MiB, free 5 MiB of 20 MiB");
}

TEST(CheckNameTest, NamesEveryCheck) {
  EXPECT_EQ(CheckName(Check::kEpcFit), "EpcFit");
  EXPECT_EQ(CheckName(Check::kPoolPolicy), "PoolPolicy");
  EXPECT_EQ(CheckName(Check::kNodeAffinity), "NodeAffinity");
  EXPECT_TRUE(CheckSet::All().Has(Check::kTaints));
  EXPECT_FALSE(CheckSet::Extender().Has(Check::kTaints));
}

}  // namespace
}  // namespace epc

namespace epc {
namespace {

// Fits() is Fit() without messages: over a grid of pods and nodes they must agree.
TEST(FitsOnlyTest, AgreesWithFit) {
  using testing::kAzureEpc;
  using testing::kIntelEpc;
  using testing::NodeBuilder;
  using testing::PodBuilder;
  const EpcResources epc;
  const PoolClassifier pools({PoolSpec{"sgx", true, {{{"agentpool", "sgx"}}, {}}}});
  const std::vector<Node> nodes = {
      NodeBuilder("a").Label("agentpool", "sgx").Allocatable(kAzureEpc, "168").Build(),
      NodeBuilder("b").Allocatable(kIntelEpc, "64Mi").Taint("sgx", "", "NoSchedule").Build(),
      NodeBuilder("c").Unschedulable().Build(),
      NodeBuilder("d").NotReady().Allocatable(kAzureEpc, "8").Build(),
      NodeBuilder("e").Label("zone", "1").Build(),
  };
  const std::vector<Pod> pods = {
      PodBuilder("p1").Request(kAzureEpc, "10").Build(),
      PodBuilder("p2").Request(kAzureEpc, "100").Tolerate("sgx", "Exists", "", "").Build(),
      PodBuilder("p3").Request("cpu", "3").Build(),
      PodBuilder("p4").Request("cpu", "5").NodeSelector("zone", "1").Build(),
      PodBuilder("p5").Request("nvidia.com/gpu", "1").Build(),
      PodBuilder("p6").Build(),
  };
  for (auto general : {GeneralPodPolicy::kDeny, GeneralPodPolicy::kPenalize}) {
    for (CheckSet checks : {CheckSet::All(), CheckSet::Extender()}) {
      Predicate p{&epc, {general, ScoringStrategy::kBinpack}, checks};
      int fitting = 0;
      for (const Pod& pod : pods) {
        const PodInfo pi = MakePodInfo(pod, epc);
        for (const Node& node : nodes) {
          const NodeInfo ni = MakeNodeInfo(node, epc, pools);
          EXPECT_EQ(p.Fits(pi, ni), p.Fit(pi, ni).fits()) << pod.name << " on " << node.name;
          fitting += p.Fits(pi, ni) ? 1 : 0;
        }
      }
      EXPECT_GT(fitting, 0);
      EXPECT_LT(fitting, static_cast<int>(pods.size() * nodes.size()));
    }
  }
}

TEST_F(FitTest, FitKeyOnlyForTheExtendersChecks) {
  const NodeInfo node =
      Info(AzureSgxNode("a"), Used(PodBuilder("x").Request(kAzureEpc, "8").Build()));
  predicate_.checks = CheckSet::Extender();
  ASSERT_TRUE(predicate_.FitKey(node).has_value());
  EXPECT_EQ(predicate_.FitKey(node)->epc_allocatable_bytes, 168LL << 20);
  EXPECT_EQ(predicate_.FitKey(node)->epc_requested_bytes, 8LL << 20);
  EXPECT_TRUE(predicate_.FitKey(node)->confidential);
  predicate_.checks = CheckSet::All();
  EXPECT_FALSE(predicate_.FitKey(node).has_value());
  predicate_.checks = {Check::kEpcFit, Check::kTaints};
  EXPECT_FALSE(predicate_.FitKey(node).has_value());
}

// Nodes with equal keys get equal results, whatever else differs between them.
TEST_F(FitTest, EqualFitKeysGiveEqualResults) {
  predicate_.checks = CheckSet::Extender();
  const NodeInfo a = Info(AzureSgxNode("a", "16"));
  const NodeInfo b = Info(NodeBuilder("b")
                              .Label("agentpool", "sgxpool")
                              .Allocatable(kIntelEpc, "16Mi")
                              .Allocatable("cpu", "64")
                              .Taint("k", "v", "NoSchedule")
                              .Build());
  ASSERT_EQ(predicate_.FitKey(a), predicate_.FitKey(b));
  for (const char* mib : {"0", "4", "16", "17", "200"}) {
    const Pod p = std::string(mib) == "0" ? PodBuilder("p").Request("cpu", "1").Build()
                                          : PodBuilder("p").Request(kAzureEpc, mib).Build();
    const PodInfo pod = MakePodInfo(p, epc_);
    const FitResult ra = predicate_.Fit(pod, a);
    const FitResult rb = predicate_.Fit(pod, b);
    EXPECT_EQ(ra.Message(), rb.Message()) << mib;
    EXPECT_EQ(ra.verdict(), rb.verdict()) << mib;
  }
}

// Fits() and Score() of a key answer as Fits() and Score() of any node with that key, under
// every policy and strategy the extender may run with.
TEST_F(FitTest, KeyedFitsAndScoreMatchTheNodes) {
  predicate_.checks = CheckSet::Extender();
  ASSERT_TRUE(predicate_.Keyed());
  const std::vector<NodeInfo> nodes = {
      Info(AzureSgxNode("a")),
      Info(AzureSgxNode("b"), Used(PodBuilder("x").Request(kAzureEpc, "160").Build())),
      Info(AzureSgxNode("c", "16"), Used(PodBuilder("x").Request(kAzureEpc, "20").Build())),
      Info(IntelSgxNode("d")),
      Info(GeneralNode("e")),
      Info(NodeBuilder("f").Build()),  // no pool
  };
  const std::vector<Pod> pods = {PodBuilder("p").Request("cpu", "1").Build(),
                                 PodBuilder("p").Request(kAzureEpc, "4").Build(),
                                 PodBuilder("p").Request(kAzureEpc, "10").Build(),
                                 PodBuilder("p").Request(kAzureEpc, "200").Build()};
  NodeInfo scratch;
  for (GeneralPodPolicy general :
       {GeneralPodPolicy::kDeny, GeneralPodPolicy::kPenalize, GeneralPodPolicy::kAllow}) {
    for (ScoringStrategy strategy : {ScoringStrategy::kBinpack, ScoringStrategy::kSpread}) {
      predicate_.policy = {general, strategy};
      for (const Pod& p : pods) {
        const PodInfo pod = MakePodInfo(p, epc_);
        for (const NodeInfo& node : nodes) {
          const EpcFitKey key = EpcFitKeyOf(node);
          ASSERT_EQ(predicate_.FitKey(node), key);
          EXPECT_EQ(predicate_.Fits(pod, key), predicate_.Fits(pod, node)) << node.node->name;
          EXPECT_EQ(predicate_.Score(pod, key), predicate_.Score(pod, node)) << node.node->name;
          // One node reused for many keys (as the extender's filter does) answers the same.
          EXPECT_EQ(predicate_.Fits(pod, AssignEpcFitKey(scratch, key)), predicate_.Fits(pod, node))
              << node.node->name;
          EXPECT_EQ(EpcFitKeyOf(scratch), key);
        }
      }
    }
  }
}

TEST_F(FitTest, MakeEpcFitKeyIsTheKeyOfMakeNodeInfo) {
  // EPC in capacity alone, in a general pool.
  Node capacity_only = NodeBuilder("f").Label("agentpool", "general").Build();
  capacity_only.capacity[std::string(kIntelEpc)] = testing::Q("64Mi");
  const std::vector<Node> nodes = {
      AzureSgxNode("a"),
      IntelSgxNode("b"),
      GeneralNode("c"),
      NodeBuilder("d").Build(),                              // no pool, no EPC
      NodeBuilder("e").Allocatable(kAzureEpc, "8").Build(),  // EPC without a pool
      capacity_only,
      NodeBuilder("g").Label("agentpool", "sgxpool").Build(),  // pool without EPC
  };
  for (const Node& node : nodes) {
    for (int64_t requested : {int64_t{0}, int64_t{5} << 20}) {
      Resources used;
      used.epc_bytes = requested;
      const NodeInfo info = Info(node, used);
      EXPECT_EQ(MakeEpcFitKey(node, epc_, pools_, requested), EpcFitKeyOf(info)) << node.name;
    }
  }
  // Capacity alone makes a general-pool node confidential; the pool alone makes one too.
  EXPECT_TRUE(MakeEpcFitKey(nodes[5], epc_, pools_, 0).confidential);
  EXPECT_TRUE(MakeEpcFitKey(nodes[6], epc_, pools_, 0).confidential);
  EXPECT_FALSE(MakeEpcFitKey(nodes[2], epc_, pools_, 0).confidential);
}

TEST_F(FitTest, KeyedFitsNeedsTheExtendersChecks) {
  const PodInfo pod = MakePodInfo(PodBuilder("p").Request(kAzureEpc, "4").Build(), epc_);
  const EpcFitKey key = EpcFitKeyOf(Info(AzureSgxNode("a")));
  predicate_.checks = {Check::kEpcFit};
  EXPECT_TRUE(predicate_.Keyed());
  EXPECT_TRUE(predicate_.Fits(pod, key));
  predicate_.checks = CheckSet::All();
  EXPECT_FALSE(predicate_.Keyed());
  EXPECT_THROW(predicate_.Fits(pod, key), std::logic_error);
  // Score reads only the key whatever the checks.
  EXPECT_EQ(predicate_.Score(pod, key), predicate_.Score(pod, Info(AzureSgxNode("a"))));
}

}  // namespace
}  // namespace epc
