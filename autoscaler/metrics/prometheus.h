// Prometheus as a metric source: instant queries over the HTTP API (GET /api/v1/query) and the
// pure functions that turn its answers into the HPA's inputs.
//
//   ParsePrometheusResponse   the JSON answer -> samples (vector or scalar), or an error
//   MatchPodSamples           per-pod samples -> PodMetricsInfo for the target's pods
//   SingleSampleValue         an Object metric's one value
//   PrometheusClient          the HTTP client (cpp-httplib); owns its connection settings only
//
// Values become int64 milli-units truncated toward zero, as prometheus-adapter converts them for
// the custom metrics API; NaN and infinite samples count as missing.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autoscaler/horizontal/replica_calculator.h"
#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc {

struct PromSample {
  Labels labels{};  // the series' labels (scalars have none)
  double value = 0;
  double timestamp = 0;  // Unix seconds
};

// An instant query's result: resultType "vector" (any number of samples) or "scalar" (one).
struct PromQueryResult {
  std::string result_type{};
  std::vector<PromSample> samples{};
};

// `http_status` and `body` of GET /api/v1/query. Errors: status "error" (with errorType and
// error), a non-2xx status, malformed JSON or shape, and result types other than vector and
// scalar ("matrix", "string"). An empty vector is a valid, empty result.
Result<PromQueryResult> ParsePrometheusResponse(int http_status, std::string_view body);

// A sample value in milli-units, truncated toward zero and saturated; nullopt for NaN/Inf.
std::optional<int64_t> SampleMilli(double value);

// The samples of a Pods metric matched to the target's pods: a sample belongs to pod P when its
// `pod` label is P and its `namespace` label, if it has one, is `ns`. Several samples of one pod
// (one per container, say) are summed. Samples of other pods, or without a `pod` label, are
// ignored. Errors when no sample matches a pod, so that "no data" never reads as zero.
Result<hpa::PodMetricsInfo> MatchPodSamples(const PromQueryResult& result, std::string_view ns,
                                            const hpa::PodNameSet& pods);

// The one value of an Object metric: a scalar, or a vector of exactly one finite sample.
Result<int64_t> SingleSampleValue(const PromQueryResult& result);

// Every finite sample, for an External metric; errors when there is none.
Result<std::vector<int64_t>> AllSampleValues(const PromQueryResult& result);

class PrometheusClient {
 public:
  // `url`: "http://host:port" with an optional path prefix ("https://h/prometheus").
  PrometheusClient(std::string url, std::chrono::seconds timeout);

  // GET <url>/api/v1/query?query=<query>. Errors name the URL: connection failures, timeouts
  // and every error of ParsePrometheusResponse.
  Result<PromQueryResult> Query(const std::string& query) const;

  const std::string& url() const { return url_; }

 private:
  std::string url_;
  std::string scheme_host_port_;
  std::string base_path_;
  std::chrono::seconds timeout_;
};

}  // namespace epc
