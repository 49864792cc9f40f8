#include "autoscaler/app/autoscaler_metrics.h"

#include <prometheus/text_serializer.h>

#include <vector>

namespace epc {
namespace {

const prometheus::Histogram::BucketBoundaries& ReconcileBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return kBuckets;
}

prometheus::Family<prometheus::Gauge>& Gauge(prometheus::Registry& r, const char* name,
                                             const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}

prometheus::Family<prometheus::Counter>& Counter(prometheus::Registry& r, const char* name,
                                                 const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}

}  // namespace

AutoscalerMetrics::AutoscalerMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      current_(Gauge(*registry_, "epc_autoscaler_hpa_current_replicas",
                     "Replicas the target's scale subresource reports (spec.replicas).")),
      desired_(Gauge(*registry_, "epc_autoscaler_hpa_desired_replicas",
                     "Replicas the last reconcile of the target decided.")),
      min_(Gauge(*registry_, "epc_autoscaler_hpa_min_replicas",
                 "The target's configured minReplicas.")),
      max_(Gauge(*registry_, "epc_autoscaler_hpa_max_replicas",
                 "The target's configured maxReplicas.")),
      metric_value_(Gauge(*registry_, "epc_autoscaler_hpa_metric_value",
                          "A metric's current value: utilization in percent of the request, or "
                          "the (average) value.")),
      metric_target_(Gauge(*registry_, "epc_autoscaler_hpa_metric_target",
                           "A metric's target: utilization in percent, or the (average) value.")),
      scale_events_(Counter(*registry_, "epc_autoscaler_hpa_scale_events_total",
                            "Rescales of a target the autoscaler wrote, by direction.")),
      reconcile_duration_(prometheus::BuildHistogram()
                              .Name("epc_autoscaler_reconcile_duration_seconds")
                              .Help("Time of one reconcile of a loop over all its targets.")
                              .Register(*registry_)),
      last_reconcile_(Gauge(*registry_, "epc_autoscaler_last_reconcile_timestamp_seconds",
                            "Unix time of the last finished reconcile of a loop.")),
      errors_(Counter(*registry_, "epc_autoscaler_errors_total", "Errors, by kind.")),
      is_leader_(Gauge(*registry_, "epc_autoscaler_is_leader",
                       "1 on the replica that holds the leader lease (or runs without leader "
                       "election), else 0.")),
      group_current_(Gauge(*registry_, "epc_autoscaler_node_group_current_size",
                           "Registered nodes of a node group, as its provider reports them.")),
      group_target_(Gauge(*registry_, "epc_autoscaler_node_group_target_size",
                          "A node group's target (desired) size.")),
      group_min_(
          Gauge(*registry_, "epc_autoscaler_node_group_min_size", "A node group's minimum size.")),
      group_max_(
          Gauge(*registry_, "epc_autoscaler_node_group_max_size", "A node group's maximum size.")),
      group_scale_ups_(Counter(*registry_, "epc_autoscaler_node_group_scale_ups_total",
                               "Scale-ups of a node group the autoscaler made.")),
      group_scale_downs_(Counter(*registry_, "epc_autoscaler_node_group_scale_downs_total",
                                 "Nodes of a node group the autoscaler removed.")),
      group_backoffs_(Counter(*registry_, "epc_autoscaler_node_group_backoffs_total",
                              "Provisioning timeouts that put a node group in back-off.")),
      unneeded_nodes_(Gauge(*registry_, "epc_autoscaler_unneeded_nodes",
                            "Nodes of a group that are currently unneeded (scale-down "
                            "candidates).")),
      pending_pods_(Gauge(*registry_, "epc_autoscaler_pending_pods",
                          "Unschedulable pods, by what the last scale-up decision made of them.")) {
  // Series that exist from the start, so rate() and alerts work before the first event.
  for (std::string_view kind : {error_kind::kMetricsUnavailable, error_kind::kMetricsInvalid,
                                error_kind::kScaleFailed, error_kind::kApiError}) {
    errors_.Add({{"kind", std::string(kind)}});
  }
  reconcile_duration_.Add({{"loop", "horizontal"}}, ReconcileBuckets());
  for (const char* reason :
       {"scale_up_triggered", "fits_existing", "no_group_fits", "groups_at_max"}) {
    pending_pods_.Add({{"reason", reason}}).Set(0);
  }
  is_leader_.Add({}).Set(0);
}

void AutoscalerMetrics::SetReplicas(const std::string& ns, const std::string& target,
                                    std::optional<int32_t> current, int32_t desired, int32_t min,
                                    int32_t max) {
  const prometheus::Labels labels{{"namespace", ns}, {"target", target}};
  if (current) current_.Add(labels).Set(*current);
  desired_.Add(labels).Set(desired);
  min_.Add(labels).Set(min);
  max_.Add(labels).Set(max);
}

void AutoscalerMetrics::SetMetric(const std::string& ns, const std::string& target,
                                  const std::string& metric, std::optional<double> value,
                                  double target_value) {
  const prometheus::Labels labels{{"namespace", ns}, {"target", target}, {"metric", metric}};
  metric_target_.Add(labels).Set(target_value);
  if (value) {
    metric_value_.Add(labels).Set(*value);
  } else if (metric_value_.Has(labels)) {
    metric_value_.Remove(&metric_value_.Add(labels));
  }
}

void AutoscalerMetrics::CountScale(const std::string& ns, const std::string& target,
                                   std::string_view direction) {
  scale_events_.Add({{"namespace", ns}, {"target", target}, {"direction", std::string(direction)}})
      .Increment();
}

void AutoscalerMetrics::ObserveReconcile(std::string_view loop, double seconds,
                                         double finished_unix_seconds) {
  const prometheus::Labels labels{{"loop", std::string(loop)}};
  reconcile_duration_.Add(labels, ReconcileBuckets()).Observe(seconds);
  last_reconcile_.Add(labels).Set(finished_unix_seconds);
}

void AutoscalerMetrics::CountError(std::string_view kind) {
  errors_.Add({{"kind", std::string(kind)}}).Increment();
}

void AutoscalerMetrics::SetLeader(bool leader) { is_leader_.Add({}).Set(leader ? 1 : 0); }

void AutoscalerMetrics::UpdateCluster(const cluster::ClusterAutoscalerMetrics& m) {
  // prometheus-cpp counters only go up; the controller keeps totals, so export the difference.
  const auto advance = [this](prometheus::Family<prometheus::Counter>& family,
                              const prometheus::Labels& labels, const std::string& key,
                              int64_t total) {
    int64_t& exported = exported_totals_[key];
    prometheus::Counter& counter = family.Add(labels);
    if (total > exported) counter.Increment(static_cast<double>(total - exported));
    exported = total;
  };
  std::set<std::string> groups;
  for (const cluster::NodeGroupMetrics& g : m.groups) {
    const prometheus::Labels labels{{"group", g.group}};
    groups.insert(g.group);
    group_current_.Add(labels).Set(g.current_size);
    group_target_.Add(labels).Set(g.target_size);
    group_min_.Add(labels).Set(g.min_size);
    group_max_.Add(labels).Set(g.max_size);
    unneeded_nodes_.Add(labels).Set(g.unneeded_nodes);
    advance(group_scale_ups_, labels, "up/" + g.group, g.scale_ups_total);
    advance(group_scale_downs_, labels, "down/" + g.group, g.scale_downs_total);
    advance(group_backoffs_, labels, "backoff/" + g.group, g.backoffs_total);
  }
  for (const std::string& gone : exported_groups_) {
    if (groups.contains(gone)) continue;
    const prometheus::Labels labels{{"group", gone}};
    for (auto* family :
         {&group_current_, &group_target_, &group_min_, &group_max_, &unneeded_nodes_}) {
      if (family->Has(labels)) family->Remove(&family->Add(labels));
    }
  }
  exported_groups_ = std::move(groups);
  for (const char* reason :
       {"scale_up_triggered", "fits_existing", "no_group_fits", "groups_at_max"}) {
    auto it = m.pending_pods.find(reason);
    pending_pods_.Add({{"reason", reason}}).Set(it == m.pending_pods.end() ? 0 : it->second);
  }
  for (const auto& [kind, total] : m.errors_total) {
    advance(errors_, {{"kind", kind}}, "error/" + kind, total);
  }
}

std::string AutoscalerMetrics::Render() const {
  return prometheus::TextSerializer().Serialize(registry_->Collect());
}

}  // namespace epc
