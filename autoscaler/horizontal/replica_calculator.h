// Replica calculation of the horizontal pod autoscaler: a port of Kubernetes'
// pkg/controller/podautoscaler/replica_calculator.go (and metrics/utilization.go), decision for
// decision, as pure code. The caller lists the pods and reads the metrics; this code sees only
// their values and the time `now`, so it runs unchanged in the daemon and in the simulator.
//
// Units: metric values, requests and targets are int64 milli-units (Quantity.MilliValue()),
// utilization is an integer percent of the request, exactly as Kubernetes computes them.
// Times are wall-clock (std::chrono::system_clock) because pod start times, Ready-condition
// transitions and metric timestamps come from the API server; the caller passes `now`.
//
// Deviations, all on inputs Kubernetes never produces or where Go's behavior is undefined:
// - float-to-int conversions saturate (Go's int32(huge float) is platform-defined);
// - a non-positive target is an error (the API server rejects it);
// - a pod whose request is unknown fails with "missing request for <resource> in Pod <name>";
//   CalculatePodRequest() gives Kubernetes' per-container message when the caller uses it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/hpa_spec.h"
#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc::hpa {

using WallTime = std::chrono::system_clock::time_point;
using Duration = std::chrono::nanoseconds;

// --horizontal-pod-autoscaler-tolerance
inline constexpr double kDefaultTolerance = 0.1;

// Kubernetes' Tolerances: no scaling while 1 - scale_down <= ratio <= 1 + scale_up.
struct Tolerances {
  double scale_down = kDefaultTolerance;
  double scale_up = kDefaultTolerance;
  bool IsWithin(double usage_ratio) const {
    return (1.0 - scale_down) <= usage_ratio && usage_ratio <= (1.0 + scale_up);
  }
};

// tolerancesForHpa: the controller's tolerance, overridden per direction by
// behavior.scale{Up,Down}.tolerance (HPAConfigurableTolerance, on by default since 1.34).
Tolerances TolerancesForHpa(const HpaSpec& spec, double default_tolerance = kDefaultTolerance);

enum class ConditionStatus { kTrue, kFalse, kUnknown };

// The pod's Ready condition (status.conditions[type=Ready]).
struct PodReadyCondition {
  ConditionStatus status = ConditionStatus::kTrue;
  WallTime last_transition_time{};  // lastTransitionTime
};

// What the calculator needs of one pod matched by the target's selector.
struct HpaPod {
  std::string name{};
  std::string phase = "Running";             // status.phase: Pending, Running, Succeeded, Failed
  bool deleting = false;                     // metadata.deletionTimestamp is set
  std::optional<WallTime> start_time{};      // status.startTime
  std::optional<PodReadyCondition> ready{};  // absent: the pod has no Ready condition
  // The pod's request of the resource in milli-units (see CalculatePodRequest); only
  // Utilization targets read it. Unset: some container has no request for it.
  std::optional<int64_t> request_milli{};
};

// One pod's metric sample (metricsclient.PodMetric).
struct PodMetric {
  int64_t value = 0;  // milli-units
  WallTime timestamp{};
  Duration window{};  // the sample averages [timestamp - window, timestamp]
};
using PodMetricsInfo = std::map<std::string, PodMetric, std::less<>>;
using PodNameSet = std::set<std::string, std::less<>>;

// groupPods' classification.
struct PodGroups {
  int ready_count = 0;
  PodNameSet unready{};  // pending, or (cpu only) not yet initialized
  PodNameSet missing{};  // no metric sample
  PodNameSet ignored{};  // being deleted or failed
};

// groupPods: deleted and failed pods are ignored; pending pods are unready; pods without a
// sample are missing. For "cpu" only, a pod without Ready condition or start time is unready;
// within cpu_initialization_period of its start it is unready if not Ready or if its sample
// does not cover a whole window since the last Ready transition; after that period it is
// unready only if not Ready and it never became Ready (the last transition happened within
// delay_of_initial_readiness_status of the start).
PodGroups GroupPods(const std::vector<HpaPod>& pods, const PodMetricsInfo& metrics,
                    std::string_view resource, Duration cpu_initialization_period,
                    Duration delay_of_initial_readiness_status, WallTime now);

void RemoveMetricsForPods(PodMetricsInfo& metrics, const PodNameSet& pods);

// metrics.GetResourceUtilizationRatio: sums samples and requests of the pods that have both;
// utilization = total * 100 / requests (integer), ratio = utilization / target.
struct ResourceUtilization {
  double ratio = 0;
  int32_t utilization = 0;  // percent of request
  int64_t raw_average = 0;  // milli-units per pod that has a request
};
Result<ResourceUtilization> GetResourceUtilizationRatio(
    const PodMetricsInfo& metrics, const std::map<std::string, int64_t, std::less<>>& requests,
    int32_t target_utilization);

// metrics.GetMetricUsageRatio: usage = total / number of samples (integer), ratio = usage /
// target.
struct MetricUsage {
  double ratio = 0;
  int64_t usage = 0;
};
MetricUsage GetMetricUsageRatio(const PodMetricsInfo& metrics, int64_t target_usage);

// calculatePodRequestsFromContainers: the sum over app containers and restartable (sidecar) init
// containers of their request of `resource` in milli-units, or only the container named
// `container` when it is not empty. Errors: "missing request for cpu in container c of Pod p",
// "container c not found in Pod p". (Pod-level resources are not in our model.)
Result<int64_t> CalculatePodRequest(const Pod& pod, std::string_view resource,
                                    std::string_view container = {});

struct ResourceReplicas {
  int32_t replicas = 0;
  int32_t utilization = 0;        // current.averageUtilization
  int64_t raw_average_value = 0;  // current.averageValue (milli-units)
  std::string reason{};           // which rule decided, for logs and events
};

struct MetricReplicas {
  int32_t replicas = 0;
  int64_t usage = 0;  // current.value or current.averageValue (milli-units)
  std::string reason{};
};

struct ReplicaCalculatorOptions {
  // --horizontal-pod-autoscaler-cpu-initialization-period
  Duration cpu_initialization_period = std::chrono::minutes(5);
  // --horizontal-pod-autoscaler-initial-readiness-delay
  Duration delay_of_initial_readiness_status = std::chrono::seconds(30);
};

// Observed inputs of one metric for ComputeReplicasForMetric.
struct MetricObservation {
  PodMetricsInfo pod_metrics{};            // Resource and Pods metrics: one sample per pod
  std::optional<int64_t> object_value{};   // Object metrics: the object's value (milli)
  std::vector<int64_t> external_values{};  // External metrics: every sample (milli), summed
};

// One metric's proposal, the input of ComputeReplicasForMetrics (scaling_behavior.h).
struct MetricProposal {
  std::string metric{};               // "cpu resource utilization (percentage of request)", ...
  std::optional<int32_t> replicas{};  // unset: the metric is invalid this time
  std::string error{};                // why it is invalid
  std::string condition_reason{};     // ScalingActive=False reason, e.g. FailedGetResourceMetric
  std::string reason{};               // the calculator's reason when valid
};

class ReplicaCalculator {
 public:
  explicit ReplicaCalculator(ReplicaCalculatorOptions options = {}) : options_(options) {}

  // GetResourceReplicas: Resource metric with a Utilization target. Pods that are unready or
  // miss a sample are left out first; when that is not conservative, the ratio is recomputed
  // with missing pods at 100% of their request (max(100, target)% when the target exceeds 100)
  // on a scale-down, at 0 on a scale-up, and unready pods at 0 on a scale-up; the current count
  // is kept if the recomputed ratio is within tolerance or reverses the direction.
  Result<ResourceReplicas> GetResourceReplicas(int32_t current_replicas, int32_t target_utilization,
                                               std::string_view resource,
                                               const Tolerances& tolerances,
                                               const std::vector<HpaPod>& pods,
                                               PodMetricsInfo metrics, WallTime now) const;

  // GetRawResourceReplicas: Resource metric with an AverageValue target.
  Result<MetricReplicas> GetRawResourceReplicas(int32_t current_replicas, int64_t target_usage,
                                                std::string_view resource,
                                                const Tolerances& tolerances,
                                                const std::vector<HpaPod>& pods,
                                                PodMetricsInfo metrics, WallTime now) const;

  // GetMetricReplicas: Pods metric (AverageValue target); no cpu readiness rules apply.
  Result<MetricReplicas> GetMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                           const Tolerances& tolerances,
                                           const std::vector<HpaPod>& pods, PodMetricsInfo metrics,
                                           WallTime now) const;

  // GetObjectMetricReplicas: Object metric with a Value target: ceil(usage / target x ready
  // pods), where ready pods are Running and Ready; with current_replicas 0, ceil(usage / target).
  Result<MetricReplicas> GetObjectMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                                 int64_t usage, const Tolerances& tolerances,
                                                 const std::vector<HpaPod>& pods) const;

  // GetObjectPerPodMetricReplicas: Object metric with an AverageValue target: ceil(usage /
  // target) unless usage / (target x status_replicas) is within tolerance. usage reports the
  // per-pod average ceil(usage / status_replicas).
  Result<MetricReplicas> GetObjectPerPodMetricReplicas(int32_t status_replicas,
                                                       int64_t target_average_usage, int64_t usage,
                                                       const Tolerances& tolerances) const;

  // GetExternalMetricReplicas: External metric with a Value target; samples are summed (capped
  // at INT64_MAX), then as GetObjectMetricReplicas.
  Result<MetricReplicas> GetExternalMetricReplicas(int32_t current_replicas, int64_t target_usage,
                                                   std::span<const int64_t> values,
                                                   const Tolerances& tolerances,
                                                   const std::vector<HpaPod>& pods) const;

  // GetExternalPerPodMetricReplicas: External metric with an AverageValue target; samples are
  // summed, then as GetObjectPerPodMetricReplicas.
  Result<MetricReplicas> GetExternalPerPodMetricReplicas(int32_t status_replicas,
                                                         int64_t target_usage_per_pod,
                                                         std::span<const int64_t> values,
                                                         const Tolerances& tolerances) const;

  // computeReplicasForMetric: dispatches on the metric's type and target as the controller
  // does (Value targets and Pods metrics use spec_replicas, AverageValue targets of Object and
  // External metrics use status_replicas) and names the metric as Kubernetes does.
  MetricProposal ComputeReplicasForMetric(const HpaMetricSpec& spec, int32_t spec_replicas,
                                          int32_t status_replicas, const std::vector<HpaPod>& pods,
                                          const MetricObservation& observation,
                                          const Tolerances& tolerances, WallTime now) const;

  const ReplicaCalculatorOptions& options() const { return options_; }

 private:
  Result<MetricReplicas> CalcPlainMetricReplicas(PodMetricsInfo metrics, int32_t current_replicas,
                                                 int64_t target_usage, const Tolerances& tolerances,
                                                 const std::vector<HpaPod>& pods,
                                                 std::string_view resource, WallTime now) const;

  ReplicaCalculatorOptions options_{};
};

}  // namespace epc::hpa
