// AutoscalerMetrics: epc-autoscaler's Prometheus metrics (docs/metrics.md), on a registry of its
// own (no global one). The daemon's main() owns it; the controllers and the leader-election
// callbacks update it; the probe server renders it on GET /metrics. Thread-safe.
//
//   epc_autoscaler_hpa_{current,desired,min,max}_replicas{namespace,target}
//   epc_autoscaler_hpa_metric_{value,target}{namespace,target,metric}
//   epc_autoscaler_hpa_scale_events_total{namespace,target,direction}
//   epc_autoscaler_reconcile_duration_seconds{loop}     histogram
//   epc_autoscaler_last_reconcile_timestamp_seconds{loop}
//   epc_autoscaler_errors_total{kind}
//   epc_autoscaler_is_leader
//   epc_autoscaler_node_group_{current,target,min,max}_size{group}
//   epc_autoscaler_node_group_{scale_ups,scale_downs,backoffs}_total{group}
//   epc_autoscaler_unneeded_nodes{group}, epc_autoscaler_pending_pods{reason}
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "autoscaler/cluster/controller/controller.h"

namespace epc {

// Values of the `kind` label of epc_autoscaler_errors_total.
namespace error_kind {
inline constexpr std::string_view kMetricsUnavailable = "metrics_unavailable";  // source down/empty
inline constexpr std::string_view kMetricsInvalid = "metrics_invalid";  // data the HPA rejects
inline constexpr std::string_view kScaleFailed = "scale_failed";        // scale update refused
inline constexpr std::string_view kApiError = "api_error";              // other API failures
inline constexpr std::string_view kInvalidSpec = "invalid_spec";        // spec the HPA rejects
}  // namespace error_kind

class AutoscalerMetrics {
 public:
  AutoscalerMetrics();

  void SetReplicas(const std::string& ns, const std::string& target, std::optional<int32_t> current,
                   int32_t desired, int32_t min, int32_t max);
  // `value` unset removes the value series (the metric could not be read this time).
  void SetMetric(const std::string& ns, const std::string& target, const std::string& metric,
                 std::optional<double> value, double target_value);
  void CountScale(const std::string& ns, const std::string& target, std::string_view direction);
  // One finished reconcile of `loop` ("horizontal", "cluster").
  void ObserveReconcile(std::string_view loop, double seconds, double finished_unix_seconds);
  void CountError(std::string_view kind);
  void SetLeader(bool leader);
  // The cluster autoscaler's state after a reconcile: gauges set, counters advanced to the
  // controller's totals, the series of groups that disappeared removed. Called from one thread
  // (the cluster loop); Render() may run concurrently.
  void UpdateCluster(const cluster::ClusterAutoscalerMetrics& m);

  // Prometheus text format (version 0.0.4).
  std::string Render() const;

  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Gauge>& current_;
  prometheus::Family<prometheus::Gauge>& desired_;
  prometheus::Family<prometheus::Gauge>& min_;
  prometheus::Family<prometheus::Gauge>& max_;
  prometheus::Family<prometheus::Gauge>& metric_value_;
  prometheus::Family<prometheus::Gauge>& metric_target_;
  prometheus::Family<prometheus::Counter>& scale_events_;
  prometheus::Family<prometheus::Histogram>& reconcile_duration_;
  prometheus::Family<prometheus::Gauge>& last_reconcile_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Gauge>& is_leader_;
  prometheus::Family<prometheus::Gauge>& group_current_;
  prometheus::Family<prometheus::Gauge>& group_target_;
  prometheus::Family<prometheus::Gauge>& group_min_;
  prometheus::Family<prometheus::Gauge>& group_max_;
  prometheus::Family<prometheus::Counter>& group_scale_ups_;
  prometheus::Family<prometheus::Counter>& group_scale_downs_;
  prometheus::Family<prometheus::Counter>& group_backoffs_;
  prometheus::Family<prometheus::Gauge>& unneeded_nodes_;
  prometheus::Family<prometheus::Gauge>& pending_pods_;
  // UpdateCluster()'s memory: the controller's totals already exported, the groups exported.
  std::map<std::string, int64_t> exported_totals_;
  std::set<std::string> exported_groups_;
};

}  // namespace epc
