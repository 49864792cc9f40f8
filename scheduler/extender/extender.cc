#include "scheduler/extender/extender.h"

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "common/model/resources.h"
#include "common/util/name_hash.h"

namespace epc {

namespace {

std::string NodeKey(const WireNode& node, size_t index) {
  if (!node.decoded.node.name.empty()) return node.decoded.node.name;
  return "Nodes.items[" + std::to_string(index) + "]";
}

// The names of a full-mode request's nodes, in order (empty for a node without one).
std::vector<std::string_view> RequestNodeNames(const std::vector<WireNode>& nodes) {
  std::vector<std::string_view> names;
  names.reserve(nodes.size());
  for (const WireNode& node : nodes) names.push_back(node.decoded.node.name);
  return names;
}

// A node a full-mode request brought, as the checks read it: its allocatable EPC, capacity and
// pool from the object in the request, and what the pods bound to it request from the snapshot.
// The EpcFitKey is made at once, since the extender's keyed checks and its score read nothing
// else; the NodeInfo, with every resource of the node and of its pods, only when info() is
// called, which with keyed checks is once per distinct key.
class RequestNode {
 public:
  // `indexed`: the snapshot's index entry for the node's name, or nullptr when the snapshot
  // has no object for it (pods may still be bound to that name: UseOf finds them).
  RequestNode(const Node& node, const IndexedNode* indexed, const ClusterStore& store,
              const ClusterSnapshot& snapshot)
      : node_(node), store_(store), snapshot_(snapshot) {
    int64_t requested = 0;
    if (indexed != nullptr) {
      // The index keeps beside each node its pods' requested EPC, which is UseOf's.
      requested = indexed->epc.epc_requested_bytes;
    } else if (const NodeUse* use = snapshot.UseOf(node.name)) {
      requested = use->requested.epc_bytes;
    }
    key_ = MakeEpcFitKey(node, store.epc(), store.pools(), requested);
  }

  const EpcFitKey& key() const { return key_; }
  const NodeInfo& info() {
    if (!info_) {
      info_ = MakeNodeInfo(node_, store_.epc(), store_.pools());
      if (const NodeUse* use = snapshot_.UseOf(node_.name)) info_->requested = use->requested;
    }
    return *info_;
  }

 private:
  const Node& node_;
  const ClusterStore& store_;
  const ClusterSnapshot& snapshot_;
  EpcFitKey key_;
  std::optional<NodeInfo> info_;
};

// The index of `reason` in out.rejections, added with no nodes if new.
size_t RejectionIndex(FilterOutcome& out, std::string_view reason) {
  for (size_t i = 0; i < out.rejections.size(); ++i) {
    if (out.rejections[i].reason == reason) return i;
  }
  out.rejections.push_back({std::string(reason), 0});
  return out.rejections.size() - 1;
}

void AddRejection(FilterOutcome& out, std::string_view name, std::string_view reason,
                  bool unresolvable, std::string_view message) {
  ++out.rejections[RejectionIndex(out, reason)].nodes;
  (unresolvable ? out.answer.unresolvable : out.answer.failed).emplace_back(name, message);
}

// What filter answers for a node: it passes, or it fails with a counted reason and a message.
struct NodeVerdict {
  bool fits = false;
  bool unresolvable = false;
  size_t rejection = 0;      // index into FilterOutcome::rejections
  std::string_view message;  // into the answer's texts
};

// One filter's verdicts by EpcFitKey. The extender's checks read of a node only its key
// (Predicate::Keyed), and a 5,000-node filter sees a handful of distinct keys (every general
// node the same one, SGX nodes by how much of their EPC is in use), so each key is decided, and
// a rejection's message built, once. A small direct-mapped table: a key that lands on another's
// slot replaces it and is decided again when it comes back, as it would be without the table.
struct KeyVerdicts {
  static constexpr size_t kSlotBits = 6;
  struct Slot {
    EpcFitKey key;
    bool used = false;
    NodeVerdict verdict;
  };
  std::array<Slot, size_t{1} << kSlotBits> slots{};

  static size_t SlotOf(const EpcFitKey& key) {
    uint64_t h = static_cast<uint64_t>(key.epc_allocatable_bytes) * 0x9E3779B97F4A7C15ULL;
    h ^= static_cast<uint64_t>(key.epc_requested_bytes) * 0xC2B2AE3D27D4EB4FULL;
    h += key.confidential ? 0x165667B19E3779F9ULL : 0;
    return static_cast<size_t>(h >> (64 - kSlotBits));
  }
  const NodeVerdict* Find(const EpcFitKey& key) const {
    const Slot& slot = slots[SlotOf(key)];
    return slot.used && slot.key == key ? &slot.verdict : nullptr;
  }
  const NodeVerdict& Put(const EpcFitKey& key, const NodeVerdict& verdict) {
    Slot& slot = slots[SlotOf(key)];
    slot = Slot{key, true, verdict};
    return slot.verdict;
  }
};

// Why the pod does not fit the node: the first failure's reason (counted in `out`) and the
// message (kept in the answer).
NodeVerdict Rejection(const Predicate& predicate, const PodInfo& pod, const NodeInfo& node,
                      FilterOutcome& out) {
  FitResult fit = predicate.Fit(pod, node);
  NodeVerdict v;
  v.rejection = RejectionIndex(
      out, fit.failures.empty() ? std::string_view("unknown") : fit.failures.front().reason);
  v.unresolvable = fit.verdict() == Verdict::kUnresolvable;
  // One failure (the usual case): its message is the whole message, moved rather than joined.
  v.message = out.answer.Keep(fit.failures.size() == 1 ? std::move(fit.failures.front().message)
                                                       : fit.Message());
  return v;
}

void AddRejection(FilterOutcome& out, std::string_view name, const NodeVerdict& v) {
  ++out.rejections[v.rejection].nodes;
  (v.unresolvable ? out.answer.unresolvable : out.answer.failed).emplace_back(name, v.message);
}

// The key of a node with `held` more EPC requested (what FitKey gives for WithHeld's copy).
EpcFitKey WithHeldKey(EpcFitKey key, int64_t held) {
  if (held != 0) key.epc_requested_bytes = SaturatingAdd(key.epc_requested_bytes, held);
  return key;
}

// Calls f with the node's info, its requested EPC raised by `held` bytes if any (copied only
// then: most nodes carry no other pod's hold).
template <typename F>
auto WithHeld(const NodeInfo& info, int64_t held, F&& f) {
  if (held == 0) return f(info);
  NodeInfo copy = info;
  copy.requested.epc_bytes = SaturatingAdd(copy.requested.epc_bytes, held);
  return f(copy);
}

// Whether the pod fits the node with `held` more EPC requested (its key `key`, holds included);
// records the rejection in `out` when not. With keyed checks (the extender's) each distinct key
// is decided once per request and only a key's first rejection reads the NodeInfo, for its
// message; otherwise the message-free predicate decides on the node and only a rejected node
// pays for its message.
class NodeFilter {
 public:
  NodeFilter(const Predicate& predicate, const PodInfo& pod, FilterOutcome& out)
      : predicate_(predicate), pod_(pod), out_(out), keyed_(predicate.Keyed()) {}

  // info_of() gives the node's NodeInfo: asked for only when the checks are not keyed or the
  // node's key is first rejected.
  template <typename InfoOf>
  bool Fits(InfoOf&& info_of, const EpcFitKey& key, int64_t held, std::string_view name) {
    if (!keyed_) {
      return WithHeld(info_of(), held, [&](const NodeInfo& n) {
        if (predicate_.Fits(pod_, n)) return true;
        AddRejection(out_, name, Rejection(predicate_, pod_, n, out_));
        return false;
      });
    }
    const NodeVerdict* verdict = verdicts_.Find(key);
    if (verdict == nullptr) {
      NodeVerdict v;
      v.fits = predicate_.Fits(pod_, AssignEpcFitKey(keyed_node_, key));
      if (!v.fits) {
        v = WithHeld(info_of(), held,
                     [&](const NodeInfo& n) { return Rejection(predicate_, pod_, n, out_); });
      }
      verdict = &verdicts_.Put(key, v);
    }
    if (!verdict->fits) AddRejection(out_, name, *verdict);
    return verdict->fits;
  }

 private:
  const Predicate& predicate_;
  const PodInfo& pod_;
  FilterOutcome& out_;
  const bool keyed_;
  KeyVerdicts verdicts_;
  NodeInfo keyed_node_;  // what Predicate::Fits(pod, key) checks, reused for every key
};

// What the checks read of a v1.Node: of the rest of a full-mode request's nodes, labels and
// resources are only checked by the decoder (a malformed quantity still fails its node), never
// stored; conditions and taints, which only kube-scheduler's own plugins read, are skipped.
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
  // Readiness and cordoning are the node condition check's; taints the taint check's (a node
  // with node-problem-detector carries 15 conditions).
  p.conditions = checks.Has(Check::kNodeCondition);
  p.taints_and_unschedulable = checks.Has(Check::kNodeCondition) || checks.Has(Check::kTaints);
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
  out.requested.epc_bytes =
      SaturatingAdd(out.requested.epc_bytes, reservations_.HeldOn(info.node->name, pod_uid));
  return out;
}

Extender::LockedState Extender::LockReservations() const {
  std::unique_lock lock(mu_);
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();
  reservations_.Prune(*snapshot, options_.now());
  return {std::move(snapshot), std::move(lock)};
}

std::vector<int64_t> Extender::HeldByOthers(std::span<const uint64_t> hashes,
                                            const std::string& pod_uid) const {
  std::vector<int64_t> held(hashes.size());
  if (reservations_.OthersHold(pod_uid)) reservations_.HeldOnAll(hashes, pod_uid, held);
  return held;
}

size_t Extender::held_pods() const {
  std::lock_guard lock(mu_);
  return reservations_.size();
}

FilterOutcome Extender::Filter(const ExtenderArgs& args) {
  if (seen_ != nullptr) seen_->Remember(args.pod);
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  // One filter at a time: the check against other pods' holds and this pod's own hold must not
  // interleave with another filter's.
  const LockedState locked = LockReservations();
  const ClusterSnapshot* snapshot = locked.snapshot.get();
  const std::string& uid = args.pod.uid;

  FilterOutcome out;
  NodeFilter filter(predicate_, pod, out);
  out.answer.names_mode = args.names_mode();
  if (out.answer.names_mode) {
    const auto& names = *args.node_names;
    out.answer.passing_node_names.reserve(names.size());
    // Hashed once (by the decoder) for the node index, other pods' holds and this pod's own
    // hold.
    std::vector<uint64_t> scratch;
    const std::span<const uint64_t> hashes = NodeNameHashes(args, scratch);
    const std::vector<int64_t> held = HeldByOthers(hashes, uid);
    std::vector<uint64_t> passing_hashes;  // for this pod's hold
    if (pod.wants_epc()) passing_hashes.reserve(names.size());
    // The nodes are looked up in one batch that overlaps the lookups' cache misses, each
    // decided as it is found. The found nodes carry what the extender's checks read
    // (IndexedNode::epc), so keyed checks run without touching the NodeInfos; a predicate that
    // reads more (not the extender's) reads the info.
    snapshot->ForEachNode(names, hashes, [&](size_t i, const IndexedNode* node) {
      const std::string_view name = names[i];
      if (node == nullptr) {
        AddRejection(out, name, kReasonUnknownNode, false,
                     out.answer.Keep(UnknownNodeMessage(name)));
        return;
      }
      const auto info_of = [&]() -> const NodeInfo& { return *node->info; };
      if (!filter.Fits(info_of, WithHeldKey(node->epc, held[i]), held[i], name)) return;
      out.answer.passing_node_names.push_back(name);
      if (pod.wants_epc()) passing_hashes.push_back(hashes[i]);
    });
    // This pod's EPC is held on every node it passed.
    reservations_.HoldOnHashes(uid, pod.request.epc_bytes, std::move(passing_hashes),
                               options_.now());
    return out;
  }

  const auto& nodes = *args.nodes;
  out.answer.passing_nodes_json.reserve(nodes.size());
  const std::vector<std::string_view> names = RequestNodeNames(nodes);
  const std::vector<uint64_t> hashes = HashNames(names);
  const std::vector<int64_t> held = HeldByOthers(hashes, uid);
  std::vector<uint64_t> passing_hashes;  // where this pod's EPC gets held
  // The snapshot's entries for the names are looked up in one overlapped batch, as in names
  // mode.
  snapshot->ForEachNode(names, hashes, [&](size_t i, const IndexedNode* indexed) {
    const WireNode& node = nodes[i];
    if (!node.decoded.error.empty()) {
      const std::string_view key = node.decoded.node.name.empty()
                                       ? out.answer.Keep(NodeKey(node, i))
                                       : std::string_view(node.decoded.node.name);
      AddRejection(out, key, kReasonInvalidNode, false,
                   out.answer.Keep("cannot decode node: " + node.decoded.error));
      return;
    }
    RequestNode request_node(node.decoded.node, indexed, store_, *snapshot);
    const auto info_of = [&]() -> const NodeInfo& { return request_node.info(); };
    if (filter.Fits(info_of, WithHeldKey(request_node.key(), held[i]), held[i], names[i])) {
      out.answer.passing_nodes_json.push_back(node.raw);
      if (pod.wants_epc()) passing_hashes.push_back(hashes[i]);
    }
  });
  reservations_.HoldOnHashes(uid, pod.request.epc_bytes, std::move(passing_hashes), options_.now());
  return out;
}

Priorities Extender::Prioritize(const ExtenderArgs& args) const {
  const PodInfo pod = MakePodInfo(args.pod, store_.epc());
  const LockedState locked = LockReservations();
  const ClusterSnapshot* snapshot = locked.snapshot.get();
  const std::string& uid = args.pod.uid;
  Priorities out;
  if (args.names_mode()) {
    const auto& names = *args.node_names;
    out.hosts.reserve(names.size());
    std::vector<uint64_t> scratch;
    const std::span<const uint64_t> hashes = NodeNameHashes(args, scratch);
    const std::vector<int64_t> held = HeldByOthers(hashes, uid);
    snapshot->ForEachNode(names, hashes, [&](size_t i, const IndexedNode* node) {
      // Score reads only what the key holds.
      out.hosts.push_back(
          {names[i], node == nullptr ? 0 : predicate_.Score(pod, WithHeldKey(node->epc, held[i]))});
    });
    return out;
  }
  const auto& nodes = *args.nodes;
  out.hosts.reserve(nodes.size());
  const std::vector<std::string_view> names = RequestNodeNames(nodes);
  const std::vector<uint64_t> hashes = HashNames(names);
  const std::vector<int64_t> held = HeldByOthers(hashes, uid);
  snapshot->ForEachNode(names, hashes, [&](size_t i, const IndexedNode* indexed) {
    const WireNode& node = nodes[i];
    if (!node.decoded.error.empty()) {
      const std::string_view key = node.decoded.node.name.empty()
                                       ? out.Keep(NodeKey(node, i))
                                       : std::string_view(node.decoded.node.name);
      out.hosts.push_back({key, 0});
      return;
    }
    // Score reads only what the key holds.
    const RequestNode request_node(node.decoded.node, indexed, store_, *snapshot);
    out.hosts.push_back(
        {names[i], predicate_.Score(pod, WithHeldKey(request_node.key(), held[i]))});
  });
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
