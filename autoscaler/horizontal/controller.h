// HorizontalController: the reconcile loop body of the Kubernetes HPA controller
// (reconcileAutoscaler) for the targets in the config's autoscaler.horizontal list.
//
// Per target and reconcile: read the scale subresource, list the pods its status.selector
// matches, read each metric, let the ported decision code (ReplicaCalculator, HorizontalScaler)
// decide, write spec.replicas through the scale subresource when it changes, and record Events
// (SuccessfulRescale, FailedGet*Metric, FailedGetScale, FailedRescale, ...) on the target.
// A metric that cannot be read never scales down: the decision code then holds the target.
//
// Owns the per-target ScalingState (the HPA's recommendation and scale-event history). Holds
// references to its collaborators (interfaces.h, metrics_client.h), the metrics and the logger,
// which the caller owns and keeps alive longer. Not thread-safe: one ReconcileAll at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "autoscaler/app/autoscaler_metrics.h"
#include "autoscaler/horizontal/interfaces.h"
#include "autoscaler/horizontal/replica_calculator.h"
#include "autoscaler/horizontal/scaling_behavior.h"
#include "autoscaler/metrics/metrics_client.h"
#include "common/config/config.h"
#include "common/util/logging.h"

namespace epc {

struct HorizontalControllerOptions {
  double tolerance = hpa::kDefaultTolerance;  // autoscaler.tolerance
  hpa::ReplicaCalculatorOptions calculator{};
  hpa::HorizontalOptions horizontal{};
  bool dry_run = false;  // decide and report; write neither scales nor events
};

HorizontalControllerOptions OptionsFromConfig(const AutoscalerConfig& config, bool dry_run);

// One metric of a target after a reconcile (the HPA's status.currentMetrics entry).
struct MetricStatus {
  std::string name{};               // the `metric` label: the resource ("cpu") or the metric's name
  std::string description{};        // the HPA's name: "pods metric app_requests_per_second"
  std::string type{};               // Resource, Pods, Object, External
  std::string target_type{};        // Utilization, AverageValue, Value
  double target = 0;                // percent (Utilization) or the value in units
  std::optional<double> current{};  // same unit; unset when the metric could not be read
  std::optional<int32_t> replicas{};  // this metric's proposal
  std::string error{};
};

// A target after a reconcile: what the HPA would show in its status and conditions.
struct TargetStatus {
  std::string name{};  // the HPA's metadata.name
  std::string namespace_name{};
  std::string target{};  // "<Kind>/<name>" of the scale target
  int32_t min_replicas = 0;
  int32_t max_replicas = 0;
  std::optional<int32_t> current_replicas{};  // unset when the scale could not be read
  int32_t desired_replicas = 0;
  bool rescale = false;  // the decision differs from current
  bool updated = false;  // and the scale subresource was written
  std::string reason{};  // the rescale reason, else why the target holds
  std::vector<MetricStatus> metrics{};
  std::vector<hpa::HpaCondition> conditions{};  // AbleToScale, ScalingActive, ScalingLimited
  std::string error{};                          // what went wrong, if anything
};

// One line of JSON (no newline) for --dry-run --once.
std::string TargetStatusJson(const TargetStatus& status, bool dry_run);

class HorizontalController {
 public:
  HorizontalController(std::vector<HorizontalTargetConfig> targets,
                       HorizontalControllerOptions options, ScaleClient& scales, PodLister& pods,
                       MetricsClient& metrics_client, EventRecorder& events, Clock& clock,
                       AutoscalerMetrics& metrics, Logger& log);

  // Reconciles every target once, in config order; records the loop's duration and time.
  std::vector<TargetStatus> ReconcileAll();
  TargetStatus Reconcile(size_t index);

  size_t size() const { return targets_.size(); }
  // The decision history of target `index` (for tests and inspection).
  const hpa::ScalingState& state(size_t index) const { return states_.at(index); }

 private:
  struct Observed {
    hpa::MetricProposal proposal{};
    MetricStatus status{};
    bool unavailable = false;  // the source failed or had no data
  };
  Observed ObserveMetric(const HorizontalTargetConfig& target, const HpaMetricSpec& spec,
                         const ScaleInfo& scale, const std::vector<TargetPod>& pods,
                         const std::optional<std::string>& pods_error, hpa::WallTime now);
  void Event(const HorizontalTargetConfig& target, std::string_view type, std::string_view reason,
             const std::string& message);

  std::vector<HorizontalTargetConfig> targets_;
  std::vector<hpa::ScalingState> states_;
  HorizontalControllerOptions options_;
  hpa::ReplicaCalculator calculator_;
  hpa::HorizontalScaler scaler_;
  ScaleClient& scales_;
  PodLister& pods_;
  MetricsClient& metrics_client_;
  EventRecorder& events_;
  Clock& clock_;
  AutoscalerMetrics& metrics_;
  Logger& log_;
};

}  // namespace epc
