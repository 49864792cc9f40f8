// Google Benchmark cases for the cluster autoscaler's decisions, one call each, through the
// entry points the controller and the simulator call (autoscaler/cluster):
//
//   BM_ScaleUp/mix       ScaleUpPlanner::Plan, end to end (PodInfos, equivalence classes, the
//                        existing/upcoming first fit, one binpacking estimate per eligible group,
//                        the least-waste expander, the report strings): 10,000 pending pods of
//                        300 owners (Deployments, Jobs, StatefulSets; enclave and general; some
//                        with zone or pool nodeSelectors, taint tolerations) over 20 node groups
//                        (10 confidential: DCsv2-like with 112/168 MiB EPC, DCsv3-like with 32/64
//                        GiB EPC and an sgx taint; 10 general, one a tainted batch pool), with
//                        300 existing nodes filled to 85-100% so the pods are really pending.
//   BM_ScaleUp/shapes:N  the worst case: the same cluster, 10,000 pending pods in N distinct
//                        shapes (N = 1,000 and 10,000; every pod its own class at 10,000).
//   BM_ScaleDown         ScaleDownPlanner::Plan over 1,000 nodes (~15,000 pods): busy nodes,
//                        underused nodes whose pods fit elsewhere, empty ones (DaemonSet pods
//                        only), nodes blocked by a pod (kube-system without PDB, local storage,
//                        no owner, safe-to-evict "false"), underused nodes with a pod pinned to
//                        them (required node affinity on the hostname), scale-down-disabled and
//                        non-autoscaled nodes. The
//                        tracker has seen the same nodes unneeded 11 minutes earlier, so the
//                        pass removes nodes (its max_nodes_per_pass) as a real one would.
//
// Targets (issue 5): one scale-up decision for 10,000 pending pods over 20 node groups <= 200 ms,
// scale-down of 1,000 nodes <= 200 ms. Counters: pods, classes (distinct pod shapes), groups,
// nodes (new nodes of the chosen group), placed (pods those take), removed (scale-down).
//
// The workload is built from a fixed-seed std::mt19937 (its sequence is fixed by the standard)
// with plain modulo arithmetic, so every run and machine builds the same cluster.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "autoscaler/cluster/node_group.h"
#include "autoscaler/cluster/pod_equivalence.h"
#include "autoscaler/cluster/scale_down.h"
#include "autoscaler/cluster/scale_up.h"
#include "common/model/epc_resources.h"
#include "common/model/quantity.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"

namespace epc::bench {
namespace {

using cluster::GroupNode;
using cluster::NodeGroupState;
using cluster::ScaleDownNode;
using cluster::SteadyTime;

constexpr char kAzureEpc[] = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
constexpr char kIntelEpc[] = "sgx.intel.com/epc";
constexpr char kAgentPool[] = "agentpool";
constexpr char kZone[] = "topology.kubernetes.io/zone";
constexpr int kPendingPods = 10000;

Quantity Q(const std::string& text) {
  Result<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) {
    std::fprintf(stderr, "bad quantity %s: %s\n", text.c_str(), q.error().c_str());
    std::abort();
  }
  return q.value();
}

// One node group's shape: an AKS VM size in one zone.
struct GroupDef {
  std::string name;
  std::string agentpool;
  int zone = 1;
  std::string cpu, memory;  // allocatable (capacity minus AKS reservations)
  int epc_mib = 0;          // 0: a general group
  bool sgx_taint = false;   // sgx=true:NoSchedule
  bool batch = false;       // dedicated=batch label and NoSchedule taint
  int max_size = 500;
};

std::vector<GroupDef> GroupDefs() {
  std::vector<GroupDef> defs;
  auto add = [&](std::string pool, int zones, std::string cpu, std::string mem, int epc,
                 bool sgx_taint, bool batch = false) {
    for (int z = 1; z <= zones; ++z) {
      GroupDef d;
      d.name = pool + "-z" + std::to_string(z);
      d.agentpool = pool;
      d.zone = z;
      d.cpu = cpu;
      d.memory = mem;
      d.epc_mib = epc;
      d.sgx_taint = sgx_taint;
      d.batch = batch;
      defs.push_back(std::move(d));
    }
  };
  // Confidential: DC4s_v2 / DC8_v2 (112 / 168 MiB EPC), DC4s_v3 / DC8s_v3 (32 / 64 GiB EPC).
  add("sgxdc4v2", 3, "3860m", "12Gi", 112, false);
  add("sgxdc8v2", 3, "7820m", "28Gi", 168, false);
  add("sgxdc4v3", 2, "3860m", "27Gi", 32768, true);
  add("sgxdc8v3", 2, "7820m", "58Gi", 65536, true);
  // General: D4s_v5, D8s_v5, E8s_v5 (memory optimized), F16s_v2, and a tainted batch pool.
  add("gend4", 3, "3860m", "12Gi", 0, false);
  add("gend8", 3, "7820m", "28Gi", 0, false);
  add("gene8", 2, "7820m", "58Gi", 0, false);
  add("genf16", 1, "15740m", "27Gi", 0, false);
  add("batchd16", 1, "15740m", "58Gi", 0, false, true);
  return defs;
}

PoolClassifier BenchPools() {
  // As examples/config.yaml: the SGX agent pools are confidential, every other pool general.
  const std::vector<std::string> sgx = {"sgxdc4v2", "sgxdc8v2", "sgxdc4v3", "sgxdc8v3"};
  PoolSpec confidential{"sgx", true, {}};
  confidential.node_selector.match_expressions.push_back({kAgentPool, "In", sgx});
  PoolSpec general{"general", false, {}};
  general.node_selector.match_expressions.push_back({kAgentPool, "NotIn", sgx});
  return PoolClassifier({confidential, general});
}

Node MakeNode(const GroupDef& d, const std::string& name) {
  Node n;
  n.name = name;
  n.uid = "uid-" + name;
  n.labels[kAgentPool] = d.agentpool;
  n.labels[kZone] = "westeurope-" + std::to_string(d.zone);
  n.labels["kubernetes.io/hostname"] = name;
  n.labels["kubernetes.io/os"] = "linux";
  n.labels["node.kubernetes.io/instance-type"] = d.agentpool;
  auto set = [&](const std::string& r, const std::string& q) {
    n.allocatable[r] = Q(q);
    n.capacity[r] = Q(q);
  };
  set("cpu", d.cpu);
  set("memory", d.memory);
  set("pods", "110");
  set("ephemeral-storage", "100Gi");
  if (d.epc_mib > 0) set(kAzureEpc, std::to_string(d.epc_mib));
  if (d.sgx_taint) n.taints.push_back({"sgx", "true", "NoSchedule"});
  if (d.batch) {
    n.labels["dedicated"] = "batch";
    n.taints.push_back({"dedicated", "batch", "NoSchedule"});
  }
  return n;
}

// What one owner's pods look like.
struct Shape {
  std::string cpu, memory;
  int epc_mib = 0;
  bool intel_unit = false;  // EPC asked as sgx.intel.com/epc bytes instead of Azure MiB
  bool tolerate_sgx = false;
  bool tolerate_batch = false;
  std::map<std::string, std::string> node_selector;
};

struct Owner {
  std::string kind;  // ReplicaSet, Job, StatefulSet, DaemonSet
  std::string name;
  std::string ns;
  Shape shape;
};

Pod MakePod(const Owner& o, const std::string& name) {
  Pod p;
  p.name = name;
  p.namespace_name = o.ns;
  p.uid = "uid-" + o.ns + "-" + name;
  p.phase = "Pending";
  Container c{"app", {}, {}, false};
  c.requests["cpu"] = Q(o.shape.cpu);
  c.requests["memory"] = Q(o.shape.memory);
  if (o.shape.epc_mib > 0) {
    if (o.shape.intel_unit) {
      c.limits[kIntelEpc] = Q(std::to_string(o.shape.epc_mib) + "Mi");
    } else {
      c.limits[kAzureEpc] = Q(std::to_string(o.shape.epc_mib));
    }
  }
  p.containers.push_back(std::move(c));
  // A logging sidecar, as many real pods have.
  Container sidecar{"log", {}, {}, false};
  sidecar.requests["cpu"] = Q("10m");
  sidecar.requests["memory"] = Q("32Mi");
  p.containers.push_back(std::move(sidecar));
  p.owners.push_back({"apps/v1", o.kind, o.name, "uid-" + o.kind + "-" + o.name, true});
  p.labels["app"] = o.name;
  for (const auto& [k, v] : o.shape.node_selector) p.node_selector[k] = v;
  if (o.shape.tolerate_sgx) p.tolerations.push_back({"sgx", "Equal", "true", "NoSchedule", {}});
  if (o.shape.tolerate_batch) {
    p.tolerations.push_back({"dedicated", "Equal", "batch", "NoSchedule", {}});
  }
  // What the API server adds to every pod.
  p.tolerations.push_back({"node.kubernetes.io/not-ready", "Exists", "", "NoExecute", 300});
  p.tolerations.push_back({"node.kubernetes.io/unreachable", "Exists", "", "NoExecute", 300});
  return p;
}

// Picks from a list with the generator (plain modulo: reproducible everywhere).
template <typename T>
const T& Pick(std::mt19937& rng, const std::vector<T>& v) {
  return v[rng() % v.size()];
}
bool Chance(std::mt19937& rng, int percent) { return static_cast<int>(rng() % 100) < percent; }

// An owner as a real cluster has them: cpu and memory from the usual request steps, 40% enclave
// workloads (small EPC mostly, a few large ones that only DCsv3 holds), some pinned to a zone or
// a pool.
Owner TypicalOwner(std::mt19937& rng, int k) {
  static const std::vector<std::string> kCpu = {"50m",  "100m", "100m", "250m", "250m",
                                                "500m", "500m", "1",    "2"};
  static const std::vector<std::string> kMem = {"64Mi",  "128Mi", "128Mi", "256Mi", "512Mi",
                                                "512Mi", "1Gi",   "2Gi",   "4Gi"};
  static const std::vector<int> kEpc = {4, 8, 8, 16, 16, 24, 32, 64};
  static const std::vector<int> kBigEpc = {256, 512, 1024, 2048};
  static const std::vector<std::string> kNs = {"default", "payments",  "identity",
                                               "web",     "analytics", "ml"};
  Owner o;
  const int kind = static_cast<int>(rng() % 10);
  o.kind = kind < 7 ? "ReplicaSet" : kind < 9 ? "Job" : "StatefulSet";
  o.name = "owner-" + std::to_string(k);
  o.ns = Pick(rng, kNs);
  Shape& s = o.shape;
  s.cpu = Pick(rng, kCpu);
  s.memory = Pick(rng, kMem);
  const int zone = 1 + static_cast<int>(rng() % 3);
  if (Chance(rng, 40)) {
    if (Chance(rng, 10)) {
      s.epc_mib = Pick(rng, kBigEpc);
      s.tolerate_sgx = true;  // only DCsv3 (tainted) holds these
    } else {
      s.epc_mib = Pick(rng, kEpc);
      s.tolerate_sgx = Chance(rng, 60);
    }
    s.intel_unit = Chance(rng, 20);
    if (Chance(rng, 10)) s.node_selector[kZone] = "westeurope-" + std::to_string(zone);
  } else {
    if (Chance(rng, 15)) s.node_selector[kZone] = "westeurope-" + std::to_string(zone);
    if (Chance(rng, 5)) {
      s.tolerate_batch = true;
      s.node_selector["dedicated"] = "batch";
    } else if (Chance(rng, 5)) {
      s.node_selector[kAgentPool] = "gene8";
      s.memory = "8Gi";
    }
  }
  return o;
}

// Owner k of the worst case: its own shape (cpu and memory differ from every other owner's).
Owner DistinctOwner(std::mt19937& rng, int k) {
  Owner o = TypicalOwner(rng, k);
  o.shape.cpu = std::to_string(50 + k % 997) + "m";
  // 997 and 1009 are coprime: (k mod 997, k mod 1009) differ for every k below ~1,000,000.
  o.shape.memory = std::to_string(64 + k % 1009) + "Mi";
  if (o.shape.epc_mib > 0 && o.shape.epc_mib < 256) o.shape.epc_mib = 2 + k % 61;
  return o;
}

// Owner sizes falling off like 1/rank (a few large Deployments and Jobs, many small ones),
// summing to exactly `total`.
std::vector<int> Replicas(int owners, int total) {
  double sum = 0;
  for (int k = 0; k < owners; ++k) sum += 1.0 / (k + 1);
  std::vector<int> out;
  int given = 0;
  for (int k = 0; k < owners; ++k) {
    const int r = std::max(1, static_cast<int>(total / sum / (k + 1)));
    out.push_back(r);
    given += r;
  }
  out[0] += total - given;  // the rest to the largest owner
  return out;
}

// A cluster snapshot: Node and Pod objects at stable addresses, NodeInfos pointing at them.
struct Snapshot {
  EpcResources epc;
  PoolClassifier pools = BenchPools();
  std::deque<Node> nodes;
  std::deque<Pod> pods;
  std::deque<NodeInfo> infos;
  std::vector<std::vector<const Pod*>> pods_on;
  std::vector<NodeGroupState> groups;

  // A ready node like `d`, in group `g` unless that is null.
  size_t AddNode(const GroupDef& d, NodeGroupState* g) {
    const std::string name = "aks-" + d.name + "-" + std::to_string(1000000 + nodes.size());
    nodes.push_back(MakeNode(d, name));
    infos.push_back(MakeNodeInfo(nodes.back(), epc, pools));
    pods_on.emplace_back();
    if (g != nullptr) {
      g->nodes.push_back(GroupNode{name, true, SteadyTime{}});
      g->target_size = static_cast<int>(g->nodes.size());
    }
    return nodes.size() - 1;
  }
  // Binds `pod` to node `i` (Running), adding its request to the node.
  void Bind(size_t i, Pod pod) {
    pod.node_name = nodes[i].name;
    pod.phase = "Running";
    pods.push_back(std::move(pod));
    infos[i].requested += MakePodInfo(pods.back(), epc).request;
    pods_on[i].push_back(&pods.back());
  }
  // Whether `pod` fits node `i` now, by the one predicate.
  bool Fits(size_t i, const Pod& pod) const {
    const Predicate p{&epc, {}, CheckSet::All()};
    return p.Fits(MakePodInfo(pod, epc), infos[i]);
  }
};

void InitGroups(Snapshot& s, const std::vector<GroupDef>& defs) {
  for (const GroupDef& d : defs) {
    NodeGroupState g;
    g.spec.name = d.name;
    g.spec.min_size = 1;
    g.spec.max_size = d.max_size;
    g.spec.pool = d.epc_mib > 0 ? "sgx" : "general";
    g.spec.template_node = MakeNode(d, d.name + "-template");
    g.spec.provider = "azure";
    s.groups.push_back(std::move(g));
  }
}

// The DaemonSet pods on every node: kube-proxy and a log agent, plus the SGX device plugin on
// confidential nodes.
void BindDaemonSets(Snapshot& s, size_t i, const GroupDef& d) {
  auto ds = [&](const std::string& name, const std::string& ns, const std::string& cpu,
                const std::string& mem) {
    Owner o{"DaemonSet", name, ns, {cpu, mem, 0, false, true, true, {}}};
    s.Bind(i, MakePod(o, name + "-" + s.nodes[i].name));
  };
  ds("kube-proxy", "kube-system", "100m", "128Mi");
  ds("fluent-bit", "logging", "50m", "64Mi");
  if (d.epc_mib > 0) ds("sgx-plugin", "kube-system", "10m", "32Mi");
}

// Fills node `i` with pods of `owners` (for its pool) until cpu, memory, pods or EPC is at
// `percent`% or nothing more fits.
void Fill(Snapshot& s, std::mt19937& rng, size_t i, const std::vector<Owner>& owners, int percent,
          int& serial) {
  const NodeInfo& info = s.infos[i];
  auto full = [&] {
    const Resources& a = info.allocatable;
    const Resources& r = info.requested;
    auto over = [&](int64_t used, int64_t alloc) {
      return alloc > 0 && used * 100 >= alloc * percent;
    };
    return over(r.milli_cpu, a.milli_cpu) || over(r.memory, a.memory) || over(r.pods, a.pods) ||
           over(r.epc_bytes, a.epc_bytes);
  };
  for (int misses = 0; !full() && misses < 20;) {
    const Owner& o = Pick(rng, owners);
    Pod p = MakePod(o, o.name + "-run-" + std::to_string(serial++));
    if (!s.Fits(i, p)) {
      ++misses;
      continue;
    }
    s.Bind(i, std::move(p));
  }
}

// Owners of the running pods: general ones for general nodes, enclave ones for SGX nodes.
std::vector<Owner> RunningOwners(std::mt19937& rng, bool enclave) {
  std::vector<Owner> out;
  for (int k = 0; static_cast<int>(out.size()) < 60; ++k) {
    Owner o = TypicalOwner(rng, 10000 + k);
    o.shape.node_selector.clear();
    o.shape.tolerate_batch = false;
    if ((o.shape.epc_mib > 0) != enclave) continue;
    if (enclave) o.shape.tolerate_sgx = true;
    o.name = "running-" + std::to_string(k);
    out.push_back(std::move(o));
  }
  return out;
}

// ---- scale-up ----------------------------------------------------------------------------------

struct ScaleUpCase {
  Snapshot snap;
  std::vector<const Pod*> pending;
  std::vector<const NodeInfo*> node_ptrs;
  SteadyTime now = SteadyTime{} + std::chrono::hours(24);
  size_t classes = 0;
};

// distinct_shapes 0: the typical mix of 300 owners; otherwise that many owners, each with its own
// shape, sharing the 10,000 pods evenly.
std::unique_ptr<ScaleUpCase> BuildScaleUp(int distinct_shapes) {
  auto c = std::make_unique<ScaleUpCase>();
  Snapshot& s = c->snap;
  std::mt19937 rng(20261128);
  const std::vector<GroupDef> defs = GroupDefs();
  InitGroups(s, defs);

  // 15 existing nodes per group, filled to 85-100%.
  const std::vector<Owner> general = RunningOwners(rng, false);
  const std::vector<Owner> enclave = RunningOwners(rng, true);
  int serial = 0;
  for (size_t g = 0; g < defs.size(); ++g) {
    for (int k = 0; k < 15; ++k) {
      const size_t i = s.AddNode(defs[g], &s.groups[g]);
      BindDaemonSets(s, i, defs[g]);
      Fill(s, rng, i, defs[g].epc_mib > 0 ? enclave : general, 85 + static_cast<int>(rng() % 16),
           serial);
    }
  }
  // What a busy cluster has besides: nodes still booting, a group at its max, one in backoff.
  s.groups[0].target_size += 2;  // two upcoming DC4s_v2 nodes
  s.groups[12].target_size += 3;
  for (NodeGroupState* g : {&s.groups[0], &s.groups[12]}) {
    while (static_cast<int>(g->nodes.size()) < g->target_size) {
      g->nodes.push_back(GroupNode{g->spec.name + "-booting-" + std::to_string(g->nodes.size()),
                                   false, c->now - std::chrono::minutes(2)});
    }
  }
  s.groups[5].spec.max_size = s.groups[5].target_size;
  s.groups[9].backoff_until = c->now + std::chrono::minutes(3);

  // The pending pods.
  std::vector<Owner> owners;
  std::vector<int> replicas;
  if (distinct_shapes == 0) {
    for (int k = 0; k < 300; ++k) owners.push_back(TypicalOwner(rng, k));
    replicas = Replicas(300, kPendingPods);
  } else {
    for (int k = 0; k < distinct_shapes; ++k) owners.push_back(DistinctOwner(rng, k));
    replicas.assign(owners.size(), kPendingPods / distinct_shapes);
  }
  // Interleaved as the scheduler's queue reports them, not owner by owner.
  std::vector<int> left = replicas;
  std::vector<Pod> pending;
  for (bool any = true; any;) {
    any = false;
    for (size_t k = 0; k < owners.size(); ++k) {
      if (left[k] == 0) continue;
      any = true;
      Pod p = MakePod(owners[k], owners[k].name + "-" + std::to_string(left[k]--));
      p.unschedulable = true;
      pending.push_back(std::move(p));
    }
  }
  for (Pod& p : pending) {
    s.pods.push_back(std::move(p));
    c->pending.push_back(&s.pods.back());
  }
  for (const NodeInfo& n : s.infos) c->node_ptrs.push_back(&n);

  std::vector<PodInfo> infos;
  for (const Pod* p : c->pending) infos.push_back(MakePodInfo(*p, s.epc));
  c->classes = cluster::ClassifyPods(infos).members.size();
  return c;
}

ScaleUpCase& ScaleUpFor(int distinct_shapes) {
  static std::map<int, std::unique_ptr<ScaleUpCase>> cases;
  auto& slot = cases[distinct_shapes];
  if (!slot) slot = BuildScaleUp(distinct_shapes);
  return *slot;
}

void BM_ScaleUp(benchmark::State& state, int distinct_shapes) {
  ScaleUpCase& c = ScaleUpFor(distinct_shapes);
  cluster::ScaleUpPlanner planner(c.snap.epc, c.snap.pools, SchedulingPolicy{});
  const cluster::ScaleUpInput input{c.pending, c.node_ptrs, c.snap.groups, c.now};
  cluster::ScaleUpDecision d;
  for (auto _ : state) {
    d = planner.Plan(input);
    benchmark::DoNotOptimize(d);
  }
  if (!d.scale_up) state.SkipWithError(("no scale-up: " + d.message).c_str());
  state.counters["pods"] = static_cast<double>(c.pending.size());
  state.counters["classes"] = static_cast<double>(c.classes);
  state.counters["groups"] = static_cast<double>(c.snap.groups.size());
  state.counters["existing"] = static_cast<double>(c.node_ptrs.size());
  state.counters["nodes"] = d.node_count;
  state.counters["placed"] = static_cast<double>(d.pods.size());
  state.counters["unhelped"] = static_cast<double>(d.pods_unhelped.size());
  state.SetLabel(d.group);
}

// ---- scale-down --------------------------------------------------------------------------------

struct ScaleDownCase {
  Snapshot snap;
  std::vector<ScaleDownNode> nodes;
  cluster::UnneededTracker tracker;  // after a pass 11 minutes earlier
  SteadyTime now = SteadyTime{} + std::chrono::hours(24);
};

std::unique_ptr<ScaleDownCase> BuildScaleDown() {
  auto c = std::make_unique<ScaleDownCase>();
  Snapshot& s = c->snap;
  std::mt19937 rng(20261129);
  const std::vector<GroupDef> defs = GroupDefs();
  InitGroups(s, defs);
  const std::vector<Owner> general = RunningOwners(rng, false);
  const std::vector<Owner> enclave = RunningOwners(rng, true);
  int serial = 0;
  // 1,000 nodes: 49 per group plus 20 of a system pool in no group.
  GroupDef system{"system", "system", 1, "3860m", "12Gi"};
  for (size_t g = 0; g < defs.size(); ++g) {
    const GroupDef& d = defs[g];
    const std::vector<Owner>& mine = d.epc_mib > 0 ? enclave : general;
    for (int k = 0; k < 49; ++k) {
      const size_t i = s.AddNode(d, &s.groups[g]);
      BindDaemonSets(s, i, d);
      const int kind = static_cast<int>(rng() % 100);
      if (kind < 55) {
        Fill(s, rng, i, mine, 60 + static_cast<int>(rng() % 35), serial);  // busy
      } else if (kind < 75) {
        Fill(s, rng, i, mine, 15 + static_cast<int>(rng() % 25), serial);  // underused
      } else if (kind < 80) {
        // empty but for its DaemonSet pods
      } else if (kind < 90) {
        Fill(s, rng, i, mine, 10 + static_cast<int>(rng() % 25), serial);
        Owner o = Pick(rng, mine);  // and one pod that blocks the drain
        Pod p = MakePod(o, "blocker-" + std::to_string(serial++));
        switch (rng() % 4) {
          case 0:
            p.namespace_name = "kube-system";
            break;
          case 1:
            p.uses_local_storage = true;
            break;
          case 2:
            p.owners.clear();
            break;
          default:
            p.annotations[std::string(cluster::kSafeToEvictAnnotation)] = "false";
        }
        s.Bind(i, std::move(p));
      } else if (kind < 95) {
        // Underused, with a pod that can move by the drain rules but fits no other node: pinned
        // to this one by required node affinity (as a local PersistentVolume pins its pods).
        Fill(s, rng, i, mine, 15 + static_cast<int>(rng() % 25), serial);
        Pod p = MakePod(Pick(rng, mine), "pinned-" + std::to_string(serial++));
        p.required_node_affinity.push_back(
            {{{"kubernetes.io/hostname", "In", {s.nodes[i].name}}}, {}});
        s.Bind(i, std::move(p));
      } else if (kind < 97) {
        Fill(s, rng, i, mine, 20, serial);
        s.nodes[i].annotations[std::string(cluster::kScaleDownDisabledAnnotation)] = "true";
      } else {
        Fill(s, rng, i, mine, 70 + static_cast<int>(rng() % 25), serial);
      }
    }
  }
  for (int k = 0; k < 20; ++k) {
    const size_t i = s.AddNode(system, nullptr);
    BindDaemonSets(s, i, system);
    Fill(s, rng, i, general, 30, serial);
  }
  for (size_t i = 0; i < s.infos.size(); ++i) c->nodes.push_back({&s.infos[i], s.pods_on[i]});

  // The pass before, 11 minutes ago, starts the unneeded timers.
  const cluster::ScaleDownPlanner planner(s.epc, SchedulingPolicy{});
  planner.Plan({c->nodes, s.groups, nullptr, c->now - std::chrono::minutes(11)}, c->tracker);
  return c;
}

void BM_ScaleDown(benchmark::State& state) {
  static std::unique_ptr<ScaleDownCase> built = BuildScaleDown();
  ScaleDownCase& c = *built;
  const cluster::ScaleDownPlanner planner(c.snap.epc, SchedulingPolicy{});
  const cluster::ScaleDownInput input{c.nodes, c.snap.groups, nullptr, c.now};
  cluster::ScaleDownDecision d;
  for (auto _ : state) {
    state.PauseTiming();
    cluster::UnneededTracker tracker = c.tracker;  // every pass starts from the same state
    state.ResumeTiming();
    d = planner.Plan(input, tracker);
    benchmark::DoNotOptimize(d);
  }
  std::map<std::string, int> by_status;
  for (const cluster::NodeScaleDownStatus& n : d.nodes) ++by_status[n.status];
  state.counters["nodes"] = static_cast<double>(c.nodes.size());
  state.counters["pods"] = static_cast<double>(c.snap.pods.size());
  state.counters["removed"] = static_cast<double>(d.remove.size());
  for (const auto& [status, n] : by_status) state.counters[status] = n;
}

BENCHMARK_CAPTURE(BM_ScaleUp, mix, 0)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScaleUp, shapes_1000, 1000)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_ScaleUp, shapes_10000, 10000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ScaleDown)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace epc::bench

BENCHMARK_MAIN();
