// KwokProvider: node groups of fake nodes (kwok, https://kwok.sigs.k8s.io), as
// cluster-autoscaler's kwok provider does it: groups come from configuration, IncreaseSize
// creates Node objects from the group's template, DeleteNodes deletes those exact Node objects,
// and the target size is the number of the group's Node objects. Nodes carry the label
// autoscaler.epc.dev/node-group=<group> and the annotation kwok.x-k8s.io/node=fake, so a kwok
// controller (or a test) plays their kubelet.
//
// Creation: POST /api/v1/nodes, then PUT .../status with the template's capacity and allocatable
// and a Ready condition (the API server resets status on create). Names are <group>-<5 random
// lowercase letters or digits>.
//
// Owns a shared_ptr to the ApiClient, its configuration, the random generator for names and the
// node -> group cache of the last Refresh() (kept current by its own creates and deletes).
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "autoscaler/cluster/providers/provider.h"
#include "common/k8s/api_client.h"

namespace epc::cluster {

inline constexpr std::string_view kNodeGroupLabel = "autoscaler.epc.dev/node-group";
inline constexpr std::string_view kKwokNodeAnnotation = "kwok.x-k8s.io/node";

struct KwokGroupConfig {
  std::string name;
  int min_size = 0;
  int max_size = 0;
  Node template_node;  // capacity/allocatable, labels, annotations, taints of new nodes
};

struct KwokOptions {
  std::vector<KwokGroupConfig> groups;
  uint32_t seed = std::random_device{}();  // for node-name suffixes
};

class KwokProvider final : public NodeGroupProvider {
 public:
  KwokProvider(std::shared_ptr<ApiClient> client, KwokOptions options);

  std::string_view Name() const override { return "kwok"; }
  Result<std::vector<ProviderGroup>> Refresh() override;
  Result<int> TargetSize(const std::string& group) override;
  Result<int> IncreaseSize(const std::string& group, int delta) override;
  Result<int> DeleteNodes(const std::string& group,
                          std::span<const std::string> node_names) override;
  Result<int> DecreaseTargetSize(const std::string& group, int delta) override;
  std::optional<std::string> NodeGroupForNode(const Node& node) const override;

 private:
  const KwokGroupConfig* Find(const std::string& group) const;
  Result<std::vector<std::string>> ListGroupNodes(const std::string& group);
  Result<std::string> CreateNode(const KwokGroupConfig& group);
  std::string Suffix();

  std::shared_ptr<ApiClient> client_;
  KwokOptions options_;
  std::mt19937 rng_;
};

}  // namespace epc::cluster
