// SourceMetricsClient: the daemon's MetricsClient. Resource metrics come from metrics.k8s.io
// (ResourceMetricsReader), Pods, Object and External metrics from Prometheus (PrometheusClient).
// Owns both readers; shares the ApiClient.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "autoscaler/metrics/metrics_client.h"
#include "autoscaler/metrics/prometheus.h"
#include "autoscaler/metrics/resource_metrics.h"
#include "common/k8s/api_client.h"

namespace epc {

class SourceMetricsClient : public MetricsClient {
 public:
  // An empty `prometheus_url` leaves Prometheus unconfigured: its metrics then fail.
  SourceMetricsClient(std::shared_ptr<ApiClient> api, const std::string& prometheus_url,
                      std::chrono::seconds prometheus_timeout);

  Result<hpa::PodMetricsInfo> GetResourceMetric(std::string_view resource, const std::string& ns,
                                                const std::string& selector) override;
  Result<hpa::PodMetricsInfo> GetPodsMetric(const std::string& query, const std::string& ns,
                                            const hpa::PodNameSet& pods) override;
  Result<int64_t> GetObjectMetric(const std::string& query) override;
  Result<std::vector<int64_t>> GetExternalMetric(const std::string& query) override;

 private:
  Result<PromQueryResult> Query(const std::string& query) const;

  ResourceMetricsReader resource_;
  std::optional<PrometheusClient> prometheus_;
};

}  // namespace epc
