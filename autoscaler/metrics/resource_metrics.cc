#include "autoscaler/metrics/resource_metrics.h"

#include <utility>

#include <nlohmann/json.hpp>

#include "common/model/quantity.h"
#include "common/util/time.h"

namespace epc {

using json = nlohmann::json;

Result<hpa::PodMetricsInfo> ParsePodMetricsList(std::string_view text, std::string_view resource) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Error{std::string("PodMetricsList is not JSON: ") + e.what()};
  }
  if (!doc.is_object() || !doc.contains("items") || !doc["items"].is_array()) {
    return Error{"PodMetricsList has no items list"};
  }
  if (doc["items"].empty()) return Error{"no metrics returned from resource metrics API"};
  const std::string res(resource);
  hpa::PodMetricsInfo out;
  size_t missing = 0;
  for (const json& item : doc["items"]) {
    if (!item.is_object()) return Error{"PodMetrics item is not an object"};
    const json& meta = item.contains("metadata") ? item["metadata"] : json::object();
    if (!meta.is_object() || !meta.contains("name") || !meta["name"].is_string()) {
      return Error{"PodMetrics item has no metadata.name"};
    }
    const std::string name = meta["name"].get<std::string>();
    hpa::PodMetric metric;
    if (item.contains("timestamp") && item["timestamp"].is_string()) {
      Result<WallClockTime> ts = ParseRfc3339(item["timestamp"].get<std::string>());
      if (!ts.ok()) return Error{"PodMetrics " + name + ": timestamp: " + ts.error()};
      metric.timestamp = *ts;
    }
    if (item.contains("window") && item["window"].is_string()) {
      Result<std::chrono::nanoseconds> window = ParseGoDuration(item["window"].get<std::string>());
      if (!window.ok()) return Error{"PodMetrics " + name + ": window: " + window.error()};
      metric.window = *window;
    }
    const json& containers = item.contains("containers") ? item["containers"] : json::array();
    bool usable = containers.is_array() && !containers.empty();
    Quantity sum;
    for (const json& c : usable ? containers : json::array()) {
      const json* usage = c.is_object() && c.contains("usage") ? &c["usage"] : nullptr;
      if (usage == nullptr || !usage->is_object() || !usage->contains(res) ||
          !(*usage)[res].is_string()) {
        usable = false;
        break;
      }
      Result<Quantity> q = Quantity::Parse((*usage)[res].get<std::string>());
      if (!q.ok()) return Error{"PodMetrics " + name + ": usage." + res + ": " + q.error()};
      sum = sum + *q;
    }
    if (!usable) {
      ++missing;
      continue;
    }
    metric.value = sum.MilliValue();
    out.emplace(name, metric);
  }
  if (out.empty()) {
    return Error{"no metrics returned from resource metrics API (" + std::to_string(missing) +
                 " pods without " + res + " usage)"};
  }
  return out;
}

Result<hpa::PodMetricsInfo> ResourceMetricsReader::Get(std::string_view resource,
                                                       const std::string& ns,
                                                       const std::string& selector) const {
  const std::string path = "/apis/metrics.k8s.io/v1beta1/namespaces/" + ns +
                           "/pods?labelSelector=" + UrlEncode(selector);
  Result<ApiResponse> res = client_->Get(path);
  if (!res.ok()) return Error{"resource metrics API: " + res.error()};
  if (!res->ok()) return Error{"resource metrics API: " + res->ErrorMessage()};
  return ParsePodMetricsList(res->body, resource);
}

}  // namespace epc
