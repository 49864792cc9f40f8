#include "autoscaler/cluster/pod_equivalence.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <unordered_map>

namespace epc::cluster {
namespace {

void Mix(size_t& seed, size_t v) { seed ^= v + 0x9e3779b97f4a7c15ULL + (seed << 6) + (seed >> 2); }
void MixInt(size_t& seed, int64_t v) { Mix(seed, std::hash<int64_t>{}(v)); }
void MixStr(size_t& seed, std::string_view s) { Mix(seed, std::hash<std::string_view>{}(s)); }

void MixRequirements(size_t& seed, const std::vector<SelectorRequirement>& reqs) {
  MixInt(seed, static_cast<int64_t>(reqs.size()));
  for (const SelectorRequirement& r : reqs) {
    MixStr(seed, r.key);
    MixStr(seed, r.op);
    for (const std::string& v : r.values) MixStr(seed, v);
  }
}

// Of what PodsAlikeForNodeChecks compares.
size_t NodeSideHash(const PodInfo& p) {
  size_t h = 0;
  MixInt(h, p.wants_epc() ? 1 : 0);
  const Pod& pod = *p.pod;
  for (const auto& [k, v] : pod.node_selector) {
    MixStr(h, k);
    MixStr(h, v);
  }
  for (const Toleration& t : pod.tolerations) {
    MixStr(h, t.key);
    MixStr(h, t.op);
    MixStr(h, t.value);
    MixStr(h, t.effect);
  }
  for (const NodeSelectorTerm& term : pod.required_node_affinity) {
    MixRequirements(h, term.match_expressions);
    MixRequirements(h, term.match_fields);
  }
  return h;
}

// Of what FitEquivalent compares.
size_t FitHash(const PodInfo& p) {
  size_t h = NodeSideHash(p);
  const Resources& r = p.request;
  MixInt(h, r.milli_cpu);
  MixInt(h, r.memory);
  MixInt(h, r.ephemeral_storage);
  MixInt(h, r.pods);
  MixInt(h, r.epc_bytes);
  for (const auto& [name, amount] : r.scalar) {
    MixStr(h, name);
    MixInt(h, amount);
  }
  return h;
}

// Groups `items` by `alike`, looking up candidates by `hash`; returns each item's group, groups
// numbered in order of their first item. Collisions are resolved by comparing with the group's
// first item.
template <typename Hash, typename Alike>
std::vector<int> Group(size_t items, Hash hash, Alike alike, int& groups) {
  std::vector<int> group_of(items, -1);
  std::vector<size_t> first;  // per group, its first item
  std::unordered_map<size_t, std::vector<int>> by_hash;
  by_hash.reserve(items);
  for (size_t i = 0; i < items; ++i) {
    std::vector<int>& candidates = by_hash[hash(i)];
    int g = -1;
    for (int c : candidates) {
      if (alike(first[static_cast<size_t>(c)], i)) {
        g = c;
        break;
      }
    }
    if (g < 0) {
      g = static_cast<int>(first.size());
      first.push_back(i);
      candidates.push_back(g);
    }
    group_of[i] = g;
  }
  groups = static_cast<int>(first.size());
  return group_of;
}

bool SameRequirements(const std::vector<SelectorRequirement>& a,
                      const std::vector<SelectorRequirement>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const SelectorRequirement& x, const SelectorRequirement& y) {
                      return x.key == y.key && x.op == y.op && x.values == y.values;
                    });
}

bool SameTolerations(const std::vector<Toleration>& a, const std::vector<Toleration>& b) {
  // toleration_seconds only matters for eviction, not for fitting.
  return std::equal(
      a.begin(), a.end(), b.begin(), b.end(), [](const Toleration& x, const Toleration& y) {
        return x.key == y.key && x.op == y.op && x.value == y.value && x.effect == y.effect;
      });
}

bool SameAffinity(const std::vector<NodeSelectorTerm>& a, const std::vector<NodeSelectorTerm>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](const NodeSelectorTerm& x, const NodeSelectorTerm& y) {
                      return SameRequirements(x.match_expressions, y.match_expressions) &&
                             SameRequirements(x.match_fields, y.match_fields);
                    });
}

}  // namespace

bool PodsAlikeForNodeChecks(const PodInfo& a, const PodInfo& b) {
  if (a.pod == b.pod) return true;
  return a.wants_epc() == b.wants_epc() && a.pod->node_selector == b.pod->node_selector &&
         SameTolerations(a.pod->tolerations, b.pod->tolerations) &&
         SameAffinity(a.pod->required_node_affinity, b.pod->required_node_affinity);
}

bool FitEquivalent(const PodInfo& a, const PodInfo& b) {
  if (a.pod == b.pod) return true;
  return a.request == b.request && PodsAlikeForNodeChecks(a, b);
}

PodClasses ClassifyPods(std::span<const PodInfo> pods) {
  PodClasses out;
  int classes = 0;
  out.class_of = Group(
      pods.size(), [&](size_t i) { return FitHash(pods[i]); },
      [&](size_t a, size_t b) { return FitEquivalent(pods[a], pods[b]); }, classes);
  out.members.resize(static_cast<size_t>(classes));
  for (size_t i = 0; i < pods.size(); ++i) {
    out.members[static_cast<size_t>(out.class_of[i])].push_back(static_cast<int>(i));
  }
  auto exemplar = [&](size_t c) -> const PodInfo& {
    return pods[static_cast<size_t>(out.members[c].front())];
  };
  out.profile_of = Group(
      out.members.size(), [&](size_t c) { return NodeSideHash(exemplar(c)); },
      [&](size_t a, size_t b) { return PodsAlikeForNodeChecks(exemplar(a), exemplar(b)); },
      out.profiles);
  return out;
}

}  // namespace epc::cluster
