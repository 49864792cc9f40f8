#include "autoscaler/cluster/scale_up.h"

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <optional>
#include <utility>

namespace epc::cluster {
namespace {

std::string FormatScore(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

RejectedGroup Reject(const NodeGroupState& g, GroupRejection why, std::string message) {
  RejectedGroup r;
  r.group = g.spec.name;
  r.reason = std::string(GroupRejectionName(why));
  r.message = std::move(message);
  return r;
}

}  // namespace

std::string_view GroupRejectionName(GroupRejection r) {
  switch (r) {
    case GroupRejection::kAtMaxSize:
      return "at_max_size";
    case GroupRejection::kInBackoff:
      return "in_backoff";
    case GroupRejection::kClusterAtMaxNodes:
      return "cluster_at_max_nodes";
    case GroupRejection::kNoPodsPlaced:
      return "no_pods_placed";
    case GroupRejection::kLostToExpander:
      return "lost_to_expander";
  }
  return "unknown";
}

ScaleUpPlanner::ScaleUpPlanner(const EpcResources& epc, const PoolClassifier& pools,
                               SchedulingPolicy policy, ScaleUpOptions options,
                               std::unique_ptr<Expander> expander)
    : epc_(epc),
      pools_(pools),
      predicate_{&epc, policy, CheckSet::All()},
      options_(options),
      expander_(expander ? std::move(expander) : std::make_unique<LeastWasteExpander>()) {}

ScaleUpDecision ScaleUpPlanner::Plan(const ScaleUpInput& input) {
  ScaleUpDecision d;
  d.expander = std::string(expander_->Name());
  d.score_name = std::string(expander_->ScoreName());

  if (input.pending.empty()) {
    d.message = "no pending pods";
    return d;
  }
  std::vector<PodInfo> pods;
  pods.reserve(input.pending.size());
  for (const Pod* p : input.pending) pods.push_back(MakePodInfo(*p, epc_));
  const PodClasses classes = ClassifyPods(pods);

  std::vector<NodeInfo> templates;
  templates.reserve(input.groups.size());
  for (const NodeGroupState& g : input.groups) {
    templates.push_back(MakeNodeInfo(g.spec.template_node, epc_, pools_));
  }

  // 1. Existing nodes (by name, for a deterministic first fit), then upcoming template nodes.
  std::vector<NodeInfo> sim;
  sim.reserve(input.nodes.size());
  for (const NodeInfo* n : input.nodes) sim.push_back(*n);
  std::sort(sim.begin(), sim.end(),
            [](const NodeInfo& a, const NodeInfo& b) { return a.node->name < b.node->name; });
  const size_t existing = sim.size();
  int upcoming_total = 0;
  for (size_t g = 0; g < input.groups.size(); ++g) {
    const int upcoming = input.groups[g].UpcomingCount(input.now, options_.max_node_provision_time);
    upcoming_total += upcoming;
    for (int i = 0; i < upcoming; ++i) sim.push_back(templates[g]);
  }

  // First fit per class, as the estimator places pods: a class starts at the first node, its
  // members after the node the previous one took. The index skips nodes too full for the class.
  FreeCapacityIndex index(predicate_.checks);
  index.Assign(sim);
  std::vector<bool> needs_node(pods.size(), false);
  for (const std::vector<int>& members : classes.members) {
    const FreeCapacityIndex::Need need =
        index.NeedOf(pods[static_cast<size_t>(members.front())].request);
    size_t next = 0;  // earlier nodes have no room for this class; nodes only fill up
    for (int m : members) {
      const PodInfo& pod = pods[static_cast<size_t>(m)];
      size_t at = index.FirstCandidate(need, next);
      while (at != FreeCapacityIndex::kNone && !predicate_.Fits(pod, sim[at])) {
        at = index.FirstCandidate(need, at + 1);
      }
      if (at == FreeCapacityIndex::kNone) {
        needs_node[static_cast<size_t>(m)] = true;
        next = sim.size();
        continue;
      }
      next = at;
      sim[at].requested += pod.request;
      index.Update(at, sim[at]);
      (at < existing ? d.pods_fit_existing : d.pods_fit_upcoming).push_back(PodKey(*pod.pod));
    }
  }
  sim.clear();

  // The pods left, in input order, with their classes carried over.
  std::vector<PodInfo> rest;
  std::vector<int> rest_of(pods.size(), -1);
  for (size_t i = 0; i < pods.size(); ++i) {
    if (!needs_node[i]) continue;
    rest_of[i] = static_cast<int>(rest.size());
    rest.push_back(std::move(pods[i]));  // `pods` is not read after this
  }
  PodClasses rest_classes;
  rest_classes.class_of.assign(rest.size(), -1);
  rest_classes.profiles = classes.profiles;  // profile ids carry over; some may go unused
  for (size_t c = 0; c < classes.members.size(); ++c) {
    std::vector<int> kept;
    for (int m : classes.members[c]) {
      if (rest_of[static_cast<size_t>(m)] >= 0) kept.push_back(rest_of[static_cast<size_t>(m)]);
    }
    if (kept.empty()) continue;
    for (int k : kept)
      rest_classes.class_of[static_cast<size_t>(k)] = static_cast<int>(rest_classes.members.size());
    rest_classes.members.push_back(std::move(kept));
    rest_classes.profile_of.push_back(classes.profile_of[c]);
  }

  if (rest.empty()) {
    d.message = "no scale-up: every pending pod fits an existing or upcoming node";
    return d;
  }

  // 2. An estimate per eligible group.
  const int total_nodes = static_cast<int>(input.nodes.size()) + upcoming_total;
  const int headroom = options_.max_nodes_total > 0 ? options_.max_nodes_total - total_nodes
                                                    : std::numeric_limits<int>::max();
  const BinpackingEstimator estimator(predicate_);
  std::vector<ExpansionOption> options;
  std::vector<size_t> option_group;
  std::vector<std::optional<RejectedGroup>> rejected(input.groups.size());
  for (size_t g = 0; g < input.groups.size(); ++g) {
    const NodeGroupState& group = input.groups[g];
    if (group.target_size >= group.spec.max_size) {
      rejected[g] = Reject(group, GroupRejection::kAtMaxSize,
                           "at max size " + std::to_string(group.spec.max_size));
      continue;
    }
    if (group.InBackoff(input.now)) {
      const auto left =
          std::chrono::duration_cast<std::chrono::seconds>(*group.backoff_until - input.now);
      rejected[g] = Reject(
          group, GroupRejection::kInBackoff,
          "in backoff after a failed scale-up for another " + std::to_string(left.count()) + "s");
      continue;
    }
    if (headroom <= 0) {
      rejected[g] = Reject(group, GroupRejection::kClusterAtMaxNodes,
                           "cluster has " + std::to_string(total_nodes) +
                               " nodes including upcoming ones, max-nodes-total is " +
                               std::to_string(options_.max_nodes_total));
      continue;
    }
    const int max_new = std::min(
        {group.spec.max_size - group.target_size, headroom, options_.max_nodes_per_scale_up});
    // Only the first unplaced pod's reason is reported (below).
    Estimate e = estimator.Run(rest, rest_classes, templates[g], max_new, UnplacedReasons::kFirst);
    if (e.node_count == 0) {
      const UnplacedPod& first = e.unplaced.front();
      rejected[g] =
          Reject(group, GroupRejection::kNoPodsPlaced,
                 "no pending pod fits a new node; " +
                     PodKey(*rest[static_cast<size_t>(first.pod)].pod) + ": " + first.reason);
      continue;
    }
    ExpansionOption o;
    o.group = group.spec.name;
    o.node_count = e.node_count;
    o.pods = std::move(e.placed);
    o.pods_requested = std::move(e.placed_requests);
    o.node_template = &templates[g];
    options.push_back(std::move(o));
    option_group.push_back(g);
  }

  std::vector<bool> helped(rest.size(), false);
  for (const ExpansionOption& o : options) {
    for (int p : o.pods) helped[static_cast<size_t>(p)] = true;
  }
  for (size_t i = 0; i < rest.size(); ++i) {
    if (!helped[i]) d.pods_unhelped.push_back(PodKey(*rest[i].pod));
  }

  // 3. The expander's choice.
  if (options.empty()) {
    d.message = "no scale-up: " + std::to_string(rest.size()) +
                " pending pod(s) need a new node but no node group can add one that fits";
  } else {
    const ExpanderChoice choice = expander_->Choose(options);
    const size_t chosen = static_cast<size_t>(
        std::clamp<int>(choice.chosen, 0, static_cast<int>(options.size()) - 1));
    const ExpansionOption& best = options[chosen];
    const NodeGroupState& group = input.groups[option_group[chosen]];
    d.scale_up = true;
    d.group = group.spec.name;
    d.current_size = group.target_size;
    d.node_count = best.node_count;
    d.target_size = group.target_size + best.node_count;
    d.score = choice.scores.empty() ? 0 : choice.scores[chosen];
    d.pods.reserve(best.pods.size());
    for (int p : best.pods) d.pods.push_back(PodKey(*rest[static_cast<size_t>(p)].pod));
    d.message = "scale up " + d.group + " from " + std::to_string(d.current_size) + " to " +
                std::to_string(d.target_size) + " for " + std::to_string(d.pods.size()) +
                " pod(s), chosen by " + d.expander;
    for (size_t i = 0; i < options.size(); ++i) {
      if (i == chosen) continue;
      const NodeGroupState& other = input.groups[option_group[i]];
      const double score = choice.scores.empty() ? 0 : choice.scores[i];
      RejectedGroup r =
          Reject(other, GroupRejection::kLostToExpander,
                 "lost to " + d.group + " under expander " + d.expander + " (" + d.score_name +
                     " " + FormatScore(score) + " vs " + FormatScore(d.score) + ")");
      r.node_count = options[i].node_count;
      r.pod_count = static_cast<int>(options[i].pods.size());
      r.score = score;
      rejected[option_group[i]] = std::move(r);
    }
  }
  for (std::optional<RejectedGroup>& r : rejected) {
    if (r.has_value()) d.rejected.push_back(std::move(*r));
  }
  return d;
}

}  // namespace epc::cluster
