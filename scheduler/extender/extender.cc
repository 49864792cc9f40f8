#include "scheduler/extender/extender.h"

#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>

namespace epc {

namespace {

std::string NodeKey(const WireNode& node, size_t index) {
  if (!node.decoded.node.name.empty()) return node.decoded.node.name;
  return "Nodes.items[" + std::to_string(index) + "]";
}

// NodeInfo for a node the request brought, with what the snapshot has bound to it.
NodeInfo InfoForRequestNode(const Node& node, const ClusterStore& store,
                            const ClusterSnapshot& snapshot) {
  NodeInfo info = MakeNodeInfo(node, store.epc(), store.pools());
  if (const NodeUse* use = snapshot.UseOf(node.name)) info.requested = use->requested;
  return info;
}

void Record(FilterOutcome& out, const std::string& name, const FitResult& fit) {
  std::string reason = fit.failures.empty() ? std::string("unknown") : fit.failures.front().reason;
  out.rejection_reasons.push_back(std::move(reason));
  if (fit.verdict() == Verdict::kUnresolvable) {
    out.answer.unresolvable.emplace_back(name, fit.Message());
  } else {
    out.answer.failed.emplace_back(name, fit.Message());
  }
}

}  // namespace

std::string UnknownNodeMessage(std::string_view name) {
  return "node \"" + std::string(name) + "\" is not in the extender's cluster state";
}

Extender::Extender(ClusterStore& store, SchedulingPolicy policy, SeenPods* seen, Binder* binder)
    : store_(store), seen_(seen), binder_(binder) {
  predicate_.epc = &store_.epc();
  predicate_.policy = policy;
  predicate_.checks = CheckSet::Extender();
}

FilterOutcome Extender::Filter(const ExtenderArgs& args) {
  if (seen_ != nullptr) seen_->Remember(args.pod);
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();

  FilterOutcome out;
  out.answer.names_mode = args.names_mode();
  if (out.answer.names_mode) {
    const auto& names = *args.node_names;
    out.answer.passing_node_names.reserve(names.size());
    for (const std::string& name : names) {
      const NodeInfo* info = snapshot->FindNode(name);
      if (info == nullptr) {
        out.answer.failed.emplace_back(name, UnknownNodeMessage(name));
        out.rejection_reasons.emplace_back(kReasonUnknownNode);
        continue;
      }
      FitResult fit = predicate_.Fit(pod, *info);
      if (fit.fits()) {
        out.answer.passing_node_names.push_back(name);
      } else {
        Record(out, name, fit);
      }
    }
    return out;
  }

  const auto& nodes = *args.nodes;
  out.answer.passing_nodes_json.reserve(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    const WireNode& node = nodes[i];
    if (!node.decoded.error.empty()) {
      out.answer.failed.emplace_back(NodeKey(node, i), "cannot decode node: " + node.decoded.error);
      out.rejection_reasons.emplace_back(kReasonInvalidNode);
      continue;
    }
    NodeInfo info = InfoForRequestNode(node.decoded.node, store_, *snapshot);
    FitResult fit = predicate_.Fit(pod, info);
    if (fit.fits()) {
      out.answer.passing_nodes_json.push_back(node.raw);
    } else {
      Record(out, node.decoded.node.name, fit);
    }
  }
  return out;
}

std::vector<HostPriority> Extender::Prioritize(const ExtenderArgs& args) const {
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();
  std::vector<HostPriority> out;
  if (args.names_mode()) {
    out.reserve(args.node_names->size());
    for (const std::string& name : *args.node_names) {
      const NodeInfo* info = snapshot->FindNode(name);
      out.push_back({name, info == nullptr ? 0 : predicate_.Score(pod, *info)});
    }
    return out;
  }
  out.reserve(args.nodes->size());
  for (size_t i = 0; i < args.nodes->size(); ++i) {
    const WireNode& node = (*args.nodes)[i];
    if (!node.decoded.error.empty()) {
      out.push_back({NodeKey(node, i), 0});
      continue;
    }
    NodeInfo info = InfoForRequestNode(node.decoded.node, store_, *snapshot);
    out.push_back({node.decoded.node.name, predicate_.Score(pod, info)});
  }
  return out;
}

std::vector<MetaVictimsAnswer> Extender::Preempt(const ExtenderPreemptionArgs& args) const {
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();
  std::vector<MetaVictimsAnswer> out;
  for (const NodeVictims& candidate : args.candidates) {
    MetaVictimsAnswer answer{candidate.node_name, candidate.victims.pod_uids,
                             candidate.victims.num_pdb_violations};
    const NodeInfo* known = snapshot->FindNode(candidate.node_name);
    if (known == nullptr) {
      // Without the node object nothing can be checked. A pod without EPC is not ours to
      // judge (keep the candidate); an EPC pod could be given a node it then doesn't fit.
      if (!pod.wants_epc()) out.push_back(std::move(answer));
      continue;
    }
    NodeInfo info = *known;
    std::unordered_set<std::string_view> removed;
    for (const std::string& uid : candidate.victims.pod_uids) {
      if (!removed.insert(uid).second) continue;  // listed twice: free it once
      const PodUse* victim = snapshot->FindPod(uid);
      // Only pods the snapshot counts on this node free anything in its accounting.
      if (victim == nullptr || victim->node_name != candidate.node_name) continue;
      info.requested -= victim->request;
    }
    if (predicate_.Fit(pod, info).fits()) out.push_back(std::move(answer));
  }
  return out;
}

std::string Extender::Bind(const ExtenderBindingArgs& args) {
  if (binder_ == nullptr) return "this extender has no binder configured; cannot bind";
  Result<bool> bound = binder_->Bind(args.pod_namespace, args.pod_name, args.pod_uid, args.node);
  if (!bound) return bound.error();
  return {};
}

}  // namespace epc
