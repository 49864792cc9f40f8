// Node groups as the cluster autoscaler's decision code sees them: what a group is (its spec,
// including the template node that new nodes will look like) and where it stands now (its target
// size, the nodes it has, whether it is backing off).
//
// These are plain values the daemon fills from its node-group provider and configuration each
// loop (and the simulator from its scenario). The decision code only reads them. A NodeInfo made
// from `spec.template_node` points into the NodeGroupSpec, so the spec must outlive it.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "common/model/objects.h"

namespace epc::cluster {

using SteadyTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::steady_clock::duration;

// --max-node-provision-time: a new node that is not Ready by then is given up on.
inline constexpr Duration kDefaultMaxNodeProvisionTime = std::chrono::minutes(15);

struct NodeGroupSpec {
  std::string name;
  int min_size = 0;
  int max_size = 0;
  // The pool (PoolSpec::name) the group's nodes belong to; for reports. Pool membership of the
  // template itself comes from classifying its labels, exactly as for a real node.
  std::string pool;
  // What a new node of this group looks like: capacity and allocatable (EPC included), labels,
  // taints. Ready and schedulable, as a node that has finished booting.
  Node template_node;
  std::string provider;  // the node-group provider that owns the group ("azure", "clusterapi")
};

// One node (or cloud instance) of a group.
struct GroupNode {
  std::string name;
  bool ready = false;    // registered with Kubernetes and Ready
  SteadyTime created{};  // when the provider created the instance
  // It has been Ready before. A node that turns NotReady later has a node problem, not a
  // provisioning one: it neither counts as coming nor times out a scale-up.
  bool ever_ready = false;
};

struct NodeGroupState {
  NodeGroupSpec spec;
  int target_size = 0;                      // the provider's target (desired) size
  std::vector<GroupNode> nodes;             // the group's nodes or instances, ready or not
  std::optional<SteadyTime> backoff_until;  // set by ProvisioningTracker; no scale-up before it
  std::optional<SteadyTime> last_scale_up;  // when the autoscaler last grew this group

  int ReadyCount() const {
    return static_cast<int>(
        std::count_if(nodes.begin(), nodes.end(), [](const GroupNode& n) { return n.ready; }));
  }
  bool InBackoff(SteadyTime now) const { return backoff_until.has_value() && now < *backoff_until; }

  // Nodes that will join but have not yet: the target minus the ready nodes, not counting nodes
  // that stayed unready longer than `max_provision_time` (they are given up on; the provisioning
  // tracker reports them) or that were Ready once and are not now. Never negative.
  int UpcomingCount(SteadyTime now, Duration max_provision_time) const {
    int stale = 0;
    for (const GroupNode& n : nodes) {
      if (!n.ready && (n.ever_ready || now - n.created >= max_provision_time)) ++stale;
    }
    return std::max(0, target_size - ReadyCount() - stale);
  }
};

// "namespace/name": how reports name a pod.
inline std::string PodKey(const Pod& pod) { return pod.namespace_name + "/" + pod.name; }

}  // namespace epc::cluster
