// The resource metrics API (metrics.k8s.io/v1beta1 PodMetrics, served by metrics-server) as a
// metric source for Resource metrics, read through the Kubernetes API client.
//
// ParsePodMetricsList is the pure decode; ResourceMetricsReader does the GET. The reader shares
// the ApiClient (shared_ptr) with the rest of the daemon.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "autoscaler/horizontal/replica_calculator.h"
#include "common/k8s/api_client.h"
#include "common/util/result.h"

namespace epc {

// A PodMetricsList: per pod, the sum over its containers of usage[resource] in milli-units,
// with the sample's timestamp and window. As Kubernetes' resource metrics client: a pod with no
// containers, or a container without the resource, is left out. Errors: malformed JSON, bad
// quantities or times, and no usable pod at all ("no metrics returned from resource metrics
// API").
Result<hpa::PodMetricsInfo> ParsePodMetricsList(std::string_view json, std::string_view resource);

class ResourceMetricsReader {
 public:
  explicit ResourceMetricsReader(std::shared_ptr<ApiClient> client) : client_(std::move(client)) {}

  // GET /apis/metrics.k8s.io/v1beta1/namespaces/<ns>/pods?labelSelector=<selector>.
  Result<hpa::PodMetricsInfo> Get(std::string_view resource, const std::string& ns,
                                  const std::string& selector) const;

 private:
  std::shared_ptr<ApiClient> client_;
};

}  // namespace epc
