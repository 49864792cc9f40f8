// Ported from kubernetes/kubernetes pkg/controller/podautoscaler/horizontal_test.go: every case
// keeps the upstream numbers and names the upstream test in a comment. Upstream reads
// time.Now(); here every call gets the same `kNow`, which upstream's "N seconds ago" fixtures
// approximate.
#include "autoscaler/horizontal/scaling_behavior.h"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace epc::hpa {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

const SteadyTime kNow = SteadyTime{} + hours(24 * 365);

// generateScalingRules: a Pods and/or a Percent policy (0 leaves it out), selectPolicy Max.
HpaScalingRules GenerateScalingRules(int32_t pods, int32_t pods_period, int32_t percent,
                                     int32_t percent_period, int32_t stabilization_window) {
  HpaScalingRules r;
  r.stabilization_window_seconds = stabilization_window;
  r.select_policy = HpaSelectPolicy::kMax;
  if (pods != 0) r.policies.push_back({HpaScalingPolicyType::kPods, pods, pods_period});
  if (percent != 0) {
    r.policies.push_back({HpaScalingPolicyType::kPercent, percent, percent_period});
  }
  return r;
}

// generateEventsUniformDistribution: events spread uniformly over the last period_seconds, each
// in the middle of its segment (e.g. {1, 5, 9} over 120 s: 100 s, 60 s and 20 s ago).
std::vector<TimestampedScaleEvent> GenerateEventsUniformDistribution(const std::vector<int>& raw,
                                                                     int period_seconds) {
  std::vector<TimestampedScaleEvent> events;
  const double segment = static_cast<double>(period_seconds) / static_cast<double>(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    const double boundary =
        static_cast<double>(period_seconds) - segment * static_cast<double>(i + 1) + segment / 2;
    events.push_back({raw[i], kNow - seconds(static_cast<int64_t>(boundary)), false});
  }
  return events;
}

HpaMetricSpec CpuMetric(int32_t target) {
  HpaMetricSpec m;
  m.type = HpaMetricSourceType::kResource;
  m.resource = HpaResourceMetricSource{"cpu", {.average_utilization = target}};
  return m;
}

MetricProposal Valid(std::string metric, int32_t replicas) {
  MetricProposal p;
  p.metric = std::move(metric);
  p.replicas = replicas;
  return p;
}

MetricProposal Invalid(std::string reason, std::string error) {
  MetricProposal p;
  p.condition_reason = std::move(reason);
  p.error = std::move(error);
  return p;
}

// --- pure limits ---

// TestCalculateScaleUpLimitWithScalingRules
TEST(CalculateScaleUpLimitWithScalingRules, MinSelectPolicy) {
  HpaScalingRules rules;
  rules.stabilization_window_seconds = 300;
  rules.select_policy = HpaSelectPolicy::kMin;
  rules.policies = {{HpaScalingPolicyType::kPods, 2, 60}, {HpaScalingPolicyType::kPercent, 50, 60}};
  EXPECT_EQ(CalculateScaleUpLimitWithScalingRules(1, {}, {}, rules, kNow), 2);
}

// TestCalculateScaleDownLimitWithBehaviors
TEST(CalculateScaleDownLimitWithBehaviors, MinSelectPolicy) {
  HpaScalingRules rules;
  rules.stabilization_window_seconds = 300;
  rules.select_policy = HpaSelectPolicy::kMin;
  rules.policies = {{HpaScalingPolicyType::kPods, 2, 60}, {HpaScalingPolicyType::kPercent, 50, 60}};
  EXPECT_EQ(CalculateScaleDownLimitWithBehaviors(5, {}, {}, rules, kNow), 3);
}

TEST(CalculateScaleLimits, DisabledSelectPolicyKeepsCurrent) {
  HpaScalingRules rules = GenerateScalingRules(4, 15, 100, 15, 0);
  rules.select_policy = HpaSelectPolicy::kDisabled;
  EXPECT_EQ(CalculateScaleUpLimitWithScalingRules(7, {}, {}, rules, kNow), 7);
  EXPECT_EQ(CalculateScaleDownLimitWithBehaviors(7, {}, {}, rules, kNow), 7);
}

TEST(CalculateScaleLimits, DefaultScaleUpRules) {
  // Kubernetes' default: max(+4 pods, +100%) per 15 s.
  EXPECT_EQ(CalculateScaleUpLimitWithScalingRules(1, {}, {}, DefaultScaleUpRules(), kNow), 5);
  EXPECT_EQ(CalculateScaleUpLimitWithScalingRules(10, {}, {}, DefaultScaleUpRules(), kNow), 20);
  // A scale-up of 3 within the last 15 s counts against the period; one 16 s ago does not.
  std::vector<TimestampedScaleEvent> up = {{3, kNow - seconds(14), false},
                                           {5, kNow - seconds(16), false}};
  EXPECT_EQ(CalculateScaleUpLimitWithScalingRules(10, up, {}, DefaultScaleUpRules(), kNow), 14);
  // The default scale-down allows going to 0 at once (-100%).
  EXPECT_EQ(CalculateScaleDownLimitWithBehaviors(10, {}, {}, DefaultScaleDownRules(), kNow), 0);
}

// TestConvertDesiredReplicasWithRules
TEST(ConvertDesiredReplicasWithRules, UpstreamCases) {
  struct Case {
    const char* annotation = "";
    int32_t current, desired, min, max, expected;
    std::string_view condition{};
  };
  const std::vector<Case> cases = {
      {"prenormalized desired replicas within range", 5, 7, 3, 8, 7, kReasonDesiredWithinRange},
      {"prenormalized desired replicas < minReplicas", 3, 1, 2, 8, 2, kReasonTooFewReplicas},
      {"prenormalized desired zeroed replicas within range", 1, 0, 0, 10, 0,
       kReasonDesiredWithinRange},
      {"maxReplicas is the limit because maxReplicas < scaleUpLimit", 20, 1000, 1, 10, 10,
       kReasonTooManyReplicas},
      {"scaleUpLimit is the limit because scaleUpLimit < maxReplicas", 3, 1000, 1, 2000,
       CalculateScaleUpLimit(3), kReasonScaleUpLimit},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.annotation);
    LimitedReplicas r = ConvertDesiredReplicasWithRules(tc.current, tc.desired, tc.min, tc.max);
    EXPECT_EQ(r.replicas, tc.expected);
    EXPECT_EQ(r.reason, tc.condition);
  }
  EXPECT_EQ(CalculateScaleUpLimit(3), 6);
  EXPECT_EQ(CalculateScaleUpLimit(1), 4);
}

// --- stabilization ---

// TestNormalizeDesiredReplicas (stabilizeRecommendation with a 5 minute window)
TEST(StabilizeRecommendation, UpstreamCases) {
  struct Case {
    const char* name = "";
    std::vector<TimestampedRecommendation> recommendations{};
    int32_t prenormalized, expected_stabilized;
    size_t expected_log_length{};
  };
  const std::vector<Case> cases = {
      {"empty log", {}, 5, 5, 1},
      {"stabilize", {{4, kNow - minutes(2)}, {5, kNow - minutes(1)}}, 3, 5, 3},
      {"no stabilize", {{1, kNow - minutes(2)}, {2, kNow - minutes(1)}}, 3, 3, 3},
      {"no stabilize - old recommendations",
       {{10, kNow - minutes(10)}, {9, kNow - minutes(9)}},
       3,
       3,
       2},
      {"stabilize - old recommendations",
       {{10, kNow - minutes(10)},
        {4, kNow - minutes(1)},
        {5, kNow - minutes(2)},
        {9, kNow - minutes(9)}},
       3,
       5,
       4},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    ScalingState state;
    state.recommendations() = tc.recommendations;
    EXPECT_EQ(state.StabilizeRecommendation(tc.prenormalized, minutes(5), kNow),
              tc.expected_stabilized);
    EXPECT_EQ(state.recommendations().size(), tc.expected_log_length);
  }
}

// TestNormalizeDesiredReplicasWithBehavior (stabilizeRecommendationWithBehaviors)
TEST(StabilizeRecommendationWithBehaviors, UpstreamCases) {
  struct Case {
    const char* name = "";
    std::vector<TimestampedRecommendation> recommendations{};
    int32_t current, prenormalized, expected_stabilized;
    std::optional<std::vector<int32_t>> expected_recommendations{};
    int32_t up_window = 0, down_window = 0;
  };
  const std::vector<Case> cases = {
      {"empty recommendations for scaling down", {}, 100, 5, 5, std::vector<int32_t>{5}},
      {"simple scale down stabilization",
       {{4, kNow - minutes(2)}, {5, kNow - minutes(1)}},
       100,
       3,
       5,
       std::vector<int32_t>{4, 5, 3},
       0,
       60 * 3},
      {"simple scale up stabilization",
       {{4, kNow - minutes(2)}, {5, kNow - minutes(1)}},
       1,
       7,
       4,
       std::vector<int32_t>{4, 5, 7},
       60 * 5,
       0},
      {"no scale down stabilization",
       {{1, kNow - minutes(2)}, {2, kNow - minutes(1)}},
       100,
       3,
       3,
       std::vector<int32_t>{1, 2, 3},
       60 * 5,
       0},
      {"no scale up stabilization",
       {{4, kNow - minutes(2)}, {5, kNow - minutes(1)}},
       1,
       3,
       3,
       std::vector<int32_t>{4, 5, 3},
       0,
       60 * 5},
      {"no scale down stabilization, reuse recommendation element",
       {{10, kNow - minutes(10)}, {9, kNow - minutes(9)}},
       100,
       3,
       3,
       std::vector<int32_t>{10, 3}},
      {"no scale up stabilization, reuse recommendation element",
       {{10, kNow - minutes(10)}, {9, kNow - minutes(9)}},
       1,
       100,
       100,
       std::vector<int32_t>{10, 100}},
      {"scale down stabilization, reuse one of obsolete recommendation element",
       {{10, kNow - minutes(10)},
        {4, kNow - minutes(1)},
        {5, kNow - minutes(2)},
        {9, kNow - minutes(9)}},
       100,
       3,
       5,
       std::vector<int32_t>{10, 4, 5, 3},
       0,
       3 * 60},
      // we can reuse only the first recommendation element, only it is obsolete for both
      {"scale up stabilization, reuse one of obsolete recommendation element",
       {{10, kNow - minutes(100)},
        {6, kNow - minutes(1)},
        {5, kNow - minutes(2)},
        {9, kNow - minutes(3)}},
       1,
       100,
       5,
       std::vector<int32_t>{100, 6, 5, 9},
       300,
       0},
      {"scale up and down stabilization, do not scale up when prenormalized rec goes down",
       {{2, kNow - minutes(100)}, {3, kNow - minutes(3)}},
       2,
       1,
       2,
       std::nullopt,
       300,
       300},
      {"scale up and down stabilization, do not scale down when prenormalized rec goes up",
       {{2, kNow - minutes(100)}, {1, kNow - minutes(3)}},
       2,
       3,
       2,
       std::nullopt,
       300,
       300},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    ScalingState state;
    state.recommendations() = tc.recommendations;
    LimitedReplicas r = state.StabilizeRecommendationWithBehaviors(
        tc.prenormalized, tc.current, tc.up_window, tc.down_window, kNow);
    EXPECT_EQ(r.replicas, tc.expected_stabilized);
    if (tc.expected_recommendations) {
      std::vector<int32_t> got;
      for (const auto& rec : state.recommendations()) got.push_back(rec.recommendation);
      EXPECT_EQ(got, *tc.expected_recommendations);
    }
  }
}

TEST(StabilizeRecommendationWithBehaviors, ReasonFollowsDirection) {
  ScalingState state;
  state.recommendations() = {{8, kNow - minutes(1)}};
  LimitedReplicas down = state.StabilizeRecommendationWithBehaviors(3, 5, 0, 300, kNow);
  EXPECT_EQ(down.replicas, 5);  // 8 within the window caps the scale-down at current
  EXPECT_EQ(down.reason, kReasonScaleDownStabilized);
  state.recommendations() = {{2, kNow - minutes(1)}};
  LimitedReplicas up = state.StabilizeRecommendationWithBehaviors(9, 5, 300, 0, kNow);
  EXPECT_EQ(up.replicas, 5);
  EXPECT_EQ(up.reason, kReasonScaleUpStabilized);
}

TEST(StabilizeRecommendationWithBehaviors, SampleExactlyAtTheCutoffIsOutsideTheWindow) {
  // Go's After/Before are strict: a sample exactly at now - window neither counts nor is old.
  ScalingState state;
  state.recommendations() = {{9, kNow - seconds(300)}};
  LimitedReplicas r = state.StabilizeRecommendationWithBehaviors(3, 5, 0, 300, kNow);
  EXPECT_EQ(r.replicas, 3);
  EXPECT_EQ(state.recommendations().size(), 2u);
}

// --- convertDesiredReplicasWithBehaviorRate ---

// TestScalingWithRules
TEST(ConvertDesiredReplicasWithBehaviorRate, UpstreamCases) {
  struct Case {
    const char* name = "";
    std::vector<TimestampedScaleEvent> up_events{};
    std::vector<TimestampedScaleEvent> down_events{};
    int32_t min, max;
    std::optional<HpaScalingRules> up_rules{};  // unset: Kubernetes' defaults
    std::optional<HpaScalingRules> down_rules{};
    int32_t current, prenormalized, expected;
    std::string_view condition{};
  };
  const auto events = GenerateEventsUniformDistribution;
  const std::vector<Case> cases = {
      {"prenormalized desired replicas within range",
       {},
       {},
       3,
       8,
       {},
       {},
       5,
       7,
       7,
       kReasonDesiredWithinRange},
      {"prenormalized desired replicas < minReplicas",
       {},
       {},
       2,
       8,
       {},
       {},
       3,
       1,
       2,
       kReasonTooFewReplicas},
      {"prenormalized desired replicas within range when minReplicas is 0",
       {},
       {},
       0,
       10,
       {},
       {},
       1,
       0,
       0,
       kReasonDesiredWithinRange},
      {"maxReplicas is the limit because maxReplicas < scaleUpLimit",
       {},
       {},
       1,
       10,
       {},
       {},
       20,
       1000,
       10,
       kReasonTooManyReplicas},
      {"desired replica count is more than the maximum replica count",
       {},
       {},
       100,
       150,
       {},
       {},
       100,
       1000,
       150,
       kReasonTooManyReplicas},
      {"scaleUpLimit is the limit because scaleUpLimit < maxReplicas with user policies",
       {},
       {},
       1,
       2000,
       GenerateScalingRules(0, 0, 1, 60, 0),
       {},
       3,
       1000,
       4,
       kReasonScaleUpLimit},
      // Skipped upstream (testThis), passes here.
      {"scaleDownLimit is the limit because scaleDownLimit > minReplicas with user defined "
       "policies",
       {},
       {},
       3,
       2000,
       {},
       GenerateScalingRules(20, 60, 0, 0, 0),
       1000,
       3,
       980,
       kReasonScaleDownLimit},
      // ScaleUp without PeriodSeconds usage
      {"scaleUp with default behavior", {}, {}, 1, 1000, {}, {}, 10, 50, 20, kReasonScaleUpLimit},
      {"scaleUp with pods policy larger than percent policy",
       {},
       {},
       1,
       1000,
       GenerateScalingRules(100, 60, 100, 60, 0),
       {},
       10,
       500,
       110,
       kReasonScaleUpLimit},
      {"scaleUp with percent policy larger than pods policy",
       {},
       {},
       1,
       1000,
       GenerateScalingRules(2, 60, 100, 60, 0),
       {},
       10,
       500,
       20,
       kReasonScaleUpLimit},
      {"scaleUp with spec MaxReplicas limitation with large pod policy",
       {},
       {},
       1,
       1000,
       GenerateScalingRules(100, 60, 0, 0, 0),
       {},
       10,
       50,
       50,
       kReasonDesiredWithinRange},
      {"scaleUp with spec MaxReplicas limitation with large percent policy",
       {},
       {},
       1,
       1000,
       GenerateScalingRules(10000, 60, 0, 0, 0),
       {},
       10,
       50,
       50,
       kReasonDesiredWithinRange},
      {"scaleUp with pod policy limitation",
       {},
       {},
       1,
       1000,
       GenerateScalingRules(30, 60, 0, 0, 0),
       {},
       10,
       50,
       40,
       kReasonScaleUpLimit},
      {"scaleUp with percent policy limitation",
       {},
       {},
       1,
       1000,
       GenerateScalingRules(0, 0, 200, 60, 0),
       {},
       10,
       50,
       30,
       kReasonScaleUpLimit},
      {"scaleDown with percent policy larger than pod policy",
       {},
       {},
       1,
       1000,
       {},
       GenerateScalingRules(20, 60, 1, 60, 300),
       100,
       2,
       80,
       kReasonScaleDownLimit},
      {"scaleDown with pod policy larger than percent policy",
       {},
       {},
       1,
       1000,
       {},
       GenerateScalingRules(2, 60, 1, 60, 300),
       100,
       2,
       98,
       kReasonScaleDownLimit},
      {"scaleDown with spec MinReplicas=nil limitation with large pod policy",
       {},
       {},
       1,
       1000,
       {},
       GenerateScalingRules(100, 60, 0, 0, 300),
       10,
       0,
       1,
       kReasonTooFewReplicas},
      {"scaleDown with spec MinReplicas limitation with large pod policy",
       {},
       {},
       1,
       1000,
       {},
       GenerateScalingRules(100, 60, 0, 0, 300),
       10,
       0,
       1,
       kReasonTooFewReplicas},
      {"scaleDown with spec MinReplicas limitation with large percent policy",
       {},
       {},
       5,
       1000,
       {},
       GenerateScalingRules(0, 0, 100, 60, 300),
       10,
       2,
       5,
       kReasonTooFewReplicas},
      {"scaleDown with pod policy limitation",
       {},
       {},
       1,
       1000,
       {},
       GenerateScalingRules(5, 60, 0, 0, 300),
       10,
       2,
       5,
       kReasonScaleDownLimit},
      {"scaleDown with percent policy limitation",
       {},
       {},
       1,
       1000,
       {},
       GenerateScalingRules(0, 0, 50, 60, 300),
       10,
       5,
       5,
       kReasonDesiredWithinRange},
      // 200 < 100 - 15 + 300
      {"scaleUp with spec MaxReplicas limitation with large pod policy and events",
       events({1, 5, 9}, 120),
       {},
       1,
       200,
       GenerateScalingRules(300, 60, 0, 0, 0),
       {},
       100,
       500,
       200,
       kReasonTooManyReplicas},
      {"scaleUp with spec MaxReplicas limitation with large percent policy and events",
       events({1, 5, 9}, 120),
       {},
       1,
       200,
       GenerateScalingRules(0, 0, 10000, 60, 0),
       {},
       100,
       500,
       200,
       kReasonTooManyReplicas},
      // 120 seconds ago we had (100 - 15) replicas, now the rate.Pods = 5
      {"scaleUp with currentReplicas limitation with rate.PeriodSeconds with a lot of recent "
       "scale up events",
       events({1, 5, 9}, 120),
       {},
       1,
       1000,
       GenerateScalingRules(5, 120, 0, 0, 0),
       {},
       100,
       500,
       100,
       kReasonScaleUpLimit},
      // 100 - 15 + 150
      {"scaleUp with pod policy and previous scale up events",
       events({1, 5, 9}, 120),
       {},
       1,
       1000,
       GenerateScalingRules(150, 120, 0, 0, 0),
       {},
       100,
       500,
       235,
       kReasonScaleUpLimit},
      // (100 - 15) + 200%
      {"scaleUp with percent policy and previous scale up events",
       events({1, 5, 9}, 120),
       {},
       1,
       1000,
       GenerateScalingRules(0, 0, 200, 120, 0),
       {},
       100,
       500,
       255,
       kReasonScaleUpLimit},
      {"scaleUp with percent policy and previous scale up and down events",
       events({4}, 120),
       events({2}, 120),
       1,
       1000,
       GenerateScalingRules(0, 0, 300, 300, 0),
       {},
       6,
       24,
       16,
       kReasonScaleUpLimit},
      // ScaleDown with PeriodSeconds usage: without rate limitations the events do nothing
      {"scaleDown with default policy and previous events",
       {},
       events({1, 5, 9}, 120),
       1,
       1000,
       {},
       {},
       10,
       5,
       5,
       kReasonDesiredWithinRange},
      {"scaleDown with spec MinReplicas=nil limitation with large pod policy and previous events",
       {},
       events({1, 5, 9}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(115, 120, 0, 0, 300),
       100,
       0,
       1,
       kReasonTooFewReplicas},
      {"scaleDown with spec MinReplicas limitation with large pod policy and previous events",
       {},
       events({1, 5, 9}, 120),
       5,
       1000,
       {},
       GenerateScalingRules(130, 120, 0, 0, 300),
       100,
       0,
       5,
       kReasonTooFewReplicas},
      // 100% removal - is always to 0 => limited by MinReplicas
      {"scaleDown with spec MinReplicas limitation with large percent policy and previous events",
       {},
       events({1, 5, 9}, 120),
       5,
       1000,
       {},
       GenerateScalingRules(0, 0, 100, 120, 300),
       100,
       2,
       5,
       kReasonTooFewReplicas},
      // 100 + 15 - 5
      {"scaleDown with pod policy limitation and previous events",
       {},
       events({1, 5, 9}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(5, 120, 0, 0, 300),
       100,
       2,
       100,
       kReasonScaleDownLimit},
      // (100 + 12) - 50%
      {"scaleDown with percent policy limitation and previous events",
       {},
       events({2, 4, 6}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(0, 0, 50, 120, 300),
       100,
       0,
       56,
       kReasonScaleDownLimit},
      {"scaleDown with percent policy and previous scale up and down events",
       events({2}, 120),
       events({4}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(0, 0, 50, 180, 0),
       10,
       1,
       6,
       kReasonScaleDownLimit},
      // (100 + 30) - 10% = 117 is more then 100 (currentReplicas), keep 100
      {"scaleDown with previous events preventing further scale down",
       {},
       events({10, 10, 10}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(0, 0, 10, 120, 300),
       100,
       0,
       100,
       kReasonScaleDownLimit},
      // (10 + 30) - 1000% = -360 is less than 0 and less then 5 (desired by metrics), set 5
      {"scaleDown with with previous events still allowing more scale down",
       {},
       events({10, 10, 10}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(0, 0, 1000, 120, 300),
       10,
       5,
       5,
       kReasonDesiredWithinRange},
      {"check 'outdated' flag for events for one behavior for up",
       events({8, 12, 9, 11}, 120),
       {},
       1,
       1000,
       GenerateScalingRules(1000, 60, 0, 0, 0),
       {},
       100,
       200,
       200,
       kReasonDesiredWithinRange},
      {"check that events were not marked 'outdated' for two different policies in the "
       "behavior for up",
       events({8, 12, 9, 11}, 120),
       {},
       1,
       1000,
       GenerateScalingRules(1000, 120, 100, 60, 0),
       {},
       100,
       200,
       200,
       kReasonDesiredWithinRange},
      {"check that events were marked 'outdated' for two different policies in the behavior for "
       "up",
       events({8, 12, 9, 11}, 120),
       {},
       1,
       1000,
       GenerateScalingRules(1000, 30, 100, 60, 0),
       {},
       100,
       200,
       200,
       kReasonDesiredWithinRange},
      {"check 'outdated' flag for events for one behavior for down",
       {},
       events({8, 12, 9, 11}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(1000, 60, 0, 0, 300),
       100,
       5,
       5,
       kReasonDesiredWithinRange},
      {"check that events were not marked 'outdated' for two different policies in the "
       "behavior for down",
       {},
       events({8, 12, 9, 11}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(1000, 120, 100, 60, 300),
       100,
       5,
       5,
       kReasonDesiredWithinRange},
      {"check that events were marked 'outdated' for two different policies in the behavior for "
       "down",
       {},
       events({8, 12, 9, 11}, 120),
       1,
       1000,
       {},
       GenerateScalingRules(1000, 30, 100, 60, 300),
       100,
       5,
       5,
       kReasonDesiredWithinRange},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    ScalingState state;
    state.scale_up_events() = tc.up_events;
    state.scale_down_events() = tc.down_events;
    LimitedReplicas r = state.ConvertDesiredReplicasWithBehaviorRate(
        tc.prenormalized, tc.current, tc.min, tc.max, tc.up_rules.value_or(DefaultScaleUpRules()),
        tc.down_rules.value_or(DefaultScaleDownRules()), kNow);
    EXPECT_EQ(r.replicas, tc.expected);
    EXPECT_EQ(r.reason, tc.condition);
  }
}

// --- scale events ---

// TestStoreScaleEvents (getReplicasChangePerPeriod(60) before, storeScaleEvent of +-5 from 10)
TEST(StoreScaleEvent, UpstreamCases) {
  struct Case {
    const char* name = "";
    std::vector<TimestampedScaleEvent> prev{};
    std::vector<std::pair<int32_t, bool>> expected{};  // {replicaChange, outdated}
    std::optional<HpaScalingRules> rules{};            // unset: no behavior
    int32_t expected_replicas_change{};
  };
  const std::vector<Case> cases = {
      // no history -> 0 replica change; no behavior -> no events are stored
      {"empty entries with default behavior", {}, {}, std::nullopt, 0},
      {"empty entries with two-policy-behavior",
       {},
       {{5, false}},
       GenerateScalingRules(10, 60, 100, 60, 0),
       0},
      // no behavior -> we don't touch stored events
      {"one outdated entry to be kept untouched without behavior",
       {{7, kNow - seconds(61), false}},
       {{7, false}},
       std::nullopt,
       0},
      {"one outdated entry to be replaced with behavior",
       {{7, kNow - seconds(61), false}},
       {{5, false}},
       GenerateScalingRules(10, 60, 100, 60, 0),
       0},
      {"one actual entry to be not touched with behavior",
       {{7, kNow - seconds(58), false}},
       {{7, false}, {5, false}},
       GenerateScalingRules(10, 60, 100, 60, 0),
       7},
      {"two entries, one of them to be replaced",
       {{7, kNow - seconds(61), false}, {6, kNow - seconds(59), false}},
       {{5, false}, {6, false}},
       GenerateScalingRules(10, 60, 0, 0, 0),
       6},
      {"replace one entry, use policies with different periods",
       {{8, kNow - seconds(29), false},
        {6, kNow - seconds(59), false},
        {7, kNow - seconds(61), false},
        {9, kNow - seconds(61), false}},
       {{8, false}, {6, false}, {7, true}, {5, false}},
       GenerateScalingRules(10, 60, 100, 30, 0),
       14},
      {"two entries, both actual",
       {{7, kNow - seconds(58), false}, {6, kNow - seconds(59), false}},
       {{7, false}, {6, false}, {5, false}},
       GenerateScalingRules(10, 120, 100, 30, 0),
       13},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    for (bool up : {true, false}) {
      SCOPED_TRACE(up ? "up" : "down");
      std::optional<HpaBehavior> behavior;
      if (tc.rules) {
        behavior = HpaBehavior{};
        (up ? behavior->scale_up : behavior->scale_down) = *tc.rules;
      }
      ScalingState state;
      auto& events = up ? state.scale_up_events() : state.scale_down_events();
      events = tc.prev;
      EXPECT_EQ(GetReplicasChangePerPeriod(60, events, kNow), tc.expected_replicas_change);
      state.StoreScaleEvent(behavior, 10, up ? 15 : 5, kNow);
      ASSERT_EQ(events.size(), tc.expected.size());
      for (size_t i = 0; i < events.size(); ++i) {
        EXPECT_EQ(events[i].replica_change, tc.expected[i].first) << i;
        EXPECT_EQ(events[i].outdated, tc.expected[i].second) << i;
      }
    }
  }
}

// --- computeReplicasForMetrics ---

// TestScaleUpOneMetricEmpty: cpu asks for 4 of 3, the external metric fails: scale up anyway.
TEST(ComputeReplicasForMetrics, ScaleUpWithOneMetricInvalid) {
  MetricsRecommendation r =
      ComputeReplicasForMetrics(3, {Valid("cpu resource utilization (percentage of request)", 4),
                                    Invalid("FailedGetExternalMetric", "something went wrong")});
  EXPECT_EQ(r.replicas, 4);
  EXPECT_EQ(r.metric, "cpu resource utilization (percentage of request)");
  EXPECT_EQ(r.error, "invalid metrics (1 invalid out of 2), first error is: something went wrong");
  EXPECT_TRUE(r.scaling_active.status);
  EXPECT_EQ(r.scaling_active.reason, kReasonValidMetricFound);
}

// TestNoScaleDownOneMetricInvalid / TestNoScaleDownOneMetricEmpty: cpu asks for 3 of 5, the
// other metric is invalid: do not scale down.
TEST(ComputeReplicasForMetrics, NoScaleDownWithOneMetricInvalid) {
  MetricsRecommendation r = ComputeReplicasForMetrics(
      5, {Valid("cpu", 3), Invalid("InvalidMetricSourceType", "unknown metric source type")});
  EXPECT_EQ(r.replicas, -1);
  EXPECT_FALSE(r.scaling_active.status);
  EXPECT_EQ(r.scaling_active.reason, "InvalidMetricSourceType");
  r = ComputeReplicasForMetrics(
      5, {Valid("cpu", 3), Invalid("FailedGetExternalMetric", "something went wrong")});
  EXPECT_EQ(r.replicas, -1);
  EXPECT_EQ(r.scaling_active.reason, "FailedGetExternalMetric");
  EXPECT_NE(r.error.find("1 invalid out of 2"), std::string::npos);
}

TEST(ComputeReplicasForMetrics, TakesTheMaximumAndHandlesAllInvalid) {
  MetricsRecommendation r =
      ComputeReplicasForMetrics(3, {Valid("a", 2), Valid("b", 7), Valid("c", 5)});
  EXPECT_EQ(r.replicas, 7);
  EXPECT_EQ(r.metric, "b");
  EXPECT_TRUE(r.error.empty());
  // Same count with one invalid: no scale-down, so it proceeds.
  r = ComputeReplicasForMetrics(3, {Valid("a", 3), Invalid("X", "e")});
  EXPECT_EQ(r.replicas, 3);
  r = ComputeReplicasForMetrics(3, {Invalid("FailedGetPodsMetric", "e1"), Invalid("Y", "e2")});
  EXPECT_EQ(r.replicas, -1);
  EXPECT_EQ(r.scaling_active.reason, "FailedGetPodsMetric");
  EXPECT_EQ(r.error, "invalid metrics (2 invalid out of 2), first error is: e1");
  r = ComputeReplicasForMetrics(3, {});
  EXPECT_EQ(r.replicas, -1);
}

// --- reconcile ---

HpaSpec Spec(int32_t min, int32_t max, std::optional<HpaBehavior> behavior = std::nullopt) {
  HpaSpec spec;
  spec.namespace_name = "test-namespace";
  spec.scale_target_ref = {"apps/v1", "Deployment", "test-rc"};
  spec.min_replicas = min;
  spec.max_replicas = max;
  spec.metrics = {CpuMetric(90)};
  spec.behavior = std::move(behavior);
  return spec;
}

// Proposals through the replica calculator, from per-pod cpu usage and requests (milli).
std::vector<MetricProposal> CpuProposal(int32_t target, const std::vector<int64_t>& levels,
                                        const std::vector<int64_t>& requests,
                                        int32_t spec_replicas) {
  const WallTime now = WallTime{} + hours(24 * 365 * 50);
  std::vector<HpaPod> pods;
  MetricObservation obs;
  for (size_t i = 0; i < requests.size(); ++i) {
    HpaPod p;
    p.name = "test-pod-" + std::to_string(i);
    p.start_time = now - hours(1);
    p.ready = PodReadyCondition{ConditionStatus::kTrue, now - hours(1)};
    p.request_milli = requests[i];
    pods.push_back(p);
    if (i < levels.size()) obs.pod_metrics[p.name] = PodMetric{levels[i], now, minutes(1)};
  }
  return {ReplicaCalculator().ComputeReplicasForMetric(
      CpuMetric(target), spec_replicas, spec_replicas, pods, obs, Tolerances{}, now)};
}

// TestZeroReplicas
TEST(Reconcile, ZeroReplicasDisablesScaling) {
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(Spec(3, 5), state, 0, {}, kNow);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 0);
  ASSERT_TRUE(d->scaling_active.has_value());
  EXPECT_FALSE(d->scaling_active->status);
  EXPECT_EQ(d->scaling_active->reason, kReasonScalingDisabled);
  EXPECT_FALSE(MetricsNeeded(Spec(3, 5), 0));
}

// TestTooFewReplicas
TEST(Reconcile, TooFewReplicasScalesToMin) {
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(Spec(3, 5), state, 2, {}, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 3);
  EXPECT_EQ(d->rescale_reason, "Current number of replicas below Spec.MinReplicas");
  EXPECT_FALSE(MetricsNeeded(Spec(3, 5), 2));
}

// TestTooManyReplicas, TestScaleDownRCImmediately (6 -> 5 with maxReplicas 5)
TEST(Reconcile, TooManyReplicasScalesToMaxImmediately) {
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(Spec(3, 5), state, 10, {}, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->desired_replicas, 5);
  EXPECT_EQ(d->rescale_reason, "Current number of replicas above Spec.MaxReplicas");
  ScalingState state2;
  d = HorizontalScaler().Reconcile(Spec(2, 5), state2, 6,
                                   CpuProposal(50, {8000, 9500, 1000}, {900, 1000, 1100}, 6), kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 5);
}

// TestMaxReplicas (no behavior: the legacy scale-up limit max(2 x 3, 4) = 6 exceeds max 5)
TEST(Reconcile, MaxReplicasLimitsWithoutBehavior) {
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(
      Spec(2, 5), state, 3, CpuProposal(90, {8000, 9500, 1000}, {900, 1000, 1100}, 3), kNow);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->desired_replicas, 5);
  ASSERT_TRUE(d->scaling_limited.has_value());
  EXPECT_TRUE(d->scaling_limited->status);
  EXPECT_EQ(d->scaling_limited->reason, kReasonTooManyReplicas);
  EXPECT_EQ(d->rescale_reason, "cpu resource utilization (percentage of request) above target");
}

// TestUpscaleCap: 700% per 60 s from 3 gives 24 (metrics ask for 60).
TEST(Reconcile, UpscaleCap) {
  HpaBehavior behavior;
  behavior.scale_up = GenerateScalingRules(0, 0, 700, 60, 0);
  HpaSpec spec = Spec(1, 100, behavior);
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(spec, state, 3,
                                        CpuProposal(10, {100, 200, 300}, {100, 100, 100}, 3), kNow);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->desired_replicas, 24);
  ASSERT_TRUE(d->scaling_limited.has_value());
  EXPECT_TRUE(d->scaling_limited->status);
  EXPECT_EQ(d->scaling_limited->reason, kReasonScaleUpLimit);
  EXPECT_EQ(d->able_to_scale.reason, kReasonReadyForNewScale);
}

// TestUpscaleCapGreaterThanMaxReplicas: expectedDesiredReplicas would be 24 without maxReplicas.
TEST(Reconcile, UpscaleCapGreaterThanMaxReplicas) {
  HpaBehavior behavior;
  behavior.scale_up = GenerateScalingRules(0, 0, 700, 60, 0);
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(Spec(1, 20, behavior), state, 3,
                                        CpuProposal(10, {100, 200, 300}, {100, 100, 100}, 3), kNow);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->desired_replicas, 20);
  EXPECT_EQ(d->scaling_limited->reason, kReasonTooManyReplicas);
}

// TestMoreReplicasThanSpecNoScale: 5 pods during a 25% surge, spec 4, usage on target.
TEST(Reconcile, MoreReplicasThanSpecNoScale) {
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(
      Spec(1, 8), state, 4,
      CpuProposal(50, {500, 500, 500, 500, 500}, {1000, 1000, 1000, 1000, 1000}, 4), kNow);
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 4);
  EXPECT_EQ(d->able_to_scale.reason, kReasonReadyForNewScale);
}

// TestEventNotCreated: 2 pods at exactly the target.
TEST(Reconcile, EventNotCreated) {
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(Spec(1, 5), state, 2,
                                        CpuProposal(50, {200, 200}, {400, 400}, 2), kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 2);
}

// TestNoScaleDownOneMetricInvalid through Reconcile: cpu would scale 5 -> 3, nothing happens.
TEST(Reconcile, NoScaleDownWhenAMetricIsInvalid) {
  ScalingState state;
  std::vector<MetricProposal> proposals =
      CpuProposal(50, {100, 300, 500, 250, 250}, {1000, 1000, 1000, 1000, 1000}, 5);
  ASSERT_EQ(*proposals[0].replicas, 3);
  proposals.push_back(Invalid("InvalidMetricSourceType", "unknown metric source type"));
  auto d = HorizontalScaler().Reconcile(Spec(2, 6), state, 5, proposals, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 5);
  EXPECT_FALSE(d->scaling_active->status);
  EXPECT_EQ(d->scaling_active->reason, "InvalidMetricSourceType");
  EXPECT_FALSE(d->error.empty());
}

TEST(Reconcile, RejectsScaleToZeroAndInvertedBounds) {
  ScalingState state;
  EXPECT_FALSE(HorizontalScaler().Reconcile(Spec(0, 5), state, 1, {}, kNow).ok());
  EXPECT_FALSE(HorizontalScaler().Reconcile(Spec(4, 3), state, 3, {}, kNow).ok());
}

// Without behavior, the 5-minute downscale stabilization keeps the highest recent
// recommendation, then lets the count fall once it ages out.
TEST(Reconcile, DownscaleStabilizationWithoutBehavior) {
  const HorizontalScaler scaler{};
  const HpaSpec spec = Spec(1, 10);
  ScalingState state;
  SteadyTime t = kNow;
  auto d = scaler.Reconcile(spec, state, 6, {Valid("cpu", 6)}, t);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->rescale);
  t += minutes(1);
  d = scaler.Reconcile(spec, state, 6, {Valid("cpu", 2)}, t);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->able_to_scale.reason, kReasonScaleDownStabilized);
  t += minutes(5) + seconds(1);  // the recommendations of 6 are now older than 5 minutes
  d = scaler.Reconcile(spec, state, 6, {Valid("cpu", 2)}, t);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 2);
  EXPECT_EQ(d->rescale_reason, "All metrics below target");
}

// With default behavior: scale-up doubles (or +4) per 15 s period, scale-down waits 300 s.
TEST(Reconcile, DefaultBehaviorOverTime) {
  const HorizontalScaler scaler{};
  const HpaSpec spec = Spec(1, 40, HpaBehavior{});
  ScalingState state;
  SteadyTime t = kNow;
  int32_t current = 3;
  std::vector<int32_t> steps;
  for (int i = 0; i < 5; ++i) {
    auto d = scaler.Reconcile(spec, state, current, {Valid("cpu", 40)}, t);
    ASSERT_TRUE(d.ok());
    if (d->rescale) {
      state.StoreScaleEvent(spec.behavior, current, d->desired_replicas, t);
      current = d->desired_replicas;
    }
    steps.push_back(current);
    t += seconds(15);
  }
  // max(+4, +100%) per 15 s: 3 -> 7 -> 14 -> 28 -> 40.
  EXPECT_EQ(steps, (std::vector<int32_t>{7, 14, 28, 40, 40}));

  // Load drops: the scale-down waits for the 300 s window of higher recommendations.
  auto d = scaler.Reconcile(spec, state, current, {Valid("cpu", 5)}, t);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->able_to_scale.reason, kReasonScaleDownStabilized);
  t += seconds(301);
  d = scaler.Reconcile(spec, state, current, {Valid("cpu", 5)}, t);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->rescale);
  EXPECT_EQ(d->desired_replicas, 5);
}

TEST(Reconcile, ScaleUpRateLimitedWithinPeriod) {
  // Two reconciliations within one 15 s period: the second cannot add more than the policy.
  const HorizontalScaler scaler{};
  const HpaSpec spec = Spec(1, 100, HpaBehavior{});
  ScalingState state;
  auto d = scaler.Reconcile(spec, state, 10, {Valid("cpu", 100)}, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->desired_replicas, 20);
  state.StoreScaleEvent(spec.behavior, 10, 20, kNow);
  d = scaler.Reconcile(spec, state, 20, {Valid("cpu", 100)}, kNow + seconds(5));
  ASSERT_TRUE(d.ok());
  // The period started at 10 replicas: max(10 + 4, 10 x 2) = 20, so no further growth.
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->scaling_limited->reason, kReasonScaleUpLimit);
  d = scaler.Reconcile(spec, state, 20, {Valid("cpu", 100)}, kNow + seconds(16));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->desired_replicas, 40);
}

TEST(Reconcile, ScaleDownStabilizationWindowFromOptions) {
  // A behavior without scaleDown.stabilizationWindowSeconds uses the scaler's window.
  HpaBehavior behavior;
  ASSERT_FALSE(behavior.scale_down.stabilization_window_seconds.has_value());
  const HorizontalScaler scaler(HorizontalOptions{seconds(60)});
  const HpaSpec spec = Spec(1, 10, behavior);
  ScalingState state;
  ASSERT_TRUE(scaler.Reconcile(spec, state, 8, {Valid("cpu", 8)}, kNow).ok());
  auto d = scaler.Reconcile(spec, state, 8, {Valid("cpu", 2)}, kNow + seconds(30));
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->rescale);
  d = scaler.Reconcile(spec, state, 8, {Valid("cpu", 2)}, kNow + seconds(61));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->desired_replicas, 2);
}

TEST(Reconcile, DisabledScaleDownNeverScalesDown) {
  HpaBehavior behavior;
  behavior.scale_down.select_policy = HpaSelectPolicy::kDisabled;
  behavior.scale_down.stabilization_window_seconds = 0;
  const HpaSpec spec = Spec(1, 10, behavior);
  ScalingState state;
  auto d = HorizontalScaler().Reconcile(spec, state, 8, {Valid("cpu", 2)}, kNow);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->rescale);
  EXPECT_EQ(d->scaling_limited->reason, kReasonScaleDownLimit);
}

TEST(HpaSpecDefaults, MatchKubernetes) {
  HpaBehavior b;
  EXPECT_EQ(b.scale_up.stabilization_window_seconds, 0);
  EXPECT_EQ(b.scale_up.select_policy, HpaSelectPolicy::kMax);
  ASSERT_EQ(b.scale_up.policies.size(), 2u);
  EXPECT_EQ(b.scale_up.policies[0].type, HpaScalingPolicyType::kPods);
  EXPECT_EQ(b.scale_up.policies[0].value, 4);
  EXPECT_EQ(b.scale_up.policies[0].period_seconds, 15);
  EXPECT_EQ(b.scale_up.policies[1].type, HpaScalingPolicyType::kPercent);
  EXPECT_EQ(b.scale_up.policies[1].value, 100);
  EXPECT_EQ(b.scale_up.policies[1].period_seconds, 15);
  EXPECT_FALSE(b.scale_down.stabilization_window_seconds.has_value());  // controller: 300 s
  ASSERT_EQ(b.scale_down.policies.size(), 1u);
  EXPECT_EQ(b.scale_down.policies[0].type, HpaScalingPolicyType::kPercent);
  EXPECT_EQ(b.scale_down.policies[0].value, 100);
  EXPECT_EQ(b.scale_down.policies[0].period_seconds, 15);
  EXPECT_EQ(HorizontalOptions{}.downscale_stabilization_window, seconds(300));
  EXPECT_EQ(HpaSpec{}.min_replicas, 1);
}

}  // namespace
}  // namespace epc::hpa
