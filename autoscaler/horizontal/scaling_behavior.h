// Scaling behavior of the horizontal pod autoscaler: a port of the decision part of Kubernetes'
// pkg/controller/podautoscaler/horizontal.go (computeReplicasForMetrics, reconcileAutoscaler's
// replica logic, normalizeDesiredReplicas[WithBehaviors], the stabilization windows and the
// scale-up/scale-down policies), as pure code.
//
// Kubernetes keeps, per HPA, the recent unstabilized recommendations and the recent scale
// events in maps inside the controller; here they live in a ScalingState that the caller owns,
// one per target, and every call takes `now` from the caller's (steady or virtual) clock.
//
// One reconciliation, as the controller does it:
//   ScaleDecision d = scaler.Reconcile(spec, state, scale.spec.replicas, proposals, now);
//   if (d.rescale && <update of the scale subresource succeeded>)
//     state.StoreScaleEvent(spec.behavior, d.current_replicas, d.desired_replicas, now);
// where proposals come from ReplicaCalculator::ComputeReplicasForMetric for each metric.
//
// Out of scope: minReplicas 0 (scale to zero needs Kubernetes' HPAScaleToZero feature gate);
// Reconcile rejects min_replicas < 1.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autoscaler/horizontal/replica_calculator.h"
#include "common/config/hpa_spec.h"
#include "common/util/result.h"

namespace epc::hpa {

using SteadyTime = std::chrono::steady_clock::time_point;

// Condition types and reasons, as the controller sets them on HorizontalPodAutoscalerStatus.
inline constexpr std::string_view kAbleToScale = "AbleToScale";
inline constexpr std::string_view kScalingActive = "ScalingActive";
inline constexpr std::string_view kScalingLimited = "ScalingLimited";
inline constexpr std::string_view kReasonScaleUpLimit = "ScaleUpLimit";
inline constexpr std::string_view kReasonScaleDownLimit = "ScaleDownLimit";
inline constexpr std::string_view kReasonTooManyReplicas = "TooManyReplicas";
inline constexpr std::string_view kReasonTooFewReplicas = "TooFewReplicas";
inline constexpr std::string_view kReasonDesiredWithinRange = "DesiredWithinRange";
inline constexpr std::string_view kReasonScaleUpStabilized = "ScaleUpStabilized";
inline constexpr std::string_view kReasonScaleDownStabilized = "ScaleDownStabilized";
inline constexpr std::string_view kReasonReadyForNewScale = "ReadyForNewScale";
inline constexpr std::string_view kReasonSucceededGetScale = "SucceededGetScale";
inline constexpr std::string_view kReasonScalingDisabled = "ScalingDisabled";
inline constexpr std::string_view kReasonValidMetricFound = "ValidMetricFound";

struct TimestampedRecommendation {
  int32_t recommendation = 0;
  SteadyTime timestamp{};
};

struct TimestampedScaleEvent {
  int32_t replica_change = 0;  // positive; the vector it is in says up or down
  SteadyTime timestamp{};
  bool outdated = false;  // older than the longest policy period: its slot may be reused
};

// A replica count and the condition reason/message that explain it.
struct LimitedReplicas {
  int32_t replicas = 0;
  std::string_view reason{};
  std::string_view message{};
};

// getReplicasChangePerPeriod: the sum of the changes of the events newer than now - period.
int32_t GetReplicasChangePerPeriod(int32_t period_seconds,
                                   const std::vector<TimestampedScaleEvent>& events,
                                   SteadyTime now);
int32_t GetLongestPolicyPeriod(const HpaScalingRules& rules);
// markScaleEventsOutdated: flags events older than now - longest_policy_period.
void MarkScaleEventsOutdated(std::vector<TimestampedScaleEvent>& events,
                             int32_t longest_policy_period, SteadyTime now);

// calculateScaleUpLimitWithScalingRules: the largest count the policies allow now. Each policy
// starts from the replicas at the start of its period (current - added + removed within it):
// Pods adds value, Percent multiplies by 1 + value/100 (rounded up); selectPolicy Max takes the
// largest proposal, Min the smallest, Disabled returns current.
int32_t CalculateScaleUpLimitWithScalingRules(int32_t current_replicas,
                                              const std::vector<TimestampedScaleEvent>& up_events,
                                              const std::vector<TimestampedScaleEvent>& down_events,
                                              const HpaScalingRules& rules, SteadyTime now);
// calculateScaleDownLimitWithBehaviors: the smallest count the policies allow now (Percent
// multiplies by 1 - value/100, truncated); Max selects the smallest proposal (the largest
// change), Min the largest, Disabled returns current.
int32_t CalculateScaleDownLimitWithBehaviors(int32_t current_replicas,
                                             const std::vector<TimestampedScaleEvent>& up_events,
                                             const std::vector<TimestampedScaleEvent>& down_events,
                                             const HpaScalingRules& rules, SteadyTime now);

// Without `behavior`: calculateScaleUpLimit = max(2 x current, 4) and
// convertDesiredReplicasWithRules.
int32_t CalculateScaleUpLimit(int32_t current_replicas);
LimitedReplicas ConvertDesiredReplicasWithRules(int32_t current_replicas, int32_t desired_replicas,
                                                int32_t min_replicas, int32_t max_replicas);

// The per-target history Kubernetes keeps in HorizontalController.recommendations,
// scaleUpEvents and scaleDownEvents. Owned by the caller, one per HPA; drop it when the HPA
// goes away. Not thread-safe: one reconciliation at a time per target.
class ScalingState {
 public:
  // recordInitialRecommendation: seeds the history with the current count on first use.
  void RecordInitialRecommendation(int32_t current_replicas, SteadyTime now);

  // stabilizeRecommendation (no `behavior`): records `prenormalized` (reusing the slot of a
  // sample older than the window) and returns the largest recommendation within the window.
  int32_t StabilizeRecommendation(int32_t prenormalized, std::chrono::seconds window,
                                  SteadyTime now);

  // stabilizeRecommendationWithBehaviors: clamps current between the smallest recommendation
  // within the scale-up window and the largest within the scale-down window, then records the
  // unstabilized `desired`. Reason ScaleUpStabilized when desired >= current, else
  // ScaleDownStabilized (reported only when the result differs from desired).
  LimitedReplicas StabilizeRecommendationWithBehaviors(int32_t desired, int32_t current,
                                                       int32_t scale_up_window_seconds,
                                                       int32_t scale_down_window_seconds,
                                                       SteadyTime now);

  // convertDesiredReplicasWithBehaviorRate: limits `desired` by the policies (never past
  // current in the other direction) and by min/max. Reasons: ScaleUpLimit, TooManyReplicas,
  // ScaleDownLimit, TooFewReplicas, DesiredWithinRange.
  LimitedReplicas ConvertDesiredReplicasWithBehaviorRate(int32_t desired, int32_t current,
                                                         int32_t min_replicas, int32_t max_replicas,
                                                         const HpaScalingRules& scale_up,
                                                         const HpaScalingRules& scale_down,
                                                         SteadyTime now) const;

  // storeScaleEvent: records a rescale from prev to next (none without `behavior`), reusing the
  // slot of an event older than the direction's longest policy period.
  void StoreScaleEvent(const std::optional<HpaBehavior>& behavior, int32_t prev_replicas,
                       int32_t new_replicas, SteadyTime now);

  // The history, for inspection, persistence and tests.
  const std::vector<TimestampedRecommendation>& recommendations() const { return recommendations_; }
  std::vector<TimestampedRecommendation>& recommendations() { return recommendations_; }
  const std::vector<TimestampedScaleEvent>& scale_up_events() const { return scale_up_events_; }
  std::vector<TimestampedScaleEvent>& scale_up_events() { return scale_up_events_; }
  const std::vector<TimestampedScaleEvent>& scale_down_events() const { return scale_down_events_; }
  std::vector<TimestampedScaleEvent>& scale_down_events() { return scale_down_events_; }

 private:
  std::vector<TimestampedRecommendation> recommendations_{};
  std::vector<TimestampedScaleEvent> scale_up_events_{};
  std::vector<TimestampedScaleEvent> scale_down_events_{};
};

struct HpaCondition {
  std::string type{};  // AbleToScale, ScalingActive, ScalingLimited
  bool status = false;
  std::string reason{};
  std::string message{};
};

// computeReplicasForMetrics over the per-metric proposals: the largest valid proposal wins.
// replicas is -1 (do not scale) when every metric is invalid, or when some are invalid and the
// valid ones would scale below spec_replicas; with some invalid metrics and a scale-up, the
// scale-up proceeds and `error` still reports the invalid ones.
struct MetricsRecommendation {
  int32_t replicas = -1;
  std::string metric{};  // the metric that gave `replicas`
  std::string error{};   // "invalid metrics (1 invalid out of 2), first error is: ..."
  HpaCondition scaling_active{};
};
MetricsRecommendation ComputeReplicasForMetrics(int32_t spec_replicas,
                                                const std::vector<MetricProposal>& proposals);

struct NormalizedReplicas {
  int32_t replicas = 0;
  HpaCondition able_to_scale{};    // ScaleUpStabilized, ScaleDownStabilized or ReadyForNewScale
  HpaCondition scaling_limited{};  // status true when limited; reason says by what
};

struct ScaleDecision {
  int32_t current_replicas = 0;  // scale.spec.replicas
  int32_t desired_replicas = 0;  // status.desiredReplicas; equals current unless rescale
  bool rescale = false;
  std::string rescale_reason{};  // "cpu resource utilization (percentage of request) above target"
  std::string metric{};          // the metric that drove the proposal
  std::string error{};           // metric errors (also set when scaling anyway on the others)
  HpaCondition able_to_scale{};
  std::optional<HpaCondition> scaling_active{};
  std::optional<HpaCondition> scaling_limited{};
};

struct HorizontalOptions {
  // --horizontal-pod-autoscaler-downscale-stabilization: the window without `behavior`, and
  // for a behavior whose scaleDown.stabilizationWindowSeconds is unset.
  std::chrono::seconds downscale_stabilization_window{300};
};

// Whether Reconcile reads the metric proposals for this current count (the target is neither
// disabled at zero nor outside [min, max]); lets the caller skip the metric queries.
bool MetricsNeeded(const HpaSpec& spec, int32_t current_replicas);

class HorizontalScaler {
 public:
  explicit HorizontalScaler(HorizontalOptions options = {}) : options_(options) {}

  // normalizeDesiredReplicas (no `behavior`) or normalizeDesiredReplicasWithBehaviors.
  NormalizedReplicas NormalizeDesiredReplicas(const HpaSpec& spec, ScalingState& state,
                                              int32_t current_replicas,
                                              int32_t prenormalized_desired_replicas,
                                              SteadyTime now) const;

  // The replica decision of reconcileAutoscaler. current_replicas is scale.spec.replicas;
  // proposals are read only when MetricsNeeded(). Errors: an invalid spec (min_replicas < 1,
  // max_replicas < min_replicas).
  Result<ScaleDecision> Reconcile(const HpaSpec& spec, ScalingState& state,
                                  int32_t current_replicas,
                                  const std::vector<MetricProposal>& proposals,
                                  SteadyTime now) const;

  const HorizontalOptions& options() const { return options_; }

 private:
  HorizontalOptions options_{};
};

}  // namespace epc::hpa
