#include "autoscaler/cluster/providers/node_template.h"

#include <chrono>
#include <ctime>
#include <utility>

#include "common/model/quantity.h"

namespace epc::cluster {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    size_t pos = s.find(sep);
    std::string_view part = Trim(s.substr(0, pos));
    if (!part.empty()) out.push_back(part);
    if (pos == std::string_view::npos) break;
    s.remove_prefix(pos + 1);
  }
  return out;
}

Result<bool> SetQuantity(Node& node, const std::string& resource, std::string_view text,
                         std::string_view annotation) {
  auto q = Quantity::Parse(Trim(text));
  if (!q.ok()) {
    return Error{"annotation " + std::string(annotation) + ": " + q.error()};
  }
  node.capacity[resource] = *q;
  node.allocatable[resource] = *q;
  return true;
}

}  // namespace

bool HasCapacityAnnotations(const Labels& annotations) {
  for (const auto& [key, value] : annotations) {
    if (key.starts_with(kCapacityAnnotationPrefix) || key == kEpcCapacityAnnotation) return true;
  }
  return false;
}

Result<Node> TemplateFromAnnotations(const Labels& annotations, std::string name) {
  Node node;
  node.name = std::move(name);
  node.ready = true;
  static constexpr std::pair<std::string_view, std::string_view> kResources[] = {
      {"cpu", "cpu"},
      {"memory", "memory"},
      {"ephemeral-disk", "ephemeral-storage"},
      {"maxPods", "pods"},
  };
  for (const auto& [suffix, resource] : kResources) {
    std::string key = std::string(kCapacityAnnotationPrefix) + std::string(suffix);
    auto it = annotations.find(key);
    if (it == annotations.end()) continue;
    auto set = SetQuantity(node, std::string(resource), it->second, key);
    if (!set.ok()) return Error{set.error()};
  }
  if (auto it = annotations.find(std::string(kCapacityAnnotationPrefix) + "labels");
      it != annotations.end()) {
    for (std::string_view kv : Split(it->second, ',')) {
      size_t eq = kv.find('=');
      if (eq == std::string_view::npos || eq == 0) {
        return Error{"annotation " + it->first + ": \"" + std::string(kv) + "\" is not key=value"};
      }
      node.labels[std::string(Trim(kv.substr(0, eq)))] = std::string(Trim(kv.substr(eq + 1)));
    }
  }
  if (auto it = annotations.find(std::string(kCapacityAnnotationPrefix) + "taints");
      it != annotations.end()) {
    for (std::string_view t : Split(it->second, ',')) {
      size_t colon = t.rfind(':');
      if (colon == std::string_view::npos || colon == 0) {
        return Error{"annotation " + it->first + ": \"" + std::string(t) +
                     "\" is not key[=value]:Effect"};
      }
      Taint taint;
      taint.effect = std::string(Trim(t.substr(colon + 1)));
      if (taint.effect != "NoSchedule" && taint.effect != "PreferNoSchedule" &&
          taint.effect != "NoExecute") {
        return Error{"annotation " + it->first + ": unknown taint effect \"" + taint.effect + "\""};
      }
      std::string_view kv = t.substr(0, colon);
      size_t eq = kv.find('=');
      taint.key = std::string(Trim(kv.substr(0, eq)));
      if (eq != std::string_view::npos) taint.value = std::string(Trim(kv.substr(eq + 1)));
      node.taints.push_back(std::move(taint));
    }
  }
  if (auto it = annotations.find(std::string(kEpcCapacityAnnotation)); it != annotations.end()) {
    std::string_view v = Trim(it->second);
    size_t eq = v.find('=');
    std::string resource(kDefaultEpcResource);
    if (eq != std::string_view::npos) {
      resource = std::string(Trim(v.substr(0, eq)));
      v = v.substr(eq + 1);
      if (resource.empty()) {
        return Error{"annotation " + it->first + ": empty resource name"};
      }
    }
    auto set = SetQuantity(node, resource, v, it->first);
    if (!set.ok()) return Error{set.error()};
  }
  return node;
}

Node MergeTemplate(Node base, const Node& overlay) {
  if (!overlay.name.empty()) base.name = overlay.name;
  for (const auto& [k, v] : overlay.capacity) base.capacity[k] = v;
  for (const auto& [k, v] : overlay.allocatable) base.allocatable[k] = v;
  for (const auto& [k, v] : overlay.labels) base.labels[k] = v;
  for (const auto& [k, v] : overlay.annotations) base.annotations[k] = v;
  if (!overlay.taints.empty()) base.taints = overlay.taints;
  return base;
}

nlohmann::json NodeToJson(const Node& node) {
  nlohmann::json j = {{"apiVersion", "v1"}, {"kind", "Node"}};
  j["metadata"]["name"] = node.name;
  if (!node.labels.empty()) {
    for (const auto& [k, v] : node.labels) j["metadata"]["labels"][k] = v;
  }
  if (!node.annotations.empty()) {
    for (const auto& [k, v] : node.annotations) j["metadata"]["annotations"][k] = v;
  }
  j["spec"] = nlohmann::json::object();
  if (node.unschedulable) j["spec"]["unschedulable"] = true;
  if (!node.taints.empty()) {
    nlohmann::json taints = nlohmann::json::array();
    for (const Taint& t : node.taints) {
      nlohmann::json tj = {{"key", t.key}, {"effect", t.effect}};
      if (!t.value.empty()) tj["value"] = t.value;
      taints.push_back(std::move(tj));
    }
    j["spec"]["taints"] = std::move(taints);
  }
  nlohmann::json status = nlohmann::json::object();
  status["capacity"] = nlohmann::json::object();
  status["allocatable"] = nlohmann::json::object();
  for (const auto& [k, q] : node.capacity) status["capacity"][k] = q.ToString();
  for (const auto& [k, q] : node.allocatable) status["allocatable"][k] = q.ToString();
  std::string now = NowRfc3339();
  status["conditions"] = nlohmann::json::array({{{"type", "Ready"},
                                                 {"status", node.ready ? "True" : "False"},
                                                 {"reason", node.ready ? "KubeletReady" : ""},
                                                 {"lastHeartbeatTime", now},
                                                 {"lastTransitionTime", now}}});
  j["status"] = std::move(status);
  return j;
}

std::string NowRfc3339() {
  std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace epc::cluster
