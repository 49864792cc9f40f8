#include "autoscaler/cluster/providers/kwok.h"

#include <algorithm>
#include <utility>

#include <nlohmann/json.hpp>

#include "autoscaler/cluster/providers/node_template.h"

namespace epc::cluster {

KwokProvider::KwokProvider(std::shared_ptr<ApiClient> client, KwokOptions options)
    : client_(std::move(client)), options_(std::move(options)), rng_(options_.seed) {}

const KwokGroupConfig* KwokProvider::Find(const std::string& group) const {
  for (const auto& g : options_.groups) {
    if (g.name == group) return &g;
  }
  return nullptr;
}

Result<std::vector<std::string>> KwokProvider::ListGroupNodes(const std::string& group) {
  std::string path =
      "/api/v1/nodes?labelSelector=" + UrlEncode(std::string(kNodeGroupLabel) + "=" + group);
  auto r = client_->Get(path);
  if (!r.ok()) return Error{"GET " + path + ": " + r.error()};
  if (!r->ok()) return Error{"GET " + path + ": " + r->ErrorMessage()};
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return Error{"GET " + path + ": answer is not JSON"};
  std::vector<std::string> names;
  for (const auto& item : j.value("items", nlohmann::json::array())) {
    const auto& meta = item.value("metadata", nlohmann::json::object());
    if (meta.is_object() && !meta.contains("deletionTimestamp")) {
      names.push_back(meta.value("name", ""));
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<ProviderGroup>> KwokProvider::Refresh() {
  std::vector<ProviderGroup> out;
  for (const auto& g : options_.groups) {
    auto nodes = ListGroupNodes(g.name);
    if (!nodes.ok()) return Error{nodes.error()};
    ProviderGroup pg;
    pg.name = g.name;
    pg.min_size = g.min_size;
    pg.max_size = g.max_size;
    pg.target_size = static_cast<int>(nodes->size());
    Node t = g.template_node;
    if (t.name.empty()) t.name = "template-" + g.name;
    t.labels[std::string(kNodeGroupLabel)] = g.name;
    pg.template_node = std::move(t);
    out.push_back(std::move(pg));
  }
  return out;
}

Result<int> KwokProvider::TargetSize(const std::string& group) {
  if (Find(group) == nullptr) return Error{"kwok: unknown node group \"" + group + "\""};
  auto nodes = ListGroupNodes(group);
  if (!nodes.ok()) return Error{nodes.error()};
  return static_cast<int>(nodes->size());
}

std::string KwokProvider::Suffix() {
  static constexpr std::string_view kChars = "bcdfghjklmnpqrstvwxz2456789";
  std::uniform_int_distribution<size_t> pick(0, kChars.size() - 1);
  std::string s;
  for (int i = 0; i < 5; ++i) s.push_back(kChars[pick(rng_)]);
  return s;
}

Result<std::string> KwokProvider::CreateNode(const KwokGroupConfig& group) {
  Node node = group.template_node;
  node.name = group.name + "-" + Suffix();
  node.labels[std::string(kNodeGroupLabel)] = group.name;
  node.labels["kubernetes.io/hostname"] = node.name;
  node.labels["type"] = "kwok";
  node.annotations[std::string(kKwokNodeAnnotation)] = "fake";
  node.ready = true;
  nlohmann::json j = NodeToJson(node);
  auto r = client_->Post("/api/v1/nodes", j.dump());
  if (!r.ok()) return Error{"POST /api/v1/nodes: " + r.error()};
  if (!r->ok()) return Error{"POST /api/v1/nodes: " + r->ErrorMessage()};
  // The API server resets status on create; write it as kwok's kubelet would.
  auto created = nlohmann::json::parse(r->body, nullptr, false);
  if (created.is_discarded()) return Error{"POST /api/v1/nodes: answer is not JSON"};
  created["status"] = j["status"];
  std::string path = "/api/v1/nodes/" + node.name + "/status";
  auto s = client_->Put(path, created.dump());
  if (!s.ok()) return Error{"PUT " + path + ": " + s.error()};
  if (!s->ok()) return Error{"PUT " + path + ": " + s->ErrorMessage()};
  return node.name;
}

Result<int> KwokProvider::IncreaseSize(const std::string& group, int delta) {
  const KwokGroupConfig* g = Find(group);
  if (g == nullptr) return Error{"kwok: unknown node group \"" + group + "\""};
  if (delta <= 0) return Error{"kwok: size increase must be positive"};
  auto current = TargetSize(group);
  if (!current.ok()) return Error{current.error()};
  int target = *current + delta;
  if (target > g->max_size) {
    return Error{"kwok: size increase too large: desired " + std::to_string(target) + ", max " +
                 std::to_string(g->max_size)};
  }
  for (int i = 0; i < delta; ++i) {
    auto name = CreateNode(*g);
    if (!name.ok()) return Error{name.error()};
  }
  return target;
}

Result<int> KwokProvider::DeleteNodes(const std::string& group,
                                      std::span<const std::string> node_names) {
  const KwokGroupConfig* g = Find(group);
  if (g == nullptr) return Error{"kwok: unknown node group \"" + group + "\""};
  auto nodes = ListGroupNodes(group);
  if (!nodes.ok()) return Error{nodes.error()};
  int target = static_cast<int>(nodes->size()) - static_cast<int>(node_names.size());
  if (target < g->min_size) {
    return Error{"kwok: min size reached for " + group + ": cannot delete " +
                 std::to_string(node_names.size()) + " node(s) from " +
                 std::to_string(nodes->size())};
  }
  for (const std::string& n : node_names) {
    if (!std::binary_search(nodes->begin(), nodes->end(), n)) {
      return Error{"kwok: node " + n + " is not in node group " + group};
    }
  }
  for (const std::string& n : node_names) {
    std::string path = "/api/v1/nodes/" + n;
    auto r = client_->Delete(path);
    if (!r.ok()) return Error{"DELETE " + path + ": " + r.error()};
    if (!r->ok() && r->status != 404) return Error{"DELETE " + path + ": " + r->ErrorMessage()};
  }
  return target;
}

// IncreaseSize creates the nodes at once and the target is their number: nothing is ever
// waiting to be created.
Result<int> KwokProvider::DecreaseTargetSize(const std::string& group, int delta) {
  if (Find(group) == nullptr) return Error{"kwok: unknown node group \"" + group + "\""};
  if (delta <= 0) return Error{"kwok: size decrease must be positive"};
  auto current = TargetSize(group);
  if (!current.ok()) return Error{current.error()};
  return Error{"kwok: node group " + group + " has no instances waiting to be created: its " +
               std::to_string(*current) + " node(s) all exist (delete nodes instead)"};
}

std::optional<std::string> KwokProvider::NodeGroupForNode(const Node& node) const {
  auto it = node.labels.find(kNodeGroupLabel);
  if (it == node.labels.end() || Find(it->second) == nullptr) return std::nullopt;
  return it->second;
}

}  // namespace epc::cluster
