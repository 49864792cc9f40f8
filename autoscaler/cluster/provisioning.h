// Provisioning timeouts and node-group backoff, as cluster-autoscaler's cluster state registry
// and exponential backoff do it: a group whose new nodes are not Ready within
// max_node_provision_time of its latest scale-up has failed to scale up and backs off (5 min,
// doubling up to 30 min; the doubling restarts after 3 h without a failure), so the scale-up
// planner skips it and the next best group is tried. A node unready for that long on its own
// is reported too.
//
// The daemon owns one tracker for the process. Per loop: Update(groups, now) with the groups as
// the provider reports them, then ApplyBackoff(groups, now) before ScaleUpPlanner::Plan(). After
// a scale-up it calls RecordScaleUp(); a provider error calls RecordFailure(). What to do with
// the stuck nodes a timeout reports (delete them, lower the target) is the daemon's concern.
// Pure: every call takes `now`.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "autoscaler/cluster/node_group.h"

namespace epc::cluster {

struct BackoffOptions {
  Duration initial = std::chrono::minutes(5);    // --initial-node-group-backoff-duration
  Duration max = std::chrono::minutes(30);       // --max-node-group-backoff-duration
  Duration reset_after = std::chrono::hours(3);  // --node-group-backoff-reset-timeout
};

struct ProvisioningOptions {
  Duration max_node_provision_time = kDefaultMaxNodeProvisionTime;
  BackoffOptions backoff;
};

struct ProvisioningTimeout {
  std::string group;
  // Created but not Ready in time: past max_node_provision_time since their creation, or (when
  // a scale-up timed out) still unready at its deadline.
  std::vector<std::string> unready_nodes;
  // Asked for but never created: the target's excess over the group's nodes when a scale-up
  // timed out, or when the same excess lasted max_node_provision_time (cluster-autoscaler's
  // "incorrect node group size"). The controller withdraws them from the target: left there
  // they would count as coming forever. Each excess is reported once.
  int missing_nodes = 0;
  SteadyTime backoff_until{};
  std::string message;
};

class ProvisioningTracker {
 public:
  explicit ProvisioningTracker(ProvisioningOptions options = {}) : options_(options) {}

  // The group's target was raised by `delta` at `now`.
  void RecordScaleUp(std::string_view group, int delta, SteadyTime now);
  // A scale-up of the group failed otherwise (the provider refused it): back off. Returns the
  // end of the backoff.
  SteadyTime RecordFailure(std::string_view group, SteadyTime now);

  // Finds the groups whose scale-ups timed out (each timeout is reported once) and backs them
  // off; forgets scale-ups that completed (all target nodes Ready), which also ends the group's
  // backoff early as cluster-autoscaler does.
  std::vector<ProvisioningTimeout> Update(std::span<const NodeGroupState> groups, SteadyTime now);

  // The end of the group's backoff, when it lasts beyond `now`.
  std::optional<SteadyTime> BackoffUntil(std::string_view group, SteadyTime now) const;
  // Sets each group's backoff_until from the tracker (cleared when not backing off).
  void ApplyBackoff(std::span<NodeGroupState> groups, SteadyTime now) const;

  const ProvisioningOptions& options() const { return options_; }

 private:
  struct ScaleUpRequest {
    int delta = 0;
    SteadyTime at{};
  };
  struct GroupRecord {
    std::vector<ScaleUpRequest> requests;            // outstanding, oldest first
    std::unordered_set<std::string> reported_nodes;  // unready nodes already reported
    // Since when the target has exceeded the group's nodes with both as they are now.
    struct Excess {
      int target = 0;
      int nodes = 0;
      SteadyTime since{};
      bool reported = false;
    };
    std::optional<Excess> excess;
    std::optional<SteadyTime> backoff_until;
    std::optional<SteadyTime> last_failure;
    Duration backoff{};
  };
  SteadyTime BackOff(GroupRecord& record, SteadyTime now);

  ProvisioningOptions options_;
  std::unordered_map<std::string, GroupRecord> groups_;
};

}  // namespace epc::cluster
