#include "autoscaler/metrics/source_metrics_client.h"

#include <utility>

namespace epc {

SourceMetricsClient::SourceMetricsClient(std::shared_ptr<ApiClient> api,
                                         const std::string& prometheus_url,
                                         std::chrono::seconds prometheus_timeout)
    : resource_(std::move(api)) {
  if (!prometheus_url.empty()) prometheus_.emplace(prometheus_url, prometheus_timeout);
}

Result<hpa::PodMetricsInfo> SourceMetricsClient::GetResourceMetric(std::string_view resource,
                                                                   const std::string& ns,
                                                                   const std::string& selector) {
  return resource_.Get(resource, ns, selector);
}

Result<PromQueryResult> SourceMetricsClient::Query(const std::string& query) const {
  if (!prometheus_) return Error{"no Prometheus configured (autoscaler.prometheus.url)"};
  return prometheus_->Query(query);
}

Result<hpa::PodMetricsInfo> SourceMetricsClient::GetPodsMetric(const std::string& query,
                                                               const std::string& ns,
                                                               const hpa::PodNameSet& pods) {
  Result<PromQueryResult> r = Query(query);
  if (!r.ok()) return Error{r.error()};
  return MatchPodSamples(*r, ns, pods);
}

Result<int64_t> SourceMetricsClient::GetObjectMetric(const std::string& query) {
  Result<PromQueryResult> r = Query(query);
  if (!r.ok()) return Error{r.error()};
  return SingleSampleValue(*r);
}

Result<std::vector<int64_t>> SourceMetricsClient::GetExternalMetric(const std::string& query) {
  Result<PromQueryResult> r = Query(query);
  if (!r.ok()) return Error{r.error()};
  return AllSampleValues(*r);
}

}  // namespace epc
