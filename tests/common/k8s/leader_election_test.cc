#include "common/k8s/leader_election.h"

#include <gtest/gtest.h>

namespace epc {
namespace {

using Clock = LeaseArbiter::Clock;
using std::chrono::seconds;

TEST(LeaseArbiterTest, TakesAMissingOrEmptyLease) {
  LeaseArbiter a("me", seconds(15));
  const auto t0 = Clock::time_point{} + seconds(1000);
  a.Observe(std::nullopt, t0);
  EXPECT_TRUE(a.MayAcquire(t0));
  const LeaseRecord r = a.Next("T0");
  EXPECT_EQ(r.holder, "me");
  EXPECT_EQ(r.acquire_time, "T0");
  EXPECT_EQ(r.transitions, 0);
  EXPECT_EQ(r.lease_duration_seconds, 15);
}

TEST(LeaseArbiterTest, WaitsAWholeLeaseDurationOnTheLocalClock) {
  LeaseArbiter a("me", seconds(15));
  const auto t0 = Clock::time_point{} + seconds(1000);
  LeaseRecord other{"other", 15, "A", "R1", 3};
  a.Observe(other, t0);
  EXPECT_FALSE(a.MayAcquire(t0 + seconds(14)));
  // The holder renewed (the record changed): the clock starts again.
  other.renew_time = "R2";
  a.Observe(other, t0 + seconds(10));
  EXPECT_FALSE(a.MayAcquire(t0 + seconds(20)));
  // Unchanged for 15 s since it was last seen changing: expired.
  a.Observe(other, t0 + seconds(24));
  EXPECT_TRUE(a.MayAcquire(t0 + seconds(25)));
  const LeaseRecord r = a.Next("T1");
  EXPECT_EQ(r.holder, "me");
  EXPECT_EQ(r.transitions, 4);
  EXPECT_EQ(r.acquire_time, "T1");
}

TEST(LeaseArbiterTest, RenewingKeepsAcquireTimeAndTransitions) {
  LeaseArbiter a("me", seconds(15));
  const auto t0 = Clock::time_point{} + seconds(1000);
  a.Observe(LeaseRecord{"me", 15, "A", "R", 2}, t0);
  EXPECT_TRUE(a.MayAcquire(t0));
  const LeaseRecord r = a.Next("R2");
  EXPECT_EQ(r.acquire_time, "A");
  EXPECT_EQ(r.renew_time, "R2");
  EXPECT_EQ(r.transitions, 2);
}

TEST(LeaseArbiterTest, ReleasedLeaseIsFreeAtOnce) {
  LeaseArbiter a("me", seconds(15));
  const auto t0 = Clock::time_point{} + seconds(1000);
  a.Observe(LeaseRecord{"", 1, "A", "R", 5}, t0);
  EXPECT_TRUE(a.MayAcquire(t0));
  EXPECT_EQ(a.Next("T").transitions, 6);
}

TEST(MicroTimeTest, Format) {
  const std::string t = NowMicroTime();
  ASSERT_EQ(t.size(), 27u) << t;
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t[19], '.');
  EXPECT_EQ(t.back(), 'Z');
}

}  // namespace
}  // namespace epc
