// Holds between filter and bind: back-to-back pods never both get the last free EPC.
#include "scheduler/extender/reservations.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/util/name_hash.h"
#include "scheduler/extender/explain.h"
#include "scheduler/extender/extender.h"
#include "tests/testing/builders.h"

namespace epc {
namespace {

using testing::kAzureEpc;
using testing::NodeBuilder;
using testing::PodBuilder;
using Clock = std::chrono::steady_clock;

// Records binds without touching the store, as the API binder does (the watch shows it later).
class RecordingBinder : public Binder {
 public:
  Result<bool> Bind(std::string_view, std::string_view name, std::string_view,
                    std::string_view node) override {
    bound.emplace_back(std::string(name), std::string(node));
    return true;
  }
  std::vector<std::pair<std::string, std::string>> bound;
};

class HoldsTest : public ::testing::Test {
 protected:
  HoldsTest()
      : store_(EpcResources(), PoolClassifier({PoolSpec{"sgx", true, {}}})),
        extender_(store_, SchedulingPolicy{}, nullptr, &binder_, Options()) {
    // 25 MiB free on each node.
    store_.UpsertNode(NodeBuilder("sgx-x").Allocatable(kAzureEpc, "168").Build());
    store_.UpsertNode(NodeBuilder("sgx-y").Allocatable(kAzureEpc, "168").Build());
    store_.UpsertPod(PodBuilder("base-x").Request(kAzureEpc, "143").OnNode("sgx-x").Build());
    store_.UpsertPod(PodBuilder("base-y").Request(kAzureEpc, "143").OnNode("sgx-y").Build());
  }
  ExtenderOptions Options() {
    ExtenderOptions o;
    o.reservation_ttl = std::chrono::seconds(30);
    o.now = [this] { return now_; };
    return o;
  }
  std::vector<std::string> Passing(const Pod& pod) {
    ExtenderArgs args;
    args.pod = pod;
    args.node_names = std::vector<std::string_view>{"sgx-x", "sgx-y"};
    FilterOutcome out = extender_.Filter(args);
    return {out.answer.passing_node_names.begin(), out.answer.passing_node_names.end()};
  }
  // The same filter with whole nodes in the request (full mode): the request's Node objects,
  // the store's bound pods and the holds.
  std::vector<std::string> PassingFullMode(const Pod& pod) {
    ExtenderArgs args;
    args.pod = pod;
    args.nodes = RequestNodes();
    FilterOutcome out = extender_.Filter(args);
    return {out.answer.passing_nodes_json.begin(), out.answer.passing_nodes_json.end()};
  }
  // Both nodes as a full-mode request brings them (each raw text is the node's name).
  std::vector<WireNode> RequestNodes() {
    std::vector<WireNode> nodes;
    for (const char* name : {"sgx-x", "sgx-y"}) {
      WireNode node;
      node.raw = name;
      node.decoded.node = *store_.Snapshot()->FindNode(name)->node;
      nodes.push_back(std::move(node));
    }
    return nodes;
  }
  using Names = std::vector<std::string>;

  Clock::time_point now_ = Clock::time_point{} + std::chrono::hours(1);
  ClusterStore store_;
  RecordingBinder binder_;
  Extender extender_;
};

TEST_F(HoldsTest, BackToBackPodsDoNotShareTheLastFreeEpc) {
  const Pod a = PodBuilder("a").Request(kAzureEpc, "20").Build();
  const Pod b = PodBuilder("b").Request(kAzureEpc, "20").Build();
  EXPECT_EQ(Passing(a), (Names{"sgx-x", "sgx-y"}));
  // a holds 20 MiB on both nodes it passed: 5 MiB left for b anywhere.
  EXPECT_EQ(Passing(b), Names{});
  EXPECT_EQ(extender_.held_pods(), 1u);
  // Filtering a again does not count a's own hold against it.
  EXPECT_EQ(Passing(a), (Names{"sgx-x", "sgx-y"}));
}

TEST_F(HoldsTest, FullModeCountsOtherPodsHoldsToo) {
  const Pod a = PodBuilder("a").Request(kAzureEpc, "20").Build();
  const Pod b = PodBuilder("b").Request(kAzureEpc, "20").Build();
  EXPECT_EQ(PassingFullMode(a), (Names{"sgx-x", "sgx-y"}));
  EXPECT_EQ(PassingFullMode(b), Names{});  // 5 MiB left beside a's hold
  EXPECT_EQ(PassingFullMode(PodBuilder("c").Request(kAzureEpc, "5").Build()).size(), 2u);
  EXPECT_EQ(PassingFullMode(a), (Names{"sgx-x", "sgx-y"}));  // not its own hold
}

TEST_F(HoldsTest, SmallPodsStillFitBesideAHold) {
  EXPECT_EQ(Passing(PodBuilder("a").Request(kAzureEpc, "20").Build()).size(), 2u);
  EXPECT_EQ(Passing(PodBuilder("small").Request(kAzureEpc, "5").Build()).size(), 2u);
  EXPECT_EQ(Passing(PodBuilder("six").Request(kAzureEpc, "6").Build()).size(), 0u);
  // Pods without EPC hold nothing and are not held back.
  EXPECT_EQ(Passing(PodBuilder("web").Request("cpu", "1").Build()).size(), 2u);
}

TEST_F(HoldsTest, BindNarrowsTheHoldToTheChosenNode) {
  const Pod a = PodBuilder("a").Request(kAzureEpc, "20").Build();
  ASSERT_EQ(Passing(a).size(), 2u);
  ExtenderBindingArgs bind{a.name, a.namespace_name, a.uid, "sgx-x"};
  EXPECT_EQ(extender_.Bind(bind), "");
  ASSERT_EQ(binder_.bound.size(), 1u);
  const Pod b = PodBuilder("b").Request(kAzureEpc, "20").Build();
  EXPECT_EQ(Passing(b), Names{"sgx-y"});
}

TEST_F(HoldsTest, HoldEndsWhenThePodIsSeenBound) {
  Pod a = PodBuilder("a").Request(kAzureEpc, "20").Build();
  ASSERT_EQ(Passing(a).size(), 2u);
  a.node_name = "sgx-x";
  a.phase = "Running";
  store_.UpsertPod(a);  // the watch shows the binding: real use replaces the hold
  const Pod b = PodBuilder("b").Request(kAzureEpc, "20").Build();
  EXPECT_EQ(Passing(b), Names{"sgx-y"});
  EXPECT_EQ(extender_.held_pods(), 1u) << "only b's hold is left";
}

TEST_F(HoldsTest, HoldExpiresAfterTheTtl) {
  ASSERT_EQ(Passing(PodBuilder("a").Request(kAzureEpc, "20").Build()).size(), 2u);
  const Pod b = PodBuilder("b").Request(kAzureEpc, "20").Build();
  now_ += std::chrono::seconds(29);
  EXPECT_EQ(Passing(b).size(), 0u);
  now_ += std::chrono::seconds(2);
  EXPECT_EQ(Passing(b).size(), 2u);
}

TEST_F(HoldsTest, PrioritizeCountsOtherPodsHolds) {
  ASSERT_EQ(Passing(PodBuilder("a").Request(kAzureEpc, "20").Build()).size(), 2u);
  ExtenderBindingArgs bind{"a", "default", "uid-default-a", "sgx-x"};
  ASSERT_EQ(extender_.Bind(bind), "");
  ExtenderArgs args;
  args.pod = PodBuilder("c").Request(kAzureEpc, "4").Build();
  args.node_names = std::vector<std::string_view>{"sgx-x", "sgx-y"};
  const auto scores = extender_.Prioritize(args);
  ASSERT_EQ(scores.size(), 2u);
  // binpack: x is fuller with a's hold (143 + 20 + 4 = 167 of 168) than y (147 of 168).
  EXPECT_EQ(scores[0].score, 10);
  EXPECT_EQ(scores[1].score, 9);

  // The same with whole nodes in the request (full mode).
  args.node_names.reset();
  args.nodes = RequestNodes();
  const auto full_scores = extender_.Prioritize(args);
  ASSERT_EQ(full_scores.size(), 2u);
  EXPECT_EQ(full_scores[0].score, 10);
  EXPECT_EQ(full_scores[1].score, 9);
}

TEST_F(HoldsTest, ExplainNamesFreeEpcHoldsAndTheBestNode) {
  ASSERT_EQ(Passing(PodBuilder("a").Request(kAzureEpc, "20").Build()).size(), 2u);
  ASSERT_EQ(extender_.Bind({"a", "default", "uid-default-a", "sgx-x"}), "");
  const Explanation e = Explain(extender_, PodBuilder("b").Request(kAzureEpc, "10").Build());
  EXPECT_EQ(e.pod, "default/b");
  ASSERT_EQ(e.nodes.size(), 2u);
  EXPECT_EQ(e.nodes[0].node, "sgx-y");
  EXPECT_EQ(e.nodes[0].verdict, "fits");
  EXPECT_EQ(e.nodes[1].node, "sgx-x");
  EXPECT_EQ(e.nodes[1].verdict, "unschedulable");
  EXPECT_EQ(e.nodes[1].reason, "insufficient EPC: requested 10 MiB, free 5 MiB of 168 MiB");
  ASSERT_TRUE(e.best_node.has_value());
  EXPECT_EQ(*e.best_node, "sgx-y");
  ASSERT_EQ(e.pools.size(), 1u);
  EXPECT_EQ(e.pools[0].nodes, 2);
  EXPECT_EQ(e.pools[0].nodes_fitting, 1);
  EXPECT_EQ(e.pools[0].largest_epc_free_bytes, 25 << 20);

  const std::string text = ExplanationText(e);
  EXPECT_NE(text.find("the extender would rank sgx-y first"), std::string::npos) << text;
  EXPECT_NE(text.find("insufficient EPC: requested 10 MiB, free 5 MiB"), std::string::npos);
  const std::string json = ExplanationJson(e);
  EXPECT_NE(json.find("\"bestNode\": \"sgx-y\""), std::string::npos) << json;
}

TEST_F(HoldsTest, ExplainUsesEveryCheck) {
  store_.UpsertNode(NodeBuilder("tainted")
                        .Allocatable(kAzureEpc, "168")
                        .Taint("sgx", "true", "NoSchedule")
                        .Build());
  const Explanation e = Explain(extender_, PodBuilder("b").Request(kAzureEpc, "10").Build());
  const auto it = std::find_if(e.nodes.begin(), e.nodes.end(),
                               [](const auto& n) { return n.node == "tainted"; });
  ASSERT_NE(it, e.nodes.end());
  EXPECT_EQ(it->verdict, "unresolvable");
  EXPECT_NE(it->reason.find("taint {sgx=true:NoSchedule}"), std::string::npos) << it->reason;
}

// Threads race filter + bind of 10 MiB pods for one node with room for five. The binder writes
// each binding straight into the store (a watch with no delay), so bindings land while other
// filters wait for the reservations: each filter must still count every pod granted before it,
// bound or held, whatever snapshot was newest when it started.
TEST(HoldsRaceTest, ConcurrentFiltersAndBindsNeverOvercommit) {
  constexpr int kThreads = 8, kPodsPerThread = 10;
  for (int round = 0; round < 25; ++round) {
    ClusterStore store(EpcResources(), PoolClassifier({PoolSpec{"sgx", true, {}}}));
    store.UpsertNode(NodeBuilder("sgx-0").Allocatable(kAzureEpc, "50").Build());
    SeenPods seen;
    StoreBinder binder(store, seen);
    Extender extender(store, SchedulingPolicy{}, &seen, &binder);
    std::atomic<int> bound{0};
    {
      std::vector<std::jthread> threads;
      for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
          for (int i = 0; i < kPodsPerThread; ++i) {
            const Pod pod = PodBuilder("p" + std::to_string(t) + "-" + std::to_string(i))
                                .Request(kAzureEpc, "10")
                                .Build();
            ExtenderArgs args;
            args.pod = pod;
            args.node_names = std::vector<std::string_view>{"sgx-0"};
            if (extender.Filter(args).answer.passing_node_names.empty()) continue;
            if (extender.Bind({pod.name, pod.namespace_name, pod.uid, "sgx-0"}).empty()) ++bound;
          }
        });
      }
    }  // joined
    EXPECT_EQ(bound.load(), 5) << "round " << round;
    EXPECT_EQ(store.Snapshot()->FindNode("sgx-0")->requested.epc_bytes, 50LL << 20)
        << "round " << round;
  }
}

TEST(ReservationsTest, HeldOnSumsOtherPodsOnly) {
  Reservations r(std::chrono::seconds(10));
  const auto t = Clock::time_point{} + std::chrono::hours(1);
  r.Hold("a", 10, {"x", "y"}, t);
  r.Hold("b", 5, {"y"}, t);
  EXPECT_EQ(r.HeldOn("y", ""), 15);
  EXPECT_EQ(r.HeldOn("y", "a"), 5);
  EXPECT_EQ(r.HeldOn("x", "a"), 0);
  r.Hold("a", 10, {}, t);  // a filter that passed nowhere holds nothing
  EXPECT_EQ(r.HeldOn("x", ""), 0);
  EXPECT_EQ(r.size(), 1u);
}

// A whole request's holds at once: the same sums as asking node by node, for names in several
// holds, in none, listed twice, and for the pod's own hold left out.
TEST(ReservationsTest, HeldOnAllIsHeldOnForEveryNode) {
  Reservations r(std::chrono::seconds(10));
  const auto t = Clock::time_point{} + std::chrono::hours(1);
  std::vector<std::string> owned;
  for (int i = 0; i < 400; ++i) owned.push_back("node-" + std::to_string(i));
  auto every = [&](int step, int from) {
    std::vector<std::string_view> out;
    for (size_t i = static_cast<size_t>(from); i < owned.size(); i += static_cast<size_t>(step)) {
      out.push_back(owned[i]);
    }
    return NodeNameSet(out);
  };
  r.Hold("a", 10, every(2, 0), t);
  r.Hold("b", 7, every(3, 1), t);
  r.Hold("c", std::numeric_limits<int64_t>::max(), every(5, 0), t);
  std::vector<std::string_view> request(owned.begin(), owned.end());
  request.push_back("unknown");
  request.push_back(owned[10]);  // twice
  for (const std::string_view except : {"", "a", "b", "c", "other"}) {
    std::vector<int64_t> held(request.size(), -1);
    r.HeldOnAll(HashNames(request), except, held);
    for (size_t i = 0; i < request.size(); ++i) {
      EXPECT_EQ(held[i], r.HeldOn(request[i], except)) << request[i] << " except " << except;
    }
  }
  std::vector<int64_t> held(request.size(), -1);
  r.HeldOnAll(HashNames(request), "", held);
  EXPECT_EQ(held[0], std::numeric_limits<int64_t>::max());  // in a and c: saturated
  EXPECT_EQ(held[1], 7);                                    // in b only
  EXPECT_EQ(held[3], 0);                                    // in none
  EXPECT_EQ(held[400], 0);                                  // unknown
  EXPECT_EQ(held[401], held[10]);
}

TEST(NodeNameSetTest, HoldsExactlyTheNamesGiven) {
  std::vector<std::string> owned;
  for (int i = 0; i < 3000; ++i) owned.push_back("aks-nodepool-" + std::to_string(i * 7));
  std::vector<std::string_view> names(owned.begin(), owned.end());
  names.push_back("");
  names.push_back(owned[5]);  // twice
  const NodeNameSet set(names);
  owned.push_back("gone");  // the set keeps no reference to the names
  for (auto& name : owned) name[0] = 'X';
  EXPECT_EQ(set.size(), 3001u);
  for (int i = 0; i < 3000 * 7; ++i) {
    const std::string name = "aks-nodepool-" + std::to_string(i);
    EXPECT_EQ(set.contains(name), i % 7 == 0) << name;
  }
  EXPECT_TRUE(set.contains(""));
  EXPECT_FALSE(set.contains("aks-nodepool-"));
  EXPECT_FALSE(set.contains("aks-nodepool-00"));

  const NodeNameSet empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_FALSE(empty.contains(""));
  EXPECT_TRUE(NodeNameSet{"a"}.contains("a"));
  EXPECT_FALSE(NodeNameSet{"a"}.contains("b"));
}

// The running totals against holds added up one by one, through every way a hold comes and
// goes: taken, replaced, narrowed, released, pruned by TTL and by the snapshot, asked about
// with and without each pod's own hold left out (which counts holds lazily), across table
// rebuilds, and with amounts whose sums pass INT64_MAX.
TEST(ReservationsTest, RunningTotalsMatchTheHoldsOneByOne) {
  constexpr int kNodes = 300;
  constexpr int kPods = 12;
  std::vector<std::string> nodes;
  for (int i = 0; i < kNodes; ++i) nodes.push_back("node-" + std::to_string(i));
  std::vector<std::string_view> request(nodes.begin(), nodes.end());
  request.push_back("not-held-anywhere");
  const std::vector<uint64_t> hashes = HashNames(request);

  struct ModelHold {
    int64_t bytes;
    std::set<std::string> nodes;
    Clock::time_point expires;
  };
  std::map<std::string, ModelHold> model;
  const auto ttl = std::chrono::seconds(10);
  Reservations r(ttl);
  ClusterStore store(EpcResources(), PoolClassifier(std::vector<PoolSpec>{}));  // no pod bound
  Clock::time_point now = Clock::time_point{} + std::chrono::hours(1);
  std::mt19937_64 random(7);
  auto pick = [&](uint64_t n) { return static_cast<size_t>(random() % n); };
  auto expected = [&](const std::string& node, const std::string& except) {
    __int128 total = 0;
    for (const auto& [uid, hold] : model) {
      if (uid != except && hold.nodes.contains(node)) total += hold.bytes;
    }
    return static_cast<int64_t>(std::min<__int128>(total, std::numeric_limits<int64_t>::max()));
  };

  for (int step = 0; step < 3000; ++step) {
    const std::string uid = "pod-" + std::to_string(pick(kPods));
    switch (pick(6)) {
      case 0:
      case 1: {  // a filter: holds on a random share of the nodes, some listed twice
        const int64_t bytes = pick(20) == 0 ? std::numeric_limits<int64_t>::max() - 5
                                            : static_cast<int64_t>(1 + pick(1000));
        std::vector<std::string_view> passed;
        std::set<std::string> held;
        const size_t every = 1 + pick(5);
        for (size_t i = pick(every); i < nodes.size(); i += every) {
          passed.push_back(nodes[i]);
          if (pick(10) == 0) passed.push_back(nodes[i]);
          held.insert(nodes[i]);
        }
        // Both ways a hold is taken: a set built now, and hashes put into a set when another
        // pod first asks (what Extender::Filter does).
        if (pick(2) == 0) {
          r.Hold(uid, bytes, NodeNameSet(passed), now);
        } else {
          r.HoldOnHashes(uid, bytes, HashNames(passed), now);
        }
        model[uid] = {bytes, held, now + ttl};
        break;
      }
      case 2:
        r.Release(uid);
        model.erase(uid);
        break;
      case 3: {
        const std::string node = nodes[pick(nodes.size())];
        r.Narrow(uid, node, now);
        if (auto it = model.find(uid); it != model.end()) {
          it->second.nodes = {node};
          it->second.expires = now + ttl;
        }
        break;
      }
      case 4:  // time passes; the oldest holds expire
        now += std::chrono::seconds(1);
        r.Prune(*store.Snapshot(), now);
        std::erase_if(model, [&](const auto& kv) { return kv.second.expires <= now; });
        break;
      default: {  // a filter or prioritize asks
        const std::string except = pick(3) == 0 ? "" : uid;
        std::vector<int64_t> held(request.size(), -1);
        r.HeldOnAll(hashes, except, held);
        for (size_t i = 0; i < request.size(); ++i) {
          ASSERT_EQ(held[i], expected(std::string(request[i]), except))
              << "step " << step << ", node " << request[i] << ", except " << except;
        }
        const std::string& node = nodes[pick(nodes.size())];
        ASSERT_EQ(r.HeldOn(node, except), expected(node, except)) << "step " << step;
        ASSERT_EQ(r.OthersHold(except),
                  std::any_of(model.begin(), model.end(),
                              [&](const auto& kv) { return kv.first != except; }));
      }
    }
    ASSERT_EQ(r.size(), model.size()) << "step " << step;
  }
}

// A sum past INT64_MAX answers INT64_MAX, and taking the large hold off leaves the exact rest.
TEST(ReservationsTest, SumsPastInt64MaxComeBackExact) {
  Reservations r(std::chrono::seconds(10));
  const auto t = Clock::time_point{} + std::chrono::hours(1);
  r.Hold("huge", std::numeric_limits<int64_t>::max(), {"x"}, t);
  r.Hold("big", std::numeric_limits<int64_t>::max() - 1, {"x"}, t);
  r.Hold("small", 3, {"x", "y"}, t);
  EXPECT_EQ(r.HeldOn("x", ""), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(r.HeldOn("x", "huge"), std::numeric_limits<int64_t>::max());
  r.Release("huge");
  EXPECT_EQ(r.HeldOn("x", ""), std::numeric_limits<int64_t>::max());
  r.Release("big");
  EXPECT_EQ(r.HeldOn("x", ""), 3);
  EXPECT_EQ(r.HeldOn("y", "small"), 0);
}

TEST(ReservationsTest, OthersHold) {
  Reservations r(std::chrono::seconds(10));
  const auto t = Clock::time_point{} + std::chrono::hours(1);
  EXPECT_FALSE(r.OthersHold("a"));
  r.Hold("a", 10, {"x"}, t);
  EXPECT_FALSE(r.OthersHold("a"));
  EXPECT_TRUE(r.OthersHold("b"));
  r.Narrow("a", "y", t);
  EXPECT_EQ(r.HeldOn("y", ""), 10);
  EXPECT_EQ(r.HeldOn("x", ""), 0);
}

}  // namespace
}  // namespace epc
