#include "autoscaler/cluster/controller/controller.h"

#include <chrono>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "autoscaler/cluster/controller/kube_adapters.h"
#include "autoscaler/cluster/controller/report_json.h"
#include "autoscaler/cluster/providers/kwok.h"
#include "autoscaler/cluster/providers/node_template.h"
#include "common/k8s/decode.h"
#include "tests/testing/builders.h"
#include "tests/testing/fake_apiserver.h"

namespace epc::cluster {
namespace {

using nlohmann::json;
using std::chrono::seconds;

PoolClassifier Pools() {
  PoolSpec conf{"confidential", true, {}};
  conf.node_selector.match_labels["pool"] = "confidential";
  PoolSpec gen{"general", false, {}};
  gen.node_selector.match_labels["pool"] = "general";
  return PoolClassifier({conf, gen});
}

// A kwok group of 0 to 3 confidential nodes with `epc` of allocatable EPC each.
KwokGroupConfig ConfidentialGroup(const std::string& name, const std::string& epc) {
  return {name, 0, 3,
          testing::NodeBuilder("t")
              .Allocatable(testing::kIntelEpc, epc)
              .Label("pool", "confidential")
              .Build()};
}

// A cloud whose scale-ups of one group fail: IncreaseSize raises its target, and no instance
// is ever created (out of quota), or, with kCreatedNeverRegistered, instances are created whose
// Node never registers (a failed bootstrap: reported as unregistered, "machine/test/<n>"). The
// group's instances are the kwok nodes it had before (`target` counts them and any asked for
// beyond). The other groups are kwok's.
class OutOfQuotaProvider final : public NodeGroupProvider {
 public:
  enum Failure { kNeverCreated, kCreatedNeverRegistered };

  OutOfQuotaProvider(std::unique_ptr<KwokProvider> kwok, std::string group, int target = 0,
                     Failure failure = kNeverCreated)
      : kwok_(std::move(kwok)), group_(std::move(group)), target_(target), failure_(failure) {}

  std::string_view Name() const override { return "out-of-quota"; }
  Result<std::vector<ProviderGroup>> Refresh() override {
    auto groups = kwok_->Refresh();
    if (!groups.ok()) return groups;
    std::vector<ProviderGroup> out = std::move(groups).value();
    for (ProviderGroup& g : out) {
      if (g.name != group_) continue;
      g.target_size = target_;
      g.unregistered = unregistered_;
    }
    return out;
  }
  Result<int> TargetSize(const std::string& group) override {
    return group == group_ ? Result<int>(target_) : kwok_->TargetSize(group);
  }
  Result<int> IncreaseSize(const std::string& group, int delta) override {
    if (group != group_) return kwok_->IncreaseSize(group, delta);
    for (int i = 0; i < delta && failure_ == kCreatedNeverRegistered; ++i) {
      unregistered_.push_back("machine/test/" + group_ + "-" + std::to_string(created_++));
    }
    target_ += delta;
    return target_;
  }
  Result<int> DeleteNodes(const std::string& group,
                          std::span<const std::string> node_names) override {
    if (group == group_) {
      std::vector<std::string> nodes;
      int instances = 0;
      for (const std::string& name : node_names) {
        if (std::erase(unregistered_, name) > 0) {
          ++instances;
        } else {
          nodes.push_back(name);
        }
      }
      target_ -= instances;
      if (nodes.empty()) return target_;
      auto deleted = kwok_->DeleteNodes(group, nodes);
      if (!deleted.ok()) return deleted;
      target_ -= static_cast<int>(nodes.size());
      return target_;
    }
    return kwok_->DeleteNodes(group, node_names);
  }
  // Withdraws what was asked for beyond the instances that exist, never an instance.
  Result<int> DecreaseTargetSize(const std::string& group, int delta) override {
    if (group != group_) return kwok_->DecreaseTargetSize(group, delta);
    auto nodes = kwok_->TargetSize(group);  // kwok's target is its nodes
    if (!nodes.ok()) return nodes;
    const int existing = *nodes + static_cast<int>(unregistered_.size());
    if (delta <= 0 || target_ <= existing) return Error{"nothing to withdraw"};
    target_ = std::max(existing, target_ - delta);
    return target_;
  }
  std::optional<std::string> NodeGroupForNode(const Node& node) const override {
    return kwok_->NodeGroupForNode(node);
  }

  int target() const { return target_; }
  const std::vector<std::string>& unregistered() const { return unregistered_; }

 private:
  std::unique_ptr<KwokProvider> kwok_;
  std::string group_;
  int target_;
  Failure failure_;
  int created_ = 0;
  std::vector<std::string> unregistered_;
};

class ClusterControllerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    auto c = ApiClient::Create(server_.Config());
    ASSERT_TRUE(c.ok()) << c.error();
    client_ = *c;
    KwokOptions ko;
    ko.seed = 1;
    ko.groups.push_back(ConfidentialGroup("confidential", "128Mi"));
    ko.groups.push_back(
        {"general", 0, 3, testing::NodeBuilder("t").Label("pool", "general").Build()});
    provider_ = std::make_unique<KwokProvider>(client_, ko);
    lister_ = std::make_unique<ApiClusterPodLister>(client_);
    drainer_ = std::make_unique<ApiNodeDrainer>(client_);
    recorder_ = std::make_unique<ApiObjectEventRecorder>(client_, "epc-autoscaler", log_);
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << log_out_.str();
  }

  std::unique_ptr<ClusterAutoscaler> Make(ClusterAutoscalerOptions o) {
    o.policy.general_pods_on_confidential = GeneralPodPolicy::kDeny;
    auto ca =
        ClusterAutoscaler::Create(o, store_, *provider_, *lister_, *drainer_, *recorder_, log_);
    EXPECT_TRUE(ca.ok()) << ca.error();
    return std::move(ca).value();
  }

  json Must(Result<ApiResponse> r) {
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) return {};
    EXPECT_TRUE(r->ok()) << r->status << " " << r->ErrorMessage();
    return json::parse(r->body, nullptr, false);
  }

  // Plays the informer: the store becomes what the API server holds.
  void Sync() {
    std::vector<Node> nodes;
    json list1 = Must(client_->Get("/api/v1/nodes"));
    for (const auto& item : list1["items"]) {
      auto n = ParseNodeJson(item.dump());
      ASSERT_EQ(n.error, "");
      nodes.push_back(n.node);
    }
    store_.ReplaceNodes(std::move(nodes));
    std::vector<Pod> pods;
    json list2 = Must(client_->Get("/api/v1/pods"));
    for (const auto& item : list2["items"]) {
      auto p = ParsePodJson(item.dump());
      ASSERT_TRUE(p.ok()) << p.error();
      pods.push_back(*p);
    }
    store_.ReplacePods(pods);
  }

  // A pod owned by a ReplicaSet, requesting `resources`.
  void CreatePod(const std::string& name, json requests, json labels = json::object()) {
    json pod = {
        {"apiVersion", "v1"},
        {"kind", "Pod"},
        {"metadata",
         {{"name", name},
          {"namespace", "default"},
          {"labels", labels},
          {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                            {"kind", "ReplicaSet"},
                                            {"name", "rs-" + name},
                                            {"uid", "uid-rs-" + name},
                                            {"controller", true}}})}}},
        {"spec",
         {{"containers",
           json::array({{{"name", "c"},
                         {"image", "busybox"},
                         {"resources", {{"requests", requests}, {"limits", requests}}}}})}}}};
    Must(client_->Post("/api/v1/namespaces/default/pods", pod.dump()));
  }

  void SetPodStatus(const std::string& name, json status) {
    json pod = Must(client_->Get("/api/v1/namespaces/default/pods/" + name));
    pod["status"] = status;
    Must(client_->Put("/api/v1/namespaces/default/pods/" + name + "/status", pod.dump()));
  }

  void MarkUnschedulable(const std::string& name) {
    SetPodStatus(name, {{"phase", "Pending"},
                        {"conditions", json::array({{{"type", "PodScheduled"},
                                                     {"status", "False"},
                                                     {"reason", "Unschedulable"},
                                                     {"message", "0/0 nodes are available"}}})}});
  }

  void BindRunning(const std::string& name, const std::string& node) {
    Must(client_->Post("/api/v1/namespaces/default/pods/" + name + "/binding",
                       json({{"apiVersion", "v1"},
                             {"kind", "Binding"},
                             {"metadata", {{"name", name}}},
                             {"target", {{"kind", "Node"}, {"name", node}}}})
                           .dump()));
    SetPodStatus(name, {{"phase", "Running"},
                        {"conditions", json::array({{{"type", "PodScheduled"}, {"status", "True"}},
                                                    {{"type", "Ready"}, {"status", "True"}}})}});
  }

  // Groups "confidential", whose scale-ups fail as `failure` says, and "confidential-big", and
  // a pending pod that fits either.
  const OutOfQuotaProvider& FailingConfidentialCloud(uint64_t seed,
                                                     OutOfQuotaProvider::Failure failure) {
    KwokOptions ko;
    ko.seed = seed;
    ko.groups.push_back(ConfidentialGroup("confidential", "128Mi"));
    ko.groups.push_back(ConfidentialGroup("confidential-big", "256Mi"));
    auto cloud = std::make_unique<OutOfQuotaProvider>(std::make_unique<KwokProvider>(client_, ko),
                                                      "confidential", 0, failure);
    const OutOfQuotaProvider& failing = *cloud;
    provider_ = std::move(cloud);
    CreatePod("enclave", {{"cpu", "500m"}, {"sgx.intel.com/epc", "64Mi"}});
    MarkUnschedulable("enclave");
    return failing;
  }

  std::vector<std::string> NodeNames(const std::string& group) {
    std::vector<std::string> out;
    json list3 = Must(client_->Get("/api/v1/nodes"));
    for (const auto& item : list3["items"]) {
      auto labels = item["metadata"].value("labels", json::object());
      if (labels.value(std::string(kNodeGroupLabel), "") == group) {
        out.push_back(item["metadata"]["name"]);
      }
    }
    return out;
  }

  std::vector<json> Events(const std::string& reason) {
    std::vector<json> out;
    json list4 = Must(client_->Get("/api/v1/events"));
    for (const auto& e : list4["items"]) {
      if (e.value("reason", "") == reason) out.push_back(e);
    }
    return out;
  }

  testing::FakeApiServer server_;
  std::shared_ptr<ApiClient> client_;
  std::ostringstream log_out_;
  Logger log_{log_out_};
  ClusterStore store_{EpcResources(), Pools()};
  std::unique_ptr<NodeGroupProvider> provider_;
  std::unique_ptr<ApiClusterPodLister> lister_;
  std::unique_ptr<ApiNodeDrainer> drainer_;
  std::unique_ptr<ApiObjectEventRecorder> recorder_;
};

TEST_F(ClusterControllerTest, EnclavePodScalesConfidentialFromZeroGeneralPodScalesGeneral) {
  CreatePod("enclave", {{"cpu", "500m"}, {"sgx.intel.com/epc", "64Mi"}});
  CreatePod("web", {{"cpu", "1"}, {"memory", "1Gi"}});
  MarkUnschedulable("enclave");
  MarkUnschedulable("web");
  auto ca = Make({});
  SteadyTime t0{};
  Sync();
  auto r1 = ca->Reconcile(t0);
  ASSERT_TRUE(r1.errors.empty()) << r1.errors[0];
  EXPECT_EQ(r1.pending_pods, 2);
  ASSERT_TRUE(r1.scale_up.has_value());
  EXPECT_TRUE(r1.scale_up_applied) << r1.scale_up->message;
  Sync();
  auto r2 = ca->Reconcile(t0 + seconds(10));
  ASSERT_TRUE(r2.errors.empty()) << r2.errors[0];
  EXPECT_TRUE(r2.scale_up_applied);
  EXPECT_NE(r1.scale_up->group, r2.scale_up->group);

  EXPECT_EQ(NodeNames("confidential").size(), 1u);
  EXPECT_EQ(NodeNames("general").size(), 1u);
  auto triggered = Events("TriggeredScaleUp");
  ASSERT_EQ(triggered.size(), 2u);
  for (const json& e : triggered) {
    std::string pod = e["involvedObject"]["name"];
    std::string msg = e["message"];
    if (pod == "enclave") {
      EXPECT_EQ(msg, "pod triggered scale-up: [{confidential 0->1 (max: 3)}]");
    } else {
      EXPECT_EQ(pod, "web");
      EXPECT_EQ(msg, "pod triggered scale-up: [{general 0->1 (max: 3)}]");
    }
  }
  // Metrics after the second loop.
  const auto& m = ca->metrics();
  ASSERT_EQ(m.groups.size(), 2u);
  for (const auto& g : m.groups) {
    EXPECT_EQ(g.scale_ups_total, 1) << g.group;
    EXPECT_EQ(g.max_size, 3);
  }
  EXPECT_EQ(m.pending_pods.at("scale_up_triggered"), 1);
  EXPECT_EQ(m.pending_pods.at("fits_existing"), 1);

  // Third loop: both pods fit the new nodes; nothing to do.
  Sync();
  auto r3 = ca->Reconcile(t0 + seconds(20));
  EXPECT_FALSE(r3.scale_up_applied);
  EXPECT_EQ(NodeNames("confidential").size(), 1u);
}

TEST_F(ClusterControllerTest, PodThatFitsNoGroupGetsNotTriggerScaleUp) {
  CreatePod("huge", {{"cpu", "1"}, {"sgx.intel.com/epc", "1Gi"}});
  MarkUnschedulable("huge");
  auto ca = Make({});
  Sync();
  auto r = ca->Reconcile(SteadyTime{});
  ASSERT_TRUE(r.scale_up.has_value());
  EXPECT_FALSE(r.scale_up->scale_up);
  EXPECT_EQ(ca->metrics().pending_pods.at("no_group_fits"), 1);
  auto ev = Events("NotTriggerScaleUp");
  ASSERT_EQ(ev.size(), 1u);
  std::string msg = ev[0]["message"];
  EXPECT_NE(msg.find("confidential: no_pods_placed"), std::string::npos) << msg;
}

TEST_F(ClusterControllerTest, DryRunWritesNothing) {
  CreatePod("enclave", {{"cpu", "500m"}, {"sgx.intel.com/epc", "64Mi"}});
  MarkUnschedulable("enclave");
  ClusterAutoscalerOptions o;
  o.dry_run = true;
  auto ca = Make(o);
  Sync();
  auto r = ca->Reconcile(SteadyTime{});
  ASSERT_TRUE(r.scale_up.has_value());
  EXPECT_TRUE(r.scale_up->scale_up);
  EXPECT_EQ(r.scale_up->group, "confidential");
  EXPECT_FALSE(r.scale_up_applied);
  EXPECT_TRUE(NodeNames("confidential").empty());
  EXPECT_TRUE(Events("TriggeredScaleUp").empty());
}

TEST_F(ClusterControllerTest, EmptyConfidentialNodeRemovedAfterUnneededTime) {
  ASSERT_TRUE(provider_->IncreaseSize("confidential", 1).ok());
  std::string node = NodeNames("confidential").at(0);
  ClusterAutoscalerOptions o;
  o.scale_down.unneeded_time = seconds(30);
  auto ca = Make(o);
  SteadyTime t0{};
  Sync();
  auto r1 = ca->Reconcile(t0);
  ASSERT_TRUE(r1.errors.empty()) << r1.errors[0];
  EXPECT_TRUE(r1.removals.empty());
  EXPECT_EQ(ca->metrics().groups[0].unneeded_nodes, 1);
  Sync();
  auto r2 = ca->Reconcile(t0 + seconds(20));
  EXPECT_TRUE(r2.removals.empty());
  EXPECT_EQ(NodeNames("confidential").size(), 1u);
  Sync();
  auto r3 = ca->Reconcile(t0 + seconds(31));
  ASSERT_EQ(r3.removals.size(), 1u);
  EXPECT_EQ(r3.removals[0].node, node);
  EXPECT_EQ(r3.removals[0].outcome, "deleted") << r3.removals[0].message;
  EXPECT_TRUE(NodeNames("confidential").empty());
  EXPECT_EQ(ca->metrics().groups[0].scale_downs_total, 1);
  EXPECT_EQ(Events("ScaleDown").size(), 1u);
}

TEST_F(ClusterControllerTest, PdbBlocksDrain) {
  // A static (not autoscaled) general node that can take the pod, and one general group node
  // running a pod that a PodDisruptionBudget protects.
  json fixed = NodeToJson(testing::NodeBuilder("static-1").Label("pool", "general").Build());
  json created = Must(client_->Post("/api/v1/nodes", fixed.dump()));
  created["status"] = fixed["status"];
  Must(client_->Put("/api/v1/nodes/static-1/status", created.dump()));
  ASSERT_TRUE(provider_->IncreaseSize("general", 1).ok());
  std::string node = NodeNames("general").at(0);
  CreatePod("db", {{"cpu", "100m"}, {"memory", "128Mi"}}, {{"app", "db"}});
  BindRunning("db", node);
  Must(client_->Post(
      "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
      json({{"apiVersion", "policy/v1"},
            {"kind", "PodDisruptionBudget"},
            {"metadata", {{"name", "db"}, {"namespace", "default"}}},
            {"spec", {{"minAvailable", 1}, {"selector", {{"matchLabels", {{"app", "db"}}}}}}}})
          .dump()));

  ClusterAutoscalerOptions o;
  o.scale_down.unneeded_time = seconds(5);
  auto ca = Make(o);
  SteadyTime t0{};
  Sync();
  auto r1 = ca->Reconcile(t0);
  ASSERT_TRUE(r1.errors.empty()) << r1.errors[0];
  Sync();
  auto r2 = ca->Reconcile(t0 + seconds(6));
  ASSERT_EQ(r2.removals.size(), 1u);
  EXPECT_EQ(r2.removals[0].node, node);
  EXPECT_EQ(r2.removals[0].outcome, "blocked_by_pdb") << r2.removals[0].message;

  // The pod stays, the node stays and is untainted, events say why.
  json pod = Must(client_->Get("/api/v1/namespaces/default/pods/db"));
  EXPECT_EQ(pod["spec"]["nodeName"], node);
  json n = Must(client_->Get("/api/v1/nodes/" + node));
  for (const auto& t : n["spec"].value("taints", json::array())) {
    EXPECT_NE(t.value("key", ""), std::string(kToBeDeletedTaint));
  }
  EXPECT_EQ(NodeNames("general").size(), 1u);
  EXPECT_FALSE(Events("ScaleDownFailed").empty());
  // The taint was set before the eviction was tried.
  bool tainted_once = false;
  json list5 = Must(client_->Get("/__test/requests"));
  for (const auto& req : list5["items"]) {
    if (req["method"] == "PUT" && req["path"] == "/api/v1/nodes/" + node &&
        req["body"].dump().find(kToBeDeletedTaint) != std::string::npos) {
      tainted_once = true;
    }
  }
  EXPECT_TRUE(tainted_once);

  // The next pass reports the node blocked by the PDB instead of retrying at once.
  Sync();
  auto r3 = ca->Reconcile(t0 + seconds(7));
  EXPECT_TRUE(r3.removals.empty());
  ASSERT_TRUE(r3.scale_down.has_value());
  bool blocked = false;
  for (const auto& s : r3.scale_down->nodes) {
    if (s.node == node) blocked = s.status == "blocked_by_pdb";
  }
  EXPECT_TRUE(blocked);
}

TEST_F(ClusterControllerTest, NodeNotReadyInTimeIsDeletedAndTheNextGroupTried) {
  KwokOptions ko;
  ko.seed = 2;
  ko.groups.push_back(ConfidentialGroup("confidential", "128Mi"));
  // Twice the EPC: least-waste prefers the small group while it is healthy.
  ko.groups.push_back(ConfidentialGroup("confidential-big", "256Mi"));
  provider_ = std::make_unique<KwokProvider>(client_, ko);
  CreatePod("enclave", {{"cpu", "500m"}, {"sgx.intel.com/epc", "64Mi"}});
  MarkUnschedulable("enclave");
  ClusterAutoscalerOptions o;
  o.group_pools["confidential"] = "confidential";
  auto ca = Make(o);
  SteadyTime t0{};
  Sync();
  auto r1 = ca->Reconcile(t0);
  ASSERT_TRUE(r1.scale_up_applied);
  ASSERT_EQ(r1.scale_up->group, "confidential");
  // The new node never becomes Ready.
  const std::string stuck = NodeNames("confidential").at(0);
  json node = Must(client_->Get("/api/v1/nodes/" + stuck));
  node["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", "False"}}});
  Must(client_->Put("/api/v1/nodes/" + stuck + "/status", node.dump()));
  Sync();

  // The node registers soon after the scale-up; until the provisioning time is over the pod
  // counts on it: no second scale-up.
  EXPECT_FALSE(ca->Reconcile(t0 + std::chrono::seconds(30)).scale_up_applied);
  auto r2 = ca->Reconcile(t0 + std::chrono::minutes(10));
  EXPECT_FALSE(r2.scale_up_applied);
  EXPECT_TRUE(r2.removals.empty());

  auto r3 = ca->Reconcile(t0 + std::chrono::minutes(16));
  ASSERT_EQ(r3.timeouts.size(), 1u);
  EXPECT_EQ(r3.timeouts[0].group, "confidential");
  ASSERT_EQ(r3.removals.size(), 1u);
  EXPECT_EQ(r3.removals[0].node, stuck);
  EXPECT_EQ(r3.removals[0].cause, "provisioning_timeout");
  EXPECT_EQ(r3.removals[0].outcome, "deleted");
  EXPECT_TRUE(NodeNames("confidential").empty());
  ASSERT_TRUE(r3.scale_up.has_value());
  ASSERT_TRUE(r3.scale_up_applied) << r3.scale_up->message;
  EXPECT_EQ(r3.scale_up->group, "confidential-big");
  EXPECT_EQ(Events("ScaleUpTimedOut").size(), 1u);
  for (const auto& g : ca->metrics().groups) {
    EXPECT_EQ(g.backoffs_total, g.group == "confidential" ? 1 : 0) << g.group;
  }

  // The --once report: one line per group and a summary.
  std::vector<std::string> lines = ClusterReportJsonLines(r3);
  ASSERT_EQ(lines.size(), 3u);
  std::map<std::string, json> by_group;
  for (const std::string& l : lines) {
    json j = json::parse(l);
    if (j["kind"] == "NodeGroup") by_group[j["group"]] = j;
  }
  const json& small = by_group.at("confidential");
  EXPECT_EQ(small["pool"], "confidential");  // from the configuration
  EXPECT_EQ(small["decision"], "scale_down");
  EXPECT_EQ(small["currentSize"], 1);
  EXPECT_EQ(small["targetSize"], 0);
  EXPECT_EQ(small["inBackoff"], true);
  EXPECT_EQ(small["notChosen"]["reason"], "in_backoff");
  EXPECT_EQ(small["removals"][0]["cause"], "provisioning_timeout");
  const json& big = by_group.at("confidential-big");
  EXPECT_EQ(big["pool"], "confidential");  // classified from the template's labels
  EXPECT_EQ(big["decision"], "scale_up");
  EXPECT_EQ(big["currentSize"], 0);
  EXPECT_EQ(big["targetSize"], 1);
  EXPECT_EQ(big["pods"], json::array({"default/enclave"}));
  json summary = json::parse(lines.back());
  EXPECT_EQ(summary["kind"], "ClusterAutoscaler");
  EXPECT_EQ(summary["scaleUp"], "confidential-big");
  EXPECT_EQ(summary["provisioningTimeouts"].size(), 1u);
}

// Instances the cloud never creates must not count as coming forever: at the provisioning
// timeout they are withdrawn from the target, and the pod gets a node from the next group.
TEST_F(ClusterControllerTest, InstancesNeverCreatedAreWithdrawnAndTheNextGroupTried) {
  const OutOfQuotaProvider& quota = FailingConfidentialCloud(3, OutOfQuotaProvider::kNeverCreated);
  auto ca = Make({});
  SteadyTime t0{};
  Sync();
  auto r1 = ca->Reconcile(t0);
  ASSERT_TRUE(r1.scale_up_applied);
  ASSERT_EQ(r1.scale_up->group, "confidential");
  EXPECT_EQ(quota.target(), 1);

  // Within the provisioning time the pod counts on the instance asked for.
  Sync();
  auto r2 = ca->Reconcile(t0 + std::chrono::minutes(10));
  EXPECT_FALSE(r2.scale_up_applied);
  EXPECT_TRUE(r2.withdrawals.empty());

  auto r3 = ca->Reconcile(t0 + std::chrono::minutes(16));
  ASSERT_EQ(r3.timeouts.size(), 1u);
  EXPECT_EQ(r3.timeouts[0].missing_nodes, 1);
  ASSERT_EQ(r3.withdrawals.size(), 1u);
  EXPECT_EQ(r3.withdrawals[0].group, "confidential");
  EXPECT_EQ(r3.withdrawals[0].instances, 1);
  EXPECT_EQ(r3.withdrawals[0].outcome, "withdrawn") << r3.withdrawals[0].message;
  EXPECT_EQ(r3.withdrawals[0].target_size, 0);
  EXPECT_EQ(quota.target(), 0);
  ASSERT_TRUE(r3.scale_up.has_value());
  ASSERT_TRUE(r3.scale_up_applied) << r3.scale_up->message;
  EXPECT_EQ(r3.scale_up->group, "confidential-big");
  EXPECT_EQ(NodeNames("confidential-big").size(), 1u);
  std::vector<std::string> lines = ClusterReportJsonLines(r3);
  bool reported = false;
  for (const std::string& l : lines) {
    json j = json::parse(l);
    if (j["kind"] == "NodeGroup" && j["group"] == "confidential") {
      EXPECT_EQ(j["withdrawn"]["instances"], 1) << l;
      EXPECT_EQ(j["withdrawn"]["outcome"], "withdrawn") << l;
      EXPECT_EQ(j["targetSize"], 0) << l;
      reported = true;
    }
  }
  EXPECT_TRUE(reported);

  // Reported once: the next loops withdraw nothing more.
  Sync();
  EXPECT_TRUE(ca->Reconcile(t0 + std::chrono::minutes(17)).withdrawals.empty());
}

// An instance created whose Node never registers (a Cluster API Machine that failed to
// bootstrap) counts as coming only for the provisioning time: then it is deleted like a node
// that never turned Ready, and the pod gets a node from the next group.
TEST_F(ClusterControllerTest, InstanceThatNeverRegistersIsDeletedAndTheNextGroupTried) {
  const OutOfQuotaProvider& failing =
      FailingConfidentialCloud(4, OutOfQuotaProvider::kCreatedNeverRegistered);
  auto ca = Make({});
  SteadyTime t0{};
  Sync();
  auto r1 = ca->Reconcile(t0);
  ASSERT_TRUE(r1.scale_up_applied);
  ASSERT_EQ(r1.scale_up->group, "confidential");
  ASSERT_EQ(failing.unregistered(), std::vector<std::string>{"machine/test/confidential-0"});

  // Within the provisioning time the pod counts on the instance; the group shows it.
  Sync();
  auto r2 = ca->Reconcile(t0 + std::chrono::minutes(10));
  EXPECT_FALSE(r2.scale_up_applied);
  EXPECT_TRUE(r2.removals.empty());
  bool shown = false;
  for (const auto& g : r2.groups) {
    if (g.group != "confidential") continue;
    EXPECT_EQ(g.target_size, 1);
    EXPECT_EQ(g.nodes, 1);
    EXPECT_EQ(g.ready, 0);
    shown = true;
  }
  EXPECT_TRUE(shown);

  // The scale-up times out, and its instance with it.
  auto r3 = ca->Reconcile(t0 + std::chrono::minutes(16));
  ASSERT_EQ(r3.timeouts.size(), 1u);
  EXPECT_EQ(r3.timeouts[0].unready_nodes, std::vector<std::string>{"machine/test/confidential-0"});
  EXPECT_EQ(r3.timeouts[0].missing_nodes, 0);
  EXPECT_TRUE(r3.withdrawals.empty());
  ASSERT_EQ(r3.removals.size(), 1u);
  EXPECT_EQ(r3.removals[0].node, "machine/test/confidential-0");
  EXPECT_EQ(r3.removals[0].outcome, "deleted") << r3.removals[0].message;
  EXPECT_NE(r3.removals[0].message.find("no Node registered"), std::string::npos);
  EXPECT_TRUE(failing.unregistered().empty());
  EXPECT_EQ(failing.target(), 0);
  ASSERT_TRUE(r3.scale_up.has_value());
  ASSERT_TRUE(r3.scale_up_applied) << r3.scale_up->message;
  EXPECT_EQ(r3.scale_up->group, "confidential-big");
  EXPECT_EQ(NodeNames("confidential-big").size(), 1u);
  // No event names a Node that does not exist.
  json events = Must(client_->Get("/api/v1/events"));
  for (const auto& e : events["items"]) {
    EXPECT_NE(e["involvedObject"].value("name", ""), "machine/test/confidential-0") << e.dump();
  }
}

// One timeout with a node that never got Ready and an instance never created: the node is
// deleted and the instance withdrawn, and the group's target comes down by exactly the two.
TEST_F(ClusterControllerTest, UnreadyNodeDeletedAndMissingInstanceWithdrawnInOneLoop) {
  KwokOptions ko;
  ko.seed = 5;
  ko.groups.push_back(ConfidentialGroup("confidential", "128Mi"));
  auto kwok = std::make_unique<KwokProvider>(client_, ko);
  ASSERT_TRUE(kwok->IncreaseSize("confidential", 1).ok());
  const std::string stuck = NodeNames("confidential").at(0);
  json node = Must(client_->Get("/api/v1/nodes/" + stuck));
  node["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", "False"}}});
  Must(client_->Put("/api/v1/nodes/" + stuck + "/status", node.dump()));
  // The node, and one more asked for that the cloud never created.
  auto cloud = std::make_unique<OutOfQuotaProvider>(std::move(kwok), "confidential", 2);
  const OutOfQuotaProvider& quota = *cloud;
  provider_ = std::move(cloud);
  auto ca = Make({});
  SteadyTime t0{};
  Sync();
  ASSERT_TRUE(ca->Reconcile(t0).errors.empty());
  auto r = ca->Reconcile(t0 + std::chrono::minutes(16));
  ASSERT_TRUE(r.errors.empty()) << r.errors[0];
  ASSERT_EQ(r.removals.size(), 1u);
  EXPECT_EQ(r.removals[0].node, stuck);
  EXPECT_EQ(r.removals[0].outcome, "deleted");
  ASSERT_EQ(r.withdrawals.size(), 1u);
  EXPECT_EQ(r.withdrawals[0].outcome, "withdrawn") << r.withdrawals[0].message;
  EXPECT_EQ(r.withdrawals[0].message,
            "withdrew 1 instance(s) of confidential never created within the provisioning time; "
            "target 2 -> 1");
  EXPECT_EQ(quota.target(), 0);
  ASSERT_EQ(ca->metrics().groups.size(), 1u);
  EXPECT_EQ(ca->metrics().groups[0].target_size, 0);
  const std::vector<std::string> lines = ClusterReportJsonLines(r);
  const json group = json::parse(lines.at(0));
  EXPECT_EQ(group["group"], "confidential");
  EXPECT_EQ(group["targetSize"], 0) << lines[0];
}

// In a dry run nothing is withdrawn, but the report says what would be.
TEST_F(ClusterControllerTest, DryRunOnlyReportsTheWithdrawal) {
  KwokOptions ko;
  ko.seed = 4;
  ko.groups.push_back(ConfidentialGroup("confidential", "128Mi"));
  auto cloud = std::make_unique<OutOfQuotaProvider>(std::make_unique<KwokProvider>(client_, ko),
                                                    "confidential");
  OutOfQuotaProvider& quota = *cloud;
  provider_ = std::move(cloud);
  ASSERT_TRUE(quota.IncreaseSize("confidential", 2).ok());
  ClusterAutoscalerOptions o;
  o.dry_run = true;
  auto ca = Make(o);
  SteadyTime t0{};
  Sync();
  EXPECT_TRUE(ca->Reconcile(t0).withdrawals.empty());
  // Asked for before this controller started, so no scale-up of its own times out: the excess
  // is given up on once it has lasted the provisioning time.
  EXPECT_TRUE(ca->Reconcile(t0 + std::chrono::minutes(14)).withdrawals.empty());
  auto r = ca->Reconcile(t0 + std::chrono::minutes(16));
  ASSERT_EQ(r.withdrawals.size(), 1u);
  EXPECT_EQ(r.withdrawals[0].outcome, "dry_run") << r.withdrawals[0].message;
  EXPECT_EQ(r.withdrawals[0].instances, 2);
  EXPECT_EQ(r.withdrawals[0].target_size, 2);
  EXPECT_EQ(quota.target(), 2);
  EXPECT_TRUE(r.errors.empty());
}

TEST_F(ClusterControllerTest, NodeThatWasReadyAndTurnsNotReadyIsNoProvisioningFailure) {
  ASSERT_TRUE(provider_->IncreaseSize("confidential", 1).ok());
  const std::string node = NodeNames("confidential").at(0);
  CreatePod("enclave", {{"cpu", "500m"}, {"sgx.intel.com/epc", "100Mi"}});
  BindRunning("enclave", node);  // busy: not a scale-down candidate
  auto ca = Make({});
  SteadyTime t0{};
  Sync();
  ca->Reconcile(t0);  // seen Ready
  json n = Must(client_->Get("/api/v1/nodes/" + node));
  n["status"]["conditions"] = json::array({{{"type", "Ready"}, {"status", "False"}}});
  Must(client_->Put("/api/v1/nodes/" + node + "/status", n.dump()));
  Sync();
  // Long past the provisioning time: a kubelet problem, not a failed scale-up. The node stays
  // and its group may still grow.
  auto r = ca->Reconcile(t0 + std::chrono::hours(1));
  EXPECT_TRUE(r.timeouts.empty());
  EXPECT_TRUE(r.removals.empty());
  EXPECT_EQ(NodeNames("confidential").size(), 1u);
  for (const GroupReport& g : r.groups) EXPECT_FALSE(g.in_backoff) << g.group;
}

}  // namespace
}  // namespace epc::cluster
