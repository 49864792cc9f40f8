#include "autoscaler/horizontal/kube_adapters.h"

#include <cctype>
#include <cstdio>
#include <limits>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/k8s/decode.h"
#include "common/util/time.h"

namespace epc {
namespace {

using json = nlohmann::json;

constexpr auto kEventAggregationWindow = std::chrono::minutes(10);
constexpr size_t kMaxRememberedEvents = 4096;
constexpr size_t kMaxEventMessageBytes = 1024;

// A JSON member by dotted path, or nullptr.
const json* Dig(const json& j, std::initializer_list<std::string_view> path) {
  const json* at = &j;
  for (std::string_view key : path) {
    if (!at->is_object()) return nullptr;
    auto it = at->find(key);
    if (it == at->end()) return nullptr;
    at = &*it;
  }
  return at;
}

std::string StringAt(const json& j, std::initializer_list<std::string_view> path) {
  const json* v = Dig(j, path);
  return v != nullptr && v->is_string() ? v->get<std::string>() : std::string();
}

Result<int32_t> Int32At(const json& j, std::initializer_list<std::string_view> path,
                        std::string_view name) {
  const json* v = Dig(j, path);
  if (v == nullptr || v->is_null()) return 0;
  if (!v->is_number_integer()) return Error{std::string(name) + " is not an integer"};
  const int64_t n = v->get<int64_t>();
  if (n < 0 || n > std::numeric_limits<int32_t>::max()) {
    return Error{std::string(name) + " " + std::to_string(n) + " is out of range"};
  }
  return static_cast<int32_t>(n);
}

}  // namespace

std::string KindToResource(std::string_view kind) {
  static const std::pair<std::string_view, std::string_view> kKnown[] = {
      {"Deployment", "deployments"},
      {"StatefulSet", "statefulsets"},
      {"ReplicaSet", "replicasets"},
      {"ReplicationController", "replicationcontrollers"},
      {"MachineDeployment", "machinedeployments"},
      {"MachineSet", "machinesets"},
  };
  for (const auto& [k, plural] : kKnown) {
    if (k == kind) return std::string(plural);
  }
  std::string lower;
  for (char c : kind) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower.empty()) return lower;
  if (lower.back() == 's') return lower + "es";
  if (lower.back() == 'y' && lower.size() > 1 &&
      std::string_view("aeiou").find(lower[lower.size() - 2]) == std::string_view::npos) {
    return lower.substr(0, lower.size() - 1) + "ies";
  }
  return lower + "s";
}

Result<std::string> ScalePath(const std::string& ns, const CrossVersionObjectReference& ref) {
  const std::string& av = ref.api_version;
  const size_t slash = av.find('/');
  std::string prefix;
  if (av.empty()) return Error{"scaleTargetRef.apiVersion is empty"};
  if (slash == std::string::npos) {
    prefix = "/api/" + av;  // the core group: "v1"
  } else {
    if (slash == 0 || slash + 1 == av.size() || av.find('/', slash + 1) != std::string::npos) {
      return Error{"scaleTargetRef.apiVersion \"" + av + "\" is not <group>/<version>"};
    }
    prefix = "/apis/" + av;
  }
  return prefix + "/namespaces/" + ns + "/" + KindToResource(ref.kind) + "/" + ref.name + "/scale";
}

Result<ScaleInfo> ParseScaleJson(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Error{std::string("scale is not JSON: ") + e.what()};
  }
  if (!doc.is_object()) return Error{"scale is not a JSON object"};
  ScaleInfo out;
  Result<int32_t> spec = Int32At(doc, {"spec", "replicas"}, "spec.replicas");
  if (!spec.ok()) return Error{"scale: " + spec.error()};
  Result<int32_t> status = Int32At(doc, {"status", "replicas"}, "status.replicas");
  if (!status.ok()) return Error{"scale: " + status.error()};
  out.spec_replicas = *spec;
  out.status_replicas = *status;
  out.selector = StringAt(doc, {"status", "selector"});
  out.resource_version = StringAt(doc, {"metadata", "resourceVersion"});
  return out;
}

Result<TargetPod> ParseTargetPodJson(std::string_view text) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::exception& e) {
    return Error{std::string("pod is not JSON: ") + e.what()};
  }
  TargetPod out;
  hpa::HpaPod& p = out.hpa;
  p.name = StringAt(doc, {"metadata", "name"});
  if (p.name.empty()) return Error{"pod has no metadata.name"};
  p.phase = StringAt(doc, {"status", "phase"});
  if (p.phase.empty()) p.phase = "Pending";
  const json* deletion = Dig(doc, {"metadata", "deletionTimestamp"});
  p.deleting = deletion != nullptr && !deletion->is_null();
  if (std::string start = StringAt(doc, {"status", "startTime"}); !start.empty()) {
    Result<WallClockTime> t = ParseRfc3339(start);
    if (!t.ok()) return Error{"pod " + p.name + ": status.startTime: " + t.error()};
    p.start_time = *t;
  }
  if (const json* conditions = Dig(doc, {"status", "conditions"});
      conditions != nullptr && conditions->is_array()) {
    for (const json& c : *conditions) {
      if (StringAt(c, {"type"}) != "Ready") continue;
      hpa::PodReadyCondition ready;
      const std::string status = StringAt(c, {"status"});
      ready.status = status == "True"    ? hpa::ConditionStatus::kTrue
                     : status == "False" ? hpa::ConditionStatus::kFalse
                                         : hpa::ConditionStatus::kUnknown;
      if (std::string at = StringAt(c, {"lastTransitionTime"}); !at.empty()) {
        Result<WallClockTime> t = ParseRfc3339(at);
        if (!t.ok()) return Error{"pod " + p.name + ": Ready lastTransitionTime: " + t.error()};
        ready.last_transition_time = *t;
      }
      p.ready = ready;
    }
  }
  Result<Pod> pod = ParsePodJson(text);
  if (pod.ok()) out.pod = std::move(pod).value();
  return out;
}

Result<ScaleInfo> ApiScaleClient::GetScale(const std::string& ns,
                                           const CrossVersionObjectReference& ref) {
  Result<std::string> path = ScalePath(ns, ref);
  if (!path.ok()) return Error{path.error()};
  Result<ApiResponse> res = client_->Get(*path);
  if (!res.ok()) return Error{res.error()};
  if (!res->ok()) return Error{res->ErrorMessage()};
  return ParseScaleJson(res->body);
}

Result<bool> ApiScaleClient::UpdateScale(const std::string& ns,
                                         const CrossVersionObjectReference& ref,
                                         const ScaleInfo& read, int32_t replicas) {
  Result<std::string> path = ScalePath(ns, ref);
  if (!path.ok()) return Error{path.error()};
  json metadata = {{"name", ref.name}, {"namespace", ns}};
  if (!read.resource_version.empty()) metadata["resourceVersion"] = read.resource_version;
  const json body = {{"apiVersion", "autoscaling/v1"},
                     {"kind", "Scale"},
                     {"metadata", std::move(metadata)},
                     {"spec", {{"replicas", replicas}}}};
  Result<ApiResponse> res = client_->Put(*path, body.dump());
  if (!res.ok()) return Error{res.error()};
  if (!res->ok()) return Error{res->ErrorMessage()};
  return true;
}

Result<std::vector<TargetPod>> ApiPodLister::ListPods(const std::string& ns,
                                                      const std::string& selector) {
  std::vector<TargetPod> out;
  std::string continue_token;
  do {
    std::string path =
        "/api/v1/namespaces/" + ns + "/pods?limit=500&labelSelector=" + UrlEncode(selector);
    if (!continue_token.empty()) path += "&continue=" + UrlEncode(continue_token);
    Result<ApiResponse> res = client_->Get(path);
    if (!res.ok()) return Error{res.error()};
    if (!res->ok()) return Error{res->ErrorMessage()};
    json doc;
    try {
      doc = json::parse(res->body);
    } catch (const json::exception& e) {
      return Error{std::string("pod list is not JSON: ") + e.what()};
    }
    const json* items = Dig(doc, {"items"});
    if (items == nullptr || !(items->is_array() || items->is_null())) {
      return Error{"pod list has no items"};
    }
    if (items->is_array()) {
      for (const json& item : *items) {
        Result<TargetPod> pod = ParseTargetPodJson(item.dump());
        if (!pod.ok()) return Error{pod.error()};
        out.push_back(std::move(pod).value());
      }
    }
    continue_token = StringAt(doc, {"metadata", "continue"});
  } while (!continue_token.empty());
  return out;
}

ApiEventRecorder::ApiEventRecorder(std::shared_ptr<ApiClient> client, std::string component,
                                   std::string instance, Logger& log)
    : client_(std::move(client)),
      component_(std::move(component)),
      instance_(std::move(instance)),
      log_(log) {}

bool ApiEventRecorder::Create(const std::string& ns, const CrossVersionObjectReference& ref,
                              std::string_view type, std::string_view reason,
                              const std::string& message, Seen& seen) {
  const auto wall = std::chrono::system_clock::now();
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count();
  char suffix[32];
  // client-go's name: <object>.<hex nanoseconds>; the counter keeps names unique within a tick.
  std::snprintf(suffix, sizeof suffix, "%llx",
                static_cast<unsigned long long>(nanos) + sequence_++);
  seen.name = ref.name + "." + suffix;
  seen.count = 1;
  seen.first_timestamp = FormatRfc3339(wall);
  const json body = {{"apiVersion", "v1"},
                     {"kind", "Event"},
                     {"metadata", {{"name", seen.name}, {"namespace", ns}}},
                     {"involvedObject",
                      {{"apiVersion", ref.api_version},
                       {"kind", ref.kind},
                       {"name", ref.name},
                       {"namespace", ns}}},
                     {"reason", reason},
                     {"message", message},
                     {"type", type},
                     {"source", {{"component", component_}}},
                     {"firstTimestamp", seen.first_timestamp},
                     {"lastTimestamp", seen.first_timestamp},
                     {"count", 1},
                     {"reportingComponent", component_},
                     {"reportingInstance", instance_}};
  Result<ApiResponse> res =
      client_->Post("/api/v1/namespaces/" + ns + "/events",
                    body.dump(-1, ' ', false, json::error_handler_t::replace));
  if (!res.ok() || !res->ok()) {
    log_.Warning("recording event " + std::string(reason) + " on " + ref.kind + " " + ns + "/" +
                 ref.name + ": " + (res.ok() ? res->ErrorMessage() : res.error()));
    return false;
  }
  return true;
}

void ApiEventRecorder::Record(const std::string& ns, const CrossVersionObjectReference& ref,
                              std::string_view type, std::string_view reason,
                              const std::string& full_message) {
  std::string message = full_message.substr(0, kMaxEventMessageBytes);
  std::lock_guard lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  std::string key = ns + "\x1f" + ref.api_version + "\x1f" + ref.kind + "\x1f" + ref.name + "\x1f" +
                    std::string(type) + "\x1f" + std::string(reason) + "\x1f" + message;
  auto it = seen_.find(key);
  if (it != seen_.end() && now - it->second.last < kEventAggregationWindow) {
    Seen& seen = it->second;
    seen.last = now;
    const json patch = {{"count", seen.count + 1},
                        {"lastTimestamp", FormatRfc3339(std::chrono::system_clock::now())}};
    Result<ApiResponse> res =
        client_->MergePatch("/api/v1/namespaces/" + ns + "/events/" + seen.name, patch.dump());
    if (res.ok() && res->ok()) {
      ++seen.count;
      return;
    }
    if (res.ok() && res->status != 404) {
      log_.Warning("updating event " + seen.name + ": " + res->ErrorMessage());
      return;
    }
    if (!res.ok()) {
      log_.Warning("updating event " + seen.name + ": " + res.error());
      return;
    }
    // 404: the event expired (the API server's TTL); create a new one below.
  }
  if (seen_.size() >= kMaxRememberedEvents) {
    for (auto i = seen_.begin(); i != seen_.end();) {
      i = now - i->second.last >= kEventAggregationWindow ? seen_.erase(i) : std::next(i);
    }
    if (seen_.size() >= kMaxRememberedEvents) seen_.clear();
  }
  Seen seen;
  seen.last = now;
  if (Create(ns, ref, type, reason, message, seen)) seen_.insert_or_assign(std::move(key), seen);
}

}  // namespace epc
