#include "autoscaler/cluster/controller/kube_adapters.h"

#include <chrono>
#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

#include "autoscaler/cluster/providers/node_template.h"
#include "common/k8s/decode.h"

namespace epc::cluster {

Result<std::vector<Pod>> ApiClusterPodLister::ListPods() {
  std::vector<Pod> pods;
  std::string cont;
  do {
    std::string path = "/api/v1/pods?limit=500";
    if (!cont.empty()) path += "&continue=" + UrlEncode(cont);
    auto r = client_->Get(path);
    if (!r.ok()) return Error{"GET " + path + ": " + r.error()};
    if (!r->ok()) return Error{"GET " + path + ": " + r->ErrorMessage()};
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return Error{"GET " + path + ": answer is not JSON"};
    for (const auto& item : j.value("items", nlohmann::json::array())) {
      auto pod = ParsePodJson(item.dump());
      if (!pod.ok()) return Error{"decoding a pod of " + path + ": " + pod.error()};
      pods.push_back(std::move(pod).value());
    }
    const auto& meta = j.value("metadata", nlohmann::json::object());
    cont = meta.is_object() ? meta.value("continue", "") : "";
  } while (!cont.empty());
  return pods;
}

Result<bool> ApiNodeDrainer::UpdateTaints(const std::string& node, bool add) {
  std::string path = "/api/v1/nodes/" + node;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = client_->Get(path);
    if (!r.ok()) return Error{"GET " + path + ": " + r.error()};
    if (r->status == 404 && !add) return true;
    if (!r->ok()) return Error{"GET " + path + ": " + r->ErrorMessage()};
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return Error{"GET " + path + ": answer is not JSON"};
    nlohmann::json taints = nlohmann::json::array();
    bool had = false;
    if (j.contains("spec") && j["spec"].contains("taints") && j["spec"]["taints"].is_array()) {
      for (const auto& t : j["spec"]["taints"]) {
        if (t.value("key", "") == kToBeDeletedTaint) {
          had = true;
          if (!add) continue;
        }
        taints.push_back(t);
      }
    }
    if (had == add) return true;  // nothing to change
    if (add) {
      auto secs = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
      taints.push_back({{"key", std::string(kToBeDeletedTaint)},
                        {"value", std::to_string(secs)},
                        {"effect", "NoSchedule"}});
    }
    j["spec"]["taints"] = std::move(taints);
    auto u = client_->Put(path, j.dump());
    if (!u.ok()) return Error{"PUT " + path + ": " + u.error()};
    if (u->status == 409) continue;  // changed meanwhile: read again
    if (!u->ok()) return Error{"PUT " + path + ": " + u->ErrorMessage()};
    return true;
  }
  return Error{"PUT " + path + ": conflicts on every attempt"};
}

Result<bool> ApiNodeDrainer::Taint(const std::string& node) { return UpdateTaints(node, true); }
Result<bool> ApiNodeDrainer::Untaint(const std::string& node) { return UpdateTaints(node, false); }

Result<EvictionResult> ApiNodeDrainer::Evict(const std::string& ns, const std::string& name) {
  nlohmann::json body = {{"apiVersion", "policy/v1"},
                         {"kind", "Eviction"},
                         {"metadata", {{"name", name}, {"namespace", ns}}}};
  std::string path = "/api/v1/namespaces/" + ns + "/pods/" + name + "/eviction";
  auto r = client_->Post(path, body.dump());
  if (!r.ok()) return Error{"POST " + path + ": " + r.error()};
  if (r->ok() || r->status == 404) return EvictionResult{};
  if (r->status == 429) {
    return EvictionResult{EvictionOutcome::kBlockedByPdb, r->ErrorMessage()};
  }
  return Error{"POST " + path + ": " + r->ErrorMessage()};
}

void ApiObjectEventRecorder::Record(const ObjectRef& object, std::string_view type,
                                    std::string_view reason, const std::string& message) {
  std::string ns = object.namespace_name.empty() ? "default" : object.namespace_name;
  std::string now = NowRfc3339();
  auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
                   .count();
  char suffix[32];
  std::snprintf(suffix, sizeof suffix, ".%llx%llx", static_cast<unsigned long long>(nanos),
                static_cast<unsigned long long>(++sequence_));
  nlohmann::json involved = {{"kind", object.kind}, {"name", object.name}, {"apiVersion", "v1"}};
  if (!object.namespace_name.empty()) involved["namespace"] = object.namespace_name;
  if (!object.uid.empty()) involved["uid"] = object.uid;
  nlohmann::json ev = {{"apiVersion", "v1"},
                       {"kind", "Event"},
                       {"metadata", {{"name", object.name + suffix}, {"namespace", ns}}},
                       {"involvedObject", involved},
                       {"reason", std::string(reason)},
                       {"message", message},
                       {"type", std::string(type)},
                       {"source", {{"component", component_}}},
                       {"firstTimestamp", now},
                       {"lastTimestamp", now},
                       {"count", 1},
                       {"reportingComponent", component_}};
  std::string path = "/api/v1/namespaces/" + ns + "/events";
  auto r = client_->Post(path, ev.dump());
  if (!r.ok()) {
    log_.Warning("recording event " + std::string(reason) + " on " + object.name + ": " +
                 r.error());
  } else if (!r->ok()) {
    log_.Warning("recording event " + std::string(reason) + " on " + object.name + ": " +
                 r->ErrorMessage());
  }
}

}  // namespace epc::cluster
