#include "scheduler/extender/extender.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "scheduler/wire/extender_args.h"
#include "tests/scheduler/testing/fixtures.h"

namespace epc {
namespace {

using testing::EpcPod;
using testing::GeneralNode;
using testing::NodeJson;
using testing::PodJson;
using testing::SgxNode;

std::map<std::string, std::string> AsMap(
    const std::vector<std::pair<std::string_view, std::string_view>>& v) {
  std::map<std::string, std::string> out;
  for (const auto& [name, reason] : v) out.emplace(name, reason);
  return out;
}

using Views = std::vector<std::string_view>;

// The rejection counts as one reason per rejected node, sorted.
std::vector<std::string> Reasons(const FilterOutcome& out) {
  std::vector<std::string> reasons;
  for (const RejectionCount& r : out.rejections) reasons.insert(reasons.end(), r.nodes, r.reason);
  std::sort(reasons.begin(), reasons.end());
  return reasons;
}

// What filter answered for one node is the predicate's `fit` for it: the node passed when the
// pod fits, else it is in the list its verdict names, with the predicate's message.
void ExpectThePredicatesVerdict(const FitResult& fit, const std::string& name, bool passed,
                                const std::map<std::string, std::string>& failed,
                                const std::map<std::string, std::string>& unresolvable) {
  if (fit.fits()) {
    EXPECT_TRUE(passed) << name;
    return;
  }
  const auto& list = fit.verdict() == Verdict::kUnresolvable ? unresolvable : failed;
  const auto it = list.find(name);
  ASSERT_NE(it, list.end()) << name;
  EXPECT_EQ(it->second, fit.Message()) << name;
}

// Binds a pod using `mib` MiB of Azure EPC to `node` in the store.
void BindPod(ClusterStore& store, const std::string& uid, const std::string& node,
             const std::string& mib) {
  testing::PodSpec spec = EpcPod("running-" + uid, uid, mib);
  spec.node_name = node;
  spec.phase = "Running";
  store.UpsertPod(testing::ToPod(PodJson(spec)));
}

class ExtenderTest : public ::testing::Test {
 protected:
  ExtenderTest() : config_(testing::TestConfig()), store_(testing::NewStore(config_)) {}

  void AddNodes() {
    store_->UpsertNode(testing::ToNode(NodeJson(SgxNode("sgx-0", "168"))));
    testing::NodeSpec intel = SgxNode("sgx-1");
    intel.epc_resource = std::string(testing::kIntelEpc);
    intel.epc_amount = "112Mi";
    store_->UpsertNode(testing::ToNode(NodeJson(intel)));
    store_->UpsertNode(testing::ToNode(NodeJson(GeneralNode("general-0"))));
  }

  Result<ExtenderArgs> Args(const std::string& text) {
    buffers_.push_back(std::make_unique<RequestBuffer>(text));
    return DecodeExtenderArgs(buffers_.back()->View());
  }
  Result<ExtenderPreemptionArgs> PreemptArgs(const std::string& text) {
    buffers_.push_back(std::make_unique<RequestBuffer>(text));
    return DecodePreemptionArgs(buffers_.back()->View());
  }

  Config config_;
  std::unique_ptr<ClusterStore> store_;
  SeenPods seen_;
  std::vector<std::unique_ptr<RequestBuffer>> buffers_;
};

TEST_F(ExtenderTest, NamesModeUsesTheSnapshot) {
  AddNodes();
  BindPod(*store_, "big", "sgx-0", "160");  // 8 MiB left on sgx-0
  Extender extender(*store_, config_.scheduling, &seen_);
  auto args = Args(testing::NamesModeArgs(PodJson(EpcPod("web", "u1", "10")),
                                          {"sgx-0", "sgx-1", "general-0", "ghost"}));
  ASSERT_TRUE(args.ok()) << args.error();

  FilterOutcome out = extender.Filter(*args);
  EXPECT_TRUE(out.answer.names_mode);
  EXPECT_EQ(out.answer.passing_node_names, Views{"sgx-1"});
  auto failed = AsMap(out.answer.failed);
  auto unresolvable = AsMap(out.answer.unresolvable);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed["sgx-0"], "insufficient EPC: requested 10 MiB, free 8 MiB of 168 MiB");
  EXPECT_EQ(failed["ghost"], "node \"ghost\" is not in the extender's cluster state");
  ASSERT_EQ(unresolvable.size(), 1u);
  EXPECT_NE(unresolvable["general-0"].find("advertises no EPC"), std::string::npos)
      << unresolvable["general-0"];
  EXPECT_EQ(Reasons(out), (std::vector<std::string>{"insufficient_epc", "no_epc", "unknown_node"}));
  // Filter remembers the pod for bind.
  ASSERT_NE(seen_.Find("u1"), nullptr);
  EXPECT_EQ(seen_.Find("u1")->name, "web");
}

TEST_F(ExtenderTest, FullModeUsesTheRequestNodesAndThePodsBoundToThem) {
  // No node objects in the store: only pods bound to the names.
  BindPod(*store_, "big", "aks-sgxpool-0", "160");
  Extender extender(*store_, config_.scheduling, &seen_);
  auto args = Args(testing::Example("filter-full-mode.json"));
  ASSERT_TRUE(args.ok()) << args.error();

  FilterOutcome out = extender.Filter(*args);
  EXPECT_FALSE(out.answer.names_mode);
  ASSERT_EQ(out.answer.passing_nodes_json.size(), 1u);
  EXPECT_EQ(out.answer.passing_nodes_json[0], (*args->nodes)[1].raw);  // aks-sgxpool-1, as received
  auto failed = AsMap(out.answer.failed);
  auto unresolvable = AsMap(out.answer.unresolvable);
  EXPECT_EQ(failed["aks-sgxpool-0"], "insufficient EPC: requested 10 MiB, free 8 MiB of 168 MiB");
  EXPECT_EQ(unresolvable.count("aks-generalpool-0"), 1u);
}

TEST_F(ExtenderTest, FullModeFailsOnlyTheNodeThatDoesNotDecode) {
  Extender extender(*store_, config_.scheduling, &seen_);
  testing::NodeSpec bad = SgxNode("sgx-bad");
  bad.cpu = "7820x";
  auto args = Args(testing::FullModeArgs(
      PodJson(EpcPod("web", "u1", "10")),
      {NodeJson(SgxNode("sgx-ok")), NodeJson(bad), R"({"metadata": {"labels": 5}})"}));
  ASSERT_TRUE(args.ok()) << args.error();
  FilterOutcome out = extender.Filter(*args);
  ASSERT_EQ(out.answer.passing_nodes_json.size(), 1u);
  auto failed = AsMap(out.answer.failed);
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed["sgx-bad"].rfind("cannot decode node: ", 0), 0u) << failed["sgx-bad"];
  EXPECT_NE(failed["sgx-bad"].find("7820x"), std::string::npos);
  EXPECT_EQ(failed.count("Nodes.items[2]"), 1u);  // no name: named by position
  EXPECT_EQ(out.rejections, (std::vector<RejectionCount>{{"invalid_node", 2}}));
}

// Many nodes, many sharing a reason and some not (more distinct rejections than the filter
// memoizes): every reason is the predicate's own message for that node, in full mode with the
// extender's projection exactly what the full decode gives.
TEST_F(ExtenderTest, EveryRejectionIsThePredicatesOwnMessage) {
  std::vector<std::string> names;
  std::vector<std::string> node_jsons;
  for (int i = 0; i < 60; ++i) {
    testing::NodeSpec spec = i % 3 == 0 ? GeneralNode("general-" + std::to_string(i))
                                        : SgxNode("sgx-" + std::to_string(i), "168");
    if (i % 5 == 1) spec.epc_amount = "8";  // allocatable below the request
    if (i % 11 == 4) spec.cpu = "12q";      // does not decode in full mode
    // Readiness and cordoning are kube-scheduler's to check: the projection skips them.
    if (i % 7 == 3) spec.ready = false;
    if (i % 13 == 5) spec.unschedulable = true;
    if (spec.cpu == "7820m") store_->UpsertNode(testing::ToNode(NodeJson(spec)));
    // Free EPC below the pod's 100 MiB differs node by node on some nodes, is the same on
    // others; the rest pass.
    if (i % 3 == 2) BindPod(*store_, "p" + std::to_string(i), spec.name, std::to_string(70 + i));
    if (i % 6 == 4) BindPod(*store_, "p" + std::to_string(i), spec.name, "165");
    names.push_back(spec.name);
    node_jsons.push_back(NodeJson(spec));
  }
  names.push_back("ghost");
  Extender extender(*store_, config_.scheduling, &seen_);
  const std::string pod = PodJson(EpcPod("web", "u1", "100"));

  auto names_args = Args(testing::NamesModeArgs(pod, names));
  ASSERT_TRUE(names_args.ok()) << names_args.error();
  FilterOutcome by_name = extender.Filter(*names_args);
  const PodInfo info = MakePodInfo(names_args->pod, store_->epc());
  size_t distinct = 0;
  std::map<std::string, int> seen_messages;
  for (const auto* list : {&by_name.answer.failed, &by_name.answer.unresolvable}) {
    for (const auto& [name, message] : *list) {
      const NodeInfo* node = store_->Snapshot()->FindNode(name);
      if (node == nullptr) {  // "ghost", and the nodes that do not decode
        EXPECT_EQ(message, UnknownNodeMessage(name));
        continue;
      }
      FitResult fit = extender.predicate().Fit(info, *node);
      EXPECT_EQ(message, fit.Message()) << name;
      EXPECT_EQ(list == &by_name.answer.unresolvable, fit.verdict() == Verdict::kUnresolvable);
      if (seen_messages[std::string(message)]++ == 0) ++distinct;
    }
  }
  EXPECT_GT(distinct, 16u);
  uint64_t rejected = 0;
  for (const RejectionCount& r : by_name.rejections) rejected += r.nodes;
  EXPECT_EQ(rejected, by_name.answer.failed.size() + by_name.answer.unresolvable.size());

  // Full mode: the extender's projection against the full decode of the same body.
  // (The same pod: its own hold does not count against it, and `other` holds nothing.)
  const std::string body = testing::FullModeArgs(pod, node_jsons);
  buffers_.push_back(std::make_unique<RequestBuffer>(body));
  auto with_projection = DecodeExtenderArgs(buffers_.back()->View(), extender.node_projection());
  auto without = Args(body);
  ASSERT_TRUE(with_projection.ok()) << with_projection.error();
  ASSERT_TRUE(without.ok()) << without.error();
  Extender other(*store_, config_.scheduling);
  FilterOutcome a = extender.Filter(*with_projection);
  FilterOutcome b = other.Filter(*without);
  EXPECT_EQ(a.answer.passing_nodes_json, b.answer.passing_nodes_json);
  EXPECT_EQ(a.answer.failed, b.answer.failed);
  EXPECT_EQ(a.answer.unresolvable, b.answer.unresolvable);
  EXPECT_EQ(a.rejections, b.rejections);
  EXPECT_EQ(EncodeFilterResult(a.answer), EncodeFilterResult(b.answer));
  EXPECT_FALSE(a.answer.passing_nodes_json.empty());
  EXPECT_FALSE(a.answer.failed.empty());
}

// Names mode decides each distinct EpcFitKey once (a table of verdicts per filter): with
// hundreds of distinct keys, more than the table's slots, and other pods' holds raising some
// nodes' keys, every node's verdict and message must still be the predicate's own for that
// node with the holds added.
TEST_F(ExtenderTest, NamesModeVerdictsAreThePredicatesForEveryNodeAndHold) {
  std::vector<std::string> names;
  for (int i = 0; i < 600; ++i) {
    testing::NodeSpec spec =
        i % 4 == 0 ? GeneralNode("general-" + std::to_string(i))
                   : SgxNode("sgx-" + std::to_string(i), std::to_string(128 + 32 * (i % 5)));
    store_->UpsertNode(testing::ToNode(NodeJson(spec)));
    if (i % 4 != 0) BindPod(*store_, "p" + std::to_string(i), spec.name, std::to_string(i % 150));
    names.push_back(spec.name);
  }
  Extender extender(*store_, config_.scheduling, &seen_);
  // Two other pods hold EPC on the nodes they passed: every third node, every fifth node.
  for (const auto& [uid, step] : {std::pair{"h1", 3}, std::pair{"h2", 5}}) {
    std::vector<std::string> some;
    for (size_t i = 0; i < names.size(); i += step) some.push_back(names[i]);
    auto args = Args(testing::NamesModeArgs(PodJson(EpcPod(uid, uid, "7")), some));
    ASSERT_TRUE(args.ok()) << args.error();
    EXPECT_FALSE(extender.Filter(*args).answer.passing_node_names.empty());
  }

  auto args = Args(testing::NamesModeArgs(PodJson(EpcPod("web", "u1", "60")), names));
  ASSERT_TRUE(args.ok()) << args.error();
  const FilterOutcome out = extender.Filter(*args);
  const std::set<std::string_view> passed(out.answer.passing_node_names.begin(),
                                          out.answer.passing_node_names.end());
  const auto failed = AsMap(out.answer.failed);
  const auto unresolvable = AsMap(out.answer.unresolvable);
  const PodInfo pod = MakePodInfo(args->pod, store_->epc());
  std::set<std::tuple<int64_t, int64_t, bool>> keys;  // EpcFitKeys, of all nodes
  size_t held_nodes = 0;
  for (const std::string& name : names) {
    const NodeInfo* node = store_->Snapshot()->FindNode(name);
    ASSERT_NE(node, nullptr);
    const NodeInfo with_holds = extender.WithHolds(*node, "u1");
    if (with_holds.requested.epc_bytes != node->requested.epc_bytes) ++held_nodes;
    const EpcFitKey key = EpcFitKeyOf(with_holds);
    keys.emplace(key.epc_allocatable_bytes, key.epc_requested_bytes, key.confidential);
    ExpectThePredicatesVerdict(extender.predicate().Fit(pod, with_holds), name,
                               passed.contains(name), failed, unresolvable);
  }
  EXPECT_EQ(passed.size() + failed.size() + unresolvable.size(), names.size());
  EXPECT_GT(held_nodes, 100u);
  EXPECT_GT(keys.size(), 2 * 64u);  // more distinct keys than the table has slots
  EXPECT_FALSE(passed.empty());
  uint64_t rejected = 0;
  for (const RejectionCount& r : out.rejections) rejected += r.nodes;
  EXPECT_EQ(rejected, failed.size() + unresolvable.size());
}

// Full mode reads each node's EPC and pool from the object in the request and what its pods
// request from the snapshot, whether or not the store has an object for that name (and what
// that object says): every verdict, message and score must be the predicate's own on such a
// NodeInfo, with other pods' holds added.
TEST_F(ExtenderTest, FullModeVerdictsAreThePredicatesOnTheRequestsNodes) {
  std::vector<std::string> node_jsons;
  for (int i = 0; i < 300; ++i) {
    const std::string name = "node-" + std::to_string(i);
    testing::NodeSpec spec =
        i % 4 == 0 ? GeneralNode(name) : SgxNode(name, std::to_string(128 + 32 * (i % 5)));
    node_jsons.push_back(NodeJson(spec));
    // The store's object for the name, when it has one, differs from the request's: more EPC,
    // or the other pool.
    testing::NodeSpec stored = spec;
    if (i % 4 != 0) stored.epc_amount = "512";
    if (i % 7 == 0) stored.pool = "general";
    if (i % 3 != 1) store_->UpsertNode(testing::ToNode(NodeJson(stored)));
    // Pods bound to the name, with or without an object for it in the store.
    if (i % 3 != 0) BindPod(*store_, "p" + std::to_string(i), name, std::to_string(i % 150));
  }
  Extender extender(*store_, config_.scheduling, &seen_);
  // Another pod holds EPC on the nodes it passed, one in three of them.
  {
    std::vector<std::string> some;
    for (size_t i = 0; i < node_jsons.size(); i += 3) some.push_back(node_jsons[i]);
    auto args = Args(testing::FullModeArgs(PodJson(EpcPod("h1", "h1", "9")), some));
    ASSERT_TRUE(args.ok()) << args.error();
    EXPECT_FALSE(extender.Filter(*args).answer.passing_nodes_json.empty());
  }

  auto args = Args(testing::FullModeArgs(PodJson(EpcPod("web", "u1", "60")), node_jsons));
  ASSERT_TRUE(args.ok()) << args.error();
  const FilterOutcome out = extender.Filter(*args);
  const Priorities scores = extender.Prioritize(*args);
  const std::set<std::string_view> passed(out.answer.passing_nodes_json.begin(),
                                          out.answer.passing_nodes_json.end());
  const auto failed = AsMap(out.answer.failed);
  const auto unresolvable = AsMap(out.answer.unresolvable);
  const PodInfo pod = MakePodInfo(args->pod, store_->epc());
  const std::shared_ptr<const ClusterSnapshot> snapshot = store_->Snapshot();
  ASSERT_EQ(scores.size(), node_jsons.size());
  size_t held_nodes = 0;
  for (size_t i = 0; i < args->nodes->size(); ++i) {
    const WireNode& wire = (*args->nodes)[i];
    const Node node = testing::ToNode(node_jsons[i]);
    NodeInfo info = MakeNodeInfo(node, store_->epc(), store_->pools());
    if (const NodeUse* use = snapshot->UseOf(node.name)) info.requested = use->requested;
    const NodeInfo with_holds = extender.WithHolds(info, "u1");
    if (with_holds.requested.epc_bytes != info.requested.epc_bytes) ++held_nodes;
    EXPECT_EQ(scores[i].host, node.name);
    EXPECT_EQ(scores[i].score, extender.predicate().Score(pod, with_holds)) << node.name;
    ExpectThePredicatesVerdict(extender.predicate().Fit(pod, with_holds), node.name,
                               passed.contains(wire.raw), failed, unresolvable);
  }
  EXPECT_EQ(passed.size() + failed.size() + unresolvable.size(), node_jsons.size());
  EXPECT_GT(held_nodes, 30u);
  EXPECT_FALSE(passed.empty());
  EXPECT_FALSE(failed.empty());
  EXPECT_FALSE(unresolvable.empty());
}

TEST_F(ExtenderTest, UnresolvableVersusFailed) {
  AddNodes();
  BindPod(*store_, "big", "sgx-0", "160");
  Extender extender(*store_, config_.scheduling);
  // 200 MiB exceeds every node's allocatable: unresolvable everywhere, preemption can't help.
  auto args = Args(testing::NamesModeArgs(PodJson(EpcPod("huge", "u2", "200")),
                                          {"sgx-0", "sgx-1", "general-0"}));
  ASSERT_TRUE(args.ok());
  FilterOutcome out = extender.Filter(*args);
  EXPECT_TRUE(out.answer.passing_node_names.empty());
  EXPECT_TRUE(out.answer.failed.empty());
  EXPECT_EQ(out.answer.unresolvable.size(), 3u);
}

TEST_F(ExtenderTest, DenyPolicyKeepsGeneralPodsOffConfidentialNodes) {
  AddNodes();
  SchedulingPolicy policy = config_.scheduling;
  policy.general_pods_on_confidential = GeneralPodPolicy::kDeny;
  Extender extender(*store_, policy);
  testing::PodSpec general = EpcPod("plain", "u3", "");
  auto args = Args(testing::NamesModeArgs(PodJson(general), {"sgx-0", "general-0"}));
  ASSERT_TRUE(args.ok());
  FilterOutcome out = extender.Filter(*args);
  EXPECT_EQ(out.answer.passing_node_names, Views{"general-0"});
  ASSERT_EQ(out.answer.unresolvable.size(), 1u);
  EXPECT_EQ(out.answer.unresolvable[0].first, "sgx-0");
  EXPECT_EQ(out.rejections, (std::vector<RejectionCount>{{"general_pod_on_confidential_node", 1}}));
}

TEST_F(ExtenderTest, PrioritizeScoresEveryGivenNode) {
  AddNodes();
  BindPod(*store_, "half", "sgx-0", "100");
  Extender extender(*store_, config_.scheduling);  // binpack
  auto args =
      Args(testing::NamesModeArgs(PodJson(EpcPod("web", "u1", "10")), {"sgx-0", "sgx-1", "ghost"}));
  ASSERT_TRUE(args.ok());
  Priorities scores = extender.Prioritize(*args);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_EQ(scores[0].host, "sgx-0");
  EXPECT_EQ(scores[1].host, "sgx-1");
  EXPECT_EQ(scores[2].host, "ghost");
  for (const auto& s : scores) {
    EXPECT_GE(s.score, 0);
    EXPECT_LE(s.score, 10);
  }
  EXPECT_GT(scores[0].score, scores[1].score);  // binpack: the fuller node first
  EXPECT_EQ(scores[2].score, 0);

  // Spread reverses the order; full mode gives the same answer as names mode.
  SchedulingPolicy spread = config_.scheduling;
  spread.strategy = ScoringStrategy::kSpread;
  Extender spreader(*store_, spread);
  auto full = Args(testing::FullModeArgs(PodJson(EpcPod("web", "u1", "10")),
                                         {NodeJson(SgxNode("sgx-0")), NodeJson(SgxNode("sgx-2"))}));
  ASSERT_TRUE(full.ok());
  Priorities spread_scores = spreader.Prioritize(*full);
  ASSERT_EQ(spread_scores.size(), 2u);
  EXPECT_LT(spread_scores[0].score, spread_scores[1].score);
}

TEST_F(ExtenderTest, PreemptKeepsOnlyNodesWhereTheVictimsFreeEnoughEpc) {
  AddNodes();
  store_->UpsertNode(testing::ToNode(NodeJson(SgxNode("sgx-2", "168"))));
  BindPod(*store_, "small-0", "sgx-0", "5");
  BindPod(*store_, "rest-0", "sgx-0", "160");  // sgx-0: 3 MiB free
  BindPod(*store_, "big-2", "sgx-2", "100");
  BindPod(*store_, "rest-2", "sgx-2", "65");  // sgx-2: 3 MiB free
  Extender extender(*store_, config_.scheduling);
  std::string pod = PodJson(EpcPod("web", "u1", "50"));
  auto args =
      PreemptArgs(testing::MetaPreemptArgs(pod, {{"sgx-0", {"small-0"}},         // frees 5: 8 < 50
                                                 {"sgx-2", {"big-2"}},           // frees 100: fits
                                                 {"sgx-1", {"not-there"}},       // free anyway
                                                 {"ghost", {"x"}},               // unknown node
                                                 {"general-0", {"small-0"}}}));  // no EPC at all
  ASSERT_TRUE(args.ok()) << args.error();
  std::vector<MetaVictimsAnswer> kept = extender.Preempt(*args);
  std::map<std::string, std::vector<std::string>> by_node;
  for (const auto& k : kept) by_node[k.node_name] = k.pod_uids;
  EXPECT_EQ(by_node.size(), 2u);
  EXPECT_EQ(by_node["sgx-2"], std::vector<std::string>{"big-2"});  // victims echoed back
  EXPECT_EQ(by_node["sgx-1"],
            std::vector<std::string>{"not-there"});  // kube-scheduler's choice stands
  EXPECT_EQ(by_node.count("sgx-0"), 0u);
  EXPECT_EQ(by_node.count("ghost"), 0u);

  // A victim on another node frees nothing here.
  auto elsewhere = PreemptArgs(testing::MetaPreemptArgs(pod, {{"sgx-0", {"big-2"}}}));
  ASSERT_TRUE(elsewhere.ok());
  EXPECT_TRUE(extender.Preempt(*elsewhere).empty());

  // Full-pod victims (NodeNameToVictims) are matched by metadata.uid.
  testing::PodSpec victim = EpcPod("running-big-2", "big-2", "100");
  victim.node_name = "sgx-2";
  victim.phase = "Running";
  auto full =
      PreemptArgs(testing::FullPreemptArgs(pod, {{"sgx-2", {PodJson(victim)}}, {"sgx-0", {}}}));
  ASSERT_TRUE(full.ok()) << full.error();
  kept = extender.Preempt(*full);
  ASSERT_EQ(kept.size(), 1u);
  EXPECT_EQ(kept[0].node_name, "sgx-2");
  EXPECT_EQ(kept[0].pod_uids, std::vector<std::string>{"big-2"});
  EXPECT_EQ(kept[0].num_pdb_violations, 1);
}

TEST_F(ExtenderTest, PreemptKeepsUnknownNodesForPodsWithoutEpc) {
  Extender extender(*store_, config_.scheduling);
  auto args =
      PreemptArgs(testing::MetaPreemptArgs(PodJson(EpcPod("plain", "u5", "")), {{"ghost", {"x"}}}));
  ASSERT_TRUE(args.ok());
  ASSERT_EQ(extender.Preempt(*args).size(), 1u);
}

TEST_F(ExtenderTest, BindAccountsThePodFilterSaw) {
  AddNodes();
  StoreBinder binder(*store_, seen_);
  Extender extender(*store_, config_.scheduling, &seen_, &binder);
  std::string pod = PodJson(EpcPod("web", "u1", "100"));
  auto args = Args(testing::NamesModeArgs(pod, {"sgx-0"}));
  ASSERT_TRUE(args.ok());
  ASSERT_EQ(extender.Filter(*args).answer.passing_node_names.size(), 1u);

  EXPECT_EQ(extender.Bind({"web", "default", "u1", "sgx-0"}), "");
  const NodeInfo* node = store_->Snapshot()->FindNode("sgx-0");
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->requested.epc_bytes, 100LL << 20);
  ASSERT_NE(store_->Snapshot()->FindPod("u1"), nullptr);

  // The EPC counts at once: a second 100 MiB pod no longer fits sgx-0.
  auto second = Args(testing::NamesModeArgs(PodJson(EpcPod("web-2", "u2", "100")), {"sgx-0"}));
  ASSERT_TRUE(second.ok());
  FilterOutcome out = extender.Filter(*second);
  EXPECT_TRUE(out.answer.passing_node_names.empty());
  EXPECT_EQ(out.answer.failed.size(), 1u);
}

TEST_F(ExtenderTest, BindErrors) {
  StoreBinder binder(*store_, seen_);
  Extender extender(*store_, config_.scheduling, &seen_, &binder);
  EXPECT_EQ(extender.Bind({"web", "default", "nope", "sgx-0"}),
            "pod default/web (uid nope) was not seen by filter; cannot bind");
  seen_.Remember(testing::ToPod(PodJson(EpcPod("web", "u1", "10"))));
  EXPECT_NE(extender.Bind({"other", "default", "u1", "sgx-0"}).find("does not match"),
            std::string::npos);
  Extender no_binder(*store_, config_.scheduling, &seen_);
  EXPECT_NE(no_binder.Bind({"web", "default", "u1", "sgx-0"}).find("no binder"), std::string::npos);
}

TEST(SeenPods, EvictsTheLeastRecentlySeen) {
  SeenPods seen(2);
  auto pod = [](const std::string& uid) {
    Pod p;
    p.uid = uid;
    p.name = "pod-" + uid;
    return p;
  };
  seen.Remember(pod("a"));
  seen.Remember(pod("b"));
  seen.Remember(pod("a"));  // seen again: now the most recent
  seen.Remember(pod("c"));  // evicts b
  EXPECT_NE(seen.Find("a"), nullptr);
  EXPECT_EQ(seen.Find("b"), nullptr);
  EXPECT_NE(seen.Find("c"), nullptr);
  EXPECT_EQ(seen.size(), 2u);
  seen.Remember(Pod{});  // no uid: ignored
  EXPECT_EQ(seen.size(), 2u);
}

}  // namespace
}  // namespace epc
