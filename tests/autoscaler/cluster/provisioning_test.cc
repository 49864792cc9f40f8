#include "autoscaler/cluster/provisioning.h"

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "autoscaler/cluster/scale_up.h"
#include "tests/autoscaler/cluster/cluster_fixtures.h"

namespace epc::cluster {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using testing::AppPod;
using testing::Group;
using testing::SgxNode;

const SteadyTime kT0 = SteadyTime{} + hours(24);

class ProvisioningTrackerTest : public ::testing::Test {
 protected:
  std::vector<NodeGroupState> groups_ = {Group("sgx-112", SgxNode("t112", 112), 0, 10),
                                         Group("sgx-168", SgxNode("t168", 168), 0, 10)};
  ProvisioningTracker tracker_;
};

TEST_F(ProvisioningTrackerTest, ScaleUpThatDoesNotBecomeReadyInTimeBacksOff) {
  groups_[0].target_size = 2;
  tracker_.RecordScaleUp("sgx-112", 2, kT0);
  groups_[0].nodes = {{"n-0", true, kT0 + minutes(3)}, {"n-1", false, kT0 + minutes(3)}};

  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(14)).empty());
  EXPECT_FALSE(tracker_.BackoffUntil("sgx-112", kT0 + minutes(14)).has_value());

  const std::vector<ProvisioningTimeout> t = tracker_.Update(groups_, kT0 + minutes(15));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].group, "sgx-112");
  // n-1 is only 12 minutes old but was not Ready by the scale-up's deadline.
  EXPECT_EQ(t[0].unready_nodes, (std::vector<std::string>{"n-1"}));
  EXPECT_EQ(t[0].missing_nodes, 0);
  EXPECT_EQ(t[0].backoff_until, kT0 + minutes(20));
  EXPECT_EQ(t[0].message,
            "node group sgx-112: 1 node(s) not Ready and 0 not created within 15 min; backing off "
            "for 300s");
  EXPECT_EQ(tracker_.BackoffUntil("sgx-112", kT0 + minutes(19)), kT0 + minutes(20));
  EXPECT_FALSE(tracker_.BackoffUntil("sgx-112", kT0 + minutes(20)).has_value());
  EXPECT_FALSE(tracker_.BackoffUntil("sgx-168", kT0 + minutes(19)).has_value());

  // Reported once: n-1 passing the limit on its own later is not a new timeout.
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(18)).empty());
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(40)).empty());
}

TEST_F(ProvisioningTrackerTest, NodeUnreadyPastTheLimitIsReportedOnce) {
  // No scale-up recorded (say, the daemon restarted): the node's own age decides.
  groups_[0].target_size = 1;
  groups_[0].nodes = {{"n-0", false, kT0}};
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(14)).empty());
  const std::vector<ProvisioningTimeout> t = tracker_.Update(groups_, kT0 + minutes(15));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].unready_nodes, (std::vector<std::string>{"n-0"}));
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(16)).empty());
  // Once gone and back (a replacement with the same name), it counts again.
  groups_[0].nodes.clear();
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(17)).empty());
  groups_[0].nodes = {{"n-0", false, kT0 + minutes(17)}};
  EXPECT_EQ(tracker_.Update(groups_, kT0 + minutes(32)).size(), 1u);
}

// A second scale-up while the first is still coming moves the deadline: nodes still booting
// are no failure at the first scale-up's deadline.
TEST_F(ProvisioningTrackerTest, ALaterScaleUpMovesTheDeadline) {
  groups_[0].target_size = 2;
  tracker_.RecordScaleUp("sgx-112", 2, kT0);
  groups_[0].nodes = {{"n-0", true, kT0 + minutes(3)}, {"n-1", false, kT0 + minutes(8)}};
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(9)).empty());
  groups_[0].target_size = 4;
  tracker_.RecordScaleUp("sgx-112", 2, kT0 + minutes(10));
  groups_[0].nodes.push_back({"n-2", false, kT0 + minutes(12)});
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(12)).empty());
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(16)).empty());  // the first's deadline
  EXPECT_FALSE(tracker_.BackoffUntil("sgx-112", kT0 + minutes(16)).has_value());
  groups_[0].nodes[1].ready = true;

  // The second's deadline: n-2 still unready, one instance never created.
  const std::vector<ProvisioningTimeout> t = tracker_.Update(groups_, kT0 + minutes(25));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].unready_nodes, (std::vector<std::string>{"n-2"}));
  EXPECT_EQ(t[0].missing_nodes, 1);
}

TEST_F(ProvisioningTrackerTest, NodesNeverCreatedCountAsMissing) {
  groups_[1].target_size = 3;
  tracker_.RecordScaleUp("sgx-168", 3, kT0);
  groups_[1].nodes = {{"n-0", true, kT0}};
  const std::vector<ProvisioningTimeout> t = tracker_.Update(groups_, kT0 + minutes(15));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].missing_nodes, 2);
}

TEST_F(ProvisioningTrackerTest, AnExcessThatLastsTheProvisioningTimeIsMissing) {
  // No scale-up recorded (made before a restart): the excess's own age decides.
  groups_[1].target_size = 3;
  groups_[1].nodes = {{"n-0", true, kT0}};
  EXPECT_TRUE(tracker_.Update(groups_, kT0).empty());
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(14)).empty());
  std::vector<ProvisioningTimeout> t = tracker_.Update(groups_, kT0 + minutes(15));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].missing_nodes, 2);
  EXPECT_TRUE(t[0].unready_nodes.empty());
  EXPECT_TRUE(tracker_.BackoffUntil("sgx-168", kT0 + minutes(16)).has_value());
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(40)).empty());  // reported once

  // A node arriving changes the excess: its clock starts again.
  groups_[1].nodes.push_back({"n-1", true, kT0 + minutes(41)});
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(41)).empty());
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(55)).empty());
  t = tracker_.Update(groups_, kT0 + minutes(56));
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].missing_nodes, 1);

  // No excess, nothing missing.
  groups_[1].target_size = 2;
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(90)).empty());
}

TEST_F(ProvisioningTrackerTest, CompletedScaleUpEndsTracking) {
  groups_[0].target_size = 1;
  tracker_.RecordScaleUp("sgx-112", 1, kT0);
  groups_[0].nodes = {{"n-0", true, kT0 + minutes(4)}};
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(5)).empty());
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(30)).empty());
  EXPECT_FALSE(tracker_.BackoffUntil("sgx-112", kT0 + minutes(30)).has_value());
}

TEST_F(ProvisioningTrackerTest, BackoffDoublesUpToTheMaxAndResets) {
  std::vector<minutes> durations;
  SteadyTime t = kT0;
  for (int i = 0; i < 5; ++i) {
    const SteadyTime until = tracker_.RecordFailure("sgx-112", t);
    durations.push_back(std::chrono::duration_cast<minutes>(until - t));
    t = until + minutes(1);
  }
  EXPECT_EQ(durations,
            (std::vector<minutes>{minutes(5), minutes(10), minutes(20), minutes(30), minutes(30)}));
  // Three hours after the last failure the next one starts from the initial duration again.
  t += hours(3);
  EXPECT_EQ(tracker_.RecordFailure("sgx-112", t), t + minutes(5));
}

TEST_F(ProvisioningTrackerTest, SuccessKeepsTheBackoffDurationForTheNextFailure) {
  EXPECT_EQ(tracker_.RecordFailure("sgx-112", kT0), kT0 + minutes(5));
  // After the backoff a scale-up succeeds...
  groups_[0].target_size = 1;
  tracker_.RecordScaleUp("sgx-112", 1, kT0 + minutes(6));
  groups_[0].nodes = {{"n-0", true, kT0 + minutes(8)}};
  EXPECT_TRUE(tracker_.Update(groups_, kT0 + minutes(9)).empty());
  // ...and the next failure within 3 hours still doubles, as cluster-autoscaler does.
  EXPECT_EQ(tracker_.RecordFailure("sgx-112", kT0 + minutes(10)), kT0 + minutes(20));
}

TEST_F(ProvisioningTrackerTest, PlannerTriesTheNextBestGroupDuringBackoff) {
  testing::TestCluster cluster;
  const std::vector<Pod> pods = {AppPod("enclave-0", 100), AppPod("enclave-1", 100)};
  std::vector<const Pod*> pending = {&pods[0], &pods[1]};
  ScaleUpPlanner planner(cluster.epc(), cluster.pools(), {});

  ScaleUpDecision d = planner.Plan({pending, {}, groups_, kT0});
  ASSERT_TRUE(d.scale_up);
  ASSERT_EQ(d.group, "sgx-112");
  groups_[0].target_size = d.target_size;
  groups_[0].last_scale_up = kT0;
  tracker_.RecordScaleUp(d.group, d.node_count, kT0);

  // Fifteen minutes on, nothing arrived. The pods are still pending and nothing is upcoming
  // any more... except the target the provider still holds, which the daemon lowers.
  const SteadyTime later = kT0 + minutes(15);
  ASSERT_EQ(tracker_.Update(groups_, later).size(), 1u);
  groups_[0].target_size = 0;
  tracker_.ApplyBackoff(groups_, later);
  EXPECT_EQ(groups_[0].backoff_until, later + minutes(5));
  d = planner.Plan({pending, {}, groups_, later});
  ASSERT_TRUE(d.scale_up);
  EXPECT_EQ(d.group, "sgx-168");
  EXPECT_EQ(d.rejected[0].reason, "in_backoff");

  tracker_.ApplyBackoff(groups_, later + minutes(5));
  EXPECT_FALSE(groups_[0].backoff_until.has_value());
}

}  // namespace
}  // namespace epc::cluster
