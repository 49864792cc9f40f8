#include "autoscaler/cluster/provisioning.h"

#include <algorithm>
#include <utility>

namespace epc::cluster {

void ProvisioningTracker::RecordScaleUp(std::string_view group, int delta, SteadyTime now) {
  if (delta <= 0) return;
  groups_[std::string(group)].requests.push_back({delta, now});
}

SteadyTime ProvisioningTracker::RecordFailure(std::string_view group, SteadyTime now) {
  return BackOff(groups_[std::string(group)], now);
}

SteadyTime ProvisioningTracker::BackOff(GroupRecord& record, SteadyTime now) {
  const BackoffOptions& b = options_.backoff;
  if (record.last_failure.has_value() && now < *record.last_failure + b.reset_after) {
    record.backoff = std::min(record.backoff * 2, b.max);
  } else {
    record.backoff = b.initial;
  }
  record.last_failure = now;
  record.backoff_until = now + record.backoff;
  return *record.backoff_until;
}

std::vector<ProvisioningTimeout> ProvisioningTracker::Update(std::span<const NodeGroupState> groups,
                                                             SteadyTime now) {
  std::vector<ProvisioningTimeout> out;
  const Duration limit = options_.max_node_provision_time;
  for (const NodeGroupState& g : groups) {
    GroupRecord& record = groups_[g.spec.name];
    const int ready = g.ReadyCount();

    // Unready nodes past the limit that were not reported yet; forget ones that went away or
    // became Ready.
    std::unordered_set<std::string> still_unready;
    std::vector<std::string> stuck;
    for (const GroupNode& n : g.nodes) {
      if (n.ready || n.ever_ready) continue;
      still_unready.insert(n.name);
      if (now - n.created >= limit && !record.reported_nodes.contains(n.name)) {
        stuck.push_back(n.name);
      }
    }
    std::erase_if(record.reported_nodes,
                  [&](const std::string& name) { return !still_unready.contains(name); });

    // A group's outstanding scale-ups are complete when every target node is Ready. They time
    // out together when the latest is older than the limit: as in cluster-autoscaler, each
    // increase moves the deadline, so nodes still coming from a recent one are not given up on
    // because an earlier one started long ago.
    bool request_timed_out = false;
    if (ready >= g.target_size) {
      if (!record.requests.empty()) {
        record.requests.clear();
        record.backoff_until.reset();  // keeps the duration for the next failure
      }
    } else if (!record.requests.empty() && now - record.requests.back().at >= limit) {
      request_timed_out = true;
      record.requests.clear();
    }

    if (request_timed_out) {
      // Every node still unready belongs to the scale-up that failed.
      stuck.clear();
      for (const GroupNode& n : g.nodes) {
        if (!n.ready && !n.ever_ready && !record.reported_nodes.contains(n.name)) {
          stuck.push_back(n.name);
        }
      }
    }
    // Instances asked for and never created: the target's excess over the nodes when a
    // scale-up timed out (all outstanding ones failed with it), or the same excess for the
    // whole provisioning time (a scale-up made before a restart). Each excess is reported once;
    // a change of the target or of the nodes starts its clock again.
    int missing = 0;
    const int nodes = static_cast<int>(g.nodes.size());
    if (g.target_size <= nodes) {
      record.excess.reset();
    } else if (!record.excess || record.excess->target != g.target_size ||
               record.excess->nodes != nodes) {
      record.excess = GroupRecord::Excess{g.target_size, nodes, now};
    }
    if (record.excess && !record.excess->reported &&
        (request_timed_out || now - record.excess->since >= limit)) {
      missing = g.target_size - nodes;
      record.excess->reported = true;
    }

    if (stuck.empty() && !request_timed_out && missing == 0) continue;
    ProvisioningTimeout t;
    t.group = g.spec.name;
    for (const std::string& name : stuck) record.reported_nodes.insert(name);
    t.unready_nodes = std::move(stuck);
    t.missing_nodes = missing;
    t.backoff_until = BackOff(record, now);
    const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(limit).count();
    t.message =
        "node group " + g.spec.name + ": " + std::to_string(t.unready_nodes.size()) +
        " node(s) not Ready and " + std::to_string(t.missing_nodes) + " not created within " +
        std::to_string(minutes) + " min; backing off for " +
        std::to_string(std::chrono::duration_cast<std::chrono::seconds>(record.backoff).count()) +
        "s";
    out.push_back(std::move(t));
  }
  return out;
}

std::optional<SteadyTime> ProvisioningTracker::BackoffUntil(std::string_view group,
                                                            SteadyTime now) const {
  auto it = groups_.find(std::string(group));
  if (it == groups_.end() || !it->second.backoff_until.has_value()) return std::nullopt;
  if (now >= *it->second.backoff_until) return std::nullopt;
  return it->second.backoff_until;
}

void ProvisioningTracker::ApplyBackoff(std::span<NodeGroupState> groups, SteadyTime now) const {
  for (NodeGroupState& g : groups) g.backoff_until = BackoffUntil(g.spec.name, now);
}

}  // namespace epc::cluster
