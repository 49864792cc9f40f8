#include "autoscaler/cluster/providers/clusterapi.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include <nlohmann/json.hpp>

#include "autoscaler/cluster/providers/node_template.h"

namespace epc::cluster {
namespace {

constexpr std::string_view kApi = "/apis/cluster.x-k8s.io/v1beta1";

Result<nlohmann::json> GetJson(ApiClient& client, const std::string& path) {
  auto r = client.Get(path);
  if (!r.ok()) return Error{"GET " + path + ": " + r.error()};
  if (!r->ok()) return Error{"GET " + path + ": " + r->ErrorMessage()};
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded()) return Error{"GET " + path + ": answer is not JSON"};
  return j;
}

std::optional<int> ParseInt(const std::string& s) {
  int v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

Labels StringMap(const nlohmann::json& j) {
  Labels out;
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) out[k] = v.get<std::string>();
  }
  return out;
}

Result<int> ScaleReplicas(const nlohmann::json& scale) {
  const auto& spec = scale.value("spec", nlohmann::json::object());
  if (!spec.is_object()) return Error{"scale has no spec"};
  auto it = spec.find("replicas");
  if (it == spec.end()) return 0;  // omitempty at zero
  if (!it->is_number_integer()) return Error{"scale spec.replicas is not an integer"};
  return it->get<int>();
}

}  // namespace

ClusterApiProvider::ClusterApiProvider(std::shared_ptr<ApiClient> client, ClusterApiOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}

std::string ClusterApiProvider::MdPath(const GroupEntry& g) const {
  return std::string(kApi) + "/namespaces/" + g.namespace_name + "/machinedeployments/" + g.md_name;
}

Result<std::vector<ProviderGroup>> ClusterApiProvider::Refresh() {
  std::string path =
      std::string(kApi) +
      (options_.namespace_name.empty() ? std::string() : "/namespaces/" + options_.namespace_name) +
      "/machinedeployments";
  auto list = GetJson(*client_, path);
  if (!list.ok()) return Error{list.error()};
  std::map<std::string, GroupEntry> groups;
  const auto& items = list->value("items", nlohmann::json::array());
  for (const auto& md : items) {
    const auto& meta = md.value("metadata", nlohmann::json::object());
    GroupEntry e;
    e.namespace_name = meta.value("namespace", "");
    e.md_name = meta.value("name", "");
    e.group.name = e.namespace_name + "/" + e.md_name;
    Labels annotations = StringMap(meta.value("annotations", nlohmann::json::object()));
    const ClusterApiGroupConfig* cfg = nullptr;
    for (const auto& c : options_.groups) {
      if (c.name == e.group.name) cfg = &c;
    }
    std::optional<int> min_size, max_size;
    if (auto it = annotations.find(kCapiMinSizeAnnotation); it != annotations.end()) {
      min_size = ParseInt(it->second);
      if (!min_size) {
        return Error{"MachineDeployment " + e.group.name + ": annotation " + it->first +
                     ": not an integer: \"" + it->second + "\""};
      }
    }
    if (auto it = annotations.find(kCapiMaxSizeAnnotation); it != annotations.end()) {
      max_size = ParseInt(it->second);
      if (!max_size) {
        return Error{"MachineDeployment " + e.group.name + ": annotation " + it->first +
                     ": not an integer: \"" + it->second + "\""};
      }
    }
    if (cfg != nullptr) {
      if (cfg->min_size) min_size = cfg->min_size;
      if (cfg->max_size) max_size = cfg->max_size;
    }
    if (!min_size || !max_size) continue;  // not a node group
    if (*min_size < 0 || *max_size < *min_size) {
      return Error{"MachineDeployment " + e.group.name + ": bad size bounds min " +
                   std::to_string(*min_size) + ", max " + std::to_string(*max_size)};
    }
    e.group.min_size = *min_size;
    e.group.max_size = *max_size;
    const auto& spec = md.value("spec", nlohmann::json::object());
    e.group.target_size = spec.is_object() ? spec.value("replicas", 0) : 0;
    if (HasCapacityAnnotations(annotations)) {
      auto t = TemplateFromAnnotations(annotations, "template-" + e.md_name);
      if (!t.ok()) return Error{"MachineDeployment " + e.group.name + ": " + t.error()};
      e.group.template_node = std::move(t).value();
    }
    if (cfg != nullptr && cfg->template_node) {
      Node base = e.group.template_node.value_or(Node{});
      if (base.name.empty()) base.name = "template-" + e.md_name;
      e.group.template_node = MergeTemplate(std::move(base), *cfg->template_node);
    }
    groups.emplace(e.group.name, std::move(e));
  }
  std::map<std::string, std::string> node_group;
  for (auto& [name, g] : groups) {
    auto machines = ListMachines(g);
    if (!machines.ok()) return Error{machines.error()};
    for (const MachineRef& m : *machines) {
      if (m.node_name.empty()) {
        if (!m.deleting) g.group.unregistered.push_back(m.InstanceId());
      } else {
        node_group[m.node_name] = name;
      }
    }
  }
  groups_ = std::move(groups);
  node_group_ = std::move(node_group);
  std::vector<ProviderGroup> out;
  for (const auto& [name, g] : groups_) out.push_back(g.group);
  return out;
}

Result<std::vector<ClusterApiProvider::MachineRef>> ClusterApiProvider::ListMachines(
    const GroupEntry& g) {
  std::string path = std::string(kApi) + "/namespaces/" + g.namespace_name +
                     "/machines?labelSelector=" +
                     UrlEncode(std::string(kCapiDeploymentNameLabel) + "=" + g.md_name);
  auto list = GetJson(*client_, path);
  if (!list.ok()) return Error{list.error()};
  std::vector<MachineRef> out;
  for (const auto& m : list->value("items", nlohmann::json::array())) {
    MachineRef ref;
    const auto& meta = m.value("metadata", nlohmann::json::object());
    ref.namespace_name = meta.value("namespace", g.namespace_name);
    ref.name = meta.value("name", "");
    ref.deleting = meta.contains("deletionTimestamp") && !meta["deletionTimestamp"].is_null();
    const auto& status = m.value("status", nlohmann::json::object());
    if (status.is_object()) {
      const auto& node_ref = status.value("nodeRef", nlohmann::json::object());
      if (node_ref.is_object()) ref.node_name = node_ref.value("name", "");
    }
    out.push_back(std::move(ref));
  }
  return out;
}

Result<const ClusterApiProvider::GroupEntry*> ClusterApiProvider::Find(const std::string& group) {
  auto it = groups_.find(group);
  if (it == groups_.end()) {
    return Error{"clusterapi: unknown node group \"" + group + "\" (not discovered)"};
  }
  return &it->second;
}

Result<int> ClusterApiProvider::TargetSize(const std::string& group) {
  auto g = Find(group);
  if (!g.ok()) return Error{g.error()};
  auto scale = GetJson(*client_, MdPath(**g) + "/scale");
  if (!scale.ok()) return Error{scale.error()};
  return ScaleReplicas(*scale);
}

Result<int> ClusterApiProvider::SetReplicas(const GroupEntry& g, int replicas) {
  nlohmann::json patch = {{"spec", {{"replicas", replicas}}}};
  std::string path = MdPath(g) + "/scale";
  auto r = client_->MergePatch(path, patch.dump());
  if (!r.ok()) return Error{"PATCH " + path + ": " + r.error()};
  if (!r->ok()) return Error{"PATCH " + path + ": " + r->ErrorMessage()};
  return replicas;
}

Result<int> ClusterApiProvider::IncreaseSize(const std::string& group, int delta) {
  if (delta <= 0) return Error{"clusterapi: size increase must be positive"};
  auto g = Find(group);
  if (!g.ok()) return Error{g.error()};
  auto current = TargetSize(group);
  if (!current.ok()) return Error{current.error()};
  int target = *current + delta;
  if (target > (*g)->group.max_size) {
    return Error{"clusterapi: size increase too large: desired " + std::to_string(target) +
                 ", max " + std::to_string((*g)->group.max_size)};
  }
  return SetReplicas(**g, target);
}

Result<int> ClusterApiProvider::DeleteNodes(const std::string& group,
                                            std::span<const std::string> node_names) {
  auto g = Find(group);
  if (!g.ok()) return Error{g.error()};
  if (node_names.empty()) return TargetSize(group);
  auto current = TargetSize(group);
  if (!current.ok()) return Error{current.error()};
  int target = *current - static_cast<int>(node_names.size());
  if (target < (*g)->group.min_size) {
    return Error{"clusterapi: min size reached for " + group + ": cannot delete " +
                 std::to_string(node_names.size()) + " node(s) from " + std::to_string(*current)};
  }
  auto machines = ListMachines(**g);
  if (!machines.ok()) return Error{machines.error()};
  std::vector<const MachineRef*> doomed;
  for (const std::string& node : node_names) {
    const MachineRef* found = nullptr;
    for (const MachineRef& m : *machines) {
      if (m.node_name == node || m.InstanceId() == node) found = &m;
    }
    if (found == nullptr) {
      return Error{"clusterapi: " + std::string(IsInstanceId(node) ? "instance " : "node ") + node +
                   " belongs to no Machine of " + group};
    }
    // Lowering the replicas for a Machine already on its way out would take another with it.
    if (found->deleting) {
      return Error{"clusterapi: Machine " + found->namespace_name + "/" + found->name + " of " +
                   node + " is being deleted already"};
    }
    doomed.push_back(found);
  }
  std::string stamp = NowRfc3339();
  for (const MachineRef* m : doomed) {
    nlohmann::json patch;
    patch["metadata"]["annotations"][std::string(kCapiDeleteMachineAnnotation)] = stamp;
    std::string path =
        std::string(kApi) + "/namespaces/" + m->namespace_name + "/machines/" + m->name;
    auto r = client_->MergePatch(path, patch.dump());
    if (!r.ok()) return Error{"PATCH " + path + ": " + r.error()};
    if (!r->ok()) return Error{"PATCH " + path + ": " + r->ErrorMessage()};
  }
  auto set = SetReplicas(**g, target);
  if (!set.ok()) return Error{set.error()};
  for (const std::string& node : node_names) node_group_.erase(node);
  return target;
}

// Only replicas without a Machine are withdrawn: lowering spec.replicas below the Machines
// would let the MachineSet controller pick which Machines to delete (its deletePolicy, Random by
// default), Ready ones included.
Result<int> ClusterApiProvider::DecreaseTargetSize(const std::string& group, int delta) {
  if (delta <= 0) return Error{"clusterapi: size decrease must be positive"};
  auto g = Find(group);
  if (!g.ok()) return Error{g.error()};
  auto current = TargetSize(group);
  if (!current.ok()) return Error{current.error()};
  auto machines = ListMachines(**g);
  if (!machines.ok()) return Error{machines.error()};
  const int existing = static_cast<int>(machines->size());
  const int target = std::max(existing, *current - delta);
  if (target >= *current) {
    return Error{"clusterapi: " + group + " has " + std::to_string(existing) + " Machine(s) for " +
                 std::to_string(*current) +
                 " replica(s): every instance exists, none to withdraw (a Machine without a Node "
                 "is still provisioning or failed; see its status)"};
  }
  return SetReplicas(**g, target);
}

std::optional<std::string> ClusterApiProvider::NodeGroupForNode(const Node& node) const {
  auto it = node_group_.find(node.name);
  if (it == node_group_.end()) return std::nullopt;
  return it->second;
}

}  // namespace epc::cluster
