#include "autoscaler/horizontal/controller.h"

#include <chrono>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/util/time.h"

namespace epc {
namespace {

using hpa::HpaCondition;
using hpa::MetricProposal;

std::string TargetTypeName(HpaMetricTargetType t) {
  switch (t) {
    case HpaMetricTargetType::kUtilization:
      return "Utilization";
    case HpaMetricTargetType::kValue:
      return "Value";
    case HpaMetricTargetType::kAverageValue:
      return "AverageValue";
  }
  return "";
}

double Units(std::optional<int64_t> milli) {
  return milli ? static_cast<double>(*milli) / 1000.0 : 0.0;
}

double TargetOf(const HpaMetricTarget& t) {
  switch (t.type) {
    case HpaMetricTargetType::kUtilization:
      return t.average_utilization.value_or(0);
    case HpaMetricTargetType::kValue:
      return Units(t.value_milli);
    case HpaMetricTargetType::kAverageValue:
      return Units(t.average_value_milli);
  }
  return 0;
}

// The metric's names and target, as the HPA names it in messages and we label it in metrics.
MetricStatus DescribeMetric(const HpaMetricSpec& m) {
  MetricStatus s;
  switch (m.type) {
    case HpaMetricSourceType::kResource:
      s.type = "Resource";
      if (m.resource) {
        s.name = m.resource->name;
        s.target_type = TargetTypeName(m.resource->target.type);
        s.target = TargetOf(m.resource->target);
        s.description = m.resource->target.type == HpaMetricTargetType::kUtilization
                            ? s.name + " resource utilization (percentage of request)"
                            : s.name + " resource";
      }
      break;
    case HpaMetricSourceType::kPods:
      s.type = "Pods";
      if (m.pods) {
        s.name = m.pods->metric_name;
        s.target_type = TargetTypeName(m.pods->target.type);
        s.target = TargetOf(m.pods->target);
        s.description = "pods metric " + s.name;
      }
      break;
    case HpaMetricSourceType::kObject:
      s.type = "Object";
      if (m.object) {
        s.name = m.object->metric_name;
        s.target_type = TargetTypeName(m.object->target.type);
        s.target = TargetOf(m.object->target);
        s.description = m.object->described_object.kind + " metric " + s.name;
      }
      break;
    case HpaMetricSourceType::kExternal:
      s.type = "External";
      if (m.external) {
        s.name = m.external->metric_name;
        s.target_type = TargetTypeName(m.external->target.type);
        s.target = TargetOf(m.external->target);
        s.description = "external metric " + s.name;
      }
      break;
  }
  return s;
}

// The condition reason Kubernetes gives a failure to read this kind of metric.
std::string FailedGetReason(HpaMetricSourceType type) {
  switch (type) {
    case HpaMetricSourceType::kResource:
      return "FailedGetResourceMetric";
    case HpaMetricSourceType::kPods:
      return "FailedGetPodsMetric";
    case HpaMetricSourceType::kObject:
      return "FailedGetObjectMetric";
    case HpaMetricSourceType::kExternal:
      return "FailedGetExternalMetric";
  }
  return "FailedGetMetric";
}

// Kubernetes' error prefix for a metric of this kind ("failed to get pods metric value: ").
std::string ErrorPrefix(const HpaMetricSpec& m, const MetricStatus& s) {
  switch (m.type) {
    case HpaMetricSourceType::kResource:
      return "failed to get " + s.name + " resource metric value: failed to get " + s.name +
             (s.target_type == "Utilization" ? " utilization: " : " usage: ");
    case HpaMetricSourceType::kPods:
      return "failed to get pods metric value: ";
    case HpaMetricSourceType::kObject:
      return "failed to get object metric value: ";
    case HpaMetricSourceType::kExternal:
      return "failed to get " + s.name + " external metric value: ";
  }
  return "";
}

std::string TargetName(const HorizontalTargetConfig& t) {
  return t.spec.scale_target_ref.kind + "/" + t.spec.scale_target_ref.name;
}

std::string Key(const HorizontalTargetConfig& t) {
  return "hpa " + t.spec.namespace_name + "/" + t.name + " (" + TargetName(t) + ")";
}

}  // namespace

HorizontalControllerOptions OptionsFromConfig(const AutoscalerConfig& config, bool dry_run) {
  HorizontalControllerOptions o;
  o.tolerance = config.tolerance;
  o.calculator.cpu_initialization_period =
      std::chrono::seconds(config.cpu_initialization_period_seconds);
  o.calculator.delay_of_initial_readiness_status =
      std::chrono::seconds(config.initial_readiness_delay_seconds);
  o.horizontal.downscale_stabilization_window =
      std::chrono::seconds(config.downscale_stabilization_seconds);
  o.dry_run = dry_run;
  return o;
}

HorizontalController::HorizontalController(std::vector<HorizontalTargetConfig> targets,
                                           HorizontalControllerOptions options, ScaleClient& scales,
                                           PodLister& pods, MetricsClient& metrics_client,
                                           EventRecorder& events, Clock& clock,
                                           AutoscalerMetrics& metrics, Logger& log)
    : targets_(std::move(targets)),
      states_(targets_.size()),
      options_(options),
      calculator_(options.calculator),
      scaler_(options.horizontal),
      scales_(scales),
      pods_(pods),
      metrics_client_(metrics_client),
      events_(events),
      clock_(clock),
      metrics_(metrics),
      log_(log) {}

void HorizontalController::Event(const HorizontalTargetConfig& target, std::string_view type,
                                 std::string_view reason, const std::string& message) {
  if (options_.dry_run) return;
  events_.Record(target.spec.namespace_name, target.spec.scale_target_ref, type, reason, message);
}

std::vector<TargetStatus> HorizontalController::ReconcileAll() {
  const hpa::SteadyTime start = clock_.SteadyNow();
  std::vector<TargetStatus> out;
  out.reserve(targets_.size());
  for (size_t i = 0; i < targets_.size(); ++i) out.push_back(Reconcile(i));
  const double seconds = std::chrono::duration<double>(clock_.SteadyNow() - start).count();
  metrics_.ObserveReconcile("horizontal", seconds, ToUnixSeconds(clock_.WallNow()));
  return out;
}

HorizontalController::Observed HorizontalController::ObserveMetric(
    const HorizontalTargetConfig& target, const HpaMetricSpec& spec, const ScaleInfo& scale,
    const std::vector<TargetPod>& pods, const std::optional<std::string>& pods_error,
    hpa::WallTime now) {
  Observed o;
  o.status = DescribeMetric(spec);
  const std::string prefix = ErrorPrefix(spec, o.status);
  auto fail = [&](const std::string& error, bool unavailable) {
    o.proposal = MetricProposal{};
    o.proposal.metric = o.status.description;
    o.proposal.condition_reason = FailedGetReason(spec.type);
    o.proposal.error = prefix + error;
    o.status.error = o.proposal.error;
    o.unavailable = unavailable;
    return o;
  };
  const std::string& ns = target.spec.namespace_name;
  const hpa::Tolerances tolerances = hpa::TolerancesForHpa(target.spec, options_.tolerance);
  const bool needs_pods =
      spec.type == HpaMetricSourceType::kResource || spec.type == HpaMetricSourceType::kPods ||
      (spec.type == HpaMetricSourceType::kObject && o.status.target_type == "Value") ||
      (spec.type == HpaMetricSourceType::kExternal && o.status.target_type == "Value");
  if (needs_pods && pods_error) {
    return fail("unable to get pods while calculating replica count: " + *pods_error, false);
  }
  if (pods.empty() &&
      (spec.type == HpaMetricSourceType::kResource || spec.type == HpaMetricSourceType::kPods)) {
    return fail("no pods returned by selector while calculating replica count", false);
  }

  std::vector<hpa::HpaPod> hpa_pods;
  hpa_pods.reserve(pods.size());
  for (const TargetPod& p : pods) hpa_pods.push_back(p.hpa);

  hpa::MetricObservation observation;
  switch (spec.type) {
    case HpaMetricSourceType::kResource: {
      if (!spec.resource) break;
      const std::string& resource = spec.resource->name;
      auto got = metrics_client_.GetResourceMetric(resource, ns, scale.selector);
      if (!got.ok()) {
        return fail("unable to get metrics for resource " + resource + ": " + got.error(), true);
      }
      observation.pod_metrics = std::move(got).value();
      if (spec.resource->target.type == HpaMetricTargetType::kUtilization) {
        for (size_t i = 0; i < pods.size(); ++i) {
          if (!pods[i].pod) {
            return fail("missing request for " + resource + " in Pod " + pods[i].hpa.name +
                            " (the pod did not decode)",
                        false);
          }
          Result<int64_t> request = hpa::CalculatePodRequest(*pods[i].pod, resource);
          if (!request.ok()) return fail(request.error(), false);
          hpa_pods[i].request_milli = *request;
        }
      }
      break;
    }
    case HpaMetricSourceType::kPods: {
      if (!spec.pods) break;
      hpa::PodNameSet names;
      for (const TargetPod& p : pods) names.insert(p.hpa.name);
      auto got = metrics_client_.GetPodsMetric(spec.pods->query, ns, names);
      if (!got.ok()) {
        return fail("unable to get metric " + spec.pods->metric_name + ": " + got.error(), true);
      }
      observation.pod_metrics = std::move(got).value();
      break;
    }
    case HpaMetricSourceType::kObject: {
      if (!spec.object) break;
      auto got = metrics_client_.GetObjectMetric(spec.object->query);
      if (!got.ok()) {
        return fail("unable to get metric " + spec.object->metric_name + ": " +
                        spec.object->described_object.kind + " " + ns + "/" +
                        spec.object->described_object.name + ": " + got.error(),
                    true);
      }
      observation.object_value = *got;
      break;
    }
    case HpaMetricSourceType::kExternal: {
      if (!spec.external) break;
      auto got = metrics_client_.GetExternalMetric(spec.external->query);
      if (!got.ok()) {
        return fail("unable to get external metric " + ns + "/" + spec.external->metric_name +
                        ": " + got.error(),
                    true);
      }
      observation.external_values = std::move(got).value();
      break;
    }
  }

  o.proposal = calculator_.ComputeReplicasForMetric(
      spec, scale.spec_replicas, scale.status_replicas, hpa_pods, observation, tolerances, now);
  if (!o.proposal.replicas) {
    o.status.error = o.proposal.error;
    return o;
  }
  o.status.replicas = o.proposal.replicas;

  // The current value the HPA reports in status.currentMetrics: the same calculator functions
  // that ComputeReplicasForMetric dispatched to, read for their `usage`/`utilization`.
  auto units = [](int64_t milli) { return static_cast<double>(milli) / 1000.0; };
  switch (spec.type) {
    case HpaMetricSourceType::kResource: {
      const HpaMetricTarget& t = spec.resource->target;
      if (t.type == HpaMetricTargetType::kUtilization && t.average_utilization) {
        auto r = calculator_.GetResourceReplicas(scale.spec_replicas, *t.average_utilization,
                                                 spec.resource->name, tolerances, hpa_pods,
                                                 observation.pod_metrics, now);
        if (r.ok()) o.status.current = r->utilization;
      } else if (t.average_value_milli) {
        auto r = calculator_.GetRawResourceReplicas(scale.spec_replicas, *t.average_value_milli,
                                                    spec.resource->name, tolerances, hpa_pods,
                                                    observation.pod_metrics, now);
        if (r.ok()) o.status.current = units(r->usage);
      }
      break;
    }
    case HpaMetricSourceType::kPods: {
      auto r = calculator_.GetMetricReplicas(scale.spec_replicas,
                                             spec.pods->target.average_value_milli.value_or(1),
                                             tolerances, hpa_pods, observation.pod_metrics, now);
      if (r.ok()) o.status.current = units(r->usage);
      break;
    }
    case HpaMetricSourceType::kObject: {
      const HpaMetricTarget& t = spec.object->target;
      if (t.type == HpaMetricTargetType::kAverageValue && t.average_value_milli) {
        auto r = calculator_.GetObjectPerPodMetricReplicas(
            scale.status_replicas, *t.average_value_milli, *observation.object_value, tolerances);
        if (r.ok()) o.status.current = units(r->usage);
      } else {
        o.status.current = units(*observation.object_value);
      }
      break;
    }
    case HpaMetricSourceType::kExternal: {
      const HpaMetricTarget& t = spec.external->target;
      if (t.average_value_milli) {
        auto r = calculator_.GetExternalPerPodMetricReplicas(
            scale.status_replicas, *t.average_value_milli, observation.external_values, tolerances);
        if (r.ok()) o.status.current = units(r->usage);
      } else if (t.value_milli) {
        auto r = calculator_.GetExternalMetricReplicas(
            scale.spec_replicas, *t.value_milli, observation.external_values, tolerances, hpa_pods);
        if (r.ok()) o.status.current = units(r->usage);
      }
      break;
    }
  }
  return o;
}

TargetStatus HorizontalController::Reconcile(size_t index) {
  const HorizontalTargetConfig& target = targets_.at(index);
  const HpaSpec& spec = target.spec;
  const std::string target_name = TargetName(target);
  TargetStatus st;
  st.name = target.name;
  st.namespace_name = spec.namespace_name;
  st.target = target_name;
  st.min_replicas = spec.min_replicas;
  st.max_replicas = spec.max_replicas;

  const hpa::SteadyTime steady_now = clock_.SteadyNow();
  const hpa::WallTime wall_now = clock_.WallNow();

  Result<ScaleInfo> scale = scales_.GetScale(spec.namespace_name, spec.scale_target_ref);
  if (!scale.ok()) {
    const std::string message =
        "the HPA controller was unable to get the target's current scale: " + scale.error();
    Event(target, kEventWarning, "FailedGetScale", message);
    metrics_.CountError(error_kind::kApiError);
    log_.Warning(Key(target) + ": " + message);
    st.error = message;
    st.reason = "FailedGetScale";
    st.conditions.push_back(HpaCondition{"AbleToScale", false, "FailedGetScale", message});
    return st;
  }
  const int32_t current = scale->spec_replicas;
  st.current_replicas = current;

  std::vector<MetricProposal> proposals;
  if (hpa::MetricsNeeded(spec, current)) {
    if (scale->selector.empty()) {
      Event(target, kEventWarning, "SelectorRequired", "selector is required");
      for (const HpaMetricSpec& m : spec.metrics) {
        MetricProposal p;
        p.metric = DescribeMetric(m).description;
        p.condition_reason = "InvalidSelector";
        p.error = "the HPA target's scale is missing a selector";
        MetricStatus ms = DescribeMetric(m);
        ms.error = p.error;
        st.metrics.push_back(std::move(ms));
        proposals.push_back(std::move(p));
      }
    } else {
      std::vector<TargetPod> pods;
      std::optional<std::string> pods_error;
      Result<std::vector<TargetPod>> listed = pods_.ListPods(spec.namespace_name, scale->selector);
      if (listed.ok()) {
        pods = std::move(listed).value();
      } else {
        pods_error = listed.error();
        metrics_.CountError(error_kind::kApiError);
        log_.Warning(Key(target) + ": listing pods (" + scale->selector + "): " + listed.error());
      }
      for (const HpaMetricSpec& m : spec.metrics) {
        Observed o = ObserveMetric(target, m, *scale, pods, pods_error, wall_now);
        if (!o.proposal.replicas) {
          Event(target, kEventWarning, o.proposal.condition_reason, o.proposal.error);
          metrics_.CountError(o.unavailable ? error_kind::kMetricsUnavailable
                                            : error_kind::kMetricsInvalid);
          log_.Warning(Key(target) + ": " + o.proposal.error);
        }
        proposals.push_back(std::move(o.proposal));
        st.metrics.push_back(std::move(o.status));
      }
    }
  } else {
    for (const HpaMetricSpec& m : spec.metrics) st.metrics.push_back(DescribeMetric(m));
  }

  Result<hpa::ScaleDecision> decided =
      scaler_.Reconcile(spec, states_[index], current, proposals, steady_now);
  if (!decided.ok()) {
    metrics_.CountError(error_kind::kInvalidSpec);
    log_.Error(Key(target) + ": " + decided.error());
    st.error = decided.error();
    st.desired_replicas = current;
    st.reason = "invalid spec";
    return st;
  }
  const hpa::ScaleDecision& d = *decided;
  st.conditions.push_back(d.able_to_scale);
  if (d.scaling_active) st.conditions.push_back(*d.scaling_active);
  if (d.scaling_limited) st.conditions.push_back(*d.scaling_limited);
  st.desired_replicas = d.desired_replicas;
  st.rescale = d.rescale;
  st.error = d.error;

  const bool metrics_failed =
      hpa::MetricsNeeded(spec, current) && d.scaling_active && !d.scaling_active->status;
  if (metrics_failed && !d.rescale) {
    // computeReplicasForMetrics failed: the target holds at its current size.
    Event(target, kEventWarning, "FailedComputeMetricsReplicas", d.error);
    st.reason = "holding at " + std::to_string(current) + ": " + d.scaling_active->message;
  } else if (!d.rescale) {
    const HpaCondition& why =
        d.scaling_limited && d.scaling_limited->status ? *d.scaling_limited : d.able_to_scale;
    st.reason = why.reason + ": " + why.message;
    if (d.scaling_active && !d.scaling_active->status) st.reason = d.scaling_active->message;
  } else {
    st.reason = d.rescale_reason;
  }

  if (d.rescale) {
    const int32_t desired = d.desired_replicas;
    const std::string size =
        "New size: " + std::to_string(desired) + "; reason: " + d.rescale_reason;
    if (options_.dry_run) {
      log_.Info(Key(target) + ": dry run: would scale from " + std::to_string(current) + " to " +
                std::to_string(desired) + "; reason: " + d.rescale_reason);
    } else {
      Result<bool> updated =
          scales_.UpdateScale(spec.namespace_name, spec.scale_target_ref, *scale, desired);
      if (updated.ok()) {
        states_[index].StoreScaleEvent(spec.behavior, current, desired, steady_now);
        st.updated = true;
        Event(target, kEventNormal, "SuccessfulRescale", size);
        metrics_.CountScale(spec.namespace_name, target_name, desired > current ? "up" : "down");
        log_.Info(Key(target) + ": scaled from " + std::to_string(current) + " to " +
                  std::to_string(desired) + "; reason: " + d.rescale_reason);
      } else {
        const std::string message = size + "; error: " + updated.error();
        Event(target, kEventWarning, "FailedRescale", message);
        metrics_.CountError(error_kind::kScaleFailed);
        log_.Error(Key(target) + ": " + message);
        st.error = message;
        st.conditions[0] = HpaCondition{
            "AbleToScale", false, "FailedUpdateScale",
            "the HPA controller was unable to update the target scale: " + updated.error()};
      }
    }
  } else {
    log_.V(2, Key(target) + ": " + std::to_string(current) + " replicas; " + st.reason);
  }

  metrics_.SetReplicas(spec.namespace_name, target_name, current, st.desired_replicas,
                       spec.min_replicas, spec.max_replicas);
  for (const MetricStatus& m : st.metrics) {
    metrics_.SetMetric(spec.namespace_name, target_name, m.name, m.current, m.target);
  }
  return st;
}

std::string TargetStatusJson(const TargetStatus& s, bool dry_run) {
  using json = nlohmann::ordered_json;
  json metrics = json::array();
  for (const MetricStatus& m : s.metrics) {
    json j = {{"name", m.name},
              {"description", m.description},
              {"type", m.type},
              {"targetType", m.target_type},
              {"target", m.target},
              {"current", m.current ? json(*m.current) : json(nullptr)},
              {"replicas", m.replicas ? json(*m.replicas) : json(nullptr)}};
    if (!m.error.empty()) j["error"] = m.error;
    metrics.push_back(std::move(j));
  }
  json conditions = json::array();
  for (const HpaCondition& c : s.conditions) {
    conditions.push_back({{"type", c.type},
                          {"status", c.status ? "True" : "False"},
                          {"reason", c.reason},
                          {"message", c.message}});
  }
  json out = {{"name", s.name},
              {"namespace", s.namespace_name},
              {"target", s.target},
              {"dryRun", dry_run},
              {"currentReplicas", s.current_replicas ? json(*s.current_replicas) : json(nullptr)},
              {"desiredReplicas", s.current_replicas ? json(s.desired_replicas) : json(nullptr)},
              {"minReplicas", s.min_replicas},
              {"maxReplicas", s.max_replicas},
              {"rescale", s.rescale},
              {"updated", s.updated},
              {"reason", s.reason},
              {"metrics", std::move(metrics)},
              {"conditions", std::move(conditions)}};
  if (!s.error.empty()) out["error"] = s.error;
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace epc
