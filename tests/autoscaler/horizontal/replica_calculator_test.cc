// Ported from kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator_test.go:
// every case keeps the upstream numbers and names the upstream test in a comment. The upstream
// fixture builds pods with two containers, each requesting `requests[i]` and each reporting
// `levels[i]`, so a pod requests and uses twice those (numContainersPerPod). Upstream runs with
// defaultTestingCPUInitializationPeriod (2 min) and defaultTestingDelayOfInitialReadinessStatus
// (10 s); pods start at the zero time unless hot (now) or cool (now - 3 min).
#include "autoscaler/horizontal/replica_calculator.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/model/quantity.h"

namespace epc::hpa {
namespace {

using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

constexpr int64_t kNumContainersPerPod = 2;
constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

const WallTime kZeroTime{};  // Go's zero time.Time: before everything else in these tests
const WallTime kNow = kZeroTime + hours(24 * 365 * 50);

WallTime HotCpuCreationTime() { return kNow; }
WallTime CoolCpuCreationTime() { return kNow - minutes(3); }

constexpr ConditionStatus T = ConditionStatus::kTrue;
constexpr ConditionStatus F = ConditionStatus::kFalse;

ReplicaCalculator TestingCalculator() {
  return ReplicaCalculator(ReplicaCalculatorOptions{minutes(2), seconds(10)});
}

const Tolerances kDefaultTolerances{0.1, 0.1};

int64_t Milli(const std::string& quantity) {
  auto q = Quantity::Parse(quantity);
  EXPECT_TRUE(q.ok()) << quantity;
  return q.ok() ? q->MilliValue() : 0;
}

std::vector<std::string> Repeat(int n, const std::string& v) {
  return std::vector<std::string>(static_cast<size_t>(n), v);
}

// Kubernetes' replicaCalcTestCase / calcScenario.
struct Fixture {
  int32_t current_replicas = 0;
  std::vector<ConditionStatus> readiness{};
  std::vector<WallTime> start_times{};
  std::vector<std::string> phases{};
  std::vector<bool> deleted{};
  std::vector<std::string> requests{};  // per container
  std::vector<int64_t> levels{};        // per container (makePodMetricLevels)
  std::vector<std::string> metric_pod_names{};
  std::vector<int64_t> custom_levels{};  // per pod (custom metrics)

  std::vector<HpaPod> Pods() const {
    size_t count = static_cast<size_t>(current_replicas);
    // Failed pods aren't included in currentReplicas.
    if (phases.size() > count) count = phases.size();
    std::vector<HpaPod> pods;
    for (size_t i = 0; i < count; ++i) {
      HpaPod pod;
      pod.name = "test-pod-" + std::to_string(i);
      pod.phase = i < phases.size() ? phases[i] : "Running";
      pod.deleting = i < deleted.size() && deleted[i];
      pod.start_time = i < start_times.size() ? start_times[i] : kZeroTime;
      pod.ready = PodReadyCondition{i < readiness.size() ? readiness[i] : T, kZeroTime};
      if (i < requests.size()) pod.request_milli = kNumContainersPerPod * Milli(requests[i]);
      pods.push_back(pod);
    }
    return pods;
  }

  PodMetricsInfo ResourceMetrics() const {
    PodMetricsInfo metrics;
    for (size_t i = 0; i < levels.size(); ++i) {
      std::string name =
          i < metric_pod_names.size() ? metric_pod_names[i] : "test-pod-" + std::to_string(i);
      metrics[name] = PodMetric{kNumContainersPerPod * levels[i], kZeroTime, minutes(1)};
    }
    return metrics;
  }

  PodMetricsInfo CustomMetrics() const {
    PodMetricsInfo metrics;
    for (size_t i = 0; i < custom_levels.size(); ++i) {
      metrics["test-pod-" + std::to_string(i)] = PodMetric{custom_levels[i], kZeroTime, {}};
    }
    return metrics;
  }
};

struct ResourceCase {
  std::string name{};  // the upstream case
  Fixture fixture{};
  int32_t target_utilization = 0;
  int32_t expected_replicas = 0;
  int32_t expected_utilization = 0;
  int64_t expected_raw_value = 0;
  Tolerances tolerances = kDefaultTolerances;
};

void RunResourceCase(const ResourceCase& tc) {
  SCOPED_TRACE(tc.name);
  auto r = TestingCalculator().GetResourceReplicas(
      tc.fixture.current_replicas, tc.target_utilization, "cpu", tc.tolerances, tc.fixture.Pods(),
      tc.fixture.ResourceMetrics(), kNow);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->replicas, tc.expected_replicas) << r->reason;
  EXPECT_EQ(r->utilization, tc.expected_utilization);
  EXPECT_EQ(r->raw_average_value, tc.expected_raw_value);
  EXPECT_FALSE(r->reason.empty());
}

// TestReplicaCalcResourceScale (the pod-level cases; the container-metric variants are the
// caller's choice of request, see CalculatePodRequest).
TEST(ReplicaCalcResourceScale, UpstreamCases) {
  const std::vector<ResourceCase> cases = {
      // TestReplicaCalcResourceScale/"scale up"
      {"scale up",
       {.current_replicas = 3, .requests = Repeat(3, "1.0"), .levels = {300, 500, 700}},
       30,
       5,
       50,
       kNumContainersPerPod * 500},
      // TestReplicaCalcResourceScale/"scale up: unready pod scales less"
      {"scale up: unready pod scales less",
       {.current_replicas = 3,
        .readiness = {F, T, T},
        .requests = Repeat(3, "1.0"),
        .levels = {300, 500, 700}},
       30,
       4,
       60,
       kNumContainersPerPod * 600},
      // TestReplicaCalcResourceScale/"scale up: hot-CPU pod scales less"
      {"scale up: hot-CPU pod scales less",
       {.current_replicas = 3,
        .start_times = {HotCpuCreationTime(), CoolCpuCreationTime(), CoolCpuCreationTime()},
        .requests = Repeat(3, "1.0"),
        .levels = {300, 500, 700}},
       30,
       4,
       60,
       kNumContainersPerPod * 600},
      // TestReplicaCalcResourceScale/"no scale: unready pods ignored"
      {"no scale: unready pods ignored",
       {.current_replicas = 3,
        .readiness = {T, F, F},
        .requests = Repeat(3, "1.0"),
        .levels = {400, 500, 700}},
       30,
       3,
       40,
       kNumContainersPerPod * 400},
      // TestReplicaCalcResourceScale/"no scale: hot-CPU pods ignored"
      {"no scale: hot-CPU pods ignored",
       {.current_replicas = 3,
        .readiness = {T, F, F},
        .start_times = {CoolCpuCreationTime(), HotCpuCreationTime(), HotCpuCreationTime()},
        .requests = Repeat(3, "1.0"),
        .levels = {400, 500, 700}},
       30,
       3,
       40,
       kNumContainersPerPod * 400},
      // TestReplicaCalcResourceScale/"scale up: failed pods ignored"
      {"scale up: failed pods ignored",
       {.current_replicas = 2,
        .readiness = {T, T, F, F},
        .phases = {"Running", "Running", "Failed", "Failed"},
        .requests = Repeat(4, "1.0"),
        .levels = {500, 700}},
       30,
       4,
       60,
       kNumContainersPerPod * 600},
      // TestReplicaCalcResourceScale/"scale up: pods being deleted are ignored"
      {"scale up: pods being deleted are ignored",
       {.current_replicas = 2,
        .readiness = {T, T, F, F},
        .phases = {"Running", "Running", "Running", "Running"},
        .deleted = {false, false, true, true},
        .requests = Repeat(4, "1.0"),
        .levels = {500, 700}},
       30,
       4,
       60,
       kNumContainersPerPod * 600},
      // TestReplicaCalcResourceScale/"scale down"
      {"scale down",
       {.current_replicas = 5, .requests = Repeat(5, "1.0"), .levels = {100, 300, 500, 250, 250}},
       50,
       3,
       28,
       kNumContainersPerPod * 280},
      // TestReplicaCalcResourceScale/"scale down: exclude unready pods"
      {"scale down: exclude unready pods",
       {.current_replicas = 5,
        .readiness = {T, T, T, F, F},
        .requests = Repeat(5, "1.0"),
        .levels = {100, 300, 500, 250, 250}},
       50,
       2,
       30,
       kNumContainersPerPod * 300},
      // TestReplicaCalcResourceScale/"scale down: exclude unscheduled pods"
      {"scale down: exclude unscheduled pods",
       {.current_replicas = 5,
        .readiness = {T, F, F, F, F},
        .phases = {"Running", "Pending", "Pending", "Pending", "Pending"},
        .requests = Repeat(5, "1.0"),
        .levels = {100}},
       50,
       1,
       10,
       kNumContainersPerPod * 100},
      // TestReplicaCalcResourceScale/"scale down: ignore hot-CPU pods"
      {"scale down: ignore hot-CPU pods",
       {.current_replicas = 5,
        .start_times = {CoolCpuCreationTime(), CoolCpuCreationTime(), CoolCpuCreationTime(),
                        HotCpuCreationTime(), HotCpuCreationTime()},
        .requests = Repeat(5, "1.0"),
        .levels = {100, 300, 500, 250, 250}},
       50,
       2,
       30,
       kNumContainersPerPod * 300},
      // TestReplicaCalcResourceScale/"scale down: failed pods ignored"
      {"scale down: failed pods ignored",
       {.current_replicas = 5,
        .readiness = {T, T, T, T, T, F, F},
        .phases = {"Running", "Running", "Running", "Running", "Running", "Failed", "Failed"},
        .requests = Repeat(7, "1.0"),
        .levels = {100, 300, 500, 250, 250}},
       50,
       3,
       28,
       kNumContainersPerPod * 280},
      // TestReplicaCalcResourceScale/"scale down: pods being deleted are ignored"
      {"scale down: pods being deleted are ignored",
       {.current_replicas = 5,
        .readiness = {T, T, T, T, T, F, F},
        .phases = std::vector<std::string>(7, "Running"),
        .deleted = {false, false, false, false, false, true, true},
        .requests = Repeat(7, "1.0"),
        .levels = {100, 300, 500, 250, 250}},
       50,
       3,
       28,
       kNumContainersPerPod * 280},
  };
  for (const ResourceCase& tc : cases) RunResourceCase(tc);
}

// TestReplicaCalcTolerance
TEST(ReplicaCalcResource, Tolerance) {
  RunResourceCase(
      {"TestReplicaCalcTolerance",
       {.current_replicas = 3, .requests = {"0.9", "1.0", "1.1"}, .levels = {1010, 1030, 1020}},
       100,
       3,
       102,
       kNumContainersPerPod * 1020});
}

// TestReplicaCalcConfigurableTolerance (Tolerances{scaleDown, scaleUp} upstream).
TEST(ReplicaCalcResource, ConfigurableTolerance) {
  const std::vector<std::string> requests = {"0.9", "1.0", "1.1"};
  // "Outside of a 0% tolerance"
  RunResourceCase({"Outside of a 0% tolerance",
                   {.current_replicas = 3, .requests = requests, .levels = {909, 1010, 1111}},
                   100,
                   4,
                   101,
                   kNumContainersPerPod * 1010,
                   Tolerances{0., 0.}});
  // "Within a 200% scale-up tolerance"
  RunResourceCase({"Within a 200% scale-up tolerance",
                   {.current_replicas = 3, .requests = requests, .levels = {1890, 1910, 1900}},
                   100,
                   3,
                   190,
                   kNumContainersPerPod * 1900,
                   Tolerances{0.1, 2.}});
  // "Outside 8% scale-up tolerance (and superfuous scale-down tolerance)"
  RunResourceCase({"Outside 8% scale-up tolerance",
                   {.current_replicas = 3, .requests = requests, .levels = {1100, 1080, 1090}},
                   100,
                   4,
                   109,
                   kNumContainersPerPod * 1090,
                   Tolerances{2., .08}});
  // "Within a 36% scale-down tolerance"
  RunResourceCase({"Within a 36% scale-down tolerance",
                   {.current_replicas = 3, .requests = requests, .levels = {660, 640, 650}},
                   100,
                   3,
                   65,
                   kNumContainersPerPod * 650,
                   Tolerances{.36, 0.1}});
  // "Outside a 34% scale-down tolerance"
  RunResourceCase({"Outside a 34% scale-down tolerance",
                   {.current_replicas = 3, .requests = requests, .levels = {660, 640, 650}},
                   100,
                   2,
                   65,
                   kNumContainersPerPod * 650,
                   Tolerances{.34, 0.1}});
}

// TestReplicaCalcSuperfluousMetrics: samples of pods not in the list count in no sum.
TEST(ReplicaCalcResource, SuperfluousMetrics) {
  RunResourceCase({"TestReplicaCalcSuperfluousMetrics",
                   {.current_replicas = 4,
                    .requests = Repeat(4, "1.0"),
                    .levels = {4000, 9500, 3000, 7000, 3200, 2000}},
                   100,
                   24,
                   587,
                   kNumContainersPerPod * 5875});
}

// TestReplicaCalcMissingMetrics
TEST(ReplicaCalcResource, MissingMetrics) {
  RunResourceCase({"TestReplicaCalcMissingMetrics",
                   {.current_replicas = 4, .requests = Repeat(4, "1.0"), .levels = {400, 95}},
                   100,
                   3,
                   24,
                   495});
}

// TestReplicaCalcMissingMetricsNoChangeEq / Gt / Lt
TEST(ReplicaCalcResource, MissingMetricsNoChange) {
  RunResourceCase({"TestReplicaCalcMissingMetricsNoChangeEq",
                   {.current_replicas = 2, .requests = Repeat(2, "1.0"), .levels = {1000}},
                   100,
                   2,
                   100,
                   kNumContainersPerPod * 1000});
  RunResourceCase({"TestReplicaCalcMissingMetricsNoChangeGt",
                   {.current_replicas = 2, .requests = Repeat(2, "1.0"), .levels = {1900}},
                   100,
                   2,
                   190,
                   kNumContainersPerPod * 1900});
  RunResourceCase({"TestReplicaCalcMissingMetricsNoChangeLt",
                   {.current_replicas = 2, .requests = Repeat(2, "1.0"), .levels = {600}},
                   100,
                   2,
                   60,
                   kNumContainersPerPod * 600});
}

// TestReplicaCalcMissingMetricsUnreadyChange, ...HotCpuNoChange, ...UnreadyScaleUp,
// ...HotCpuScaleUp, ...UnreadyScaleDown, ...ScaleDownTargetOver100
TEST(ReplicaCalcResource, MissingMetricsWithUnreadyPods) {
  RunResourceCase({"TestReplicaCalcMissingMetricsUnreadyChange",
                   {.current_replicas = 3,
                    .readiness = {F, T, T},
                    .requests = Repeat(3, "1.0"),
                    .levels = {100, 450}},
                   50,
                   3,
                   45,
                   kNumContainersPerPod * 450});
  RunResourceCase(
      {"TestReplicaCalcMissingMetricsHotCpuNoChange",
       {.current_replicas = 3,
        .start_times = {HotCpuCreationTime(), CoolCpuCreationTime(), CoolCpuCreationTime()},
        .requests = Repeat(3, "1.0"),
        .levels = {100, 450}},
       50,
       3,
       45,
       kNumContainersPerPod * 450});
  RunResourceCase({"TestReplicaCalcMissingMetricsUnreadyScaleUp",
                   {.current_replicas = 3,
                    .readiness = {F, T, T},
                    .requests = Repeat(3, "1.0"),
                    .levels = {100, 2000}},
                   50,
                   4,
                   200,
                   kNumContainersPerPod * 2000});
  RunResourceCase(
      {"TestReplicaCalcMissingMetricsHotCpuScaleUp",
       {.current_replicas = 3,
        .readiness = {F, T, T},
        .start_times = {HotCpuCreationTime(), CoolCpuCreationTime(), CoolCpuCreationTime()},
        .requests = Repeat(3, "1.0"),
        .levels = {100, 2000}},
       50,
       4,
       200,
       kNumContainersPerPod * 2000});
  RunResourceCase({"TestReplicaCalcMissingMetricsUnreadyScaleDown",
                   {.current_replicas = 4,
                    .readiness = {F, T, T, T},
                    .requests = Repeat(4, "1.0"),
                    .levels = {100, 100, 100}},
                   50,
                   3,
                   10,
                   kNumContainersPerPod * 100});
  RunResourceCase({"TestReplicaCalcMissingMetricsScaleDownTargetOver100",
                   {.current_replicas = 4,
                    .readiness = {F, T, T, T},
                    .requests = {"1.0", "1.0", "2.0", "2.0"},
                    .levels = {200, 100, 100}},
                   300,
                   2,
                   6,
                   kNumContainersPerPod * 100});
}

// TestReplicaCalcDuringRollingUpdateWithMaxSurge
TEST(ReplicaCalcResource, DuringRollingUpdateWithMaxSurge) {
  RunResourceCase({"TestReplicaCalcDuringRollingUpdateWithMaxSurge",
                   {.current_replicas = 2,
                    .phases = {"Running", "Running", "Running"},
                    .requests = Repeat(3, "1.0"),
                    .levels = {100, 100}},
                   50,
                   2,
                   10,
                   kNumContainersPerPod * 100});
}

// TestReplicaCalcComputedToleranceAlgImplementation: the target is back-calculated so that the
// ratio just leaves the tolerance band, then so that it just stays inside it.
TEST(ReplicaCalcResource, ComputedToleranceAlgImplementation) {
  const int32_t start_pods = 10;
  // 150 mCPU per pod.
  const int64_t total_used_cpu = int64_t{start_pods} * 150;
  // Each pod starts out asking for 2X what is really needed.
  const int32_t total_requested_cpu = static_cast<int32_t>(2 * total_used_cpu);
  const double requested_to_used =
      static_cast<double>(total_requested_cpu / static_cast<int32_t>(total_used_cpu));
  const int32_t per_pod_requested = total_requested_cpu / start_pods;

  // Force a minimal scaling event by satisfying (tolerance < 1 - resourcesUsedRatio).
  double target = std::abs(1 / (requested_to_used * (1 - 0.1))) + .01;
  int32_t final_cpu_percent_target = static_cast<int32_t>(target * 100);
  const double resources_used_ratio =
      static_cast<double>(total_used_cpu) / (static_cast<double>(total_requested_cpu) * target);
  // i.e. .60 * 20 -> scaled down expectation.
  const int32_t final_pods =
      static_cast<int32_t>(std::ceil(resources_used_ratio * static_cast<double>(start_pods)));

  auto m = [&](int delta) { return std::to_string(per_pod_requested + delta) + "m"; };
  Fixture f{.current_replicas = start_pods,
            .requests = {m(100), m(-100), m(10), m(-10), m(2), m(-2), m(1), m(-1), m(0), m(0)},
            .levels = std::vector<int64_t>(10, total_used_cpu / 10)};
  const int32_t expected_utilization =
      static_cast<int32_t>(total_used_cpu * 100) / total_requested_cpu;
  RunResourceCase({"minimal scale down", f, final_cpu_percent_target, final_pods,
                   expected_utilization, kNumContainersPerPod * total_used_cpu / 10});
  EXPECT_EQ(final_pods, 9);

  // Now, we test that no scaling happens if we are in a very close margin to the tolerance.
  target = std::abs(1 / (requested_to_used * (1 - 0.1))) + .004;
  final_cpu_percent_target = static_cast<int32_t>(target * 100);
  RunResourceCase({"no scale within margin", f, final_cpu_percent_target, start_pods,
                   expected_utilization, kNumContainersPerPod * total_used_cpu / 10});
}

// TestReplicaCalcDisjointResourcesMetrics
TEST(ReplicaCalcResource, DisjointResourcesMetrics) {
  Fixture f{.current_replicas = 1,
            .requests = {"1.0"},
            .levels = {100},
            .metric_pod_names = {"an-older-pod-name"}};
  auto r = TestingCalculator().GetResourceReplicas(1, 100, "cpu", kDefaultTolerances, f.Pods(),
                                                   f.ResourceMetrics(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("no metrics returned matched known pods"), std::string::npos);
}

// TestReplicaCalcEmptyMetrics (the error comes from the metrics client upstream; here from the
// dispatcher).
TEST(ReplicaCalcResource, EmptyMetrics) {
  Fixture f{.current_replicas = 4, .requests = Repeat(3, "1.0")};
  HpaMetricSpec spec;
  spec.type = HpaMetricSourceType::kResource;
  spec.resource = HpaResourceMetricSource{"cpu", {.average_utilization = 100}};
  MetricProposal p = TestingCalculator().ComputeReplicasForMetric(
      spec, 4, 4, f.Pods(), MetricObservation{}, kDefaultTolerances, kNow);
  EXPECT_FALSE(p.replicas.has_value());
  EXPECT_NE(p.error.find("unable to get metrics for resource cpu: no metrics returned from "
                         "resource metrics API"),
            std::string::npos)
      << p.error;
  EXPECT_EQ(p.condition_reason, "FailedGetResourceMetric");

  // All samples belonged to unready pods.
  Fixture unready{.current_replicas = 2,
                  .readiness = {F, F},
                  .requests = Repeat(2, "1.0"),
                  .levels = {100, 100}};
  auto r = TestingCalculator().GetResourceReplicas(2, 50, "cpu", kDefaultTolerances, unready.Pods(),
                                                   unready.ResourceMetrics(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "did not receive metrics for targeted pods (pods might be unready)");
}

// TestReplicaCalcEmptyCPURequest
TEST(ReplicaCalcResource, EmptyCPURequest) {
  Fixture f{.current_replicas = 1, .levels = {200}};
  auto r = TestingCalculator().GetResourceReplicas(1, 100, "cpu", kDefaultTolerances, f.Pods(),
                                                   f.ResourceMetrics(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("missing request for"), std::string::npos);
}

TEST(ReplicaCalcResource, NoPods) {
  auto r = TestingCalculator().GetResourceReplicas(1, 100, "cpu", kDefaultTolerances, {}, {}, kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "no pods returned by selector while calculating replica count");
}

TEST(ReplicaCalcResource, UtilizationOutsideInt32IsAnError) {
  Fixture f{.current_replicas = 1, .requests = {"1m"}, .levels = {kMaxInt64 / 4}};
  auto r = TestingCalculator().GetResourceReplicas(1, 100, "cpu", kDefaultTolerances, f.Pods(),
                                                   f.ResourceMetrics(), kNow);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("is outside the int32 range"), std::string::npos) << r.error();
}

// Memory has no initialization rules: a not-Ready running pod with a sample counts as ready.
TEST(ReplicaCalcResource, MemoryIgnoresReadiness) {
  Fixture f{.current_replicas = 3,
            .readiness = {F, T, T},
            .requests = Repeat(3, "1.0"),
            .levels = {300, 500, 700}};
  auto r = TestingCalculator().GetResourceReplicas(3, 30, "memory", kDefaultTolerances, f.Pods(),
                                                   f.ResourceMetrics(), kNow);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->replicas, 5);  // as "scale up" with all pods ready
  EXPECT_EQ(r->utilization, 50);
}

// --- Pods metrics (GetMetricReplicas) ---

struct MetricCase {
  std::string name{};
  Fixture fixture{};
  int64_t target = 0;
  int32_t expected_replicas = 0;
  int64_t expected_usage = 0;
  Tolerances tolerances = kDefaultTolerances;
};

void RunPodsMetricCase(const MetricCase& tc) {
  SCOPED_TRACE(tc.name);
  auto r =
      TestingCalculator().GetMetricReplicas(tc.fixture.current_replicas, tc.target, tc.tolerances,
                                            tc.fixture.Pods(), tc.fixture.CustomMetrics(), kNow);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->replicas, tc.expected_replicas) << r->reason;
  EXPECT_EQ(r->usage, tc.expected_usage);
}

TEST(ReplicaCalcPodsMetric, UpstreamCases) {
  // TestReplicaCalcScaleUpCM
  RunPodsMetricCase({"TestReplicaCalcScaleUpCM",
                     {.current_replicas = 3, .custom_levels = {20000, 10000, 30000}},
                     15000,
                     4,
                     20000});
  // TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale: readiness rules are for cpu only.
  RunPodsMetricCase(
      {"TestReplicaCalcScaleUpCMUnreadyHotCpuNoLessScale",
       {.current_replicas = 3,
        .readiness = {T, T, F},
        .start_times = {CoolCpuCreationTime(), CoolCpuCreationTime(), HotCpuCreationTime()},
        .custom_levels = {50000, 10000, 30000}},
       15000,
       6,
       30000});
  // TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown
  RunPodsMetricCase(
      {"TestReplicaCalcScaleUpCMUnreadyHotCpuScaleWouldScaleDown",
       {.current_replicas = 3,
        .readiness = {F, T, F},
        .start_times = {HotCpuCreationTime(), CoolCpuCreationTime(), HotCpuCreationTime()},
        .custom_levels = {50000, 15000, 30000}},
       15000,
       7,
       31666});
  // TestReplicaCalcScaleDownCM
  RunPodsMetricCase({"TestReplicaCalcScaleDownCM",
                     {.current_replicas = 5, .custom_levels = {12000, 12000, 12000, 12000, 12000}},
                     20000,
                     3,
                     12000});
  // TestReplicaCalcToleranceCM
  RunPodsMetricCase({"TestReplicaCalcToleranceCM",
                     {.current_replicas = 3, .custom_levels = {20000, 21000, 21000}},
                     20000,
                     3,
                     20666});
  // TestReplicaCalcConfigurableToleranceCM
  RunPodsMetricCase({"TestReplicaCalcConfigurableToleranceCM",
                     {.current_replicas = 3, .custom_levels = {20000, 21000, 21000}},
                     20000,
                     4,
                     20666,
                     Tolerances{0.1, .01}});
  // TestPlainMetricReplicaCalcMissingMetricsNoChangeEq
  RunPodsMetricCase({"TestPlainMetricReplicaCalcMissingMetricsNoChangeEq",
                     {.current_replicas = 5, .custom_levels = {20000, 19000, 21000}},
                     20000,
                     5,
                     20000});
  // TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM
  RunPodsMetricCase({"TestReplicaCalcDuringRollingUpdateWithMaxSurgeCM",
                     {.current_replicas = 2,
                      .phases = {"Running", "Running", "Running"},
                      .custom_levels = {10000, 10000}},
                     17000,
                     2,
                     10000});
}

// Resource metric with an AverageValue target: the plain calculation, with cpu readiness rules.
TEST(ReplicaCalcRawResource, AverageValueTargetUsesCpuReadiness) {
  Fixture f{.current_replicas = 3, .readiness = {F, T, T}, .levels = {300, 500, 700}};
  // Per pod 600m, 1000m, 1400m; target 400m per pod.
  auto r = TestingCalculator().GetRawResourceReplicas(3, 400, "cpu", kDefaultTolerances, f.Pods(),
                                                      f.ResourceMetrics(), kNow);
  ASSERT_TRUE(r.ok()) << r.error();
  // Ready pods average 1200 (ratio 3); the unready pod counts as 0 on a scale-up:
  // (1000 + 1400 + 0) / 3 = 800 -> ratio 2 -> ceil(2 x 3) = 6.
  EXPECT_EQ(r->replicas, 6) << r->reason;
  EXPECT_EQ(r->usage, 1200);
  // Missing pods on a scale-down count at the target.
  Fixture missing{.current_replicas = 3, .levels = {100, 100}};
  r = TestingCalculator().GetRawResourceReplicas(3, 400, "cpu", kDefaultTolerances, missing.Pods(),
                                                 missing.ResourceMetrics(), kNow);
  ASSERT_TRUE(r.ok()) << r.error();
  // (200 + 200 + 400) / 3 = 266 -> ratio 0.666 -> ceil(2.0) = 2.
  EXPECT_EQ(r->replicas, 2) << r->reason;
  EXPECT_EQ(r->usage, 200);
}

// --- Object and External metrics ---

// TestReplicaCalcScaleUpCMObject, TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods,
// TestReplicaCalcScaleDownCMObject, TestReplicaCalcToleranceCMObject,
// TestReplicaCalcConfigurableToleranceCMObject, TestReplicaCalcScaleUpOverflow
TEST(ReplicaCalcObjectMetric, UpstreamCases) {
  const ReplicaCalculator calc = TestingCalculator();
  struct Case {
    const char* name = "";
    Fixture fixture{};
    int64_t level{};
    int64_t target{};
    int32_t expected_replicas{};
    Tolerances tolerances = kDefaultTolerances;
  };
  const std::vector<Case> cases = {
      {"TestReplicaCalcScaleUpCMObject", {.current_replicas = 3}, 20000, 15000, 4},
      // If we did not ignore unready pods, we'd expect 15 replicas.
      {"TestReplicaCalcScaleUpCMObjectIgnoresUnreadyPods",
       {.current_replicas = 3, .readiness = {F, T, F}},
       50000,
       10000,
       5},
      {"TestReplicaCalcScaleDownCMObject", {.current_replicas = 5}, 12000, 20000, 3},
      {"TestReplicaCalcToleranceCMObject", {.current_replicas = 3}, 20666, 20000, 3},
      {"TestReplicaCalcConfigurableToleranceCMObject",
       {.current_replicas = 3},
       20666,
       20000,
       4,
       Tolerances{0.1, .01}},
      {"TestReplicaCalcScaleUpOverflow", {.current_replicas = 3}, kMaxInt64, 1, kMaxInt32},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto r = calc.GetObjectMetricReplicas(tc.fixture.current_replicas, tc.target, tc.level,
                                          tc.tolerances, tc.fixture.Pods());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->replicas, tc.expected_replicas) << r->reason;
    EXPECT_EQ(r->usage, tc.level);
  }
}

// TestReplicaCalcScaleUpCMPerPodObject, TestReplicaCalcScaleDownPerPodCMObject,
// TestReplicaCalcTolerancePerPodCMObject, TestReplicaCalcConfigurableTolerancePerPodCMObject
TEST(ReplicaCalcObjectPerPodMetric, UpstreamCases) {
  const ReplicaCalculator calc = TestingCalculator();
  struct Case {
    const char* name = "";
    int32_t status_replicas{};
    int64_t level{};
    int64_t per_pod_target{};
    int32_t expected_replicas{};
    int64_t expected_usage{};
    Tolerances tolerances = kDefaultTolerances;
  };
  const std::vector<Case> cases = {
      {"TestReplicaCalcScaleUpCMPerPodObject", 3, 20000, 5000, 4, 6667},
      {"TestReplicaCalcScaleDownPerPodCMObject", 5, 6000, 2000, 3, 1200},
      {"TestReplicaCalcTolerancePerPodCMObject", 4, 20166, 5000, 4, 5042},
      {"TestReplicaCalcConfigurableTolerancePerPodCMObject", 4, 20208, 5000, 5, 5052,
       Tolerances{0.1, .01}},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto r = calc.GetObjectPerPodMetricReplicas(tc.status_replicas, tc.per_pod_target, tc.level,
                                                tc.tolerances);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->replicas, tc.expected_replicas) << r->reason;
    EXPECT_EQ(r->usage, tc.expected_usage);
  }
}

// TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods, TestReplicaCalcScaleDownCMExternal,
// TestReplicaCalcToleranceCMExternal, TestReplicaCalcConfigurableToleranceCMExternal,
// TestReplicaCalcExternalMetricUsageOverflow
TEST(ReplicaCalcExternalMetric, UpstreamCases) {
  const ReplicaCalculator calc = TestingCalculator();
  struct Case {
    const char* name = "";
    Fixture fixture{};
    std::vector<int64_t> levels{};
    int64_t target{};
    int32_t expected_replicas{};
    int64_t expected_usage{};
    Tolerances tolerances = kDefaultTolerances;
  };
  const std::vector<Case> cases = {
      // Would expect 6 if we didn't ignore unready pods.
      {"TestReplicaCalcScaleUpCMExternalIgnoresUnreadyPods",
       {.current_replicas = 3, .readiness = {F, T, F}},
       {8600},
       4400,
       2,
       8600},
      {"TestReplicaCalcScaleDownCMExternal", {.current_replicas = 5}, {8600}, 14334, 3, 8600},
      {"TestReplicaCalcToleranceCMExternal", {.current_replicas = 3}, {8600}, 8888, 3, 8600},
      {"TestReplicaCalcConfigurableToleranceCMExternal",
       {.current_replicas = 3},
       {8900},
       8800,
       4,
       8900,
       Tolerances{0.1, .01}},
      // Two values that when added together will overflow int64: capped.
      {"TestReplicaCalcExternalMetricUsageOverflow",
       {.current_replicas = 3},
       {kMaxInt64 / 2 + 1, kMaxInt64 / 2 + 1},
       kMaxInt64,
       3,
       kMaxInt64},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto r = calc.GetExternalMetricReplicas(tc.fixture.current_replicas, tc.target, tc.levels,
                                            tc.tolerances, tc.fixture.Pods());
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->replicas, tc.expected_replicas) << r->reason;
    EXPECT_EQ(r->usage, tc.expected_usage);
  }
}

// TestReplicaCalcScaleUpPerPodCMExternal, TestReplicaCalcScaleDownPerPodCMExternal,
// TestReplicaCalcTolerancePerPodCMExternal, TestReplicaCalcConfigurableTolerancePerPodCMExternal,
// TestExternalPerPodMetricReplicaOverflow, TestExternalPerPodMetricUsageOverflow
TEST(ReplicaCalcExternalPerPodMetric, UpstreamCases) {
  const ReplicaCalculator calc = TestingCalculator();
  struct Case {
    const char* name = "";
    int32_t status_replicas{};
    std::vector<int64_t> levels{};
    int64_t per_pod_target{};
    int32_t expected_replicas{};
    int64_t expected_usage{};
    Tolerances tolerances = kDefaultTolerances;
  };
  const std::vector<Case> cases = {
      {"TestReplicaCalcScaleUpPerPodCMExternal", 3, {8600}, 2150, 4, 2867},
      {"TestReplicaCalcScaleDownPerPodCMExternal", 5, {8600}, 2867, 3, 1720},
      {"TestReplicaCalcTolerancePerPodCMExternal", 3, {8600}, 2900, 3, 2867},
      {"TestReplicaCalcConfigurableTolerancePerPodCMExternal",
       3,
       {8600},
       2800,
       4,
       2867,
       Tolerances{0.1, .01}},
      {"TestExternalPerPodMetricReplicaOverflow", 1, {kMaxInt64}, 1, kMaxInt32, kMaxInt64},
      {"TestExternalPerPodMetricUsageOverflow", 1, {kMaxInt64}, kMaxInt64, 1, kMaxInt64},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    auto r = calc.GetExternalPerPodMetricReplicas(tc.status_replicas, tc.per_pod_target, tc.levels,
                                                  tc.tolerances);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->replicas, tc.expected_replicas) << r->reason;
    EXPECT_EQ(r->usage, tc.expected_usage);
  }
}

TEST(ReplicaCalcObjectMetric, ScalesFromZeroWithoutReadyPodsOrTolerance) {
  // getUsageRatioReplicaCount with currentReplicas 0: ceil(usage / target).
  auto r = TestingCalculator().GetObjectMetricReplicas(0, 10000, 10500, kDefaultTolerances, {});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->replicas, 2);
  r = TestingCalculator().GetObjectMetricReplicas(0, 10000, 0, kDefaultTolerances, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 0);
  // With current replicas but no pods listed the ready count is an error.
  r = TestingCalculator().GetObjectMetricReplicas(3, 10000, 50000, kDefaultTolerances, {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(),
            "unable to calculate ready pods: no pods returned by selector while calculating "
            "replica count");
}

TEST(ReplicaCalcExternalPerPodMetric, NegativeSumCountsAsOverflowAsUpstream) {
  // GetExternalPerPodMetricReplicas treats any negative running sum as an int64 overflow.
  auto r = TestingCalculator().GetExternalPerPodMetricReplicas(2, 1000, std::vector<int64_t>{-5},
                                                               kDefaultTolerances);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->usage, kMaxInt64);
  EXPECT_EQ(r->replicas, kMaxInt32);
}

TEST(ReplicaCalcPerPod, ZeroStatusReplicasDoesNotCrash) {
  auto r = TestingCalculator().GetObjectPerPodMetricReplicas(0, 5000, 20000, kDefaultTolerances);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 4);
  EXPECT_EQ(r->usage, kMaxInt64);  // ceil(20000 / 0) saturates
}

TEST(ReplicaCalc, NonPositiveTargetsAreErrors) {
  const ReplicaCalculator calc = TestingCalculator();
  Fixture f{.current_replicas = 1, .requests = {"1"}, .levels = {100}, .custom_levels = {100}};
  EXPECT_FALSE(
      calc.GetResourceReplicas(1, 0, "cpu", kDefaultTolerances, f.Pods(), f.ResourceMetrics(), kNow)
          .ok());
  EXPECT_FALSE(
      calc.GetMetricReplicas(1, 0, kDefaultTolerances, f.Pods(), f.CustomMetrics(), kNow).ok());
  EXPECT_FALSE(calc.GetObjectMetricReplicas(1, -1, 5, kDefaultTolerances, f.Pods()).ok());
  EXPECT_FALSE(calc.GetObjectPerPodMetricReplicas(1, 0, 5, kDefaultTolerances).ok());
  EXPECT_FALSE(
      calc.GetExternalMetricReplicas(1, 0, std::vector<int64_t>{5}, kDefaultTolerances, f.Pods())
          .ok());
  EXPECT_FALSE(
      calc.GetExternalPerPodMetricReplicas(1, 0, std::vector<int64_t>{5}, kDefaultTolerances).ok());
}

// --- groupPods ---

// TestGroupPods (upstream pods are all Succeeded unless stated; cpu unless stated).
TEST(GroupPods, UpstreamCases) {
  const Duration cpu_init = minutes(2);
  const Duration delay = seconds(10);
  struct Case {
    const char* name = "";
    std::vector<HpaPod> pods{};
    PodMetricsInfo metrics{};
    std::string resource = "cpu";
    int ready_count = 0;
    PodNameSet unready{};
    PodNameSet missing{};
    PodNameSet ignored{};
  };
  auto pod = [](std::string name, std::optional<WallTime> start,
                std::optional<PodReadyCondition> ready, std::string phase = "Succeeded",
                bool deleting = false) {
    HpaPod p;
    p.name = std::move(name);
    p.phase = std::move(phase);
    p.start_time = start;
    p.ready = ready;
    p.deleting = deleting;
    return p;
  };
  const std::vector<Case> cases = {
      {"void", {}, {}, "cpu", 0, {}, {}, {}},
      {"count in a ready pod - memory",
       {pod("bentham", std::nullopt, std::nullopt)},
       {{"bentham", PodMetric{1, kNow, minutes(1)}}},
       "memory",
       1,
       {},
       {},
       {}},
      {"unready a pod without ready condition - CPU",
       {pod("lucretius", kNow, std::nullopt)},
       {{"lucretius", PodMetric{1, {}, {}}}},
       "cpu",
       0,
       {"lucretius"},
       {},
       {}},
      {"count in a ready pod with fresh metrics during initialization period - CPU",
       {pod("bentham", kNow - minutes(1), PodReadyCondition{T, kNow - seconds(30)})},
       {{"bentham", PodMetric{1, kNow, seconds(30)}}},
       "cpu",
       1,
       {},
       {},
       {}},
      {"unready a ready pod without fresh metrics during initialization period - CPU",
       {pod("bentham", kNow - minutes(1), PodReadyCondition{T, kNow - seconds(30)})},
       {{"bentham", PodMetric{1, kNow, seconds(60)}}},
       "cpu",
       0,
       {"bentham"},
       {},
       {}},
      {"unready an unready pod during initialization period - CPU",
       {pod("lucretius", kNow - minutes(10),
            PodReadyCondition{F, kNow - minutes(9) - seconds(54)})},
       {{"lucretius", PodMetric{1, {}, {}}}},
       "cpu",
       0,
       {"lucretius"},
       {},
       {}},
      {"count in a ready pod without fresh metrics after initialization period - CPU",
       {pod("bentham", kNow - minutes(3), PodReadyCondition{T, kNow - minutes(3)})},
       {{"bentham", PodMetric{1, kNow - minutes(2), minutes(1)}}},
       "cpu",
       1,
       {},
       {},
       {}},
      {"count in an unready pod that was ready after initialization period - CPU",
       {pod("lucretius", kNow - minutes(10), PodReadyCondition{F, kNow - minutes(9)})},
       {{"lucretius", PodMetric{1, {}, {}}}},
       "cpu",
       1,
       {},
       {},
       {}},
      {"unready pod that has never been ready after initialization period - CPU",
       {pod("lucretius", kNow - minutes(10),
            PodReadyCondition{F, kNow - minutes(9) - seconds(50)})},
       {{"lucretius", PodMetric{1, {}, {}}}},
       "cpu",
       1,
       {},
       {},
       {}},
      {"a missing pod",
       {pod("epicurus", kNow - minutes(3), std::nullopt)},
       {},
       "cpu",
       0,
       {},
       {"epicurus"},
       {}},
      {"several pods",
       {pod("lucretius", kNow, std::nullopt),
        pod("niccolo", kNow - minutes(3), PodReadyCondition{T, kNow - minutes(3)}),
        pod("epicurus", kNow - minutes(3), std::nullopt)},
       {{"lucretius", PodMetric{1, {}, {}}}, {"niccolo", PodMetric{1, {}, {}}}},
       "cpu",
       1,
       {"lucretius"},
       {"epicurus"},
       {}},
      {"pending pods are unreadied",
       {pod("unscheduled", std::nullopt, std::nullopt, "Pending")},
       {},
       "cpu",
       0,
       {"unscheduled"},
       {},
       {}},
      {"ignore pods with deletion timestamps",
       {pod("deleted", std::nullopt, std::nullopt, "Pending", true)},
       {{"deleted", PodMetric{1, {}, {}}}},
       "cpu",
       0,
       {},
       {},
       {"deleted"}},
      {"ignore pods in a failed state",
       {pod("failed", std::nullopt, std::nullopt, "Failed")},
       {{"failed", PodMetric{1, {}, {}}}},
       "cpu",
       0,
       {},
       {},
       {"failed"}},
  };
  for (const Case& tc : cases) {
    SCOPED_TRACE(tc.name);
    PodGroups g = GroupPods(tc.pods, tc.metrics, tc.resource, cpu_init, delay, kNow);
    EXPECT_EQ(g.ready_count, tc.ready_count);
    EXPECT_EQ(g.unready, tc.unready);
    EXPECT_EQ(g.missing, tc.missing);
    EXPECT_EQ(g.ignored, tc.ignored);
  }
}

TEST(GroupPods, UnknownReadyStatusCountsAsReadyForCpu) {
  // Only status False makes a pod unready; Unknown does not (as upstream).
  HpaPod p;
  p.name = "p";
  p.start_time = kNow - minutes(10);
  p.ready = PodReadyCondition{ConditionStatus::kUnknown, kNow - minutes(10)};
  PodGroups g =
      GroupPods({p}, {{"p", PodMetric{1, kNow, minutes(1)}}}, "cpu", minutes(5), seconds(30), kNow);
  EXPECT_EQ(g.ready_count, 1);
}

TEST(RemoveMetricsForPods, RemovesOnlyListed) {
  PodMetricsInfo m{{"a", {}}, {"b", {}}, {"c", {}}};
  RemoveMetricsForPods(m, {"a", "c", "zz"});
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m.contains("b"));
}

// --- calculateRequests ---

Container MakeContainer(std::string name, std::optional<int64_t> cpu_milli,
                        bool restartable = false) {
  Container c;
  c.name = std::move(name);
  if (cpu_milli) c.requests["cpu"] = Quantity::FromMilli(*cpu_milli);
  c.restartable_init = restartable;
  return c;
}

// TestCalculateRequests (the container-based cases) and
// TestCalculatePodRequestsFromContainers_NonExistentContainer
TEST(CalculatePodRequest, UpstreamCases) {
  Pod pod;
  pod.name = "test-pod";
  pod.containers = {MakeContainer("container1", 100), MakeContainer("container2", 50)};
  // "Sum container requests if pod-level feature is disabled"
  auto r = CalculatePodRequest(pod, "cpu");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 150);
  // "Container: if a container name is specified, calculate requests only for that container"
  r = CalculatePodRequest(pod, "cpu", "container1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 100);
  // TestCalculatePodRequestsFromContainers_NonExistentContainer
  r = CalculatePodRequest(pod, "cpu", "non-existent-container");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "container non-existent-container not found in Pod test-pod");

  // "Fail if at least one of the containers is missing requests ..."
  Pod missing = pod;
  missing.containers = {MakeContainer("container1", std::nullopt), MakeContainer("container2", 50)};
  r = CalculatePodRequest(missing, "cpu");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "missing request for cpu in container container1 of Pod test-pod");

  // "pod with restartable init containers"
  Pod sidecar = pod;
  sidecar.containers = {MakeContainer("container1", 100)};
  sidecar.init_containers = {MakeContainer("init-container1", 20),
                             MakeContainer("restartable-container1", 50, true)};
  r = CalculatePodRequest(sidecar, "cpu");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 150);
}

// --- tolerances and the dispatcher ---

TEST(Tolerances, IsWithinIsInclusive) {
  Tolerances t{0.1, 0.2};
  EXPECT_TRUE(t.IsWithin(0.9));
  EXPECT_TRUE(t.IsWithin(1.2));
  EXPECT_FALSE(t.IsWithin(0.89));
  EXPECT_FALSE(t.IsWithin(1.21));
}

TEST(Tolerances, ForHpaUsesBehaviorOverrides) {
  HpaSpec spec;
  Tolerances t = TolerancesForHpa(spec, 0.15);
  EXPECT_DOUBLE_EQ(t.scale_down, 0.15);
  EXPECT_DOUBLE_EQ(t.scale_up, 0.15);
  spec.behavior = HpaBehavior{};
  spec.behavior->scale_up.tolerance_milli = 50;  // "0.05"
  t = TolerancesForHpa(spec);
  EXPECT_DOUBLE_EQ(t.scale_down, 0.1);
  EXPECT_DOUBLE_EQ(t.scale_up, 0.05);
}

TEST(ComputeReplicasForMetric, DispatchesAndNamesLikeKubernetes) {
  const ReplicaCalculator calc = TestingCalculator();
  Fixture f{.current_replicas = 3,
            .requests = Repeat(3, "1.0"),
            .levels = {300, 500, 700},
            .custom_levels = {20000, 10000, 30000}};
  const std::vector<HpaPod> pods = f.Pods();

  HpaMetricSpec cpu;
  cpu.type = HpaMetricSourceType::kResource;
  cpu.resource = HpaResourceMetricSource{"cpu", {.average_utilization = 30}};
  MetricProposal p = calc.ComputeReplicasForMetric(
      cpu, 3, 3, pods, MetricObservation{.pod_metrics = f.ResourceMetrics()}, kDefaultTolerances,
      kNow);
  ASSERT_TRUE(p.replicas.has_value()) << p.error;
  EXPECT_EQ(*p.replicas, 5);
  EXPECT_EQ(p.metric, "cpu resource utilization (percentage of request)");

  HpaMetricSpec raw = cpu;
  raw.resource->target = {.type = HpaMetricTargetType::kAverageValue, .average_value_milli = 500};
  p = calc.ComputeReplicasForMetric(raw, 3, 3, pods, {.pod_metrics = f.ResourceMetrics()},
                                    kDefaultTolerances, kNow);
  ASSERT_TRUE(p.replicas.has_value()) << p.error;
  EXPECT_EQ(*p.replicas, 6);  // average 1000m against 500m
  EXPECT_EQ(p.metric, "cpu resource");

  HpaMetricSpec qps;
  qps.type = HpaMetricSourceType::kPods;
  qps.pods = HpaPodsMetricSource{
      "qps",
      "sum by (pod) (rate(http_requests_total[1m]))",
      {.type = HpaMetricTargetType::kAverageValue, .average_value_milli = 15000}};
  p = calc.ComputeReplicasForMetric(qps, 3, 3, pods, {.pod_metrics = f.CustomMetrics()},
                                    kDefaultTolerances, kNow);
  ASSERT_TRUE(p.replicas.has_value()) << p.error;
  EXPECT_EQ(*p.replicas, 4);
  EXPECT_EQ(p.metric, "pods metric qps");

  HpaMetricSpec object;
  object.type = HpaMetricSourceType::kObject;
  object.object =
      HpaObjectMetricSource{{"networking.k8s.io/v1", "Ingress", "web"},
                            "requests",
                            "sum(rate(nginx_requests_total[1m]))",
                            {.type = HpaMetricTargetType::kValue, .value_milli = 15000}};
  p = calc.ComputeReplicasForMetric(object, 3, 3, pods, {.object_value = 20000}, kDefaultTolerances,
                                    kNow);
  ASSERT_TRUE(p.replicas.has_value()) << p.error;
  EXPECT_EQ(*p.replicas, 4);
  EXPECT_EQ(p.metric, "Ingress metric requests");
  object.object->target = {.type = HpaMetricTargetType::kAverageValue, .average_value_milli = 5000};
  p = calc.ComputeReplicasForMetric(object, 3, 3, pods, {.object_value = 20000}, kDefaultTolerances,
                                    kNow);
  ASSERT_TRUE(p.replicas.has_value()) << p.error;
  EXPECT_EQ(*p.replicas, 4);
  p = calc.ComputeReplicasForMetric(object, 3, 3, pods, {}, kDefaultTolerances, kNow);
  EXPECT_FALSE(p.replicas.has_value());
  EXPECT_EQ(p.condition_reason, "FailedGetObjectMetric");

  HpaMetricSpec queue;
  queue.type = HpaMetricSourceType::kExternal;
  queue.external = HpaExternalMetricSource{
      "queue",
      "sum(queue_depth)",
      {.type = HpaMetricTargetType::kAverageValue, .average_value_milli = 2150}};
  p = calc.ComputeReplicasForMetric(queue, 3, 3, pods, {.external_values = {4300, 4300}},
                                    kDefaultTolerances, kNow);
  ASSERT_TRUE(p.replicas.has_value()) << p.error;
  EXPECT_EQ(*p.replicas, 4);  // as TestReplicaCalcScaleUpPerPodCMExternal, split in two samples
  EXPECT_EQ(p.metric, "external metric queue");
  p = calc.ComputeReplicasForMetric(queue, 3, 3, pods, {}, kDefaultTolerances, kNow);
  EXPECT_FALSE(p.replicas.has_value());
  EXPECT_EQ(p.condition_reason, "FailedGetExternalMetric");

  HpaMetricSpec no_target;
  no_target.type = HpaMetricSourceType::kResource;
  no_target.resource = HpaResourceMetricSource{"cpu", {}};
  p = calc.ComputeReplicasForMetric(no_target, 3, 3, pods, {.pod_metrics = f.ResourceMetrics()},
                                    kDefaultTolerances, kNow);
  EXPECT_FALSE(p.replicas.has_value());
  EXPECT_NE(p.error.find("neither an average utilization target nor an average value"),
            std::string::npos);
}

}  // namespace
}  // namespace epc::hpa
