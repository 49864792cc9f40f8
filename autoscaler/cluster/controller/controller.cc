#include "autoscaler/cluster/controller/controller.h"

#include <algorithm>
#include <span>
#include <unordered_set>
#include <utility>

#include "common/policy/fit.h"

namespace epc::cluster {
namespace {

// A template from a live node of the group: its allocatable, labels and taints, without our
// deletion taint, Ready and schedulable.
Node TemplateFromNode(const Node& node, const std::string& group) {
  Node t;
  t.name = "template-" + group;
  t.labels = node.labels;
  t.capacity = node.capacity;
  t.allocatable = node.allocatable;
  for (const Taint& taint : node.taints) {
    if (taint.key != kToBeDeletedTaint) t.taints.push_back(taint);
  }
  t.ready = true;
  return t;
}

ObjectRef PodRef(const Pod& pod) { return {"Pod", pod.namespace_name, pod.name, pod.uid}; }
ObjectRef NodeRef(const std::string& name) { return {"Node", "", name, ""}; }

}  // namespace

Result<std::unique_ptr<ClusterAutoscaler>> ClusterAutoscaler::Create(
    ClusterAutoscalerOptions options, const ClusterStore& store, NodeGroupProvider& provider,
    ClusterPodLister& pods, NodeDrainer& drainer, ObjectEventRecorder& events, Logger& log) {
  auto expander = MakeExpander(options.expander);
  if (!expander.ok()) return epc::Error{expander.error()};
  return std::unique_ptr<ClusterAutoscaler>(
      new ClusterAutoscaler(std::move(options), store, provider, pods, drainer, events, log,
                            std::move(expander).value()));
}

ClusterAutoscaler::ClusterAutoscaler(ClusterAutoscalerOptions options, const ClusterStore& store,
                                     NodeGroupProvider& provider, ClusterPodLister& pods,
                                     NodeDrainer& drainer, ObjectEventRecorder& events, Logger& log,
                                     std::unique_ptr<Expander> expander)
    : options_(std::move(options)),
      store_(store),
      provider_(provider),
      pods_(pods),
      drainer_(drainer),
      events_(events),
      log_(log),
      scale_up_(store.epc(), store.pools(), options_.policy, options_.scale_up,
                std::move(expander)),
      scale_down_(store.epc(), options_.policy, options_.scale_down),
      provisioning_(
          ProvisioningOptions{options_.scale_up.max_node_provision_time, options_.backoff}) {}

void ClusterAutoscaler::Fail(ClusterReconcileReport& report, const std::string& kind,
                             std::string message) {
  log_.Error("cluster autoscaler: " + message);
  ++metrics_.errors_total[kind];
  report.errors.push_back(std::move(message));
}

NodeGroupMetrics& ClusterAutoscaler::GroupMetrics(const std::string& group) {
  NodeGroupMetrics& m = counters_[group];
  m.group = group;
  return m;
}

ClusterReconcileReport ClusterAutoscaler::Reconcile(SteadyTime now) {
  ClusterReconcileReport report;
  report.dry_run = options_.dry_run;
  metrics_.pending_pods.clear();

  auto discovered = provider_.Refresh();
  if (!discovered.ok()) {
    Fail(report, "provider_error", "discovering node groups: " + discovered.error());
    return report;
  }
  auto listed = pods_.ListPods();
  if (!listed.ok()) {
    Fail(report, "api_error", "listing pods: " + listed.error());
    return report;
  }
  const std::vector<Pod>& pods = *listed;
  std::shared_ptr<const ClusterSnapshot> snapshot = store_.Snapshot();
  std::vector<const NodeInfo*> nodes = snapshot->Nodes();
  std::sort(nodes.begin(), nodes.end(),
            [](const NodeInfo* a, const NodeInfo* b) { return a->node->name < b->node->name; });

  // Node groups as the decision code sees them.
  std::vector<NodeGroupState> groups;
  std::map<std::string, size_t> index;
  for (const ProviderGroup& pg : *discovered) {
    NodeGroupState s;
    s.spec.name = pg.name;
    s.spec.min_size = pg.min_size;
    s.spec.max_size = pg.max_size;
    s.spec.provider = std::string(provider_.Name());
    if (pg.template_node) s.spec.template_node = *pg.template_node;
    s.target_size = pg.target_size;
    if (auto it = last_scale_up_.find(pg.name); it != last_scale_up_.end()) {
      s.last_scale_up = it->second;
    }
    index[pg.name] = groups.size();
    groups.push_back(std::move(s));
  }
  std::unordered_map<std::string, SteadyTime> seen;
  std::unordered_set<std::string> ever_ready;
  for (const NodeInfo* info : nodes) {
    const Node& node = *info->node;
    auto first = first_seen_.find(node.name);
    SteadyTime created = first == first_seen_.end() ? now : first->second;
    seen.emplace(node.name, created);
    // Ready now, or Ready at an earlier reconcile.
    const bool was_ready = node.ready || ever_ready_.contains(node.name);
    if (was_ready) ever_ready.insert(node.name);
    std::optional<std::string> group = provider_.NodeGroupForNode(node);
    if (!group) continue;
    auto it = index.find(*group);
    if (it == index.end()) continue;
    groups[it->second].nodes.push_back({node.name, node.ready, created, was_ready});
  }
  // Instances without a Node yet: not Ready, and timed out from when they were first seen.
  for (size_t i = 0; i < groups.size(); ++i) {
    for (const std::string& id : (*discovered)[i].unregistered) {
      auto first = first_seen_.find(id);
      const SteadyTime created = first == first_seen_.end() ? now : first->second;
      seen.emplace(id, created);
      groups[i].nodes.push_back({id, false, created, false});
    }
  }
  first_seen_ = std::move(seen);
  ever_ready_ = std::move(ever_ready);
  for (size_t i = 0; i < groups.size(); ++i) {
    NodeGroupState& g = groups[i];
    if ((*discovered)[i].template_node) continue;
    for (const NodeInfo* info : nodes) {
      if (info->node->ready && provider_.NodeGroupForNode(*info->node) == g.spec.name) {
        g.spec.template_node = TemplateFromNode(*info->node, g.spec.name);
        break;
      }
    }
    if (g.spec.template_node.name.empty()) g.spec.template_node.name = "template-" + g.spec.name;
  }

  // Provisioning timeouts put groups in backoff.
  report.timeouts = provisioning_.Update(groups, now);
  for (const ProvisioningTimeout& t : report.timeouts) {
    ++GroupMetrics(t.group).backoffs_total;
    log_.Warning("cluster autoscaler: " + t.message);
    // Withdrawing first: it lowers the group's target as seen here to the provider's, and the
    // nodes deleted after are taken off that target where the metrics and reports count
    // removals (deleting first would count them twice).
    if (auto it = index.find(t.group); t.missing_nodes > 0 && it != index.end()) {
      WithdrawMissing(t, groups[it->second], report);
    }
    if (options_.delete_unready_after_timeout && !t.unready_nodes.empty()) DeleteUnready(t, report);
  }
  provisioning_.ApplyBackoff(groups, now);

  for (size_t i = 0; i < groups.size(); ++i) {
    const NodeGroupState& g = groups[i];
    std::string pool;
    if (auto it = options_.group_pools.find(g.spec.name); it != options_.group_pools.end()) {
      pool = it->second;
    } else {
      const NodeInfo t = MakeNodeInfo(g.spec.template_node, store_.epc(), store_.pools());
      pool = std::string(store_.pools().Name(t.pool));
    }
    report.groups.push_back({g.spec.name, std::move(pool), g.spec.min_size, g.spec.max_size,
                             g.target_size, static_cast<int>(g.nodes.size()), g.ReadyCount(),
                             g.InBackoff(now), (*discovered)[i].template_node.has_value()});
  }

  // Nodes this loop deleted or instances it withdrew for a provisioning timeout are still in
  // its view of the cluster: scale-down waits for the next loop rather than pick among them (as
  // cluster-autoscaler ends its iteration after fixing a group).
  const bool timeouts_acted = !report.removals.empty() || !report.withdrawals.empty();
  // What those deletions took away no longer comes: this loop's plan does not count it (an
  // instance seen for the first time recently would still count as upcoming). The report and
  // the metrics count it as a removal from the groups as listed.
  std::vector<NodeGroupState> planned = groups;
  for (const RemovalReport& r : report.removals) {
    auto it = index.find(r.group);
    if (r.outcome != "deleted" || it == index.end()) continue;
    NodeGroupState& g = planned[it->second];
    if (std::erase_if(g.nodes, [&](const GroupNode& n) { return n.name == r.node; }) > 0) {
      --g.target_size;
    }
  }
  bool scaled_up = ScaleUp(planned, pods, nodes, now, report);
  if (options_.scale_down_enabled && !scaled_up && !timeouts_acted) {
    ScaleDown(groups, pods, nodes, now, report);
  }

  // Metrics.
  std::map<std::string, int> unneeded;
  if (report.scale_down) {
    for (const NodeScaleDownStatus& s : report.scale_down->nodes) {
      if (!s.group.empty() && s.unneeded_seconds >= 0) ++unneeded[s.group];
    }
  }
  metrics_.groups.clear();
  for (const NodeGroupState& g : groups) {
    NodeGroupMetrics m = GroupMetrics(g.spec.name);
    m.current_size = static_cast<int>(g.nodes.size());
    m.target_size = g.target_size;
    for (const RemovalReport& r : report.removals) {
      if (r.group == g.spec.name && r.outcome == "deleted") --m.target_size;
    }
    // A scale-up's target was planned after this loop's deletions (as the report shows it).
    if (report.scale_up_applied && report.scale_up && report.scale_up->group == g.spec.name) {
      m.target_size = report.scale_up->target_size;
    }
    m.min_size = g.spec.min_size;
    m.max_size = g.spec.max_size;
    m.unneeded_nodes = unneeded[g.spec.name];
    metrics_.groups.push_back(std::move(m));
  }
  return report;
}

void ClusterAutoscaler::DeleteUnready(const ProvisioningTimeout& timeout,
                                      ClusterReconcileReport& report) {
  for (const std::string& node : timeout.unready_nodes) {
    RemovalReport rr;
    rr.node = node;
    rr.group = timeout.group;
    rr.cause = "provisioning_timeout";
    // An instance that never registered has no Node to delete or to record an event on.
    const bool instance = IsInstanceId(node);
    const std::string why = instance ? "no Node registered within the provisioning time"
                                     : "not Ready within the provisioning time";
    if (options_.dry_run) {
      rr.outcome = "dry_run";
      rr.message = std::string("would delete the ") + (instance ? "instance" : "node") + ": " + why;
    } else if (auto deleted = provider_.DeleteNodes(timeout.group, std::span(&node, 1));
               deleted.ok()) {
      rr.outcome = "deleted";
      rr.message = why;
      if (!instance) {
        events_.Record(
            NodeRef(node), kEventTypeWarning, "ScaleUpTimedOut",
            "node not Ready within the provisioning time; deleted by cluster autoscaler");
      }
      log_.Info(std::string("cluster autoscaler: deleted ") +
                (instance ? "unregistered instance " : "unready node ") + node + " of " +
                timeout.group);
    } else {
      rr.outcome = "failed";
      rr.message = deleted.error();
      Fail(report, "provider_error", "deleting unready node " + node + ": " + deleted.error());
    }
    report.removals.push_back(std::move(rr));
  }
}

void ClusterAutoscaler::WithdrawMissing(const ProvisioningTimeout& timeout, NodeGroupState& group,
                                        ClusterReconcileReport& report) {
  WithdrawalReport w;
  w.group = timeout.group;
  w.instances = timeout.missing_nodes;
  w.target_size = group.target_size;
  const std::string what = std::to_string(w.instances) + " instance(s) of " + timeout.group +
                           " never created within the provisioning time";
  if (options_.dry_run) {
    w.outcome = "dry_run";
    w.message = "would withdraw " + what;
  } else if (auto target = provider_.DecreaseTargetSize(timeout.group, w.instances); target.ok()) {
    w.outcome = "withdrawn";
    w.target_size = *target;
    w.message = "withdrew " + what + "; target " + std::to_string(group.target_size) + " -> " +
                std::to_string(*target);
    // This loop's planning no longer counts them as coming.
    group.target_size = *target;
    log_.Warning("cluster autoscaler: " + w.message);
  } else {
    w.outcome = "failed";
    w.message = target.error();
    Fail(report, "provider_error", "withdrawing " + what + ": " + target.error());
  }
  report.withdrawals.push_back(std::move(w));
}

bool ClusterAutoscaler::ScaleUp(const std::vector<NodeGroupState>& groups,
                                const std::vector<Pod>& pods,
                                const std::vector<const NodeInfo*>& nodes, SteadyTime now,
                                ClusterReconcileReport& report) {
  std::vector<const Pod*> pending;
  for (const Pod& p : pods) {
    if (p.unschedulable && p.node_name.empty() && !p.deleting) pending.push_back(&p);
  }
  report.pending_pods = static_cast<int>(pending.size());
  if (pending.empty()) return false;
  if (options_.scale_up_cooldown > Duration::zero() && last_any_scale_up_ &&
      now - *last_any_scale_up_ < options_.scale_up_cooldown) {
    report.scale_up_skipped = "in scale-up cooldown after the last scale-up";
    return false;
  }
  ScaleUpInput input;
  input.pending = pending;
  input.nodes = nodes;
  input.groups = groups;
  input.now = now;
  ScaleUpDecision decision = scale_up_.Plan(input);

  std::map<std::string, const Pod*> by_key;
  for (const Pod* p : pending) by_key[PodKey(*p)] = p;

  metrics_.pending_pods["fits_existing"] =
      static_cast<int>(decision.pods_fit_existing.size() + decision.pods_fit_upcoming.size());
  bool all_at_max = !decision.rejected.empty();
  std::string why;
  for (const RejectedGroup& r : decision.rejected) {
    if (r.reason != GroupRejectionName(GroupRejection::kAtMaxSize) &&
        r.reason != GroupRejectionName(GroupRejection::kClusterAtMaxNodes)) {
      all_at_max = false;
    }
    if (!why.empty()) why += "; ";
    why += r.group + ": " + r.reason;
    if (!r.message.empty()) why += " (" + r.message + ")";
  }
  if (!decision.pods_unhelped.empty()) {
    metrics_.pending_pods[all_at_max ? "groups_at_max" : "no_group_fits"] =
        static_cast<int>(decision.pods_unhelped.size());
  }

  bool applied = false;
  if (decision.scale_up) {
    metrics_.pending_pods["scale_up_triggered"] = static_cast<int>(decision.pods.size());
    if (!options_.dry_run) {
      auto r = provider_.IncreaseSize(decision.group, decision.node_count);
      if (r.ok()) {
        applied = true;
        provisioning_.RecordScaleUp(decision.group, decision.node_count, now);
        last_scale_up_[decision.group] = now;
        last_any_scale_up_ = now;
        ++GroupMetrics(decision.group).scale_ups_total;
        log_.Info("cluster autoscaler: scale-up: " + decision.message);
      } else {
        provisioning_.RecordFailure(decision.group, now);
        Fail(report, "scale_failed",
             "increasing " + decision.group + " by " + std::to_string(decision.node_count) + ": " +
                 r.error());
      }
    }
  }
  report.scale_up_applied = applied;

  if (!options_.dry_run) {
    if (applied) {
      int max_size = 0;
      for (const NodeGroupState& g : groups) {
        if (g.spec.name == decision.group) max_size = g.spec.max_size;
      }
      std::string msg = "pod triggered scale-up: [{" + decision.group + " " +
                        std::to_string(decision.current_size) + "->" +
                        std::to_string(decision.target_size) +
                        " (max: " + std::to_string(max_size) + ")}]";
      for (const std::string& key : decision.pods) {
        if (auto it = by_key.find(key); it != by_key.end()) {
          events_.Record(PodRef(*it->second), kEventTypeNormal, "TriggeredScaleUp", msg);
        }
      }
    }
    for (const std::string& key : decision.pods_unhelped) {
      if (auto it = by_key.find(key); it != by_key.end()) {
        events_.Record(PodRef(*it->second), kEventTypeNormal, "NotTriggerScaleUp",
                       "pod didn't trigger scale-up: " + why);
      }
    }
  }
  report.scale_up = std::move(decision);
  return applied;
}

void ClusterAutoscaler::ScaleDown(const std::vector<NodeGroupState>& groups,
                                  const std::vector<Pod>& pods,
                                  const std::vector<const NodeInfo*>& nodes, SteadyTime now,
                                  ClusterReconcileReport& report) {
  std::unordered_map<std::string, std::vector<const Pod*>> on_node;
  std::map<std::string, const Pod*> by_key;
  for (const Pod& p : pods) {
    if (p.node_name.empty()) continue;
    on_node[p.node_name].push_back(&p);
    by_key[PodKey(p)] = &p;
  }
  std::vector<ScaleDownNode> input_nodes;
  input_nodes.reserve(nodes.size());
  for (const NodeInfo* info : nodes) {
    ScaleDownNode n;
    n.info = info;
    if (auto it = on_node.find(info->node->name); it != on_node.end()) n.pods = it->second;
    input_nodes.push_back(std::move(n));
  }
  ScaleDownInput input;
  input.nodes = input_nodes;
  input.groups = groups;
  input.now = now;
  ScaleDownDecision decision = scale_down_.Plan(input, unneeded_);

  for (const NodeRemoval& removal : decision.remove) {
    RemovalReport rr;
    rr.node = removal.node;
    rr.group = removal.group;
    rr.cause = "unneeded";
    if (options_.dry_run) {
      rr.outcome = "dry_run";
      rr.message = removal.empty ? "would delete the empty node"
                                 : "would drain " + std::to_string(removal.pods_to_evict.size()) +
                                       " pod(s) and delete the node";
      report.removals.push_back(std::move(rr));
      continue;
    }
    auto tainted = drainer_.Taint(removal.node);
    if (!tainted.ok()) {
      rr.outcome = "failed";
      rr.message = tainted.error();
      Fail(report, "api_error", "tainting " + removal.node + ": " + tainted.error());
      report.removals.push_back(std::move(rr));
      continue;
    }
    bool ok = true;
    for (const std::string& key : removal.pods_to_evict) {
      auto it = by_key.find(key);
      if (it == by_key.end()) continue;  // gone already
      const Pod& pod = *it->second;
      auto ev = drainer_.Evict(pod.namespace_name, pod.name);
      if (!ev.ok()) {
        ok = false;
        rr.outcome = "failed";
        rr.message = ev.error();
        Fail(report, "api_error", "evicting " + key + ": " + ev.error());
        break;
      }
      if (ev->outcome == EvictionOutcome::kBlockedByPdb) {
        ok = false;
        rr.outcome = "blocked_by_pdb";
        rr.message = "eviction of " + key + " refused: " + ev->message;
        unneeded_.MarkBlockedByPdb(removal.node, rr.message, now);
        events_.Record(NodeRef(removal.node), kEventTypeWarning, "ScaleDownFailed",
                       "failed to drain the node, aborting scale-down: " + rr.message);
        events_.Record(
            PodRef(pod), kEventTypeWarning, "ScaleDownFailed",
            "eviction for node scale-down refused by a PodDisruptionBudget: " + ev->message);
        break;
      }
      events_.Record(PodRef(pod), kEventTypeNormal, "ScaleDown",
                     "deleting pod for node scale down");
    }
    if (ok) {
      std::vector<std::string> one = {removal.node};
      auto deleted = provider_.DeleteNodes(removal.group, one);
      if (deleted.ok()) {
        rr.outcome = "deleted";
        rr.message = removal.empty ? "empty node removed" : "node drained and removed";
        ++GroupMetrics(removal.group).scale_downs_total;
        events_.Record(NodeRef(removal.node), kEventTypeNormal, "ScaleDown",
                       "node removed by cluster autoscaler");
        log_.Info("cluster autoscaler: removed node " + removal.node + " of " + removal.group);
      } else {
        ok = false;
        rr.outcome = "failed";
        rr.message = deleted.error();
        Fail(report, "provider_error", "deleting " + removal.node + ": " + deleted.error());
      }
    }
    if (!ok) {
      auto untainted = drainer_.Untaint(removal.node);
      if (!untainted.ok()) {
        Fail(report, "api_error", "untainting " + removal.node + ": " + untainted.error());
      }
    }
    report.removals.push_back(std::move(rr));
  }
  report.scale_down = std::move(decision);
}

}  // namespace epc::cluster
