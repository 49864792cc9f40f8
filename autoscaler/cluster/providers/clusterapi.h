// ClusterApiProvider: node groups backed by Cluster API MachineDeployments
// (cluster.x-k8s.io/v1beta1), as cluster-autoscaler's clusterapi provider does it.
//
//  - A MachineDeployment is a node group when annotated with
//    cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size and -max-size, or when the
//    configuration names it (configuration overrides the bounds and the template). The group is
//    named "<namespace>/<name>".
//  - The target size is the scale subresource's spec.replicas (GET/PATCH .../scale).
//  - A node belongs to the group whose Machine (labelled cluster.x-k8s.io/deployment-name=<md>)
//    has status.nodeRef.name == the node's name. A Machine without a nodeRef, and not being
//    deleted, is an unregistered instance "machine/<namespace>/<name>"
//    (ProviderGroup::unregistered).
//  - DeleteNodes annotates each Machine with cluster.x-k8s.io/delete-machine (merge patch), then
//    lowers spec.replicas by their number, so the MachineSet controller deletes exactly those.
//    It takes node names and unregistered instance ids alike.
//  - Scale-from-zero templates come from the MachineDeployment's capacity annotations
//    (node_template.h, including our capacity.epc.dev/epc), merged under the configured template.
//
// Owns a shared_ptr to the ApiClient and a cache of groups and machines, rebuilt by Refresh().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "autoscaler/cluster/providers/provider.h"
#include "common/k8s/api_client.h"

namespace epc::cluster {

inline constexpr std::string_view kCapiMinSizeAnnotation =
    "cluster.x-k8s.io/cluster-api-autoscaler-node-group-min-size";
inline constexpr std::string_view kCapiMaxSizeAnnotation =
    "cluster.x-k8s.io/cluster-api-autoscaler-node-group-max-size";
inline constexpr std::string_view kCapiDeleteMachineAnnotation = "cluster.x-k8s.io/delete-machine";
inline constexpr std::string_view kCapiDeploymentNameLabel = "cluster.x-k8s.io/deployment-name";

struct ClusterApiGroupConfig {
  std::string name;  // "<namespace>/<machinedeployment>"
  std::optional<int> min_size;
  std::optional<int> max_size;
  std::optional<Node> template_node;  // wins over the annotations, key by key
};

struct ClusterApiOptions {
  std::string namespace_name;  // empty: every namespace
  std::vector<ClusterApiGroupConfig> groups;
};

class ClusterApiProvider final : public NodeGroupProvider {
 public:
  ClusterApiProvider(std::shared_ptr<ApiClient> client, ClusterApiOptions options);

  std::string_view Name() const override { return "clusterapi"; }
  Result<std::vector<ProviderGroup>> Refresh() override;
  Result<int> TargetSize(const std::string& group) override;
  Result<int> IncreaseSize(const std::string& group, int delta) override;
  Result<int> DeleteNodes(const std::string& group,
                          std::span<const std::string> node_names) override;
  Result<int> DecreaseTargetSize(const std::string& group, int delta) override;
  std::optional<std::string> NodeGroupForNode(const Node& node) const override;

 private:
  struct GroupEntry {
    ProviderGroup group;
    std::string namespace_name;
    std::string md_name;
  };
  struct MachineRef {
    std::string namespace_name;
    std::string name;
    std::string node_name;  // status.nodeRef.name; empty before the node registers
    bool deleting = false;  // metadata.deletionTimestamp is set: on its way out already
    // How ProviderGroup::unregistered and DeleteNodes() name the Machine.
    std::string InstanceId() const { return "machine/" + namespace_name + "/" + name; }
  };
  Result<const GroupEntry*> Find(const std::string& group);
  std::string MdPath(const GroupEntry& g) const;
  Result<std::vector<MachineRef>> ListMachines(const GroupEntry& g);
  Result<int> SetReplicas(const GroupEntry& g, int replicas);

  std::shared_ptr<ApiClient> client_;
  ClusterApiOptions options_;
  std::map<std::string, GroupEntry> groups_;       // by group name, from the last Refresh()
  std::map<std::string, std::string> node_group_;  // node name -> group name
};

}  // namespace epc::cluster
