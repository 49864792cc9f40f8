#include "autoscaler/metrics/prometheus.h"

#include <httplib.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/k8s/api_client.h"
#include "common/util/time.h"

namespace epc {
namespace {

using json = nlohmann::json;

std::string Truncated(std::string_view s, size_t n = 200) {
  std::string out(s.substr(0, n));
  if (s.size() > n) out += "...";
  return out;
}

// A [timestamp, "value"] pair as the API writes it.
Result<PromSample> ParseSamplePair(const json& pair) {
  if (!pair.is_array() || pair.size() != 2 || !pair[0].is_number() || !pair[1].is_string()) {
    return Error{"malformed sample " + Truncated(pair.dump()) +
                 ", expected [<unix time>, \"<value>\"]"};
  }
  PromSample s;
  s.timestamp = pair[0].get<double>();
  const std::string text = pair[1].get<std::string>();
  char* end = nullptr;
  s.value = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size()) {
    return Error{"malformed sample value \"" + Truncated(text) + "\""};
  }
  return s;
}

// What went wrong on the wire, in words (httplib's own names are terse: "Connection").
std::string TransportError(httplib::Error e, std::chrono::seconds timeout) {
  switch (e) {
    case httplib::Error::Connection:
      return "cannot connect";
    case httplib::Error::ConnectionTimeout:
      return "connection timed out after " + std::to_string(timeout.count()) + "s";
    case httplib::Error::Read:
      return "reading the answer failed (or timed out after " + std::to_string(timeout.count()) +
             "s)";
    case httplib::Error::Write:
      return "sending the query failed";
    case httplib::Error::SSLConnection:
    case httplib::Error::SSLServerVerification:
    case httplib::Error::SSLLoadingCerts:
      return "TLS: " + httplib::to_string(e);
    default:
      return httplib::to_string(e);
  }
}

}  // namespace

Result<PromQueryResult> ParsePrometheusResponse(int http_status, std::string_view body) {
  json doc;
  try {
    doc = json::parse(body);
  } catch (const json::exception&) {
    if (http_status < 200 || http_status >= 300) {
      return Error{"HTTP " + std::to_string(http_status) + ": " + Truncated(body)};
    }
    return Error{"answer is not JSON: " + Truncated(body)};
  }
  if (!doc.is_object() || !doc.contains("status") || !doc["status"].is_string()) {
    return Error{"HTTP " + std::to_string(http_status) +
                 ": answer has no status: " + Truncated(body)};
  }
  const std::string status = doc["status"].get<std::string>();
  if (status != "success") {
    std::string message = "query failed";
    if (doc.contains("errorType") && doc["errorType"].is_string()) {
      message += " (" + doc["errorType"].get<std::string>() + ")";
    }
    if (doc.contains("error") && doc["error"].is_string()) {
      message += ": " + doc["error"].get<std::string>();
    }
    return Error{message};
  }
  if (http_status < 200 || http_status >= 300) {
    return Error{"HTTP " + std::to_string(http_status) + ": " + Truncated(body)};
  }
  if (!doc.contains("data") || !doc["data"].is_object()) {
    return Error{"answer has no data object: " + Truncated(body)};
  }
  const json& data = doc["data"];
  if (!data.contains("resultType") || !data["resultType"].is_string() || !data.contains("result")) {
    return Error{"answer has no resultType or result: " + Truncated(body)};
  }
  PromQueryResult out;
  out.result_type = data["resultType"].get<std::string>();
  const json& result = data["result"];
  if (out.result_type == "scalar") {
    Result<PromSample> s = ParseSamplePair(result);
    if (!s.ok()) return Error{s.error()};
    out.samples.push_back(std::move(s).value());
    return out;
  }
  if (out.result_type != "vector") {
    return Error{"result type \"" + out.result_type +
                 "\" is not supported (an instant query returning a vector or a scalar is "
                 "needed)"};
  }
  if (!result.is_array()) return Error{"vector result is not a list: " + Truncated(body)};
  for (const json& series : result) {
    if (!series.is_object() || !series.contains("value")) {
      return Error{"malformed series " + Truncated(series.dump())};
    }
    Result<PromSample> s = ParseSamplePair(series["value"]);
    if (!s.ok()) return Error{s.error()};
    PromSample sample = std::move(s).value();
    if (series.contains("metric")) {
      const json& metric = series["metric"];
      if (!metric.is_object()) return Error{"malformed series labels " + Truncated(metric.dump())};
      for (const auto& [key, value] : metric.items()) {
        if (!value.is_string()) return Error{"label " + key + " is not a string"};
        sample.labels.emplace(key, value.get<std::string>());
      }
    }
    out.samples.push_back(std::move(sample));
  }
  return out;
}

std::optional<int64_t> SampleMilli(double value) {
  if (!std::isfinite(value)) return std::nullopt;
  const double milli = value * 1000.0;
  // 2^63 is exactly representable; anything at or beyond it saturates.
  if (milli >= 9223372036854775808.0) return std::numeric_limits<int64_t>::max();
  if (milli <= -9223372036854775808.0) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(milli);  // truncation toward zero, as prometheus-adapter
}

Result<hpa::PodMetricsInfo> MatchPodSamples(const PromQueryResult& result, std::string_view ns,
                                            const hpa::PodNameSet& pods) {
  if (result.result_type != "vector") {
    return Error{
        "a Pods metric needs a vector with a `pod` label per sample, the query returned "
        "a " +
        result.result_type};
  }
  hpa::PodMetricsInfo out;
  size_t without_pod_label = 0, other_pods = 0, not_finite = 0;
  for (const PromSample& s : result.samples) {
    auto pod = s.labels.find("pod");
    if (pod == s.labels.end()) {
      ++without_pod_label;
      continue;
    }
    auto sample_ns = s.labels.find("namespace");
    if ((sample_ns != s.labels.end() && sample_ns->second != ns) || !pods.contains(pod->second)) {
      ++other_pods;
      continue;
    }
    std::optional<int64_t> milli = SampleMilli(s.value);
    if (!milli) {
      ++not_finite;
      continue;
    }
    const WallClockTime ts = FromUnixSeconds(s.timestamp);
    auto [it, inserted] = out.try_emplace(pod->second, hpa::PodMetric{*milli, ts, {}});
    if (!inserted) {
      // Several series of one pod: their sum is the pod's value (saturating).
      int64_t& v = it->second.value;
      if (__builtin_add_overflow(v, *milli, &v)) {
        v = *milli > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
      }
      if (ts > it->second.timestamp) it->second.timestamp = ts;
    }
  }
  if (out.empty()) {
    std::string why = "no sample for any of the " + std::to_string(pods.size()) +
                      " pods of the target in namespace " + std::string(ns);
    why += " (the query returned " + std::to_string(result.samples.size()) + " samples";
    if (without_pod_label > 0)
      why += ", " + std::to_string(without_pod_label) + " without a pod label";
    if (other_pods > 0) why += ", " + std::to_string(other_pods) + " of other pods";
    if (not_finite > 0) why += ", " + std::to_string(not_finite) + " NaN or infinite";
    why += ")";
    return Error{why};
  }
  return out;
}

Result<int64_t> SingleSampleValue(const PromQueryResult& result) {
  if (result.samples.empty()) return Error{"the query returned no data"};
  if (result.samples.size() > 1) {
    return Error{"the query returned " + std::to_string(result.samples.size()) +
                 " samples; an Object metric needs exactly one (aggregate it, e.g. with sum())"};
  }
  std::optional<int64_t> milli = SampleMilli(result.samples[0].value);
  if (!milli) return Error{"the query returned a NaN or infinite value"};
  return *milli;
}

Result<std::vector<int64_t>> AllSampleValues(const PromQueryResult& result) {
  std::vector<int64_t> out;
  for (const PromSample& s : result.samples) {
    if (std::optional<int64_t> milli = SampleMilli(s.value)) out.push_back(*milli);
  }
  if (out.empty()) {
    return Error{result.samples.empty() ? "the query returned no data"
                                        : "the query returned only NaN or infinite values"};
  }
  return out;
}

PrometheusClient::PrometheusClient(std::string url, std::chrono::seconds timeout)
    : url_(std::move(url)), timeout_(timeout) {
  while (!url_.empty() && url_.back() == '/') url_.pop_back();
  const size_t scheme_end = url_.find("://");
  const size_t host_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t path_start = url_.find('/', host_start);
  scheme_host_port_ = url_.substr(0, path_start);
  base_path_ = path_start == std::string::npos ? "" : url_.substr(path_start);
}

Result<PromQueryResult> PrometheusClient::Query(const std::string& query) const {
  httplib::Client client(scheme_host_port_);
  if (!client.is_valid()) return Error{"prometheus " + url_ + ": invalid URL"};
  client.set_connection_timeout(timeout_);
  client.set_read_timeout(timeout_);
  client.set_write_timeout(timeout_);
  client.set_url_encode(false);  // the query is encoded below
  const std::string path = base_path_ + "/api/v1/query?query=" + UrlEncode(query);
  httplib::Result res = client.Get(path);
  if (!res) {
    return Error{"prometheus " + url_ + ": " + TransportError(res.error(), timeout_)};
  }
  Result<PromQueryResult> parsed = ParsePrometheusResponse(res->status, res->body);
  if (!parsed.ok()) return Error{"prometheus " + url_ + ": " + parsed.error()};
  return parsed;
}

}  // namespace epc
