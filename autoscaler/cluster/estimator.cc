#include "autoscaler/cluster/estimator.h"

#include <algorithm>
#include <cstddef>
#include <utility>

namespace epc::cluster {
namespace {

double Share(int64_t part, int64_t whole) {
  if (whole <= 0) return 0;
  return static_cast<double>(part) / static_cast<double>(whole);
}

std::string LimitReason(int max_new_nodes) {
  if (max_new_nodes <= 0) return "no new node allowed (node group or cluster at its maximum)";
  return "does not fit in the " + std::to_string(max_new_nodes) +
         " new node(s) the node group and cluster limits allow";
}

}  // namespace

double PodScore(const Resources& request, const NodeInfo& node_template) {
  const Resources& alloc = node_template.allocatable;
  double score = Share(request.milli_cpu, alloc.milli_cpu) + Share(request.memory, alloc.memory);
  if (alloc.epc_bytes > 0) score += Share(request.epc_bytes, alloc.epc_bytes);
  return score;
}

BinpackingEstimator::BinpackingEstimator(Predicate predicate) : predicate_(std::move(predicate)) {
  predicate_.checks = CheckSet::All();
}

Estimate BinpackingEstimator::Run(std::span<const PodInfo> pods, const NodeInfo& node_template,
                                  int max_new_nodes) const {
  return Run(pods, ClassifyPods(pods), node_template, max_new_nodes);
}

Estimate BinpackingEstimator::Run(std::span<const PodInfo> pods, const PodClasses& classes,
                                  const NodeInfo& node_template, int max_new_nodes) const {
  // Largest classes first; equal scores keep the order of first appearance.
  std::vector<std::pair<double, size_t>> order;
  order.reserve(classes.members.size());
  for (size_t c = 0; c < classes.members.size(); ++c) {
    const PodInfo& exemplar = pods[static_cast<size_t>(classes.members[c].front())];
    order.emplace_back(PodScore(exemplar.request, node_template), c);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });

  Estimate out;
  std::vector<NodeInfo> nodes;
  const size_t limit = max_new_nodes > 0 ? static_cast<size_t>(max_new_nodes) : 0;
  auto place = [&](int pod, size_t node) {
    const PodInfo& p = pods[static_cast<size_t>(pod)];
    nodes[node].requested += p.request;
    out.placed_requests += p.request;
    out.placed.push_back(pod);
    ++out.pods_per_node[node];
  };

  for (const auto& [score, c] : order) {
    const std::vector<int>& members = classes.members[c];
    const FitResult on_empty =
        predicate_.Fit(pods[static_cast<size_t>(members.front())], node_template);
    if (!on_empty.fits()) {
      const std::string reason = on_empty.Message();
      for (int m : members) out.unplaced.push_back({m, false, reason});
      continue;
    }
    size_t next = 0;  // nodes before it have no room for this class
    for (int m : members) {
      const PodInfo& pod = pods[static_cast<size_t>(m)];
      while (next < nodes.size() && !predicate_.Fits(pod, nodes[next])) ++next;
      if (next < nodes.size()) {
        place(m, next);
        continue;
      }
      if (nodes.size() >= limit) {
        out.unplaced.push_back({m, true, LimitReason(max_new_nodes)});
        continue;
      }
      // A fresh node is the empty template, on which this class was just seen to fit.
      nodes.push_back(node_template);
      out.pods_per_node.push_back(0);
      place(m, next);
    }
  }
  out.node_count = static_cast<int>(nodes.size());
  std::sort(out.unplaced.begin(), out.unplaced.end(),
            [](const UnplacedPod& a, const UnplacedPod& b) { return a.pod < b.pod; });
  return out;
}

}  // namespace epc::cluster
