#include "common/policy/fit.h"

#include <algorithm>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/model/pod_request.h"
#include "common/model/selectors.h"

namespace epc {
namespace {

constexpr int kMaxScore = 10;  // kube-scheduler's MaxExtenderPriority

// Kubernetes' Toleration.ToleratesTaint.
bool Tolerates(const Toleration& t, const Taint& taint) {
  if (!t.effect.empty() && t.effect != taint.effect) return false;
  if (!t.key.empty() && t.key != taint.key) return false;
  if (t.op == "Exists") return true;
  if (t.op.empty() || t.op == "Equal") return t.value == taint.value;
  return false;
}

// Joins `parts` into one string allocated once: a filter over thousands of nodes builds a
// message for every node it rejects.
std::string Concat(std::initializer_list<std::string_view> parts) {
  size_t size = 0;
  for (std::string_view p : parts) size += p.size();
  std::string out;
  out.reserve(size);
  for (std::string_view p : parts) out += p;
  return out;
}

// Where failures go. A fits-only run records that something failed and nothing else, so the
// checks never build reason and message strings (the hot loop of a simulation).
struct Sink {
  FitResult* result = nullptr;  // null: fits-only
  bool failed = false;
};

template <typename Reason, typename Message>
void Add(Sink& r, Check check, bool unresolvable, Reason&& reason, Message&& message) {
  r.failed = true;
  if (r.result == nullptr) return;
  r.result->failures.push_back({check, unresolvable, std::string(reason()), message()});
}

void CheckNodeCondition(const NodeInfo& node, Sink& r) {
  if (node.node->unschedulable) {
    Add(
        r, Check::kNodeCondition, true, [&] { return "node_unschedulable"; },
        [&] { return std::string("node is cordoned (unschedulable)"); });
  }
  if (!node.node->ready) {
    Add(
        r, Check::kNodeCondition, true, [&] { return "node_not_ready"; },
        [&] { return std::string("node is not Ready"); });
  }
}

void CheckPoolPolicy(const PodInfo& pod, const NodeInfo& node, const SchedulingPolicy& policy,
                     Sink& r) {
  if (!pod.wants_epc() && node.pool.confidential &&
      policy.general_pods_on_confidential == GeneralPodPolicy::kDeny) {
    Add(
        r, Check::kPoolPolicy, true, [&] { return "general_pod_on_confidential_node"; },
        [&] {
          return std::string(
              "pod requests no EPC and generalPodsOnConfidentialNodes is deny on this confidential "
              "node");
        });
  }
}

// EPC is compared in bytes, summed over every configured EPC resource name: a pod asking in
// Azure's MiB units fits an Intel node that advertises bytes. EPC is accounting of requests (the
// kernel enforces no per-container limit), and with managedResources.ignoredByScheduler the
// extender is the only authority on it.
void CheckEpc(const PodInfo& pod, const NodeInfo& node, Sink& r) {
  const int64_t want = pod.request.epc_bytes;
  if (want <= 0) return;
  const int64_t alloc = node.allocatable.epc_bytes;
  if (alloc <= 0) {
    Add(
        r, Check::kEpcFit, true, [&] { return "no_epc"; },
        [&] {
          return Concat(
              {"pod requests ", FormatMiB(want), " MiB of EPC but the node advertises no EPC"});
        });
    return;
  }
  const int64_t free = std::max<int64_t>(0, alloc - node.requested.epc_bytes);
  if (want > alloc) {
    Add(
        r, Check::kEpcFit, true, [&] { return "epc_exceeds_allocatable"; },
        [&] {
          return Concat({"requested EPC ", FormatMiB(want), " MiB exceeds the node's allocatable ",
                         FormatMiB(alloc), " MiB"});
        });
  } else if (want > free) {
    Add(
        r, Check::kEpcFit, false, [&] { return "insufficient_epc"; },
        [&] {
          return Concat({"insufficient EPC: requested ", FormatMiB(want), " MiB, free ",
                         FormatMiB(free), " MiB of ", FormatMiB(alloc), " MiB"});
        });
  }
}

void CheckOne(std::string_view name, int64_t want, int64_t alloc, int64_t used, Sink& r) {
  if (want <= 0) return;
  if (want > alloc) {
    // More than the node has at all: no preemption can make room.
    Add(
        r, Check::kResources, true, [&] { return "insufficient_" + std::string(name); },
        [&] {
          return std::string("insufficient " + std::string(name) + ": requested " +
                             std::to_string(want) + ", node allocatable " + std::to_string(alloc));
        });
  } else if (want > alloc - used) {
    Add(
        r, Check::kResources, false, [&] { return "insufficient_" + std::string(name); },
        [&] {
          return std::string("insufficient " + std::string(name) + ": requested " +
                             std::to_string(want) + ", free " +
                             std::to_string(std::max<int64_t>(0, alloc - used)));
        });
  }
}

// NodeResourcesFit. Amounts are in Kubernetes' integer units (cpu in millicores).
void CheckResources(const PodInfo& pod, const NodeInfo& node, const EpcResources& epc, Sink& r) {
  const Resources& want = pod.request;
  const Resources& alloc = node.allocatable;
  const Resources& used = node.requested;
  CheckOne("pods", want.pods, alloc.pods, used.pods, r);
  CheckOne("cpu", want.milli_cpu, alloc.milli_cpu, used.milli_cpu, r);
  CheckOne("memory", want.memory, alloc.memory, used.memory, r);
  CheckOne("ephemeral-storage", want.ephemeral_storage, alloc.ephemeral_storage,
           used.ephemeral_storage, r);
  for (const auto& [name, amount] : want.scalar) {
    if (epc.IsEpc(name)) continue;  // the EPC check owns these
    CheckOne(name, amount, alloc.Get(name), used.Get(name), r);
  }
}

void CheckTaints(const PodInfo& pod, const NodeInfo& node, Sink& r) {
  for (const Taint& taint : node.node->taints) {
    if (taint.effect != "NoSchedule" && taint.effect != "NoExecute") continue;
    const bool tolerated = std::any_of(pod.pod->tolerations.begin(), pod.pod->tolerations.end(),
                                       [&](const Toleration& t) { return Tolerates(t, taint); });
    if (!tolerated) {
      Add(
          r, Check::kTaints, true, [&] { return "untolerated_taint"; },
          [&] {
            return std::string("node has taint {" + taint.key +
                               (taint.value.empty() ? "" : "=" + taint.value) + ":" + taint.effect +
                               "} that the pod does not tolerate");
          });
      return;
    }
  }
}

void CheckAffinity(const PodInfo& pod, const NodeInfo& node, Sink& r) {
  for (const auto& [key, value] : pod.pod->node_selector) {
    auto it = node.node->labels.find(key);
    if (it == node.node->labels.end() || it->second != value) {
      Add(
          r, Check::kNodeAffinity, true, [&] { return "node_selector_mismatch"; },
          [&] {
            return std::string("node does not match the pod's nodeSelector " + key + "=" + value);
          });
      return;
    }
  }
  if (!pod.pod->required_node_affinity.empty() &&
      !MatchesAnyTerm(pod.pod->required_node_affinity, *node.node)) {
    Add(
        r, Check::kNodeAffinity, true, [&] { return "node_affinity_mismatch"; },
        [&] { return std::string("node does not match the pod's required node affinity"); });
  }
}

int RoundedShare(int64_t part, int64_t whole) {
  if (whole <= 0) return 0;
  part = std::clamp<int64_t>(part, 0, whole);
  // kMaxScore * part / whole rounded half up, exactly, in integers wide enough for any int64
  // amounts (a long double did the same, but through the x87 unit and its control word: a
  // prioritize scores thousands of nodes).
  using Wide = unsigned __int128;
  const Wide num = static_cast<Wide>(part) * (2 * kMaxScore) + static_cast<Wide>(whole);
  return static_cast<int>(num / (static_cast<Wide>(whole) * 2));
}

}  // namespace

std::string_view CheckName(Check c) {
  switch (c) {
    case Check::kNodeCondition:
      return "NodeCondition";
    case Check::kPoolPolicy:
      return "PoolPolicy";
    case Check::kEpcFit:
      return "EpcFit";
    case Check::kResources:
      return "Resources";
    case Check::kTaints:
      return "Taints";
    case Check::kNodeAffinity:
      return "NodeAffinity";
  }
  return "Unknown";
}

PodInfo MakePodInfo(const Pod& pod, const EpcResources& epc) {
  return PodInfo{&pod, PodRequests(pod, epc)};
}

namespace {

PoolMembership PoolOf(const Node& node, const PoolClassifier& pools, int64_t epc_capacity_bytes,
                      int64_t epc_allocatable_bytes) {
  // A node that reports only allocatable (a template, a trimmed fixture) still counts as SGX.
  return pools.Classify(node.labels, std::max(epc_capacity_bytes, epc_allocatable_bytes));
}

}  // namespace

NodeInfo MakeNodeInfo(const Node& node, const EpcResources& epc, const PoolClassifier& pools) {
  NodeInfo info;
  info.node = &node;
  info.allocatable = ToResources(node.allocatable, epc);
  info.epc_capacity_bytes = EpcBytes(node.capacity, epc);
  info.pool = PoolOf(node, pools, info.epc_capacity_bytes, info.allocatable.epc_bytes);
  return info;
}

EpcFitKey MakeEpcFitKey(const Node& node, const EpcResources& epc, const PoolClassifier& pools,
                        int64_t epc_requested_bytes) {
  EpcFitKey key;
  key.epc_allocatable_bytes = EpcBytes(node.allocatable, epc);
  key.epc_requested_bytes = epc_requested_bytes;
  key.confidential =
      PoolOf(node, pools, EpcBytes(node.capacity, epc), key.epc_allocatable_bytes).confidential;
  return key;
}

Verdict FitResult::verdict() const {
  if (failures.empty()) return Verdict::kFits;
  for (const Failure& f : failures) {
    if (f.unresolvable) return Verdict::kUnresolvable;
  }
  return Verdict::kUnschedulable;
}

std::string FitResult::Message() const {
  std::string out;
  for (const Failure& f : failures) {
    if (!out.empty()) out += "; ";
    out += f.message;
  }
  return out;
}

namespace {

// Runs the checks in order; a fits-only sink stops at the first failure.
void RunChecks(const Predicate& p, const PodInfo& pod, const NodeInfo& node, Sink& r) {
  const bool all = r.result != nullptr;
  if (p.checks.Has(Check::kNodeCondition)) CheckNodeCondition(node, r);
  if ((all || !r.failed) && p.checks.Has(Check::kPoolPolicy)) {
    CheckPoolPolicy(pod, node, p.policy, r);
  }
  if ((all || !r.failed) && p.checks.Has(Check::kEpcFit)) CheckEpc(pod, node, r);
  if ((all || !r.failed) && p.checks.Has(Check::kResources)) CheckResources(pod, node, *p.epc, r);
  if ((all || !r.failed) && p.checks.Has(Check::kTaints)) CheckTaints(pod, node, r);
  if ((all || !r.failed) && p.checks.Has(Check::kNodeAffinity)) CheckAffinity(pod, node, r);
}

}  // namespace

FitResult Predicate::Fit(const PodInfo& pod, const NodeInfo& node) const {
  FitResult result;
  Sink sink{&result};
  RunChecks(*this, pod, node, sink);
  return result;
}

bool Predicate::Fits(const PodInfo& pod, const NodeInfo& node) const {
  Sink sink;
  RunChecks(*this, pod, node, sink);
  return !sink.failed;
}

EpcFitKey EpcFitKeyOf(const NodeInfo& node) {
  return EpcFitKey{node.allocatable.epc_bytes, node.requested.epc_bytes, node.pool.confidential};
}

NodeInfo& AssignEpcFitKey(NodeInfo& node, const EpcFitKey& key) {
  node.allocatable.epc_bytes = key.epc_allocatable_bytes;
  node.requested.epc_bytes = key.epc_requested_bytes;
  node.pool.confidential = key.confidential;
  return node;
}

namespace {

// A node with nothing but the key's fields: for the checks and the score that read only those.
NodeInfo NodeOfKey(const EpcFitKey& key) {
  NodeInfo node;
  AssignEpcFitKey(node, key);
  return node;
}

}  // namespace

bool Predicate::Keyed() const {
  // In step with the checks: CheckPoolPolicy reads the node's pool.confidential, CheckEpc its
  // allocatable and requested EPC; every other check reads more of the node.
  for (Check c : {Check::kNodeCondition, Check::kResources, Check::kTaints, Check::kNodeAffinity}) {
    if (checks.Has(c)) return false;
  }
  return true;
}

std::optional<EpcFitKey> Predicate::FitKey(const NodeInfo& node) const {
  if (!Keyed()) return std::nullopt;
  return EpcFitKeyOf(node);
}

bool Predicate::Fits(const PodInfo& pod, const EpcFitKey& node) const {
  if (!Keyed()) throw std::logic_error("Predicate::Fits(EpcFitKey): checks read more than the key");
  return Fits(pod, NodeOfKey(node));
}

// Score reads only what an EpcFitKey holds, so it is written on the key: prioritize scores
// thousands of keys without building a NodeInfo for each.
int Predicate::Score(const PodInfo& pod, const EpcFitKey& node) const {
  if (!pod.wants_epc()) {
    if (policy.general_pods_on_confidential != GeneralPodPolicy::kPenalize) return 0;
    return node.confidential ? 0 : kMaxScore;
  }
  const int64_t alloc = node.epc_allocatable_bytes;
  if (alloc <= 0) return 0;
  const int64_t used_after = SaturatingAdd(node.epc_requested_bytes, pod.request.epc_bytes);
  const int full = RoundedShare(used_after, alloc);
  return policy.strategy == ScoringStrategy::kBinpack ? full : kMaxScore - full;
}

int Predicate::Score(const PodInfo& pod, const NodeInfo& node) const {
  return Score(pod, EpcFitKeyOf(node));
}

}  // namespace epc
