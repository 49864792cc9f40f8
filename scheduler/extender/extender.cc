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

Extender::Extender(ClusterStore& store, SchedulingPolicy policy, SeenPods* seen, Binder* binder,
                   ExtenderOptions options)
    : store_(store),
      options_(std::move(options)),
      reservations_(options_.reservation_ttl),
      seen_(seen),
      binder_(binder) {
  predicate_.epc = &store_.epc();
  predicate_.policy = policy;
  predicate_.checks = CheckSet::Extender();
}

NodeInfo Extender::WithHolds(const NodeInfo& info, std::string_view pod_uid) const {
  NodeInfo out = info;
  out.requested.epc_bytes += reservations_.HeldOn(info.node->name, pod_uid);
  return out;
}

template <typename F>
auto Extender::OnNodeWithHolds(const NodeInfo& info, std::string_view pod_uid, F&& f) const {
  // Copy the node's info only when another pod holds EPC on it (rare); most nodes go as is.
  const int64_t held = reservations_.HeldOn(info.node->name, pod_uid);
  if (held == 0) return f(info);
  NodeInfo copy = info;
  copy.requested.epc_bytes += held;
  return f(copy);
}

std::unique_lock<std::mutex> Extender::LockReservations(const ClusterSnapshot& snapshot) const {
  std::unique_lock lock(mu_);
  reservations_.Prune(snapshot, options_.now());
  return lock;
}

size_t Extender::held_pods() const {
  std::lock_guard lock(mu_);
  return reservations_.size();
}

FilterOutcome Extender::Filter(const ExtenderArgs& args) {
  if (seen_ != nullptr) seen_->Remember(args.pod);
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();
  // One filter at a time: the check against other pods' holds and this pod's own hold must not
  // interleave with another filter's.
  const auto lock = LockReservations(*snapshot);
  const bool holds = !reservations_.empty();
  const std::string& uid = args.pod.uid;
  std::unordered_set<std::string> passed;  // where this pod's EPC gets held

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
      FitResult fit =
          OnNodeWithHolds(*info, uid, [&](const NodeInfo& n) { return predicate_.Fit(pod, n); });
      if (fit.fits()) {
        out.answer.passing_node_names.push_back(name);
        if (pod.wants_epc()) passed.insert(name);
      } else {
        Record(out, name, fit);
      }
    }
    reservations_.Hold(uid, pod.request.epc_bytes, std::move(passed), options_.now());
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
    if (holds) info.requested.epc_bytes += reservations_.HeldOn(info.node->name, uid);
    FitResult fit = predicate_.Fit(pod, info);
    if (fit.fits()) {
      out.answer.passing_nodes_json.push_back(node.raw);
      if (pod.wants_epc()) passed.insert(node.decoded.node.name);
    } else {
      Record(out, node.decoded.node.name, fit);
    }
  }
  reservations_.Hold(uid, pod.request.epc_bytes, std::move(passed), options_.now());
  return out;
}

std::vector<HostPriority> Extender::Prioritize(const ExtenderArgs& args) const {
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();
  const auto lock = LockReservations(*snapshot);
  const bool holds = !reservations_.empty();
  const std::string& uid = args.pod.uid;
  std::vector<HostPriority> out;
  if (args.names_mode()) {
    out.reserve(args.node_names->size());
    for (const std::string& name : *args.node_names) {
      const NodeInfo* info = snapshot->FindNode(name);
      int score = 0;
      if (info != nullptr) {
        score = OnNodeWithHolds(*info, uid,
                                [&](const NodeInfo& n) { return predicate_.Score(pod, n); });
      }
      out.push_back({name, score});
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
    if (holds) info.requested.epc_bytes += reservations_.HeldOn(info.node->name, uid);
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
  // Bound: the hold stays on the chosen node alone until the watch shows the binding.
  std::lock_guard lock(mu_);
  reservations_.Narrow(args.pod_uid, args.node, options_.now());
  return {};
}

}  // namespace epc
