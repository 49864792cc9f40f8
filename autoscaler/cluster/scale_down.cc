#include "autoscaler/cluster/scale_down.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string_view>
#include <tuple>
#include <utility>

#include "autoscaler/cluster/pod_equivalence.h"

namespace epc::cluster {
namespace {

constexpr size_t kNone = std::numeric_limits<size_t>::max();

double Share(int64_t part, int64_t whole) {
  if (whole <= 0) return 0;
  return static_cast<double>(part) / static_cast<double>(whole);
}

std::string FormatShare(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", v);
  return buf;
}

int64_t Seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

bool HasAnnotation(const Labels& annotations, std::string_view key, std::string_view value) {
  auto it = annotations.find(key);
  return it != annotations.end() && it->second == value;
}

const OwnerReference* ControllerOf(const Pod& pod) {
  for (const OwnerReference& o : pod.owners) {
    if (o.controller) return &o;
  }
  return nullptr;
}

PodDrainVerdict Stay(std::string reason) { return {PodDrain::kStay, std::move(reason), {}}; }
PodDrainVerdict Block(std::string reason, std::string message) {
  return {PodDrain::kBlock, std::move(reason), std::move(message)};
}

std::string SharesText(const NodeScaleDownStatus& s, bool has_epc) {
  std::string out = "cpu " + FormatShare(s.cpu_share) + ", memory " + FormatShare(s.memory_share);
  if (has_epc) out += ", EPC " + FormatShare(s.epc_share);
  return out;
}

// A candidate node and what its drain needs.
struct Candidate {
  size_t node = 0;
  std::vector<int> movable;  // indices into the pods to move
  std::string blocking_pod;
  std::string block_message;
  bool pdb_blocked = false;
};

}  // namespace

std::optional<SteadyTime> UnneededTracker::UnneededSince(std::string_view node) const {
  auto it = since_.find(std::string(node));
  if (it == since_.end()) return std::nullopt;
  return it->second;
}

void UnneededTracker::MarkBlockedByPdb(std::string_view node, std::string reason, SteadyTime now) {
  pdb_[std::string(node)] = PdbBlock{std::move(reason), now};
}

void UnneededTracker::ClearPdbBlock(std::string_view node) { pdb_.erase(std::string(node)); }

PodDrainVerdict DrainVerdict(const Pod& pod, const ScaleDownOptions& options,
                             const std::function<bool(const Pod&)>& covered_by_pdb) {
  if (pod.annotations.find(kMirrorPodAnnotation) != pod.annotations.end()) return Stay("mirror");
  if (pod.deleting) return Stay("terminating");
  const OwnerReference* controller = ControllerOf(pod);
  if ((controller != nullptr && controller->kind == "DaemonSet") ||
      HasAnnotation(pod.annotations, kDaemonSetPodAnnotation, "true")) {
    return Stay("daemonset");
  }
  if (HasAnnotation(pod.annotations, kSafeToEvictAnnotation, "true")) return {};
  if (pod.phase == "Succeeded" || pod.phase == "Failed") return Stay("terminal");
  if (pod.priority < options.expendable_pods_priority_cutoff) return Stay("expendable");
  const std::string key = PodKey(pod);
  if (controller == nullptr) {
    return Block("not_replicated",
                 "pod " + key + " has no controller ownerReference and would not be recreated");
  }
  if (options.skip_nodes_with_system_pods && pod.namespace_name == "kube-system" &&
      !(covered_by_pdb && covered_by_pdb(pod))) {
    return Block("kube_system_pod",
                 "pod " + key + " is a kube-system pod without a PodDisruptionBudget");
  }
  if (HasAnnotation(pod.annotations, kSafeToEvictAnnotation, "false")) {
    return Block("not_safe_to_evict", "pod " + key + " is annotated " +
                                          std::string(kSafeToEvictAnnotation) + ": \"false\"");
  }
  if (options.skip_nodes_with_local_storage && pod.uses_local_storage) {
    return Block("local_storage", "pod " + key + " uses local storage (emptyDir or hostPath)");
  }
  return {};
}

std::string_view NodeScaleDownStateName(NodeScaleDownState s) {
  switch (s) {
    case NodeScaleDownState::kRemovable:
      return "removable";
    case NodeScaleDownState::kUnneeded:
      return "unneeded";
    case NodeScaleDownState::kNotUnneeded:
      return "not_unneeded";
    case NodeScaleDownState::kBlockedByPod:
      return "blocked_by_pod";
    case NodeScaleDownState::kPodsDoNotFit:
      return "pods_do_not_fit";
    case NodeScaleDownState::kBlockedByPdb:
      return "blocked_by_pdb";
    case NodeScaleDownState::kScaleDownDisabled:
      return "scale_down_disabled";
    case NodeScaleDownState::kNotAutoscaled:
      return "not_autoscaled";
    case NodeScaleDownState::kAtMinSize:
      return "at_min_size";
    case NodeScaleDownState::kRecentScaleUp:
      return "recent_scale_up";
    case NodeScaleDownState::kPassLimit:
      return "pass_limit";
    case NodeScaleDownState::kReceivesPods:
      return "receives_pods";
  }
  return "unknown";
}

ScaleDownPlanner::ScaleDownPlanner(const EpcResources& epc, SchedulingPolicy policy,
                                   ScaleDownOptions options)
    : epc_(epc), predicate_{&epc, policy, CheckSet::All()}, options_(options) {}

ScaleDownDecision ScaleDownPlanner::Plan(const ScaleDownInput& input,
                                         UnneededTracker& tracker) const {
  const size_t n = input.nodes.size();
  const SteadyTime now = input.now;
  ScaleDownDecision decision;
  decision.nodes.resize(n);
  auto set_state = [&](size_t i, NodeScaleDownState s, std::string reason) {
    decision.nodes[i].status = std::string(NodeScaleDownStateName(s));
    decision.nodes[i].reason = std::move(reason);
  };

  std::unordered_map<std::string_view, size_t> group_of_name;
  for (size_t g = 0; g < input.groups.size(); ++g) {
    for (const GroupNode& gn : input.groups[g].nodes) group_of_name.emplace(gn.name, g);
  }

  // Shares and the checks that need no simulation.
  std::vector<size_t> group_of(n, kNone);
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < n; ++i) {
    const NodeInfo& info = *input.nodes[i].info;
    NodeScaleDownStatus& st = decision.nodes[i];
    st.node = info.node->name;
    st.cpu_share = Share(info.requested.milli_cpu, info.allocatable.milli_cpu);
    st.memory_share = Share(info.requested.memory, info.allocatable.memory);
    st.epc_share = Share(info.requested.epc_bytes, info.allocatable.epc_bytes);
    st.share = std::max({st.cpu_share, st.memory_share, st.epc_share});
    auto g = group_of_name.find(st.node);
    if (g == group_of_name.end()) {
      set_state(i, NodeScaleDownState::kNotAutoscaled, "node belongs to no node group");
      continue;
    }
    group_of[i] = g->second;
    st.group = input.groups[g->second].spec.name;
    if (HasAnnotation(info.node->annotations, kScaleDownDisabledAnnotation, "true")) {
      set_state(i, NodeScaleDownState::kScaleDownDisabled,
                "node is annotated " + std::string(kScaleDownDisabledAnnotation) + ": \"true\"");
      continue;
    }
    const bool has_epc = info.allocatable.epc_bytes > 0;
    if (st.share >= options_.utilization_threshold) {
      set_state(i, NodeScaleDownState::kNotUnneeded,
                options_.explain ? "requested share " + FormatShare(st.share) + " >= threshold " +
                                       FormatShare(options_.utilization_threshold) + " (" +
                                       SharesText(st, has_epc) + ")"
                                 : std::string());
      continue;
    }
    Candidate c;
    c.node = i;
    candidates.push_back(std::move(c));
  }

  // Drain rules; the pods that have to move.
  std::vector<PodInfo> pods;
  std::vector<const Pod*> pod_objects;
  for (Candidate& c : candidates) {
    const std::string& name = decision.nodes[c.node].node;
    if (auto it = tracker.pdb_.find(name);
        it != tracker.pdb_.end() && now - it->second.at < options_.pdb_block_time) {
      c.pdb_blocked = true;
      c.block_message = it->second.reason;
      continue;
    }
    std::vector<const Pod*> to_move;
    for (const Pod* pod : input.nodes[c.node].pods) {
      PodDrainVerdict v = DrainVerdict(*pod, options_, input.covered_by_pdb);
      if (v.drain == PodDrain::kBlock) {
        c.blocking_pod = PodKey(*pod);
        c.block_message = std::move(v.message);
        break;
      }
      if (v.drain == PodDrain::kMove) to_move.push_back(pod);
    }
    if (!c.blocking_pod.empty()) continue;
    for (const Pod* pod : to_move) {
      c.movable.push_back(static_cast<int>(pods.size()));
      pods.push_back(MakePodInfo(*pod, epc_));
      pod_objects.push_back(pod);
    }
  }
  const PodClasses classes = ClassifyPods(pods);

  // Empty nodes first, then the least used, then by name.
  std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
    const NodeScaleDownStatus& sa = decision.nodes[a.node];
    const NodeScaleDownStatus& sb = decision.nodes[b.node];
    return std::tuple(!a.movable.empty(), sa.share, std::string_view(sa.node)) <
           std::tuple(!b.movable.empty(), sb.share, std::string_view(sb.node));
  });

  // Destinations: non-candidates in input order, then candidates from the fullest down.
  std::vector<size_t> dest;
  dest.reserve(n);
  {
    std::vector<bool> is_candidate(n, false);
    for (const Candidate& c : candidates) is_candidate[c.node] = true;
    for (size_t i = 0; i < n; ++i) {
      if (!is_candidate[i]) dest.push_back(i);
    }
    for (auto it = candidates.rbegin(); it != candidates.rend(); ++it) dest.push_back(it->node);
  }
  std::vector<size_t> pos_of(n, 0);
  for (size_t p = 0; p < dest.size(); ++p) pos_of[dest[p]] = p;

  std::vector<NodeInfo> work;  // requested grows with the pods of removed nodes
  work.reserve(n);
  for (const ScaleDownNode& node : input.nodes) work.push_back(*node.info);
  std::vector<bool> removed(n, false);
  std::vector<bool> receives(n, false);
  // Per pod class: destinations before this position are known to have no room for it.
  std::vector<size_t> next(classes.members.size(), 0);
  std::unordered_map<std::string, SteadyTime> since;
  std::vector<int> removed_in_group(input.groups.size(), 0);
  int removals = 0;
  int empty_removals = 0;

  for (const Candidate& c : candidates) {
    const size_t i = c.node;
    NodeScaleDownStatus& st = decision.nodes[i];
    if (c.pdb_blocked) {
      set_state(i, NodeScaleDownState::kBlockedByPdb,
                "an eviction was refused by a PodDisruptionBudget: " + c.block_message);
      continue;
    }
    if (!c.blocking_pod.empty()) {
      st.blocking_pod = c.blocking_pod;
      set_state(i, NodeScaleDownState::kBlockedByPod, c.block_message);
      continue;
    }
    st.pods_to_move = static_cast<int>(c.movable.size());
    auto previous = tracker.since_.find(st.node);
    if (receives[i]) {
      if (previous != tracker.since_.end()) {
        since.emplace(st.node, previous->second);
        st.unneeded_seconds = Seconds(now - previous->second);
      }
      set_state(i, NodeScaleDownState::kReceivesPods,
                "pods of nodes removed in this pass are planned onto this node");
      continue;
    }

    // Where each pod that must move would go, with this pass's removals already placed.
    std::vector<std::pair<size_t, int>> placed;     // (node, pod)
    std::vector<std::pair<int, size_t>> next_undo;  // (class, position before this node)
    int homeless = -1;
    for (int p : c.movable) {
      const PodInfo& pod = pods[static_cast<size_t>(p)];
      const int cls = classes.class_of[static_cast<size_t>(p)];
      size_t frontier = next[static_cast<size_t>(cls)];
      bool frontier_moves = true;  // nothing but known misfits (and removed nodes) so far
      size_t found = kNone;
      for (size_t q = frontier; q < dest.size(); ++q) {
        const size_t d = dest[q];
        if (d == i) {
          frontier_moves = false;
        } else if (removed[d]) {
          if (frontier_moves) frontier = q + 1;
        } else if (predicate_.Fits(pod, work[d])) {
          found = d;
          break;
        } else if (frontier_moves) {
          frontier = q + 1;
        }
      }
      if (frontier != next[static_cast<size_t>(cls)]) {
        next_undo.emplace_back(cls, next[static_cast<size_t>(cls)]);
        next[static_cast<size_t>(cls)] = frontier;
      }
      if (found == kNone) {
        homeless = p;
        break;
      }
      work[found].requested += pod.request;
      placed.emplace_back(found, p);
    }
    // Undoes the placements. A class's misfits before the first destination used stay known.
    auto roll_back = [&]() {
      size_t first_touched = dest.size();
      for (const auto& [d, p] : placed) {
        work[d].requested -= pods[static_cast<size_t>(p)].request;
        first_touched = std::min(first_touched, pos_of[d]);
      }
      for (auto it = next_undo.rbegin(); it != next_undo.rend(); ++it) {
        size_t& pos = next[static_cast<size_t>(it->first)];
        pos = std::max(it->second, std::min(pos, first_touched));
      }
    };
    if (homeless >= 0) {
      roll_back();
      const Pod& pod = *pod_objects[static_cast<size_t>(homeless)];
      st.blocking_pod = PodKey(pod);
      set_state(i, NodeScaleDownState::kPodsDoNotFit,
                "pod " + st.blocking_pod + " fits no other node");
      continue;
    }

    // Unneeded. Removable now?
    const SteadyTime unneeded_since = previous != tracker.since_.end() ? previous->second : now;
    since.emplace(st.node, unneeded_since);
    st.unneeded_seconds = Seconds(now - unneeded_since);
    const NodeGroupState& group = input.groups[group_of[i]];
    const bool empty = c.movable.empty();
    const std::string shares = options_.explain
                                   ? "requested share " + FormatShare(st.share) + " < threshold " +
                                         FormatShare(options_.utilization_threshold)
                                   : std::string();
    NodeScaleDownState state = NodeScaleDownState::kRemovable;
    std::string reason;
    if (now - unneeded_since < options_.unneeded_time) {
      state = NodeScaleDownState::kUnneeded;
      reason = shares + "; unneeded for " + std::to_string(st.unneeded_seconds) + "s of " +
               std::to_string(Seconds(options_.unneeded_time)) + "s";
    } else if (group.last_scale_up.has_value() &&
               now - *group.last_scale_up < options_.delay_after_add) {
      state = NodeScaleDownState::kRecentScaleUp;
      reason = "group " + group.spec.name + " scaled up " +
               std::to_string(Seconds(now - *group.last_scale_up)) + "s ago, less than " +
               std::to_string(Seconds(options_.delay_after_add)) + "s";
    } else if (group.target_size - removed_in_group[group_of[i]] <= group.spec.min_size) {
      state = NodeScaleDownState::kAtMinSize;
      reason = "group " + group.spec.name + " would drop below min size " +
               std::to_string(group.spec.min_size) + " (target " +
               std::to_string(group.target_size) + ", " +
               std::to_string(removed_in_group[group_of[i]]) + " removed in this pass)";
    } else if (removals >= options_.max_nodes_per_pass ||
               (empty && empty_removals >= options_.max_empty_bulk_delete)) {
      state = NodeScaleDownState::kPassLimit;
      reason = "this pass already removes " + std::to_string(removals) + " node(s)";
    } else {
      reason = shares + "; unneeded for " + std::to_string(st.unneeded_seconds) + "s" +
               (empty ? "; empty" : "; " + std::to_string(c.movable.size()) + " pod(s) to move");
    }
    set_state(i, state, std::move(reason));
    if (state != NodeScaleDownState::kRemovable) {
      roll_back();
      continue;
    }
    removed[i] = true;
    for (const auto& [d, p] : placed) receives[d] = true;
    ++removed_in_group[group_of[i]];
    ++removals;
    if (empty) ++empty_removals;
    NodeRemoval r;
    r.node = st.node;
    r.group = group.spec.name;
    r.empty = empty;
    for (int p : c.movable) {
      const Pod& pod = *pod_objects[static_cast<size_t>(p)];
      r.pods_to_evict.push_back(PodKey(pod));
    }
    decision.remove.push_back(std::move(r));
  }

  tracker.since_ = std::move(since);
  std::erase_if(tracker.pdb_, [&](const auto& entry) {
    return now - entry.second.at >= options_.pdb_block_time;
  });
  return decision;
}

}  // namespace epc::cluster
