#include "autoscaler/cluster/providers/clusterapi.h"

#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "autoscaler/cluster/providers/node_template.h"
#include "tests/testing/builders.h"
#include "tests/testing/fake_apiserver.h"

namespace epc::cluster {
namespace {

using nlohmann::json;
using testing::Q;

constexpr const char* kMds = "/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/machinedeployments";
constexpr const char* kMachines = "/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/machines";

class ClusterApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    auto c = ApiClient::Create(server_.Config());
    ASSERT_TRUE(c.ok()) << c.error();
    client_ = *c;
    Must(client_->Post("/api/v1/namespaces",
                       R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"capi"}})"));
  }

  json Must(Result<ApiResponse> r) {
    EXPECT_TRUE(r.ok()) << r.error();
    if (!r.ok()) return {};
    EXPECT_TRUE(r->ok()) << r->ErrorMessage();
    return json::parse(r->body, nullptr, false);
  }

  void AddMd(const std::string& name, int replicas, json annotations) {
    json md = {{"apiVersion", "cluster.x-k8s.io/v1beta1"},
               {"kind", "MachineDeployment"},
               {"metadata", {{"name", name}, {"namespace", "capi"}}},
               {"spec",
                {{"clusterName", "c1"},
                 {"replicas", replicas},
                 {"selector", {{"matchLabels", {{"cluster.x-k8s.io/deployment-name", name}}}}},
                 {"template",
                  {{"metadata", {{"labels", {{"cluster.x-k8s.io/deployment-name", name}}}}},
                   {"spec", {{"clusterName", "c1"}}}}}}}};
    if (!annotations.is_null()) md["metadata"]["annotations"] = annotations;
    Must(client_->Post(kMds, md.dump()));
  }

  // `node` empty: a Machine whose Node has not registered (still provisioning, or failed).
  void AddMachine(const std::string& md, const std::string& name, const std::string& node) {
    json m = {{"apiVersion", "cluster.x-k8s.io/v1beta1"},
              {"kind", "Machine"},
              {"metadata",
               {{"name", name},
                {"namespace", "capi"},
                {"labels", {{"cluster.x-k8s.io/deployment-name", md}}}}},
              {"spec", {{"clusterName", "c1"}, {"bootstrap", json::object()}}}};
    json created = Must(client_->Post(kMachines, m.dump()));
    if (node.empty()) return;
    created["status"] = {{"nodeRef", {{"kind", "Node"}, {"name", node}}}};
    Must(client_->Put(std::string(kMachines) + "/" + name + "/status", created.dump()));
  }

  int Replicas(const std::string& md) {
    json s = Must(client_->Get(std::string(kMds) + "/" + md + "/scale"));
    return s["spec"].value("replicas", 0);
  }

  testing::FakeApiServer server_;
  std::shared_ptr<ApiClient> client_;
};

json Sizes(int min, int max) {
  return {{std::string(kCapiMinSizeAnnotation), std::to_string(min)},
          {std::string(kCapiMaxSizeAnnotation), std::to_string(max)}};
}

TEST_F(ClusterApiTest, DiscoversOnlyAnnotatedOrConfiguredDeployments) {
  AddMd("general", 2, Sizes(1, 5));
  AddMd("unmanaged", 1, nullptr);
  AddMd("configured", 0, nullptr);
  ClusterApiOptions opts;
  opts.namespace_name = "capi";
  opts.groups.push_back({"capi/configured", 0, 3, std::nullopt});
  ClusterApiProvider p(client_, opts);
  auto groups = p.Refresh();
  ASSERT_TRUE(groups.ok()) << groups.error();
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].name, "capi/configured");
  EXPECT_EQ((*groups)[0].max_size, 3);
  EXPECT_EQ((*groups)[1].name, "capi/general");
  EXPECT_EQ((*groups)[1].min_size, 1);
  EXPECT_EQ((*groups)[1].max_size, 5);
  EXPECT_EQ((*groups)[1].target_size, 2);
  EXPECT_FALSE((*groups)[1].template_node.has_value());
}

TEST_F(ClusterApiTest, BadAnnotationIsAnError) {
  AddMd("bad", 0,
        {{std::string(kCapiMinSizeAnnotation), "x"}, {std::string(kCapiMaxSizeAnnotation), "3"}});
  ClusterApiProvider p(client_, {});
  auto groups = p.Refresh();
  ASSERT_FALSE(groups.ok());
  EXPECT_NE(groups.error().find("min-size"), std::string::npos) << groups.error();
}

TEST_F(ClusterApiTest, ScalesUpThroughScaleSubresource) {
  AddMd("general", 1, Sizes(0, 3));
  ClusterApiProvider p(client_, {});
  ASSERT_TRUE(p.Refresh().ok());
  auto t = p.IncreaseSize("capi/general", 2);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, 3);
  EXPECT_EQ(Replicas("general"), 3);
  EXPECT_EQ(*p.TargetSize("capi/general"), 3);
  EXPECT_FALSE(p.IncreaseSize("capi/general", 1).ok());  // max 3
  // The write went to the scale subresource.
  json reqs = Must(client_->Get("/__test/requests"));
  bool patched_scale = false;
  for (const auto& r : reqs["items"]) {
    if (r["method"] == "PATCH" && r["path"] == std::string(kMds) + "/general/scale") {
      patched_scale = true;
    }
  }
  EXPECT_TRUE(patched_scale);
}

TEST_F(ClusterApiTest, MapsNodesAndDeletesAnnotatedMachinesThenScalesDown) {
  AddMd("general", 3, Sizes(1, 5));
  AddMachine("general", "general-m1", "node-a");
  AddMachine("general", "general-m2", "node-b");
  AddMachine("general", "general-m3", "node-c");
  ClusterApiProvider p(client_, {});
  ASSERT_TRUE(p.Refresh().ok());
  Node b;
  b.name = "node-b";
  EXPECT_EQ(p.NodeGroupForNode(b).value_or(""), "capi/general");
  Node other;
  other.name = "elsewhere";
  EXPECT_FALSE(p.NodeGroupForNode(other).has_value());

  std::vector<std::string> doomed = {"node-b"};
  auto t = p.DeleteNodes("capi/general", doomed);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, 2);
  EXPECT_EQ(Replicas("general"), 2);
  json m2 = Must(client_->Get(std::string(kMachines) + "/general-m2"));
  EXPECT_TRUE(m2["metadata"]["annotations"].contains(std::string(kCapiDeleteMachineAnnotation)));
  json m1 = Must(client_->Get(std::string(kMachines) + "/general-m1"));
  EXPECT_FALSE(m1["metadata"].contains("annotations") &&
               m1["metadata"]["annotations"].contains(std::string(kCapiDeleteMachineAnnotation)));
  // Annotate first, then scale down.
  json reqs = Must(client_->Get("/__test/requests"));
  int annotate_at = -1, scale_at = -1, i = 0;
  for (const auto& r : reqs["items"]) {
    if (r["method"] == "PATCH" && r["path"] == std::string(kMachines) + "/general-m2") {
      annotate_at = i;
    }
    if (r["method"] == "PATCH" && r["path"] == std::string(kMds) + "/general/scale") scale_at = i;
    ++i;
  }
  ASSERT_GE(annotate_at, 0);
  EXPECT_LT(annotate_at, scale_at);

  // Not below min size (1), and not a node of another group.
  std::vector<std::string> two = {"node-a", "node-c"};
  EXPECT_FALSE(p.DeleteNodes("capi/general", two).ok());
  std::vector<std::string> foreign = {"elsewhere"};
  EXPECT_FALSE(p.DeleteNodes("capi/general", foreign).ok());
}

// A Machine without a nodeRef is an unregistered instance: listed by id, and deleted by it as a
// node is (annotated, then spec.replicas lowered), so a Machine that never bootstraps does not
// stay in the target for good.
TEST_F(ClusterApiTest, MachinesWithoutANodeAreUnregisteredInstancesDeletedById) {
  AddMd("general", 3, Sizes(0, 5));
  AddMachine("general", "general-m1", "node-a");
  AddMachine("general", "general-m2", "");
  AddMachine("general", "general-m3", "");
  ClusterApiProvider p(client_, {});
  auto groups = p.Refresh();
  ASSERT_TRUE(groups.ok()) << groups.error();
  ASSERT_EQ(groups->size(), 1u);
  std::vector<std::string> ids = (*groups)[0].unregistered;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"machine/capi/general-m2", "machine/capi/general-m3"}));
  for (const std::string& id : ids) EXPECT_TRUE(IsInstanceId(id)) << id;
  EXPECT_FALSE(IsInstanceId("node-a"));

  std::vector<std::string> doomed = {"machine/capi/general-m3"};
  auto t = p.DeleteNodes("capi/general", doomed);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, 2);
  EXPECT_EQ(Replicas("general"), 2);
  json m3 = Must(client_->Get(std::string(kMachines) + "/general-m3"));
  EXPECT_TRUE(m3["metadata"]["annotations"].contains(std::string(kCapiDeleteMachineAnnotation)));
  json m2 = Must(client_->Get(std::string(kMachines) + "/general-m2"));
  EXPECT_FALSE(m2["metadata"].contains("annotations") &&
               m2["metadata"]["annotations"].contains(std::string(kCapiDeleteMachineAnnotation)));
  // A Machine that is not there, by id.
  std::vector<std::string> unknown = {"machine/capi/general-m9"};
  auto none = p.DeleteNodes("capi/general", unknown);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("instance machine/capi/general-m9 belongs to no Machine"),
            std::string::npos)
      << none.error();
  // A Machine being deleted is on its way out: not an instance to time out, nor to delete again.
  json held = {{"apiVersion", "cluster.x-k8s.io/v1beta1"},
               {"kind", "Machine"},
               {"metadata",
                {{"name", "general-m4"},
                 {"namespace", "capi"},
                 {"finalizers", {"test/hold"}},
                 {"labels", {{"cluster.x-k8s.io/deployment-name", "general"}}}}},
               {"spec", {{"clusterName", "c1"}, {"bootstrap", json::object()}}}};
  Must(client_->Post(kMachines, held.dump()));
  Must(client_->Delete(std::string(kMachines) + "/general-m4"));
  groups = p.Refresh();
  ASSERT_TRUE(groups.ok()) << groups.error();
  ids = (*groups)[0].unregistered;
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::string>{"machine/capi/general-m2", "machine/capi/general-m3"}));
  std::vector<std::string> leaving = {"machine/capi/general-m4"};
  auto again = p.DeleteNodes("capi/general", leaving);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().find("being deleted already"), std::string::npos) << again.error();
  EXPECT_EQ(Replicas("general"), 2);
  // Once its Node registers, a Machine is a node again, not an instance.
  json m2_status = Must(client_->Get(std::string(kMachines) + "/general-m2"));
  m2_status["status"] = {{"nodeRef", {{"kind", "Node"}, {"name", "node-b"}}}};
  Must(client_->Put(std::string(kMachines) + "/general-m2/status", m2_status.dump()));
  groups = p.Refresh();
  ASSERT_TRUE(groups.ok()) << groups.error();
  EXPECT_EQ((*groups)[0].unregistered, std::vector<std::string>{"machine/capi/general-m3"});
  Node b;
  b.name = "node-b";
  EXPECT_EQ(p.NodeGroupForNode(b).value_or(""), "capi/general");
}

// Withdrawing never-created instances lowers spec.replicas to no fewer than the Machines, so
// the MachineSet controller has no Machine to pick for deletion.
TEST_F(ClusterApiTest, DecreaseTargetSizeWithdrawsOnlyReplicasWithoutAMachine) {
  AddMd("general", 5, Sizes(0, 6));
  AddMachine("general", "general-m1", "node-a");
  AddMachine("general", "general-m2", "");  // no Node yet: exists, not withdrawn
  ClusterApiProvider p(client_, {});
  ASSERT_TRUE(p.Refresh().ok());
  auto t = p.DecreaseTargetSize("capi/general", 1);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, 4);
  EXPECT_EQ(Replicas("general"), 4);
  // Asked for more than were never created: down to the Machines, no further.
  t = p.DecreaseTargetSize("capi/general", 5);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, 2);
  EXPECT_EQ(Replicas("general"), 2);
  auto none = p.DecreaseTargetSize("capi/general", 1);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().find("2 Machine(s) for 2 replica(s)"), std::string::npos) << none.error();
  EXPECT_EQ(Replicas("general"), 2);
  EXPECT_FALSE(p.DecreaseTargetSize("capi/general", 0).ok());
  EXPECT_FALSE(p.DecreaseTargetSize("capi/unknown", 1).ok());
  // No Machine was marked for deletion.
  for (const char* m : {"general-m1", "general-m2"}) {
    json machine = Must(client_->Get(std::string(kMachines) + "/" + m));
    EXPECT_FALSE(
        machine["metadata"].contains("annotations") &&
        machine["metadata"]["annotations"].contains(std::string(kCapiDeleteMachineAnnotation)))
        << m;
  }
}

TEST_F(ClusterApiTest, TemplateFromCapacityAnnotationsWithEpcAndConfigWins) {
  json ann = Sizes(0, 4);
  ann["capacity.cluster-autoscaler.kubernetes.io/cpu"] = "4";
  ann["capacity.cluster-autoscaler.kubernetes.io/memory"] = "16Gi";
  ann["capacity.cluster-autoscaler.kubernetes.io/ephemeral-disk"] = "100Gi";
  ann["capacity.cluster-autoscaler.kubernetes.io/maxPods"] = "110";
  ann["capacity.cluster-autoscaler.kubernetes.io/labels"] = "pool=sgx, sgx=true";
  ann["capacity.cluster-autoscaler.kubernetes.io/taints"] = "sgx=true:NoSchedule";
  ann[std::string(kEpcCapacityAnnotation)] = "128Mi";
  AddMd("sgx", 0, ann);
  AddMd("azure", 0, [] {
    json a = Sizes(0, 2);
    a[std::string(kEpcCapacityAnnotation)] = "kubernetes.azure.com/sgx_epc_mem_in_MiB=168";
    return a;
  }());
  ClusterApiOptions opts;
  Node overlay;
  overlay.capacity["cpu"] = Q("8");
  overlay.allocatable["cpu"] = Q("7800m");
  overlay.labels["pool"] = "confidential";
  opts.groups.push_back({"capi/sgx", std::nullopt, std::nullopt, overlay});
  ClusterApiProvider p(client_, opts);
  auto groups = p.Refresh();
  ASSERT_TRUE(groups.ok()) << groups.error();
  ASSERT_EQ(groups->size(), 2u);
  const ProviderGroup& azure = (*groups)[0];
  ASSERT_TRUE(azure.template_node.has_value());
  EXPECT_EQ(azure.template_node->allocatable.at("kubernetes.azure.com/sgx_epc_mem_in_MiB"),
            Q("168"));
  const ProviderGroup& sgx = (*groups)[1];
  ASSERT_EQ(sgx.name, "capi/sgx");
  EXPECT_EQ(sgx.max_size, 4);
  ASSERT_TRUE(sgx.template_node.has_value());
  const Node& t = *sgx.template_node;
  EXPECT_EQ(t.allocatable.at("sgx.intel.com/epc"), Q("128Mi"));
  EXPECT_EQ(t.allocatable.at("cpu"), Q("7800m"));  // config wins
  EXPECT_EQ(t.capacity.at("cpu"), Q("8"));
  EXPECT_EQ(t.allocatable.at("memory"), Q("16Gi"));
  EXPECT_EQ(t.allocatable.at("ephemeral-storage"), Q("100Gi"));
  EXPECT_EQ(t.allocatable.at("pods"), Q("110"));
  EXPECT_EQ(t.labels.at("pool"), "confidential");
  EXPECT_EQ(t.labels.at("sgx"), "true");
  ASSERT_EQ(t.taints.size(), 1u);
  EXPECT_EQ(t.taints[0].key, "sgx");
  EXPECT_EQ(t.taints[0].value, "true");
  EXPECT_EQ(t.taints[0].effect, "NoSchedule");
}

TEST(NodeTemplate, RejectsBadTaint) {
  Labels a;
  a["capacity.cluster-autoscaler.kubernetes.io/taints"] = "k=v:Sometimes";
  EXPECT_FALSE(TemplateFromAnnotations(a, "t").ok());
  Labels b;
  b[std::string(kEpcCapacityAnnotation)] = "lots";
  EXPECT_FALSE(TemplateFromAnnotations(b, "t").ok());
}

}  // namespace
}  // namespace epc::cluster
