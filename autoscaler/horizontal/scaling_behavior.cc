#include "autoscaler/horizontal/scaling_behavior.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace epc::hpa {
namespace {

constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr int32_t kMinInt32 = std::numeric_limits<int32_t>::min();

// Go's int32 arithmetic would wrap on absurd inputs; here it saturates.
int32_t Saturate(int64_t v) {
  return static_cast<int32_t>(std::clamp<int64_t>(v, kMinInt32, kMaxInt32));
}

int32_t Saturate(double v) {
  if (std::isnan(v)) return 0;
  if (v >= static_cast<double>(kMaxInt32)) return kMaxInt32;
  if (v <= static_cast<double>(kMinInt32)) return kMinInt32;
  return static_cast<int32_t>(v);  // truncates toward zero, as Go's int32(float64)
}

std::chrono::seconds Seconds(int32_t s) { return std::chrono::seconds(s); }

int64_t ChangeInPeriod(int32_t period_seconds, const std::vector<TimestampedScaleEvent>& events,
                       SteadyTime now) {
  const SteadyTime cutoff = now - Seconds(period_seconds);
  int64_t replicas = 0;
  for (const TimestampedScaleEvent& e : events) {
    if (e.timestamp > cutoff) replicas += e.replica_change;
  }
  return replicas;
}

HpaCondition Condition(std::string_view type, bool status, std::string_view reason,
                       std::string message) {
  return HpaCondition{std::string(type), status, std::string(reason), std::move(message)};
}

constexpr std::string_view kMsgReadyForNewScale = "recommended size matches current size";
constexpr std::string_view kMsgScaleUpLimit =
    "the desired replica count is increasing faster than the maximum scale rate";
constexpr std::string_view kMsgScaleDownLimit =
    "the desired replica count is decreasing faster than the maximum scale rate";
constexpr std::string_view kMsgTooManyReplicas =
    "the desired replica count is more than the maximum replica count";
constexpr std::string_view kMsgTooFewReplicas =
    "the desired replica count is less than the minimum replica count";
constexpr std::string_view kMsgWithinRange = "the desired count is within the acceptable range";

}  // namespace

int32_t GetReplicasChangePerPeriod(int32_t period_seconds,
                                   const std::vector<TimestampedScaleEvent>& events,
                                   SteadyTime now) {
  return Saturate(ChangeInPeriod(period_seconds, events, now));
}

int32_t GetLongestPolicyPeriod(const HpaScalingRules& rules) {
  int32_t longest = 0;
  for (const HpaScalingPolicy& policy : rules.policies) {
    longest = std::max(longest, policy.period_seconds);
  }
  return longest;
}

void MarkScaleEventsOutdated(std::vector<TimestampedScaleEvent>& events,
                             int32_t longest_policy_period, SteadyTime now) {
  const SteadyTime cutoff = now - Seconds(longest_policy_period);
  for (TimestampedScaleEvent& e : events) {
    // outdated scale events are marked for later reuse
    if (e.timestamp < cutoff) e.outdated = true;
  }
}

int32_t CalculateScaleUpLimitWithScalingRules(int32_t current_replicas,
                                              const std::vector<TimestampedScaleEvent>& up_events,
                                              const std::vector<TimestampedScaleEvent>& down_events,
                                              const HpaScalingRules& rules, SteadyTime now) {
  if (rules.select_policy == HpaSelectPolicy::kDisabled) return current_replicas;
  const bool select_min = rules.select_policy == HpaSelectPolicy::kMin;
  // For scaling up, the lowest change ('min' policy) produces a minimum value; the default
  // policy produces the highest possible change.
  int32_t result = select_min ? kMaxInt32 : kMinInt32;
  for (const HpaScalingPolicy& policy : rules.policies) {
    const int64_t added = ChangeInPeriod(policy.period_seconds, up_events, now);
    const int64_t deleted = ChangeInPeriod(policy.period_seconds, down_events, now);
    const int32_t period_start = Saturate(current_replicas - added + deleted);
    int32_t proposed = 0;
    if (policy.type == HpaScalingPolicyType::kPods) {
      proposed = Saturate(static_cast<int64_t>(period_start) + policy.value);
    } else {
      // the proposal has to be rounded up because the proposed change might not increase the
      // replica count causing the target to never scale up
      proposed = Saturate(std::ceil(static_cast<double>(period_start) *
                                    (1 + static_cast<double>(policy.value) / 100)));
    }
    result = select_min ? std::min(result, proposed) : std::max(result, proposed);
  }
  return result;
}

int32_t CalculateScaleDownLimitWithBehaviors(int32_t current_replicas,
                                             const std::vector<TimestampedScaleEvent>& up_events,
                                             const std::vector<TimestampedScaleEvent>& down_events,
                                             const HpaScalingRules& rules, SteadyTime now) {
  if (rules.select_policy == HpaSelectPolicy::kDisabled) return current_replicas;
  const bool select_min = rules.select_policy == HpaSelectPolicy::kMin;
  // For scaling down, the lowest change ('min' policy) produces a maximum value; the default
  // policy produces the highest possible change.
  int32_t result = select_min ? kMinInt32 : kMaxInt32;
  for (const HpaScalingPolicy& policy : rules.policies) {
    const int64_t added = ChangeInPeriod(policy.period_seconds, up_events, now);
    const int64_t deleted = ChangeInPeriod(policy.period_seconds, down_events, now);
    const int32_t period_start = Saturate(current_replicas - added + deleted);
    int32_t proposed = 0;
    if (policy.type == HpaScalingPolicyType::kPods) {
      proposed = Saturate(static_cast<int64_t>(period_start) - policy.value);
    } else {
      proposed = Saturate(static_cast<double>(period_start) *
                          (1 - static_cast<double>(policy.value) / 100));
    }
    result = select_min ? std::max(result, proposed) : std::min(result, proposed);
  }
  return result;
}

int32_t CalculateScaleUpLimit(int32_t current_replicas) {
  // scaleUpLimitFactor 2.0, scaleUpLimitMinimum 4.0
  return Saturate(std::max(2.0 * static_cast<double>(current_replicas), 4.0));
}

LimitedReplicas ConvertDesiredReplicasWithRules(int32_t current_replicas, int32_t desired_replicas,
                                                int32_t min_replicas, int32_t max_replicas) {
  const int32_t minimum_allowed = min_replicas;
  // Do not scaleup too much to prevent incorrect rapid increase of the number of master
  // replicas caused by bogus CPU usage report from heapster/kubelet (like in issue #32304).
  const int32_t scale_up_limit = CalculateScaleUpLimit(current_replicas);
  int32_t maximum_allowed = 0;
  LimitedReplicas limit;
  if (max_replicas > scale_up_limit) {
    maximum_allowed = scale_up_limit;
    limit = {0, kReasonScaleUpLimit, kMsgScaleUpLimit};
  } else {
    maximum_allowed = max_replicas;
    limit = {0, kReasonTooManyReplicas, kMsgTooManyReplicas};
  }
  if (desired_replicas < minimum_allowed) {
    return {minimum_allowed, kReasonTooFewReplicas, kMsgTooFewReplicas};
  }
  if (desired_replicas > maximum_allowed) {
    limit.replicas = maximum_allowed;
    return limit;
  }
  return {desired_replicas, kReasonDesiredWithinRange, kMsgWithinRange};
}

void ScalingState::RecordInitialRecommendation(int32_t current_replicas, SteadyTime now) {
  if (recommendations_.empty()) recommendations_.push_back({current_replicas, now});
}

int32_t ScalingState::StabilizeRecommendation(int32_t prenormalized, std::chrono::seconds window,
                                              SteadyTime now) {
  int32_t max_recommendation = prenormalized;
  bool found_old_sample = false;
  size_t old_sample_index = 0;
  const SteadyTime cutoff = now - window;
  for (size_t i = 0; i < recommendations_.size(); ++i) {
    const TimestampedRecommendation& rec = recommendations_[i];
    if (rec.timestamp < cutoff) {
      found_old_sample = true;
      old_sample_index = i;
    } else if (rec.recommendation > max_recommendation) {
      max_recommendation = rec.recommendation;
    }
  }
  if (found_old_sample) {
    recommendations_[old_sample_index] = {prenormalized, now};
  } else {
    recommendations_.push_back({prenormalized, now});
  }
  return max_recommendation;
}

LimitedReplicas ScalingState::StabilizeRecommendationWithBehaviors(
    int32_t desired, int32_t current, int32_t scale_up_window_seconds,
    int32_t scale_down_window_seconds, SteadyTime now) {
  bool found_old_sample = false;
  size_t old_sample_index = 0;

  int32_t up_recommendation = desired;
  const SteadyTime up_cutoff = now - Seconds(scale_up_window_seconds);
  int32_t down_recommendation = desired;
  const SteadyTime down_cutoff = now - Seconds(scale_down_window_seconds);

  // Calculate the upper and lower stabilization limits.
  for (size_t i = 0; i < recommendations_.size(); ++i) {
    const TimestampedRecommendation& rec = recommendations_[i];
    if (rec.timestamp > up_cutoff) {
      up_recommendation = std::min(rec.recommendation, up_recommendation);
    }
    if (rec.timestamp > down_cutoff) {
      down_recommendation = std::max(rec.recommendation, down_recommendation);
    }
    if (rec.timestamp < up_cutoff && rec.timestamp < down_cutoff) {
      found_old_sample = true;
      old_sample_index = i;
    }
  }

  // Bring the recommendation to within the upper and lower limits (stabilize).
  int32_t recommendation = current;
  if (recommendation < up_recommendation) recommendation = up_recommendation;
  if (recommendation > down_recommendation) recommendation = down_recommendation;

  // Record the unstabilized recommendation.
  if (found_old_sample) {
    recommendations_[old_sample_index] = {desired, now};
  } else {
    recommendations_.push_back({desired, now});
  }

  if (desired >= current) {
    return {recommendation, kReasonScaleUpStabilized,
            "recent recommendations were lower than current one, applying the lowest recent "
            "recommendation"};
  }
  return {recommendation, kReasonScaleDownStabilized,
          "recent recommendations were higher than current one, applying the highest recent "
          "recommendation"};
}

LimitedReplicas ScalingState::ConvertDesiredReplicasWithBehaviorRate(
    int32_t desired, int32_t current, int32_t min_replicas, int32_t max_replicas,
    const HpaScalingRules& scale_up, const HpaScalingRules& scale_down, SteadyTime now) const {
  if (desired > current) {
    int32_t scale_up_limit = CalculateScaleUpLimitWithScalingRules(
        current, scale_up_events_, scale_down_events_, scale_up, now);
    // We shouldn't scale up further until the scaleUpEvents will be cleaned up
    if (scale_up_limit < current) scale_up_limit = current;
    int32_t maximum_allowed = max_replicas;
    LimitedReplicas limit;
    if (maximum_allowed > scale_up_limit) {
      maximum_allowed = scale_up_limit;
      limit = {0, kReasonScaleUpLimit, kMsgScaleUpLimit};
    } else {
      limit = {0, kReasonTooManyReplicas, kMsgTooManyReplicas};
    }
    if (desired > maximum_allowed) {
      limit.replicas = maximum_allowed;
      return limit;
    }
  } else if (desired < current) {
    int32_t scale_down_limit = CalculateScaleDownLimitWithBehaviors(
        current, scale_up_events_, scale_down_events_, scale_down, now);
    // We shouldn't scale down further until the scaleDownEvents will be cleaned up
    if (scale_down_limit > current) scale_down_limit = current;
    int32_t minimum_allowed = min_replicas;
    LimitedReplicas limit;
    if (minimum_allowed < scale_down_limit) {
      minimum_allowed = scale_down_limit;
      limit = {0, kReasonScaleDownLimit, kMsgScaleDownLimit};
    } else {
      limit = {0, kReasonTooFewReplicas, kMsgTooFewReplicas};
    }
    if (desired < minimum_allowed) {
      limit.replicas = minimum_allowed;
      return limit;
    }
  }
  return {desired, kReasonDesiredWithinRange, kMsgWithinRange};
}

void ScalingState::StoreScaleEvent(const std::optional<HpaBehavior>& behavior,
                                   int32_t prev_replicas, int32_t new_replicas, SteadyTime now) {
  if (!behavior) return;  // we should not store any event as they will not be used
  const bool up = new_replicas > prev_replicas;
  std::vector<TimestampedScaleEvent>& events = up ? scale_up_events_ : scale_down_events_;
  const int32_t longest = GetLongestPolicyPeriod(up ? behavior->scale_up : behavior->scale_down);
  MarkScaleEventsOutdated(events, longest, now);
  const int32_t change = up ? new_replicas - prev_replicas : prev_replicas - new_replicas;
  bool found_old_sample = false;
  size_t old_sample_index = 0;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].outdated) {
      found_old_sample = true;
      old_sample_index = i;
    }
  }
  const TimestampedScaleEvent event{change, now, false};
  if (found_old_sample) {
    events[old_sample_index] = event;
  } else {
    events.push_back(event);
  }
}

MetricsRecommendation ComputeReplicasForMetrics(int32_t spec_replicas,
                                                const std::vector<MetricProposal>& proposals) {
  MetricsRecommendation out;
  if (proposals.empty()) {
    // Kubernetes defaults an empty metrics list to cpu at 80% before it gets here.
    out.error = "the HPA has no metrics";
    out.scaling_active = Condition(kScalingActive, false, "InvalidMetricSourceType",
                                   "the HPA was unable to compute the replica count: " + out.error);
    return out;
  }
  int32_t replicas = 0;
  size_t invalid_count = 0;
  const MetricProposal* first_invalid = nullptr;
  for (const MetricProposal& p : proposals) {
    if (!p.replicas) {
      if (invalid_count == 0) first_invalid = &p;
      ++invalid_count;
      continue;
    }
    if (replicas == 0 || *p.replicas > replicas) {
      replicas = *p.replicas;
      out.metric = p.metric;
    }
  }
  if (first_invalid != nullptr) {
    out.error = "invalid metrics (" + std::to_string(invalid_count) + " invalid out of " +
                std::to_string(proposals.size()) + "), first error is: " + first_invalid->error;
  }
  // If all metrics are invalid or some are invalid and we would scale down, return an error and
  // set the condition of the hpa based on the first invalid metric. Otherwise set the condition
  // as scaling active as we're going to scale.
  if (invalid_count >= proposals.size() || (invalid_count > 0 && replicas < spec_replicas)) {
    out.replicas = -1;
    out.metric.clear();
    out.scaling_active =
        Condition(kScalingActive, false, first_invalid->condition_reason,
                  "the HPA was unable to compute the replica count: " + first_invalid->error);
    return out;
  }
  out.replicas = replicas;
  out.scaling_active =
      Condition(kScalingActive, true, kReasonValidMetricFound,
                "the HPA was able to successfully calculate a replica count from " + out.metric);
  return out;
}

bool MetricsNeeded(const HpaSpec& spec, int32_t current_replicas) {
  if (current_replicas == 0 && spec.min_replicas != 0) return false;
  return current_replicas <= spec.max_replicas && current_replicas >= spec.min_replicas;
}

NormalizedReplicas HorizontalScaler::NormalizeDesiredReplicas(
    const HpaSpec& spec, ScalingState& state, int32_t current_replicas,
    int32_t prenormalized_desired_replicas, SteadyTime now) const {
  NormalizedReplicas out;
  int32_t stabilized = 0;
  LimitedReplicas converted;
  if (!spec.behavior) {
    stabilized = state.StabilizeRecommendation(prenormalized_desired_replicas,
                                               options_.downscale_stabilization_window, now);
    out.able_to_scale =
        stabilized != prenormalized_desired_replicas
            ? Condition(kAbleToScale, true, kReasonScaleDownStabilized,
                        "recent recommendations were higher than current one, applying the "
                        "highest recent recommendation")
            : Condition(kAbleToScale, true, kReasonReadyForNewScale,
                        std::string(kMsgReadyForNewScale));
    converted = ConvertDesiredReplicasWithRules(current_replicas, stabilized, spec.min_replicas,
                                                spec.max_replicas);
  } else {
    const HpaBehavior& behavior = *spec.behavior;
    // maybeInitScaleDownStabilizationWindow; the API defaults scaleUp's window to 0.
    const int32_t up_window = behavior.scale_up.stabilization_window_seconds.value_or(0);
    const int32_t down_window = behavior.scale_down.stabilization_window_seconds.value_or(
        static_cast<int32_t>(options_.downscale_stabilization_window.count()));
    const LimitedReplicas st = state.StabilizeRecommendationWithBehaviors(
        prenormalized_desired_replicas, current_replicas, up_window, down_window, now);
    stabilized = st.replicas;
    out.able_to_scale = stabilized != prenormalized_desired_replicas
                            ? Condition(kAbleToScale, true, st.reason, std::string(st.message))
                            : Condition(kAbleToScale, true, kReasonReadyForNewScale,
                                        std::string(kMsgReadyForNewScale));
    converted = state.ConvertDesiredReplicasWithBehaviorRate(
        stabilized, current_replicas, spec.min_replicas, spec.max_replicas, behavior.scale_up,
        behavior.scale_down, now);
  }
  out.replicas = converted.replicas;
  out.scaling_limited = Condition(kScalingLimited, converted.replicas != stabilized,
                                  converted.reason, std::string(converted.message));
  return out;
}

Result<ScaleDecision> HorizontalScaler::Reconcile(const HpaSpec& spec, ScalingState& state,
                                                  int32_t current_replicas,
                                                  const std::vector<MetricProposal>& proposals,
                                                  SteadyTime now) const {
  if (spec.min_replicas < 1) {
    return Error{
        "minReplicas must be at least 1 (scale to zero needs Kubernetes' HPAScaleToZero "
        "feature gate and is not supported), got " +
        std::to_string(spec.min_replicas)};
  }
  if (spec.max_replicas < spec.min_replicas) {
    return Error{"maxReplicas " + std::to_string(spec.max_replicas) +
                 " must be at least minReplicas " + std::to_string(spec.min_replicas)};
  }

  ScaleDecision d;
  d.current_replicas = current_replicas;
  d.able_to_scale = Condition(kAbleToScale, true, kReasonSucceededGetScale,
                              "the HPA controller was able to get the target's current scale");
  state.RecordInitialRecommendation(current_replicas, now);

  int32_t desired = 0;
  bool rescale = true;
  if (current_replicas == 0 && spec.min_replicas != 0) {
    // Autoscaling is disabled for this resource
    rescale = false;
    d.scaling_active = Condition(kScalingActive, false, kReasonScalingDisabled,
                                 "scaling is disabled since the replica count of the target is "
                                 "zero");
  } else if (current_replicas > spec.max_replicas) {
    d.rescale_reason = "Current number of replicas above Spec.MaxReplicas";
    desired = spec.max_replicas;
  } else if (current_replicas < spec.min_replicas) {
    d.rescale_reason = "Current number of replicas below Spec.MinReplicas";
    desired = spec.min_replicas;
  } else {
    MetricsRecommendation m = ComputeReplicasForMetrics(current_replicas, proposals);
    d.scaling_active = m.scaling_active;
    d.error = m.error;
    if (m.replicas == -1) {
      // failed to compute desired number of replicas based on listed metrics
      d.desired_replicas = current_replicas;
      return d;
    }
    std::string rescale_metric;
    if (m.replicas > desired) {
      desired = m.replicas;
      rescale_metric = m.metric;
    }
    d.metric = m.metric;
    if (desired > current_replicas) d.rescale_reason = rescale_metric + " above target";
    if (desired < current_replicas) d.rescale_reason = "All metrics below target";
    NormalizedReplicas n = NormalizeDesiredReplicas(spec, state, current_replicas, desired, now);
    desired = n.replicas;
    d.able_to_scale = std::move(n.able_to_scale);
    d.scaling_limited = std::move(n.scaling_limited);
    rescale = desired != current_replicas;
  }
  d.rescale = rescale;
  d.desired_replicas = rescale ? desired : current_replicas;
  if (!rescale) d.rescale_reason.clear();
  return d;
}

}  // namespace epc::hpa
