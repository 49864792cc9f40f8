#include "autoscaler/cluster/estimator.h"

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>

namespace epc::cluster {
namespace {

double Share(int64_t part, int64_t whole) {
  if (whole <= 0) return 0;
  return static_cast<double>(part) / static_cast<double>(whole);
}

constexpr int64_t kUnconstrained = std::numeric_limits<int64_t>::min();

// a - b, clamped to the int64 range instead of overflowing.
int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t out = 0;
  if (__builtin_sub_overflow(a, b, &out)) {
    return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
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

FreeCapacityIndex::Need FreeCapacityIndex::NeedOf(const Resources& request) const {
  // A request of zero or less is never compared (CheckOne, CheckEpc): it constrains nothing.
  auto need = [](bool checked, int64_t want) {
    return checked && want > 0 ? want : kUnconstrained;
  };
  const bool resources = checks_.Has(Check::kResources);
  return {need(resources, request.pods), need(resources, request.milli_cpu),
          need(resources, request.memory), need(resources, request.ephemeral_storage),
          need(checks_.Has(Check::kEpcFit), request.epc_bytes)};
}

FreeCapacityIndex::Free FreeCapacityIndex::FreeOf(const NodeInfo& node) {
  const Resources& a = node.allocatable;
  const Resources& r = node.requested;
  // Fits() needs want <= allocatable - requested for each of these (for EPC: allocatable > 0 and
  // want <= max(0, allocatable - requested), which for want > 0 implies the same).
  return {SaturatingSub(a.pods, r.pods), SaturatingSub(a.milli_cpu, r.milli_cpu),
          SaturatingSub(a.memory, r.memory),
          SaturatingSub(a.ephemeral_storage, r.ephemeral_storage),
          SaturatingSub(a.epc_bytes, r.epc_bytes)};
}

void FreeCapacityIndex::Pull(size_t v) {
  for (size_t d = 0; d < tree_[v].size(); ++d) {
    tree_[v][d] = std::max(tree_[2 * v][d], tree_[2 * v + 1][d]);
  }
}

void FreeCapacityIndex::Assign(std::span<const NodeInfo> nodes) {
  size_ = nodes.size();
  leaves_ = std::bit_ceil(std::max<size_t>(size_, 1));
  Free empty;
  empty.fill(kUnconstrained);
  tree_.assign(2 * leaves_, empty);
  for (size_t i = 0; i < size_; ++i) tree_[leaves_ + i] = FreeOf(nodes[i]);
  for (size_t v = leaves_ - 1; v >= 1; --v) Pull(v);
}

void FreeCapacityIndex::Push(const NodeInfo& node) {
  if (size_ == leaves_) {
    // Full: double the leaves and rebuild (amortized O(1) per push).
    const size_t old_leaves = leaves_;
    std::vector<Free> old = std::move(tree_);
    leaves_ = std::max<size_t>(2 * old_leaves, 1);
    Free empty;
    empty.fill(kUnconstrained);
    tree_.assign(2 * leaves_, empty);
    for (size_t i = 0; i < size_; ++i) tree_[leaves_ + i] = old[old_leaves + i];
    for (size_t v = leaves_ - 1; v >= 1; --v) Pull(v);
  }
  ++size_;
  Update(size_ - 1, node);
}

void FreeCapacityIndex::Update(size_t i, const NodeInfo& node) {
  size_t v = leaves_ + i;
  tree_[v] = FreeOf(node);
  for (v /= 2; v >= 1; v /= 2) Pull(v);
}

size_t FreeCapacityIndex::Find(size_t v, size_t lo, size_t hi, const Need& need,
                               size_t from) const {
  if (hi <= from || lo >= size_) return kNone;
  const Free& free = tree_[v];
  for (size_t d = 0; d < free.size(); ++d) {
    if (free[d] < need[d]) return kNone;  // no node below v has enough of resource d
  }
  if (hi - lo == 1) return lo;
  const size_t mid = lo + (hi - lo) / 2;
  const size_t left = Find(2 * v, lo, mid, need, from);
  return left != kNone ? left : Find(2 * v + 1, mid, hi, need, from);
}

size_t FreeCapacityIndex::FirstCandidate(const Need& need, size_t from) const {
  if (from >= size_) return kNone;
  return Find(1, 0, leaves_, need, from);
}

BinpackingEstimator::BinpackingEstimator(Predicate predicate) : predicate_(std::move(predicate)) {
  predicate_.checks = CheckSet::All();
}

Estimate BinpackingEstimator::Run(std::span<const PodInfo> pods, const NodeInfo& node_template,
                                  int max_new_nodes) const {
  return Run(pods, ClassifyPods(pods), node_template, max_new_nodes);
}

Estimate BinpackingEstimator::Run(std::span<const PodInfo> pods, const PodClasses& classes,
                                  const NodeInfo& node_template, int max_new_nodes,
                                  UnplacedReasons reasons) const {
  const size_t class_count = classes.members.size();
  // Largest classes first; equal scores keep the order of first appearance.
  std::vector<std::pair<double, size_t>> order;
  order.reserve(class_count);
  for (size_t c = 0; c < class_count; ++c) {
    const PodInfo& exemplar = pods[static_cast<size_t>(classes.members[c].front())];
    order.emplace_back(PodScore(exemplar.request, node_template), c);
  }
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });

  // The two halves of predicate_ (CheckSet::All()); see kRequestChecks.
  const Predicate node_side{predicate_.epc, predicate_.policy, kNodeChecks};
  const Predicate request_side{predicate_.epc, predicate_.policy, kRequestChecks};
  const bool profiled = classes.profile_of.size() == class_count;
  std::vector<int8_t> profile_fits(profiled ? static_cast<size_t>(classes.profiles) : 0, -1);
  auto fits_template = [&](size_t c, const PodInfo& exemplar) {
    if (!profiled) return predicate_.Fits(exemplar, node_template);
    int8_t& known = profile_fits[static_cast<size_t>(classes.profile_of[c])];
    if (known < 0) known = node_side.Fits(exemplar, node_template) ? 1 : 0;
    return known == 1 && request_side.Fits(exemplar, node_template);
  };

  Estimate out;
  std::vector<NodeInfo> nodes;
  FreeCapacityIndex index(predicate_.checks);
  const size_t limit = max_new_nodes > 0 ? static_cast<size_t>(max_new_nodes) : 0;
  auto place = [&](int pod, size_t node) {
    const PodInfo& p = pods[static_cast<size_t>(pod)];
    nodes[node].requested += p.request;
    index.Update(node, nodes[node]);
    out.placed_requests += p.request;
    out.placed.push_back(pod);
    ++out.pods_per_node[node];
  };
  // Per class, what became of its members: none fits the template, or the members from
  // `first_unplaced` (a pod index) on found no room within the node limit (members are
  // ascending, so those are exactly the pods of the class with an index >= it).
  std::vector<bool> misfit(class_count, false);
  constexpr int kAllPlaced = std::numeric_limits<int>::max();
  std::vector<int> first_unplaced(class_count, kAllPlaced);
  std::vector<std::string> misfit_reason(reasons == UnplacedReasons::kEvery ? class_count : 0);

  for (const auto& [score, c] : order) {
    const std::vector<int>& members = classes.members[c];
    const PodInfo& exemplar = pods[static_cast<size_t>(members.front())];
    if (!fits_template(c, exemplar)) {
      misfit[c] = true;
      // Fit()'s messages are built only when they are reported.
      if (!misfit_reason.empty()) {
        misfit_reason[c] = predicate_.Fit(exemplar, node_template).Message();
      }
      continue;
    }
    const FreeCapacityIndex::Need need = index.NeedOf(exemplar.request);
    size_t next = 0;  // nodes before it have no room for this class
    for (int m : members) {
      const PodInfo& pod = pods[static_cast<size_t>(m)];
      // The nodes are copies of the template, where the node-side checks passed for this class.
      size_t at = index.FirstCandidate(need, next);
      while (at != FreeCapacityIndex::kNone && !request_side.Fits(pod, nodes[at])) {
        at = index.FirstCandidate(need, at + 1);
      }
      if (at == FreeCapacityIndex::kNone) {
        if (nodes.size() >= limit) {
          // No node has room for this member and none may open. Nodes only fill up, so the
          // rest of the class, alike for the predicate, has no room either.
          first_unplaced[c] = m;
          break;
        }
        // A fresh node is the empty template, on which this class was just seen to fit.
        nodes.push_back(node_template);
        out.pods_per_node.push_back(0);
        index.Push(nodes.back());
        at = nodes.size() - 1;
      }
      place(m, at);
      next = at;
    }
  }
  out.node_count = static_cast<int>(nodes.size());

  const std::string limit_reason = LimitReason(max_new_nodes);
  for (size_t i = 0; i < pods.size() && i < classes.class_of.size(); ++i) {
    if (classes.class_of[i] < 0) continue;  // in no class: never placed, as before
    const size_t c = static_cast<size_t>(classes.class_of[i]);
    const bool fits_template = !misfit[c];
    if (fits_template && static_cast<int>(i) < first_unplaced[c]) continue;
    UnplacedPod u{static_cast<int>(i), fits_template, {}};
    if (reasons == UnplacedReasons::kEvery) {
      u.reason = fits_template ? limit_reason : misfit_reason[c];
    } else if (out.unplaced.empty()) {
      u.reason = fits_template ? limit_reason : predicate_.Fit(pods[i], node_template).Message();
    }
    out.unplaced.push_back(std::move(u));
  }
  return out;
}

}  // namespace epc::cluster
