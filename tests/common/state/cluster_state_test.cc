#include "common/state/cluster_state.h"

#include <gtest/gtest.h>

#include "tests/testing/builders.h"

namespace epc {
namespace {

using testing::kAzureEpc;
using testing::NodeBuilder;
using testing::PodBuilder;

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

}  // namespace
}  // namespace epc
