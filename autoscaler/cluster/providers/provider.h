// NodeGroupProvider: the small interface between the cluster autoscaler's controller and what
// actually adds and removes nodes (Cluster API MachineDeployments, kwok fake nodes, later AKS
// agent pools). The decision code (autoscaler/cluster/*.h) never calls a provider; the controller
// (autoscaler/cluster/controller/) does, once per reconcile.
//
// A provider is called from one thread (the controller's loop). It owns its API client handle
// (shared_ptr) and whatever caches it keeps between Refresh() calls; the caller owns the provider.
// Errors are Results with a message a person can act on; HTTP error statuses become errors too.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc::cluster {

// One node group as the provider discovered it.
struct ProviderGroup {
  std::string name;
  int min_size = 0;
  int max_size = 0;
  int target_size = 0;  // the provider's current target (desired) size
  // What a new node looks like, when the provider knows (annotations, configuration). Without
  // one, the controller uses a ready node of the group as the template (as cluster-autoscaler).
  std::optional<Node> template_node;
  // Instances of the group that no Node stands for yet (a Cluster API Machine without a
  // nodeRef: still provisioning, or failed for good), by an id that DeleteNodes() takes in place
  // of a node name. The controller counts them as nodes that are not Ready, so one that never
  // registers times out and is deleted like a node that never turns Ready, and pods stop
  // waiting for it (cluster-autoscaler deletes long-unregistered nodes the same way).
  std::vector<std::string> unregistered;
};

// Unregistered instance ids contain a '/', which no Node name can: "machine/<ns>/<name>".
inline bool IsInstanceId(std::string_view name) { return name.find('/') != std::string_view::npos; }

class NodeGroupProvider {
 public:
  virtual ~NodeGroupProvider() = default;

  virtual std::string_view Name() const = 0;  // "clusterapi", "kwok", ...

  // Discovers the node groups and refreshes the caches NodeGroupForNode() reads.
  virtual Result<std::vector<ProviderGroup>> Refresh() = 0;
  virtual Result<int> TargetSize(const std::string& group) = 0;
  // Raises the target size by `delta` (> 0); refuses to exceed max_size. Returns the new target.
  virtual Result<int> IncreaseSize(const std::string& group, int delta) = 0;
  // Removes exactly these nodes (by Node name, or by the id of an unregistered instance) and
  // lowers the target by their number; refuses to go below min_size or to touch a node of
  // another group. Returns the new target.
  virtual Result<int> DeleteNodes(const std::string& group,
                                  std::span<const std::string> node_names) = 0;
  // Withdraws up to `delta` (> 0) instances the target asks for that were never created (a
  // cloud out of quota or capacity): lowers the target, never below the instances the group
  // has, so no node or instance is removed (cluster-autoscaler's DecreaseTargetSize). Returns
  // the new target; an error when there is nothing to withdraw.
  virtual Result<int> DecreaseTargetSize(const std::string& group, int delta) = 0;
  // The group the node belongs to (as of the last Refresh() where the provider caches), or
  // nullopt when it belongs to none.
  virtual std::optional<std::string> NodeGroupForNode(const Node& node) const = 0;
};

}  // namespace epc::cluster
