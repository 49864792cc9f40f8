#include "scheduler/extender/extender.h"

#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

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

void CountRejection(FilterOutcome& out, std::string_view reason) {
  for (RejectionCount& r : out.rejections) {
    if (r.reason == reason) {
      ++r.nodes;
      return;
    }
  }
  out.rejections.push_back({std::string(reason), 1});
}

void AddRejection(FilterOutcome& out, std::string_view name, std::string_view reason,
                  bool unresolvable, std::string_view message) {
  CountRejection(out, reason);
  (unresolvable ? out.answer.unresolvable : out.answer.failed).emplace_back(name, message);
}

}  // namespace

// One filter's distinct rejections by EpcFitKey: a 5,000-node filter rejects thousands of nodes
// with a handful of different messages (every general node the same "advertises no EPC"). Kept
// small: nodes whose free EPC all differ get a message each, built as before.
struct Extender::RejectionMemo {
  struct Entry {
    EpcFitKey key;
    std::string reason;
    bool unresolvable = false;
    std::string_view message;  // into the answer's texts
  };
  static constexpr size_t kMaxEntries = 16;
  std::vector<Entry> entries;
};

bool Extender::RejectAsBefore(const EpcFitKey& key, std::string_view name,
                              const RejectionMemo& memo, FilterOutcome& out) {
  for (const RejectionMemo::Entry& e : memo.entries) {
    if (e.key == key) {
      AddRejection(out, name, e.reason, e.unresolvable, e.message);
      return true;
    }
  }
  return false;
}

void Extender::Reject(const PodInfo& pod, const NodeInfo& node, std::string_view name,
                      RejectionMemo& memo, FilterOutcome& out) const {
  const std::optional<EpcFitKey> key = predicate_.FitKey(node);
  if (key && RejectAsBefore(*key, name, memo, out)) return;
  FitResult fit = predicate_.Fit(pod, node);
  const std::string_view reason =
      fit.failures.empty() ? std::string_view("unknown") : fit.failures.front().reason;
  const bool unresolvable = fit.verdict() == Verdict::kUnresolvable;
  // One failure (the usual case): its message is the whole message, moved rather than joined.
  const std::string_view message = out.answer.Keep(
      fit.failures.size() == 1 ? std::move(fit.failures.front().message) : fit.Message());
  AddRejection(out, name, reason, unresolvable, message);
  if (key && memo.entries.size() < RejectionMemo::kMaxEntries) {
    memo.entries.push_back({*key, std::string(reason), unresolvable, message});
  }
}

namespace {

// Names mode looks up thousands of nodes in the snapshot with little work per node: all names
// are looked up in one batch (ClusterSnapshot::FindNodes overlaps the lookups' cache misses).
// The found nodes carry the fields the extender's checks and score read (IndexedNode::epc), so
// the checks run without touching the NodeInfos; a predicate that reads more (not the
// extender's) reads the infos, fetched a few nodes ahead.
std::vector<IndexedNode> FindNodes(const ClusterSnapshot& snapshot,
                                   const std::vector<std::string_view>& names) {
  std::vector<IndexedNode> nodes(names.size());
  snapshot.FindNodes(names, nodes);
  return nodes;
}

// The key of a node with `held` more EPC requested (what FitKey gives for WithHeld's copy).
EpcFitKey WithHeldKey(const IndexedNode& node, int64_t held) {
  EpcFitKey key = node.epc;
  key.epc_requested_bytes += held;
  return key;
}

constexpr size_t kPrefetchAhead = 8;

// The NodeInfo fields the extender's checks read (allocatable EPC, pool, requested EPC) lie in
// its first three cache lines; a prefetch never faults, wherever the object ends.
void Prefetch(const NodeInfo* info) {
  if (info == nullptr) return;
  __builtin_prefetch(info);
  __builtin_prefetch(reinterpret_cast<const char*>(info) + 64);
  __builtin_prefetch(reinterpret_cast<const char*>(info) + 128);
}

// What the checks read of a v1.Node: the rest of a full-mode request's nodes is only checked
// by the decoder (a malformed node still fails), never stored.
NodeProjection ProjectionFor(const CheckSet& checks, const ClusterStore& store) {
  NodeProjection p;
  p.annotations = false;
  p.uid_and_version = false;
  // Pool membership reads only the labels the pool selectors name; node affinity reads any.
  if (!checks.Has(Check::kNodeAffinity)) {
    p.all_labels = false;
    for (const PoolSpec& pool : store.pools().pools()) {
      for (const auto& [key, value] : pool.node_selector.match_labels) p.label_keys.push_back(key);
      for (const SelectorRequirement& r : pool.node_selector.match_expressions) {
        p.label_keys.push_back(r.key);
      }
    }
  }
  // EPC fit and pool membership read only the EPC resources; the resources check reads all.
  if (!checks.Has(Check::kResources)) {
    p.all_resources = false;
    for (const EpcResource& r : store.epc().list()) p.resource_names.push_back(r.name);
  }
  return p;
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
  projection_ = ProjectionFor(predicate_.checks, store_);
}

NodeInfo Extender::WithHolds(const NodeInfo& info, std::string_view pod_uid) const {
  NodeInfo out = info;
  out.requested.epc_bytes += reservations_.HeldOn(info.node->name, pod_uid);
  return out;
}

template <typename F>
auto Extender::WithHeld(const NodeInfo& info, int64_t held, F&& f) {
  if (held == 0) return f(info);
  NodeInfo copy = info;
  copy.requested.epc_bytes += held;
  return f(copy);
}

bool Extender::FilterNode(const PodInfo& pod, const NodeInfo& info, int64_t held,
                          std::string_view name, RejectionMemo& memo, FilterOutcome& out) const {
  return WithHeld(info, held, [&](const NodeInfo& n) {
    // The message-free predicate decides; only a rejected node pays for its message.
    if (predicate_.Fits(pod, n)) return true;
    Reject(pod, n, name, memo, out);
    return false;
  });
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
  const std::string& uid = args.pod.uid;
  const bool others = reservations_.OthersHold(uid);
  auto held_on = [&](std::string_view node) -> int64_t {
    return others ? reservations_.HeldOn(node, uid) : 0;
  };

  FilterOutcome out;
  RejectionMemo memo;
  out.answer.names_mode = args.names_mode();
  if (out.answer.names_mode) {
    const auto& names = *args.node_names;
    out.answer.passing_node_names.reserve(names.size());
    const std::vector<IndexedNode> found = FindNodes(*snapshot, names);
    const bool keyed = predicate_.Keyed();
    // What Predicate::Fits(pod, key) checks, reused for every node (AssignEpcFitKey).
    NodeInfo keyed_node;
    for (size_t i = 0; i < names.size(); ++i) {
      const std::string_view name = names[i];
      const IndexedNode& node = found[i];
      if (node.info == nullptr) {
        AddRejection(out, name, kReasonUnknownNode, false,
                     out.answer.Keep(UnknownNodeMessage(name)));
        continue;
      }
      const int64_t held = held_on(name);
      bool fits = false;
      if (keyed) {
        // Decided on the key alone; only a rejection not seen before reads the NodeInfo (for
        // its message).
        const EpcFitKey key = WithHeldKey(node, held);
        fits = predicate_.Fits(pod, AssignEpcFitKey(keyed_node, key));
        if (!fits && !RejectAsBefore(key, name, memo, out)) {
          WithHeld(*node.info, held, [&](const NodeInfo& n) { Reject(pod, n, name, memo, out); });
        }
      } else {
        if (i + kPrefetchAhead < found.size()) Prefetch(found[i + kPrefetchAhead].info);
        fits = FilterNode(pod, *node.info, held, name, memo, out);
      }
      if (fits) out.answer.passing_node_names.push_back(name);
    }
    // This pod's EPC is held on every node it passed.
    reservations_.Hold(uid, pod.request.epc_bytes,
                       pod.wants_epc() ? NodeNameSet(out.answer.passing_node_names) : NodeNameSet(),
                       options_.now());
    return out;
  }

  const auto& nodes = *args.nodes;
  out.answer.passing_nodes_json.reserve(nodes.size());
  std::vector<std::string_view> passed;  // where this pod's EPC gets held
  for (size_t i = 0; i < nodes.size(); ++i) {
    const WireNode& node = nodes[i];
    if (!node.decoded.error.empty()) {
      const std::string_view key = node.decoded.node.name.empty()
                                       ? out.answer.Keep(NodeKey(node, i))
                                       : std::string_view(node.decoded.node.name);
      AddRejection(out, key, kReasonInvalidNode, false,
                   out.answer.Keep("cannot decode node: " + node.decoded.error));
      continue;
    }
    const std::string& name = node.decoded.node.name;
    const NodeInfo info = InfoForRequestNode(node.decoded.node, store_, *snapshot);
    if (FilterNode(pod, info, held_on(name), name, memo, out)) {
      out.answer.passing_nodes_json.push_back(node.raw);
      if (pod.wants_epc()) passed.push_back(name);
    }
  }
  reservations_.Hold(uid, pod.request.epc_bytes, NodeNameSet(passed), options_.now());
  return out;
}

Priorities Extender::Prioritize(const ExtenderArgs& args) const {
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();
  const auto lock = LockReservations(*snapshot);
  const std::string& uid = args.pod.uid;
  const bool others = reservations_.OthersHold(uid);
  auto held_on = [&](std::string_view node) -> int64_t {
    return others ? reservations_.HeldOn(node, uid) : 0;
  };
  auto score = [&](const NodeInfo& n) { return predicate_.Score(pod, n); };
  Priorities out;
  if (args.names_mode()) {
    const auto& names = *args.node_names;
    out.hosts.reserve(names.size());
    const std::vector<IndexedNode> found = FindNodes(*snapshot, names);
    for (size_t i = 0; i < names.size(); ++i) {
      const IndexedNode& node = found[i];
      // Score reads only what the key holds.
      out.hosts.push_back(
          {names[i],
           node.info == nullptr ? 0 : predicate_.Score(pod, WithHeldKey(node, held_on(names[i])))});
    }
    return out;
  }
  out.hosts.reserve(args.nodes->size());
  for (size_t i = 0; i < args.nodes->size(); ++i) {
    const WireNode& node = (*args.nodes)[i];
    if (!node.decoded.error.empty()) {
      const std::string_view key = node.decoded.node.name.empty()
                                       ? out.Keep(NodeKey(node, i))
                                       : std::string_view(node.decoded.node.name);
      out.hosts.push_back({key, 0});
      continue;
    }
    const std::string& name = node.decoded.node.name;
    const NodeInfo info = InfoForRequestNode(node.decoded.node, store_, *snapshot);
    out.hosts.push_back({name, WithHeld(info, held_on(name), score)});
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
