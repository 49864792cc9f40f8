#include "common/state/cluster_state.h"

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <vector>

#include "common/util/name_hash.h"
#include "tests/testing/builders.h"

namespace epc {
namespace {

using testing::kAzureEpc;
using testing::NodeBuilder;
using testing::PodBuilder;

// What ForEachFound (an index) or ForEachNode (a snapshot) hands over for each name, in an
// array (IndexedNode{} for an unknown name). Checks that every name is handed over once, in
// order.
template <typename Table>
std::vector<IndexedNode> FoundAll(const Table& table, const std::vector<std::string_view>& names) {
  std::vector<IndexedNode> out;
  auto collect = [&](size_t i, const IndexedNode* node) {
    EXPECT_EQ(i, out.size());
    out.push_back(node == nullptr ? IndexedNode{} : *node);
  };
  const std::vector<uint64_t> hashes = HashNames(names);
  if constexpr (std::is_same_v<Table, NodeNameIndex>) {
    table.ForEachFound(names, hashes, collect);
  } else {
    table.ForEachNode(names, hashes, collect);
  }
  EXPECT_EQ(out.size(), names.size());
  return out;
}

constexpr int64_t kMiB = 1 << 20;

class ClusterStoreTest : public ::testing::Test {
 protected:
  ClusterStoreTest() : store_(EpcResources(), PoolClassifier({PoolSpec{"sgx", true, {}}})) {
    store_.UpsertNode(NodeBuilder("sgx-0").Allocatable(kAzureEpc, "168").Build());
  }
  int64_t RequestedEpc(const std::string& node) {
    return store_.Snapshot()->FindNode(node)->requested.epc_bytes;
  }
  ClusterStore store_;
};

TEST_F(ClusterStoreTest, BoundPodsAddUp) {
  store_.UpsertPod(PodBuilder("a").Request(kAzureEpc, "10").OnNode("sgx-0").Build());
  store_.UpsertPod(PodBuilder("b").Request(kAzureEpc, "20").OnNode("sgx-0").Build());
  EXPECT_EQ(RequestedEpc("sgx-0"), 30 * kMiB);
  const NodeInfo* info = store_.Snapshot()->FindNode("sgx-0");
  EXPECT_EQ(info->requested.pods, 2);
  EXPECT_EQ(info->pool.index, 0);
  EXPECT_EQ(info->allocatable.epc_bytes, 168 * kMiB);
}

TEST_F(ClusterStoreTest, PendingAndFinishedPodsDoNotCount) {
  store_.UpsertPod(PodBuilder("pending").Request(kAzureEpc, "10").Build());
  store_.UpsertPod(
      PodBuilder("done").Request(kAzureEpc, "10").OnNode("sgx-0", "Succeeded").Build());
  EXPECT_EQ(RequestedEpc("sgx-0"), 0);

  // A running pod that finishes stops counting.
  const Pod running = PodBuilder("job").Request(kAzureEpc, "10").OnNode("sgx-0").Build();
  store_.UpsertPod(running);
  EXPECT_EQ(RequestedEpc("sgx-0"), 10 * kMiB);
  Pod failed = running;
  failed.phase = "Failed";
  store_.UpsertPod(failed);
  EXPECT_EQ(RequestedEpc("sgx-0"), 0);
}

TEST_F(ClusterStoreTest, UpdatesReplaceRatherThanAdd) {
  Pod pod = PodBuilder("a").Request(kAzureEpc, "10").OnNode("sgx-0").Build();
  store_.UpsertPod(pod);
  store_.UpsertPod(pod);
  EXPECT_EQ(RequestedEpc("sgx-0"), 10 * kMiB);
  store_.DeletePod(pod.uid);
  EXPECT_EQ(RequestedEpc("sgx-0"), 0);
  store_.DeletePod(pod.uid);  // idempotent
  EXPECT_EQ(RequestedEpc("sgx-0"), 0);
}

TEST_F(ClusterStoreTest, SnapshotsAreImmutable) {
  store_.UpsertPod(PodBuilder("a").Request(kAzureEpc, "10").OnNode("sgx-0").Build());
  const auto before = store_.Snapshot();
  EXPECT_EQ(before, store_.Snapshot()) << "no change, no new snapshot";
  store_.UpsertPod(PodBuilder("b").Request(kAzureEpc, "20").OnNode("sgx-0").Build());
  store_.DeleteNode("sgx-0");
  EXPECT_EQ(before->FindNode("sgx-0")->requested.epc_bytes, 10 * kMiB);
  EXPECT_EQ(store_.Snapshot()->FindNode("sgx-0"), nullptr);
}

TEST_F(ClusterStoreTest, UseIsKeptForNodesWithoutObjects) {
  store_.UpsertPod(PodBuilder("a").Request(kAzureEpc, "10").OnNode("elsewhere").Build());
  const auto snap = store_.Snapshot();
  ASSERT_NE(snap->UseOf("elsewhere"), nullptr);
  EXPECT_EQ(snap->UseOf("elsewhere")->requested.epc_bytes, 10 * kMiB);
  EXPECT_EQ(snap->UseOf("elsewhere")->pods.size(), 1u);
  EXPECT_EQ(snap->UseOf("nobody"), nullptr);

  // The node object arriving later picks the use up.
  store_.UpsertNode(NodeBuilder("elsewhere").Allocatable(kAzureEpc, "64").Build());
  EXPECT_EQ(RequestedEpc("elsewhere"), 10 * kMiB);
}

TEST_F(ClusterStoreTest, PodMovingBetweenNodesMovesItsUse) {
  store_.UpsertNode(NodeBuilder("sgx-1").Allocatable(kAzureEpc, "168").Build());
  Pod pod = PodBuilder("a").Request(kAzureEpc, "10").OnNode("sgx-0").Build();
  store_.UpsertPod(pod);
  pod.node_name = "sgx-1";
  store_.UpsertPod(pod);
  EXPECT_EQ(RequestedEpc("sgx-0"), 0);
  EXPECT_EQ(RequestedEpc("sgx-1"), 10 * kMiB);
  EXPECT_NE(store_.Snapshot()->FindPod(pod.uid), nullptr);
  EXPECT_EQ(store_.Snapshot()->Nodes().size(), 2u);
}

TEST_F(ClusterStoreTest, NodeUpdateKeepsRequested) {
  store_.UpsertPod(PodBuilder("a").Request(kAzureEpc, "10").OnNode("sgx-0").Build());
  store_.UpsertNode(NodeBuilder("sgx-0").Allocatable(kAzureEpc, "112").Label("x", "y").Build());
  const NodeInfo* info = store_.Snapshot()->FindNode("sgx-0");
  EXPECT_EQ(info->requested.epc_bytes, 10 * kMiB);
  EXPECT_EQ(info->allocatable.epc_bytes, 112 * kMiB);
  EXPECT_EQ(info->node->labels.at("x"), "y");
}

// NodeNameIndex, by itself: what FindNode and ForEachNode answer from.
// Waits up to 10 s for the store to publish a snapshot other than `old`.
std::shared_ptr<const ClusterSnapshot> NextSnapshot(
    const ClusterStore& store, const std::shared_ptr<const ClusterSnapshot>& old) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    std::shared_ptr<const ClusterSnapshot> now = store.Snapshot();
    if (now != old) return now;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return old;
}

// In the background, readers get the last snapshot built, at once, until the store's thread
// builds the next one `delay` after a change; a burst of changes goes into one snapshot.
TEST_F(ClusterStoreTest, BackgroundPublishingKeepsReadersOffTheBuild) {
  store_.PublishInBackground(std::chrono::milliseconds(500));
  const std::shared_ptr<const ClusterSnapshot> first = store_.Snapshot();
  EXPECT_EQ(first->FindNode("sgx-0")->requested.epc_bytes, 0);
  store_.UpsertPod(PodBuilder("a").Request(kAzureEpc, "10").OnNode("sgx-0").Build());
  store_.UpsertPod(PodBuilder("b").Request(kAzureEpc, "20").OnNode("sgx-0").Build());
  store_.UpsertNode(NodeBuilder("sgx-1").Allocatable(kAzureEpc, "64").Build());
  // Within the delay (500 ms): still the snapshot from before the changes, unchanged.
  EXPECT_EQ(store_.Snapshot(), first);
  EXPECT_EQ(first->FindNode("sgx-1"), nullptr);
  const std::shared_ptr<const ClusterSnapshot> next = NextSnapshot(store_, first);
  ASSERT_NE(next, first) << "no snapshot published after the changes";
  EXPECT_EQ(next->FindNode("sgx-0")->requested.epc_bytes, 30 * kMiB);
  EXPECT_NE(next->FindNode("sgx-1"), nullptr);
  EXPECT_NE(next->FindPod(PodBuilder("a").Build().uid), nullptr);
  // All three changes are in that one snapshot: nothing more is published after it.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(store_.Snapshot(), next);
  // The snapshot held by a reader outlives its replacement.
  store_.DeletePod(PodBuilder("a").Build().uid);
  const std::shared_ptr<const ClusterSnapshot> third = NextSnapshot(store_, next);
  EXPECT_EQ(third->FindNode("sgx-0")->requested.epc_bytes, 20 * kMiB);
  EXPECT_EQ(next->FindNode("sgx-0")->requested.epc_bytes, 30 * kMiB);
}

TEST(ClusterStoreBackgroundTest, AStoreWithAChangePendingStopsPromptly) {
  const auto start = std::chrono::steady_clock::now();
  {
    ClusterStore store(EpcResources(), PoolClassifier({PoolSpec{"sgx", true, {}}}));
    store.PublishInBackground(std::chrono::seconds(30));
    store.Snapshot();
    store.UpsertNode(NodeBuilder("sgx-0").Allocatable(kAzureEpc, "168").Build());
  }  // the publisher is waiting out its 30 s delay
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

class NodeNameIndexTest : public ::testing::Test {
 protected:
  // Infos told apart by their requested EPC (i + 1 bytes for infos_[i]).
  NodeNameIndexTest() : infos_(2000) {
    for (size_t i = 0; i < infos_.size(); ++i) {
      infos_[i].requested.epc_bytes = static_cast<int64_t>(i) + 1;
      infos_[i].allocatable.epc_bytes = 1000;
      infos_[i].pool.confidential = i % 2 == 0;
    }
  }
  std::vector<NodeInfo> infos_;
};

TEST_F(NodeNameIndexTest, EmptyIndexFindsNothing) {
  const NodeNameIndex index;
  EXPECT_EQ(index.size(), 0u);
  EXPECT_EQ(index.Find("a"), nullptr);
  EXPECT_EQ(index.Find(""), nullptr);
  const std::vector<std::string_view> names = {"a", "b"};
  const std::vector<IndexedNode> out = FoundAll(index, names);
  EXPECT_EQ(out[0].info, nullptr);
  EXPECT_EQ(out[1].info, nullptr);
  const NodeNameIndex built_empty(std::span<const NodeNameIndex::Entry>{});
  EXPECT_EQ(built_empty.Find("a"), nullptr);
}

TEST_F(NodeNameIndexTest, FindsPresentNamesOfEveryLengthAndNotAbsentOnes) {
  // Every length from 0 to 40 (the hash reads 8, 4 and fewer bytes differently), names that
  // differ only in the last byte, and many names so that probe sequences get long.
  std::vector<std::string> names;
  for (size_t len = 0; len <= 40; ++len) names.push_back(std::string(len, 'n'));
  for (size_t len = 1; len <= 40; ++len) names.push_back(std::string(len - 1, 'n') + 'm');
  while (names.size() < infos_.size()) names.push_back("aks-pool-" + std::to_string(names.size()));
  std::vector<NodeNameIndex::Entry> entries;
  for (size_t i = 0; i < names.size(); ++i) entries.push_back({names[i], &infos_[i]});
  const NodeNameIndex index(entries);
  ASSERT_EQ(index.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const IndexedNode* node = index.Find(names[i]);
    ASSERT_NE(node, nullptr) << names[i];
    EXPECT_EQ(node->info, &infos_[i]);
    EXPECT_EQ(node->epc, EpcFitKeyOf(infos_[i]));
  }
  for (std::string_view absent :
       {"aks-pool-", "aks-pool-2000", "aks-pool-99x", "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
        "x", "mn", "aks-pool-100 "}) {
    EXPECT_EQ(index.Find(absent), nullptr) << absent;
  }
  EXPECT_NE(index.Find(""), nullptr);  // length 0 is one of the names

  // ForEachFound answers as Find, in request order, with absent and repeated names mixed in.
  std::vector<std::string_view> asked;
  for (size_t i = 0; i < names.size(); i += 3) {
    asked.push_back(names[i]);
    asked.push_back(i % 2 == 0 ? "ghost" : "aks-pool-x");
    asked.push_back(names[i / 2]);
  }
  const std::vector<IndexedNode> out = FoundAll(index, asked);
  for (size_t i = 0; i < asked.size(); ++i) {
    const IndexedNode* expected = index.Find(asked[i]);
    if (expected == nullptr) {
      EXPECT_EQ(out[i].info, nullptr) << asked[i];
    } else {
      EXPECT_EQ(out[i].info, expected->info) << asked[i];
      EXPECT_EQ(out[i].epc, expected->epc) << asked[i];
    }
  }
}

TEST_F(NodeNameIndexTest, DuplicateNamesKeepTheFirst) {
  const std::vector<NodeNameIndex::Entry> entries = {
      {"a", &infos_[0]}, {"b", &infos_[1]}, {"a", &infos_[2]}, {"b", &infos_[3]}};
  const NodeNameIndex index(entries);
  EXPECT_EQ(index.size(), 2u);
  EXPECT_EQ(index.Find("a")->info, &infos_[0]);
  EXPECT_EQ(index.Find("b")->info, &infos_[1]);
}

TEST_F(NodeNameIndexTest, NamesAreCopied) {
  std::string name = "sgx-0";
  const NodeNameIndex index(std::vector<NodeNameIndex::Entry>{{name, &infos_[0]}});
  name = "sgx-1";
  EXPECT_NE(index.Find("sgx-0"), nullptr);
  EXPECT_EQ(index.Find("sgx-1"), nullptr);
}

TEST_F(ClusterStoreTest, ForEachNodeFollowsNodeAddAndRemoveAndPods) {
  const std::vector<std::string_view> names = {"sgx-0", "sgx-1", "ghost", "sgx-0"};
  auto snap = store_.Snapshot();
  std::vector<IndexedNode> out = FoundAll(*snap, names);
  EXPECT_EQ(out[0].info, snap->FindNode("sgx-0"));
  EXPECT_EQ(out[1].info, nullptr);
  EXPECT_EQ(out[2].info, nullptr);
  EXPECT_EQ(out[3].info, out[0].info);
  EXPECT_EQ(out[0].epc.epc_allocatable_bytes, 168 * kMiB);
  EXPECT_EQ(out[0].epc.epc_requested_bytes, 0);

  store_.UpsertNode(NodeBuilder("sgx-1").Allocatable(kAzureEpc, "64").Build());
  store_.UpsertPod(PodBuilder("a").Request(kAzureEpc, "10").OnNode("sgx-0").Build());
  auto later = store_.Snapshot();
  out = FoundAll(*later, names);
  ASSERT_NE(out[1].info, nullptr);
  EXPECT_EQ(out[1].info, later->FindNode("sgx-1"));
  EXPECT_EQ(out[1].epc.epc_allocatable_bytes, 64 * kMiB);
  EXPECT_EQ(out[0].epc.epc_requested_bytes, 10 * kMiB);
  EXPECT_EQ(out[0].epc, EpcFitKeyOf(*later->FindNode("sgx-0")));
  // The earlier snapshot is unchanged.
  EXPECT_EQ(snap->FindNode("sgx-1"), nullptr);
  EXPECT_EQ(snap->FindNode("sgx-0")->requested.epc_bytes, 0);

  store_.DeleteNode("sgx-0");
  auto last = store_.Snapshot();
  out = FoundAll(*last, names);
  EXPECT_EQ(out[0].info, nullptr);
  EXPECT_EQ(out[3].info, nullptr);
  EXPECT_NE(out[1].info, nullptr);
  EXPECT_EQ(last->FindNode("sgx-0"), nullptr);

  store_.ReplaceNodes({});
  EXPECT_EQ(store_.Snapshot()->FindNode("sgx-1"), nullptr);
  EXPECT_EQ(store_.Snapshot()->node_count(), 0u);
}

}  // namespace
}  // namespace epc
