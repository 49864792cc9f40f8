// MetricsClient: where the horizontal controller reads metric values, the role of Kubernetes'
// metricsclient.MetricsClient. The controller owns nothing here: it holds a reference to one
// implementation (SourceMetricsClient in the daemon, a fake in tests) that outlives it.
//
// Every method returns an error, never zeros, when the source is down, answers badly or has no
// data: a missing value must hold the target, not scale it down.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "autoscaler/horizontal/replica_calculator.h"
#include "common/util/result.h"

namespace epc {

class MetricsClient {
 public:
  virtual ~MetricsClient() = default;

  // Resource metrics (metrics.k8s.io): per-pod usage of `resource` in milli-units, summed over
  // the pod's containers, for the pods of `ns` matching the label selector `selector`.
  virtual Result<hpa::PodMetricsInfo> GetResourceMetric(std::string_view resource,
                                                        const std::string& ns,
                                                        const std::string& selector) = 0;

  // Pods metrics: the PromQL `query`'s samples matched to `pods` (names in `ns`) by their `pod`
  // (and `namespace`) labels, in milli-units.
  virtual Result<hpa::PodMetricsInfo> GetPodsMetric(const std::string& query, const std::string& ns,
                                                    const hpa::PodNameSet& pods) = 0;

  // Object metrics: the single value of `query`, in milli-units.
  virtual Result<int64_t> GetObjectMetric(const std::string& query) = 0;

  // External metrics: every sample of `query`, in milli-units (the calculator sums them).
  virtual Result<std::vector<int64_t>> GetExternalMetric(const std::string& query) = 0;
};

}  // namespace epc
