// The event loop of epc-sim.
//
// State: nodes (a deque, so the Node objects NodeInfo points to stay put) with incremental
// accounting (NodeInfo::requested grows and shrinks as pods bind and leave; per-pool EPC sums
// likewise), pods (a vector, by id), the pending queue ordered by (priority, creation), one
// NodeGroupState per group (the simulated provider's view), and the HPA and CA state objects.
//
// One time step: every event at time t is processed (pod arrivals, pods becoming Ready, jobs
// finishing, nodes joining, failures, HPA syncs, CA scans), and whenever something changed the
// scheduler runs a pass over the pending pods. A pass tries each pending pod against every ready
// node in name order; a workload whose pod fit nowhere is not tried again in the same pass
// (nodes only fill up within a pass, and its pods are identical to the predicate).
//
// Pods of one workload share one Pod object (the template) and one PodInfo: the predicate and
// the planners read only the template's fields, so per-pod state (node, times) lives in SimPod.
//
// EPC-blind cluster autoscaling (autoscaler.epcAware: false) models stock cluster-autoscaler,
// whose simulation runs kube-scheduler's checks but not the extender: the planners are the same
// code but see "blind" copies of the pod templates whose EPC request is 1 unit of its resource,
// and nodes whose requested EPC counts 1 unit per EPC pod. A pod that only EPC rejects then
// looks schedulable on an existing node (no scale-up), and an EPC-full node looks empty in EPC
// (scale-down may remove it), while pool policy still keeps such pods on confidential nodes.
#include "simulator/simulation.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <set>

#include "autoscaler/cluster/expander.h"
#include "autoscaler/cluster/node_group.h"
#include "autoscaler/cluster/provisioning.h"
#include "autoscaler/cluster/scale_down.h"
#include "autoscaler/cluster/scale_up.h"
#include "autoscaler/horizontal/replica_calculator.h"
#include "autoscaler/horizontal/scaling_behavior.h"
#include "common/model/pod_request.h"
#include "common/model/resources.h"
#include "common/policy/fit.h"

namespace epc::sim {
namespace {

using cluster::SteadyTime;

enum class EventType : uint8_t {
  kDeploymentStart,
  kJobArrival,
  kPodReady,
  kPodFinish,
  kNodeReady,
  kFailure,
  kHpaSync,
  kCaScan,
};

struct Event {
  int64_t t = 0;
  uint64_t seq = 0;
  EventType type = EventType::kHpaSync;
  int a = 0;
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : seq > o.seq; }
};

struct SimNode {
  Node node;
  NodeInfo info;
  int group = -1;
  int pool = 0;  // report pool
  bool ready = false;
  bool gone = false;
  int64_t created_s = 0;
  int64_t gone_s = -1;
  int64_t blind_epc_bytes = 0;  // what the EPC-blind planners think is requested
  std::vector<int> pods;        // pod ids
};

struct SimPod {
  int workload = 0;
  int node = -1;
  int slot = -1;  // index in the node's pods
  int64_t created_s = 0;
  int64_t bound_s = -1;
  int64_t ready_s = -1;
  int64_t duration_s = 0;  // jobs
  bool alive = true;
  bool ever_placed = false;
  bool attempted = false;  // a scheduling pass found no node: "unschedulable"
};

struct SimWorkload {
  const WorkloadScenario* spec = nullptr;
  PodInfo info;                    // of the template
  std::unique_ptr<Pod> blind_pod;  // EPC request as 1 unit, for the EPC-blind planners
  int64_t blind_epc_bytes = 0;
  int32_t desired = 0;         // deployments
  std::vector<int> live;       // deployments: alive pods, creation order
  int running_jobs = 0;        // jobs
  std::optional<HpaSpec> hpa;  // built from the scenario's hpa
  // By node id: 1 the predicate says the pod can never fit there, 2 it could, 0 not asked yet.
  std::vector<char> unresolvable;
  hpa::ScalingState hpa_state;
  // HpaSync's inputs to the replica calculator, reused from sync to sync.
  std::vector<hpa::HpaPod> hpa_pods;
  hpa::MetricObservation hpa_observation;
};

constexpr int64_t kNoTime = -1;

SteadyTime Steady(int64_t t) {
  return SteadyTime{} + std::chrono::hours(24 * 365) + std::chrono::seconds(t);
}
hpa::WallTime Wall(int64_t t) {
  // 2024-01-01T00:00:00Z; never printed.
  return hpa::WallTime{} + std::chrono::seconds(1704067200LL + t);
}

std::string PaddedIndex(int n) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%05d", n);
  return buf;
}

// A pod's name for the HPA: unique, short enough to need no allocation, and fixed width, so
// that names sort as the ids do. w.live lists pods by ascending id, so the calculator gets its
// pods already in name order and the samples map is filled from the end.
std::string HpaPodName(int pid) {
  std::string name(10, '0');
  for (size_t i = name.size(); pid > 0 && i > 0; pid /= 10)
    name[--i] = static_cast<char>('0' + pid % 10);
  return name;
}

double Interpolate(const std::vector<LoadPoint>& points, int64_t t) {
  if (points.empty()) return 0;
  if (t <= points.front().at_s) return points.front().rps;
  if (t >= points.back().at_s) return points.back().rps;
  for (size_t i = 1; i < points.size(); ++i) {
    if (t <= points[i].at_s) {
      const LoadPoint& a = points[i - 1];
      const LoadPoint& b = points[i];
      if (b.at_s == a.at_s) return b.rps;
      const double f = static_cast<double>(t - a.at_s) / static_cast<double>(b.at_s - a.at_s);
      return a.rps + (b.rps - a.rps) * f;
    }
  }
  return points.back().rps;
}

class Simulator {
 public:
  Simulator(const Scenario& s, uint64_t seed, const ProgressFn& progress)
      : s_(s),
        rng_(seed),
        pools_(s.pools),
        predicate_{&s_.epc_resources, s.scheduling, CheckSet::All()},
        progress_(progress) {}

  Result<SimResult> Run(std::string label);

 private:
  void Push(int64_t t, EventType type, int a = 0) {
    if (t > s_.duration_s) return;
    queue_.push(Event{t, next_seq_++, type, a});
  }
  Result<bool> Setup();
  void Handle(const Event& e);
  void Schedule();
  int NewNode(int group, bool ready);
  void NodeBecomesReady(int n);
  void RemoveNode(int n, bool failure);
  int CreatePod(int w);
  void Bind(int p, int n);
  void Unbind(int p);
  void DeletePod(int p);
  void SetReplicas(SimWorkload& w, int32_t desired);
  void HpaSync();
  void CaScan();
  void TakeSample(int64_t t);
  void Finish(SimResult& out);
  void Record(std::string kind, std::string subject, std::string detail) {
    events_.push_back(EventRecord{now_, std::move(kind), std::move(subject), std::move(detail)});
  }
  uint64_t Uniform(uint64_t lo, uint64_t hi) {  // inclusive
    return hi <= lo ? lo : lo + rng_() % (hi - lo + 1);
  }

  const Scenario& s_;
  std::mt19937_64 rng_;
  PoolClassifier pools_;
  Predicate predicate_;
  const ProgressFn& progress_;

  int64_t now_ = 0;
  uint64_t next_seq_ = 0;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> queue_;
  std::deque<SimNode> nodes_;
  std::vector<int> active_;  // ready, not gone; sorted by node name
  std::vector<SimPod> pods_;
  std::set<std::pair<int64_t, int>> pending_;  // (-priority, pod id)
  std::vector<SimWorkload> workloads_;
  std::vector<cluster::NodeGroupState> groups_;
  std::vector<int> group_pool_;
  std::vector<int> group_counter_;
  std::vector<std::string> report_pools_;
  bool dirty_ = false;
  uint64_t version_ = 0;  // bumps on every change the cluster autoscaler would notice
  uint64_t last_scan_version_ = ~uint64_t{0};

  // Per report pool, incrementally.
  std::vector<int> pool_nodes_;
  std::vector<int64_t> pool_epc_req_;
  std::vector<int64_t> pool_epc_cap_;

  // Autoscalers.
  hpa::ReplicaCalculator calculator_;
  hpa::HorizontalScaler scaler_;
  std::unique_ptr<cluster::ScaleUpPlanner> scale_up_;
  std::unique_ptr<cluster::ScaleDownPlanner> scale_down_;
  cluster::UnneededTracker unneeded_;
  std::unique_ptr<cluster::ProvisioningTracker> provisioning_;
  std::vector<cluster::ScaleDownNode> scale_down_nodes_;  // CaScan's scratch

  // Output.
  std::vector<Sample> samples_;
  std::vector<int64_t> pending_times_;
  std::vector<EventRecord> events_;
  Summary summary_;
};

Result<bool> Simulator::Setup() {
  report_pools_.clear();
  for (const PoolSpec& p : s_.pools) report_pools_.push_back(p.name);
  bool unpooled = false;
  for (const NodeGroupScenario& g : s_.groups) {
    int pool = -1;
    if (!g.pool.empty()) {
      for (size_t i = 0; i < s_.pools.size(); ++i) {
        if (s_.pools[i].name == g.pool) pool = static_cast<int>(i);
      }
    }
    if (pool < 0) {
      const NodeInfo t = MakeNodeInfo(g.template_node, s_.epc_resources, pools_);
      pool = t.pool.index;
    }
    if (pool < 0) {
      pool = static_cast<int>(s_.pools.size());
      unpooled = true;
    }
    group_pool_.push_back(pool);
    cluster::NodeGroupState st;
    st.spec.name = g.name;
    st.spec.min_size = g.min_size;
    st.spec.max_size = g.max_size;
    st.spec.pool = pool < static_cast<int>(s_.pools.size())
                       ? s_.pools[static_cast<size_t>(pool)].name
                       : "unpooled";
    st.spec.template_node = g.template_node;
    st.spec.provider = "simulated";
    groups_.push_back(std::move(st));
    group_counter_.push_back(0);
  }
  if (unpooled) report_pools_.push_back("unpooled");
  pool_nodes_.assign(report_pools_.size(), 0);
  pool_epc_req_.assign(report_pools_.size(), 0);
  pool_epc_cap_.assign(report_pools_.size(), 0);

  workloads_.resize(s_.workloads.size());
  for (size_t i = 0; i < s_.workloads.size(); ++i) {
    const WorkloadScenario& ws = s_.workloads[i];
    SimWorkload& w = workloads_[i];
    w.spec = &ws;
    w.info = MakePodInfo(ws.pod, s_.epc_resources);
    w.blind_pod = std::make_unique<Pod>(ws.pod);
    for (Container& c : w.blind_pod->containers) {
      for (auto* list : {&c.requests, &c.limits}) {
        for (auto& [name, q] : *list) {
          if (s_.epc_resources.IsEpc(name) && !q.IsZero()) q = Quantity::FromValue(1);
        }
      }
    }
    w.blind_epc_bytes = PodRequests(*w.blind_pod, s_.epc_resources).epc_bytes;
    if (ws.hpa) {
      HpaSpec spec;
      spec.namespace_name = "default";
      spec.scale_target_ref = {"apps/v1", "Deployment", ws.name};
      spec.min_replicas = ws.hpa->min_replicas;
      spec.max_replicas = ws.hpa->max_replicas;
      spec.behavior = ws.hpa->behavior;
      HpaMetricSpec m;
      m.type = HpaMetricSourceType::kResource;
      HpaResourceMetricSource r;
      r.name = "cpu";
      r.target.type = HpaMetricTargetType::kUtilization;
      r.target.average_utilization = ws.hpa->target_cpu_utilization;
      m.resource = r;
      spec.metrics.push_back(std::move(m));
      w.hpa = std::move(spec);
    }
  }

  const AutoscalerScenario& a = s_.autoscaler;
  if (a.enabled) {
    cluster::ExpanderConfig ec;
    ec.name = a.expander;
    ec.priorities = a.priorities;
    ec.random_seed = static_cast<uint32_t>(rng_());
    Result<std::unique_ptr<cluster::Expander>> expander = cluster::MakeExpander(ec);
    if (!expander.ok()) return Error{"autoscaler.expander: " + expander.error()};
    cluster::ScaleUpOptions up;
    up.max_nodes_total = a.max_nodes_total;
    scale_up_ = std::make_unique<cluster::ScaleUpPlanner>(s_.epc_resources, pools_, s_.scheduling,
                                                          up, std::move(expander).value());
    cluster::ScaleDownOptions down;
    down.explain = false;  // the report needs the removals, not every node's reason
    down.utilization_threshold = a.scale_down_utilization_threshold;
    down.unneeded_time = std::chrono::seconds(a.scale_down_unneeded_s);
    down.delay_after_add = std::chrono::seconds(a.scale_down_delay_after_add_s);
    scale_down_ =
        std::make_unique<cluster::ScaleDownPlanner>(s_.epc_resources, s_.scheduling, down);
    provisioning_ = std::make_unique<cluster::ProvisioningTracker>();
  }

  // Initial nodes are ready at 0; deployments and job arrivals are queued.
  for (size_t g = 0; g < s_.groups.size(); ++g) {
    for (int i = 0; i < s_.groups[g].initial_size; ++i) {
      NewNode(static_cast<int>(g), /*ready=*/true);
      ++groups_[g].target_size;
    }
  }
  for (size_t i = 0; i < s_.workloads.size(); ++i) {
    const WorkloadScenario& ws = s_.workloads[i];
    if (ws.kind == WorkloadKind::kDeployment) {
      Push(ws.start_s, EventType::kDeploymentStart, static_cast<int>(i));
      continue;
    }
    for (int32_t k = 0; k < ws.count; ++k) {
      int64_t at = ws.arrival_from_s;
      const int64_t span = ws.arrival_to_s - ws.arrival_from_s;
      if (ws.arrival_random) {
        at += static_cast<int64_t>(Uniform(0, static_cast<uint64_t>(span)));
      } else if (ws.count > 1) {
        at += span * k / (ws.count - 1);
      }
      Push(at, EventType::kJobArrival, static_cast<int>(i));
    }
  }
  for (size_t i = 0; i < s_.failures.size(); ++i) {
    Push(s_.failures[i].at_s, EventType::kFailure, static_cast<int>(i));
  }
  bool any_hpa = false;
  for (const SimWorkload& w : workloads_) any_hpa = any_hpa || w.hpa.has_value();
  if (any_hpa) Push(s_.hpa_sync_s, EventType::kHpaSync);
  if (a.enabled) Push(a.scan_interval_s, EventType::kCaScan);
  return true;
}

int Simulator::NewNode(int group, bool ready) {
  const int id = static_cast<int>(nodes_.size());
  SimNode& n = nodes_.emplace_back();
  n.group = group;
  n.pool = group_pool_[static_cast<size_t>(group)];
  n.node = s_.groups[static_cast<size_t>(group)].template_node;
  n.node.name = s_.groups[static_cast<size_t>(group)].name + "-" +
                PaddedIndex(group_counter_[static_cast<size_t>(group)]++);
  n.node.uid = n.node.name;
  n.node.labels.insert_or_assign("kubernetes.io/hostname", n.node.name);
  n.info = MakeNodeInfo(n.node, s_.epc_resources, pools_);
  n.created_s = now_;
  groups_[static_cast<size_t>(group)].nodes.push_back(
      cluster::GroupNode{n.node.name, false, Steady(now_)});
  if (ready) NodeBecomesReady(id);
  return id;
}

void Simulator::NodeBecomesReady(int id) {
  SimNode& n = nodes_[static_cast<size_t>(id)];
  if (n.gone || n.ready) return;
  n.ready = true;
  for (cluster::GroupNode& gn : groups_[static_cast<size_t>(n.group)].nodes) {
    if (gn.name == n.node.name) gn.ready = true;
  }
  auto pos = std::lower_bound(active_.begin(), active_.end(), id, [&](int a, int b) {
    return nodes_[static_cast<size_t>(a)].node.name < nodes_[static_cast<size_t>(b)].node.name;
  });
  active_.insert(pos, id);
  ++pool_nodes_[static_cast<size_t>(n.pool)];
  pool_epc_cap_[static_cast<size_t>(n.pool)] += n.info.epc_capacity_bytes;
  dirty_ = true;
  ++version_;
}

void Simulator::RemoveNode(int id, bool failure) {
  SimNode& n = nodes_[static_cast<size_t>(id)];
  if (n.gone) return;
  // Evict: the controllers recreate the pods (a Job restarts its pod from the beginning).
  const std::vector<int> pods = n.pods;
  for (int p : pods) {
    const int w = pods_[static_cast<size_t>(p)].workload;
    const int64_t duration = pods_[static_cast<size_t>(p)].duration_s;
    DeletePod(p);
    ++summary_.pods_evicted;
    SimWorkload& wl = workloads_[static_cast<size_t>(w)];
    if (wl.spec->kind == WorkloadKind::kDeployment) {
      SetReplicas(wl, wl.desired);
    } else {
      const int q = CreatePod(w);
      pods_[static_cast<size_t>(q)].duration_s = duration;
    }
  }
  if (n.ready) {
    active_.erase(std::find(active_.begin(), active_.end(), id));
    --pool_nodes_[static_cast<size_t>(n.pool)];
    pool_epc_cap_[static_cast<size_t>(n.pool)] -= n.info.epc_capacity_bytes;
  }
  n.gone = true;
  n.ready = false;
  n.gone_s = now_;
  cluster::NodeGroupState& g = groups_[static_cast<size_t>(n.group)];
  std::erase_if(g.nodes, [&](const cluster::GroupNode& gn) { return gn.name == n.node.name; });
  g.target_size = std::max(0, g.target_size - 1);
  if (failure) {
    ++summary_.node_failures;
  } else {
    ++summary_.nodes_removed;
  }
  dirty_ = true;
  ++version_;
}

int Simulator::CreatePod(int w) {
  const int id = static_cast<int>(pods_.size());
  SimPod& p = pods_.emplace_back();
  p.workload = w;
  p.created_s = now_;
  SimWorkload& wl = workloads_[static_cast<size_t>(w)];
  if (wl.spec->kind == WorkloadKind::kDeployment) {
    wl.live.push_back(id);
  } else {
    const int64_t j = wl.spec->duration_jitter_s;
    p.duration_s =
        std::max<int64_t>(1, wl.spec->duration_s - j +
                                 static_cast<int64_t>(Uniform(0, static_cast<uint64_t>(2 * j))));
  }
  pending_.emplace(-static_cast<int64_t>(wl.spec->pod.priority), id);
  ++summary_.pods_created;
  dirty_ = true;
  ++version_;
  return id;
}

void Simulator::Bind(int pid, int nid) {
  SimPod& p = pods_[static_cast<size_t>(pid)];
  SimNode& n = nodes_[static_cast<size_t>(nid)];
  const SimWorkload& w = workloads_[static_cast<size_t>(p.workload)];
  p.node = nid;
  p.slot = static_cast<int>(n.pods.size());
  n.pods.push_back(pid);
  n.info.requested += w.info.request;
  n.blind_epc_bytes += w.blind_epc_bytes;
  pool_epc_req_[static_cast<size_t>(n.pool)] += w.info.request.epc_bytes;
  p.bound_s = now_;
  if (!p.ever_placed) {
    p.ever_placed = true;
    ++summary_.pods_placed;
    pending_times_.push_back(now_ - p.created_s);
  }
  Push(now_ + s_.pod_startup_s, EventType::kPodReady, pid);
  ++version_;
}

void Simulator::Unbind(int pid) {
  SimPod& p = pods_[static_cast<size_t>(pid)];
  if (p.node < 0) return;
  SimNode& n = nodes_[static_cast<size_t>(p.node)];
  const SimWorkload& w = workloads_[static_cast<size_t>(p.workload)];
  const int last = n.pods.back();
  n.pods[static_cast<size_t>(p.slot)] = last;
  pods_[static_cast<size_t>(last)].slot = p.slot;
  n.pods.pop_back();
  n.info.requested -= w.info.request;
  n.blind_epc_bytes -= w.blind_epc_bytes;
  pool_epc_req_[static_cast<size_t>(n.pool)] -= w.info.request.epc_bytes;
  p.node = -1;
  p.slot = -1;
  dirty_ = true;
  ++version_;
}

void Simulator::DeletePod(int pid) {
  SimPod& p = pods_[static_cast<size_t>(pid)];
  if (!p.alive) return;
  SimWorkload& w = workloads_[static_cast<size_t>(p.workload)];
  if (p.node >= 0) {
    if (w.spec->kind == WorkloadKind::kJob && p.ready_s != kNoTime) --w.running_jobs;
    Unbind(pid);
  } else {
    pending_.erase({-static_cast<int64_t>(w.spec->pod.priority), pid});
    if (!p.ever_placed) ++summary_.deleted_before_placed;
  }
  p.alive = false;
  if (w.spec->kind == WorkloadKind::kDeployment) std::erase(w.live, pid);
  ++version_;
}

// As a ReplicaSet does: deletes unscheduled pods first, then not-ready ones, then the newest.
void Simulator::SetReplicas(SimWorkload& w, int32_t desired) {
  w.desired = desired;
  const int wi = static_cast<int>(&w - workloads_.data());
  while (static_cast<int32_t>(w.live.size()) < desired) CreatePod(wi);
  while (static_cast<int32_t>(w.live.size()) > desired) {
    int victim = -1;
    int victim_rank = -1;
    for (int pid : w.live) {
      const SimPod& p = pods_[static_cast<size_t>(pid)];
      const int rank = p.node < 0 ? 2 : (p.ready_s == kNoTime ? 1 : 0);
      if (rank > victim_rank || (rank == victim_rank && pid > victim)) {
        victim = pid;
        victim_rank = rank;
      }
    }
    DeletePod(victim);
  }
}

void Simulator::Schedule() {
  dirty_ = false;
  std::vector<char> failed(workloads_.size(), 0);
  for (auto it = pending_.begin(); it != pending_.end();) {
    const int pid = it->second;
    SimPod& p = pods_[static_cast<size_t>(pid)];
    const size_t w = static_cast<size_t>(p.workload);
    if (failed[w]) {
      p.attempted = true;
      ++it;
      continue;
    }
    const PodInfo& info = workloads_[w].info;
    std::vector<char>& never = workloads_[w].unresolvable;
    int best = -1;
    int best_score = -1;
    for (int nid : active_) {
      const size_t n = static_cast<size_t>(nid);
      if (n < never.size() && never[n] == 1) continue;
      const NodeInfo& ni = nodes_[n].info;
      if (!predicate_.Fits(info, ni)) {
        // A node the pod can never fit as it is (no EPC, a taint, the pool policy) is not tried
        // again: nodes do not change once Ready. The full Fit() runs once per pair.
        if (never.size() <= n) never.resize(nodes_.size(), 0);
        if (never[n] == 0) {
          never[n] = predicate_.Fit(info, ni).verdict() == Verdict::kUnresolvable ? 1 : 2;
        }
        continue;
      }
      const int score = predicate_.Score(info, ni);
      if (score > best_score) {  // strictly better: ties keep the earlier name
        best = nid;
        best_score = score;
        if (score >= 10) break;  // the top score; later names only tie
      }
    }
    if (best < 0) {
      failed[w] = 1;
      p.attempted = true;
      ++it;
      continue;
    }
    it = pending_.erase(it);
    Bind(pid, best);
  }
}

void Simulator::HpaSync() {
  const hpa::WallTime wall = Wall(now_);
  const SteadyTime steady = Steady(now_);
  for (SimWorkload& w : workloads_) {
    if (!w.hpa || now_ < w.spec->start_s) continue;
    const HpaSpec& spec = *w.hpa;
    const int32_t current = w.desired;
    std::vector<hpa::MetricProposal> proposals;
    if (hpa::MetricsNeeded(spec, current)) {
      // The pod list and the samples are the workload's, kept from the last sync: most pods
      // are the same from one sync to the next, and rebuilding a map of thousands of samples
      // every 15 simulated seconds was a large share of a long simulation.
      std::vector<hpa::HpaPod>& pods = w.hpa_pods;
      hpa::PodMetricsInfo& samples = w.hpa_observation.pod_metrics;
      pods.resize(w.live.size());
      const int64_t request = w.info.request.milli_cpu;
      int ready = 0;
      for (int pid : w.live) ready += pods_[static_cast<size_t>(pid)].ready_s != kNoTime ? 1 : 0;
      const double load = Interpolate(w.spec->load, now_);
      const int64_t per_pod =
          ready > 0 ? static_cast<int64_t>(std::llround(
                          load * static_cast<double>(w.spec->cpu_per_request_milli) / ready))
                    : 0;
      // Names ascend with the pod ids in w.live, as do the samples' keys: one merge pass drops
      // the samples of pods no longer ready or alive, updates the others and adds new ones.
      auto next = samples.begin();
      for (size_t i = 0; i < w.live.size(); ++i) {
        const int pid = w.live[i];
        const SimPod& p = pods_[static_cast<size_t>(pid)];
        hpa::HpaPod hp;
        hp.name = HpaPodName(pid);
        hp.request_milli = request;
        if (p.node < 0) {
          hp.phase = "Pending";
        } else {
          hp.phase = "Running";
          hp.start_time = Wall(p.bound_s);
          if (p.ready_s != kNoTime) {
            hp.ready = hpa::PodReadyCondition{hpa::ConditionStatus::kTrue, Wall(p.ready_s)};
            const hpa::PodMetric metric{per_pod, wall, std::chrono::seconds(30)};
            while (next != samples.end() && next->first < hp.name) next = samples.erase(next);
            if (next != samples.end() && next->first == hp.name) {
              next->second = metric;
              ++next;
            } else {
              samples.emplace_hint(next, hp.name, metric);
            }
          } else {
            hp.ready = hpa::PodReadyCondition{hpa::ConditionStatus::kFalse, Wall(p.bound_s)};
          }
        }
        pods[i] = std::move(hp);
      }
      samples.erase(next, samples.end());
      const int32_t status = static_cast<int32_t>(w.live.size());
      proposals.push_back(calculator_.ComputeReplicasForMetric(spec.metrics.front(), current,
                                                               status, pods, w.hpa_observation,
                                                               hpa::TolerancesForHpa(spec), wall));
    }
    Result<hpa::ScaleDecision> d = scaler_.Reconcile(spec, w.hpa_state, current, proposals, steady);
    if (!d.ok() || !d->rescale) continue;
    const int32_t desired = d->desired_replicas;
    SetReplicas(w, desired);
    w.hpa_state.StoreScaleEvent(spec.behavior, current, desired, steady);
    if (desired > current) {
      ++summary_.hpa_scale_ups;
    } else {
      ++summary_.hpa_scale_downs;
    }
    Record(desired > current ? "hpa-scale-up" : "hpa-scale-down", w.spec->name,
           std::to_string(current) + " -> " + std::to_string(desired) + ": " + d->rescale_reason);
  }
}

void Simulator::CaScan() {
  const SteadyTime steady = Steady(now_);
  const bool aware = s_.autoscaler.epc_aware;
  // Nothing changed since a scan that left no timers running and nothing pending: skip.
  bool upcoming = false;
  for (const cluster::NodeGroupState& g : groups_)
    upcoming = upcoming || g.ReadyCount() < g.target_size;
  bool any_attempted = false;
  for (const auto& [prio, pid] : pending_) {
    if (pods_[static_cast<size_t>(pid)].attempted) {
      any_attempted = true;
      break;
    }
  }
  if (version_ == last_scan_version_ && unneeded_.unneeded_count() == 0 && !any_attempted &&
      !upcoming) {
    return;
  }
  last_scan_version_ = version_;

  provisioning_->Update(groups_, steady);
  provisioning_->ApplyBackoff(groups_, steady);

  // The planners' view: the real node infos, or EPC-blind copies.
  std::vector<NodeInfo> blind;
  std::vector<const NodeInfo*> infos;
  infos.reserve(active_.size());
  if (!aware) blind.reserve(active_.size());
  for (int nid : active_) {
    const SimNode& n = nodes_[static_cast<size_t>(nid)];
    if (aware) {
      infos.push_back(&n.info);
    } else {
      NodeInfo& b = blind.emplace_back(n.info);
      b.requested.epc_bytes = n.blind_epc_bytes;
      infos.push_back(&b);
    }
  }
  auto pod_of = [&](int pid) -> const Pod* {
    const SimWorkload& w =
        workloads_[static_cast<size_t>(pods_[static_cast<size_t>(pid)].workload)];
    return aware ? &w.spec->pod : w.blind_pod.get();
  };

  if (any_attempted) {
    std::vector<const Pod*> pending;
    for (const auto& [prio, pid] : pending_) {
      if (pods_[static_cast<size_t>(pid)].attempted) pending.push_back(pod_of(pid));
    }
    cluster::ScaleUpInput in;
    in.pending = pending;
    in.nodes = infos;
    in.groups = groups_;
    in.now = steady;
    const cluster::ScaleUpDecision d = scale_up_->Plan(in);
    if (d.scale_up) {
      size_t g = 0;
      while (g < groups_.size() && groups_[g].spec.name != d.group) ++g;
      if (g < groups_.size()) {
        for (int i = 0; i < d.node_count; ++i) {
          const int nid = NewNode(static_cast<int>(g), /*ready=*/false);
          Push(now_ + s_.groups[g].provisioning_delay_s, EventType::kNodeReady, nid);
        }
        groups_[g].target_size = d.target_size;
        groups_[g].last_scale_up = steady;
        provisioning_->RecordScaleUp(d.group, d.node_count, steady);
        ++summary_.ca_scale_ups;
        summary_.nodes_added += d.node_count;
        Record("ca-scale-up", d.group,
               std::to_string(d.current_size) + " -> " + std::to_string(d.target_size) + " for " +
                   std::to_string(d.pods.size()) + " pods");
        ++version_;
        return;  // as cluster-autoscaler: no scale-down in a loop that scaled up
      }
    }
  }

  // Reused from scan to scan: a thousand per-node pod lists allocated every 10 simulated
  // seconds added up.
  std::vector<cluster::ScaleDownNode>& sd = scale_down_nodes_;
  sd.resize(active_.size());
  for (size_t i = 0; i < active_.size(); ++i) {
    const SimNode& n = nodes_[static_cast<size_t>(active_[i])];
    cluster::ScaleDownNode& x = sd[i];
    x.info = infos[i];
    x.pods.clear();
    for (int pid : n.pods) x.pods.push_back(pod_of(pid));
  }
  cluster::ScaleDownInput in;
  in.nodes = sd;
  in.groups = groups_;
  in.now = steady;
  const cluster::ScaleDownDecision d = scale_down_->Plan(in, unneeded_);
  for (const cluster::NodeRemoval& r : d.remove) {
    int nid = -1;
    for (int a : active_) {
      if (nodes_[static_cast<size_t>(a)].node.name == r.node) nid = a;
    }
    if (nid < 0) continue;
    const SimNode& n = nodes_[static_cast<size_t>(nid)];
    const int64_t epc = n.info.requested.epc_bytes;
    const size_t pods = n.pods.size();
    RemoveNode(nid, /*failure=*/false);
    Record("ca-scale-down", r.group,
           "removed " + r.node + " (" + std::to_string(pods) + " pods, " + FormatMiB(epc) +
               " MiB EPC requested)");
  }
}

void Simulator::Handle(const Event& e) {
  switch (e.type) {
    case EventType::kDeploymentStart: {
      SimWorkload& w = workloads_[static_cast<size_t>(e.a)];
      SetReplicas(w, w.spec->replicas);
      break;
    }
    case EventType::kJobArrival:
      CreatePod(e.a);
      break;
    case EventType::kPodReady: {
      SimPod& p = pods_[static_cast<size_t>(e.a)];
      if (!p.alive || p.node < 0 || p.bound_s + s_.pod_startup_s != now_) break;
      p.ready_s = now_;
      SimWorkload& w = workloads_[static_cast<size_t>(p.workload)];
      if (w.spec->kind == WorkloadKind::kJob) {
        ++w.running_jobs;
        Push(now_ + p.duration_s, EventType::kPodFinish, e.a);
      }
      break;
    }
    case EventType::kPodFinish: {
      SimPod& p = pods_[static_cast<size_t>(e.a)];
      if (!p.alive || p.ready_s == kNoTime || p.ready_s + p.duration_s != now_) break;
      DeletePod(e.a);
      ++summary_.jobs_completed;
      break;
    }
    case EventType::kNodeReady:
      NodeBecomesReady(e.a);
      break;
    case EventType::kFailure: {
      const FailureScenario& f = s_.failures[static_cast<size_t>(e.a)];
      std::vector<int> victims;
      for (size_t i = 0; i < nodes_.size() && static_cast<int>(victims.size()) < f.count; ++i) {
        const SimNode& n = nodes_[i];
        if (n.gone || !n.ready) continue;
        if (!f.node.empty() ? n.node.name == f.node
                            : s_.groups[static_cast<size_t>(n.group)].name == f.group) {
          victims.push_back(static_cast<int>(i));
        }
      }
      for (int v : victims) {
        const std::string name = nodes_[static_cast<size_t>(v)].node.name;
        const size_t pods = nodes_[static_cast<size_t>(v)].pods.size();
        RemoveNode(v, /*failure=*/true);
        Record("node-failure", name, std::to_string(pods) + " pods recreated");
      }
      break;
    }
    case EventType::kHpaSync:
      HpaSync();
      Push(now_ + s_.hpa_sync_s, EventType::kHpaSync);
      break;
    case EventType::kCaScan:
      CaScan();
      Push(now_ + s_.autoscaler.scan_interval_s, EventType::kCaScan);
      break;
  }
}

void Simulator::TakeSample(int64_t t) {
  Sample s;
  s.t = t;
  s.nodes = pool_nodes_;
  s.provisioning.assign(report_pools_.size(), 0);
  for (const SimNode& n : nodes_) {
    if (!n.gone && !n.ready) ++s.provisioning[static_cast<size_t>(n.pool)];
  }
  s.pending_pods = static_cast<int>(pending_.size());
  s.epc_requested = pool_epc_req_;
  s.epc_capacity = pool_epc_cap_;
  for (const SimWorkload& w : workloads_) {
    s.replicas.push_back(w.spec->kind == WorkloadKind::kDeployment ? w.desired : w.running_jobs);
  }
  samples_.push_back(std::move(s));
}

void Simulator::Finish(SimResult& out) {
  Summary& sum = summary_;
  std::sort(pending_times_.begin(), pending_times_.end());
  auto pct = [&](double q) -> int64_t {
    if (pending_times_.empty()) return 0;
    const size_t i =
        static_cast<size_t>(std::ceil(q * static_cast<double>(pending_times_.size()))) - 1;
    return pending_times_[std::min(i, pending_times_.size() - 1)];
  };
  sum.pending_p50_s = pct(0.50);
  sum.pending_p95_s = pct(0.95);
  sum.pending_max_s = pending_times_.empty() ? 0 : pending_times_.back();

  std::vector<int> never(workloads_.size(), 0);
  for (const auto& [prio, pid] : pending_) {
    const SimPod& p = pods_[static_cast<size_t>(pid)];
    if (!p.ever_placed) {
      ++never[static_cast<size_t>(p.workload)];
      ++sum.never_placed;
    }
  }
  for (size_t w = 0; w < workloads_.size(); ++w) {
    if (never[w] == 0) continue;
    NeverPlaced np;
    np.workload = workloads_[w].spec->name;
    np.count = never[w];
    std::string fits_group;
    std::string messages;
    for (const cluster::NodeGroupState& g : groups_) {
      const NodeInfo t = MakeNodeInfo(g.spec.template_node, s_.epc_resources, pools_);
      const FitResult r = predicate_.Fit(workloads_[w].info, t);
      if (r.fits()) {
        if (fits_group.empty()) fits_group = g.spec.name;
      } else {
        if (!messages.empty()) messages += "; ";
        messages += g.spec.name + ": " + r.Message();
      }
    }
    np.reason = fits_group.empty()
                    ? "fits no node group's template (" + messages + ")"
                    : "fits an empty " + fits_group + " node, but no room was made in time";
    sum.never_placed_by_workload.push_back(std::move(np));
  }

  sum.pools.resize(report_pools_.size());
  for (size_t p = 0; p < report_pools_.size(); ++p) sum.pools[p].name = report_pools_[p];
  for (const SimNode& n : nodes_) {
    const int64_t end = n.gone ? n.gone_s : s_.duration_s;
    sum.pools[static_cast<size_t>(n.pool)].node_hours +=
        static_cast<double>(end - n.created_s) / 3600.0;
  }
  for (size_t p = 0; p < report_pools_.size(); ++p) {
    PoolSummary& ps = sum.pools[p];
    double req_sum = 0, share_sum = 0;
    int share_n = 0;
    for (const Sample& s : samples_) {
      ps.peak_nodes = std::max(ps.peak_nodes, s.nodes[p]);
      req_sum += static_cast<double>(s.epc_requested[p]);
      ps.epc_peak_bytes = std::max(ps.epc_peak_bytes, s.epc_requested[p]);
      if (s.epc_capacity[p] > 0) {
        const double share =
            static_cast<double>(s.epc_requested[p]) / static_cast<double>(s.epc_capacity[p]);
        share_sum += share;
        ps.epc_peak_share = std::max(ps.epc_peak_share, share);
        ++share_n;
      }
    }
    if (!samples_.empty()) ps.epc_mean_bytes = req_sum / static_cast<double>(samples_.size());
    if (share_n > 0) ps.epc_mean_share = share_sum / share_n;
  }
  out.pools = report_pools_;
  for (const SimWorkload& w : workloads_) out.workloads.push_back(w.spec->name);
  out.samples = std::move(samples_);
  out.summary = std::move(summary_);
  out.events = std::move(events_);
}

Result<SimResult> Simulator::Run(std::string label) {
  Result<bool> ok = Setup();
  if (!ok.ok()) return Error{ok.error()};
  int64_t next_sample = 0;
  int last_permille = -1;
  auto report = [&](int64_t t) {
    if (!progress_) return;
    const int permille = static_cast<int>(t * 1000 / std::max<int64_t>(1, s_.duration_s));
    if (permille / 5 != last_permille / 5) {
      last_permille = permille;
      progress_(static_cast<double>(permille) / 1000.0);
    }
  };
  dirty_ = true;
  while (!queue_.empty()) {
    const int64_t t = queue_.top().t;
    while (next_sample < t && next_sample <= s_.duration_s) {
      TakeSample(next_sample);
      next_sample += s_.sample_interval_s;
    }
    now_ = t;
    report(t);
    while (!queue_.empty() && queue_.top().t == t) {
      const Event e = queue_.top();
      queue_.pop();
      Handle(e);
      ++summary_.events_processed;
      if (queue_.empty() || queue_.top().t != t) {
        if (dirty_) Schedule();
      }
    }
  }
  if (dirty_) Schedule();
  now_ = s_.duration_s;
  while (next_sample <= s_.duration_s) {
    TakeSample(next_sample);
    next_sample += s_.sample_interval_s;
  }
  if (progress_) progress_(1.0);
  SimResult out;
  out.scenario = s_.name;
  out.label = label.empty() ? "baseline" : std::move(label);
  Finish(out);
  return out;
}

}  // namespace

Result<SimResult> RunSimulation(const Scenario& scenario, uint64_t seed, std::string label,
                                const ProgressFn& progress) {
  auto sim = std::make_unique<Simulator>(scenario, seed, progress);
  return sim->Run(std::move(label));
}

}  // namespace epc::sim
