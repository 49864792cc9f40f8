#include "scheduler/extender/explain.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

namespace epc {
namespace {

std::string_view VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kFits:
      return "fits";
    case Verdict::kUnschedulable:
      return "unschedulable";
    case Verdict::kUnresolvable:
      return "unresolvable";
  }
  return "unknown";
}

}  // namespace

Explanation Explain(const Extender& extender, const Pod& pod) {
  const ClusterStore& store = extender.store();
  const PodInfo info = MakePodInfo(pod, store.epc());
  Predicate predicate = extender.predicate();
  predicate.checks = CheckSet::All();

  Explanation out;
  out.pod = pod.namespace_name + "/" + pod.name;
  out.epc_requested_bytes = info.request.epc_bytes;

  std::map<std::string, PoolExplanation> pools;
  {
    const auto locked = extender.LockReservations();
    const auto& snapshot = locked.snapshot;
    for (const NodeInfo* node : snapshot->Nodes()) {
      const NodeInfo held = extender.WithHolds(*node, pod.uid);
      const FitResult fit = predicate.Fit(info, held);
      NodeExplanation n;
      n.node = node->node->name;
      n.pool = std::string(store.pools().Name(node->pool));
      n.confidential = node->pool.confidential;
      n.verdict = std::string(VerdictName(fit.verdict()));
      n.reason = fit.Message();
      n.score = fit.fits() ? predicate.Score(info, held) : 0;
      n.epc_allocatable_bytes = held.allocatable.epc_bytes;
      n.epc_requested_bytes = held.requested.epc_bytes;
      n.epc_free_bytes = std::max<int64_t>(0, n.epc_allocatable_bytes - n.epc_requested_bytes);

      PoolExplanation& p = pools[n.pool];
      p.pool = n.pool;
      p.confidential = p.confidential || n.confidential;
      ++p.nodes;
      if (fit.fits()) ++p.nodes_fitting;
      p.epc_free_bytes += n.epc_free_bytes;
      p.largest_epc_free_bytes = std::max(p.largest_epc_free_bytes, n.epc_free_bytes);
      out.nodes.push_back(std::move(n));
    }
  }
  for (auto& [name, p] : pools) out.pools.push_back(std::move(p));
  std::sort(out.nodes.begin(), out.nodes.end(), [](const auto& a, const auto& b) {
    const bool fa = a.verdict == "fits", fb = b.verdict == "fits";
    if (fa != fb) return fa;
    if (a.score != b.score) return a.score > b.score;
    return a.node < b.node;
  });
  if (!out.nodes.empty() && out.nodes.front().verdict == "fits") {
    out.best_node = out.nodes.front().node;
  }
  return out;
}

std::string ExplanationJson(const Explanation& e) {
  nlohmann::json j;
  j["pod"] = e.pod;
  j["epcRequestedMiB"] = static_cast<double>(e.epc_requested_bytes) / (1 << 20);
  j["bestNode"] = e.best_node ? nlohmann::json(*e.best_node) : nlohmann::json(nullptr);
  j["pools"] = nlohmann::json::array();
  for (const auto& p : e.pools) {
    j["pools"].push_back(
        {{"pool", p.pool},
         {"confidential", p.confidential},
         {"nodes", p.nodes},
         {"nodesFitting", p.nodes_fitting},
         {"epcFreeMiB", static_cast<double>(p.epc_free_bytes) / (1 << 20)},
         {"largestEpcFreeMiB", static_cast<double>(p.largest_epc_free_bytes) / (1 << 20)}});
  }
  j["nodes"] = nlohmann::json::array();
  for (const auto& n : e.nodes) {
    j["nodes"].push_back(
        {{"node", n.node},
         {"pool", n.pool},
         {"confidential", n.confidential},
         {"verdict", n.verdict},
         {"reason", n.reason},
         {"score", n.score},
         {"epcAllocatableMiB", static_cast<double>(n.epc_allocatable_bytes) / (1 << 20)},
         {"epcRequestedMiB", static_cast<double>(n.epc_requested_bytes) / (1 << 20)},
         {"epcFreeMiB", static_cast<double>(n.epc_free_bytes) / (1 << 20)}});
  }
  return j.dump(2) + "\n";
}

std::string ExplanationText(const Explanation& e) {
  std::string out =
      "pod " + e.pod + " requests " + FormatMiB(e.epc_requested_bytes) + " MiB of EPC\n";
  out += e.best_node ? "the extender would rank " + *e.best_node + " first\n"
                     : "no node fits this pod now\n";
  char line[512];
  out += "\nPOOL                 CONFIDENTIAL  NODES  FITTING  EPC FREE MiB  LARGEST FREE MiB\n";
  for (const auto& p : e.pools) {
    std::snprintf(line, sizeof line, "%-20s %-13s %5d  %7d  %12s  %16s\n", p.pool.c_str(),
                  p.confidential ? "yes" : "no", p.nodes, p.nodes_fitting,
                  FormatMiB(p.epc_free_bytes).c_str(), FormatMiB(p.largest_epc_free_bytes).c_str());
    out += line;
  }
  out +=
      "\nNODE                           POOL             VERDICT        SCORE  EPC FREE/ALLOC MiB  "
      "REASON\n";
  for (const auto& n : e.nodes) {
    const std::string epc = FormatMiB(n.epc_free_bytes) + "/" + FormatMiB(n.epc_allocatable_bytes);
    std::snprintf(line, sizeof line, "%-30s %-16s %-14s %5d  %18s  ", n.node.c_str(),
                  n.pool.c_str(), n.verdict.c_str(), n.score, epc.c_str());
    out += line;
    out += n.reason.empty() ? "-" : n.reason;
    out += "\n";
  }
  return out;
}

}  // namespace epc
