#include "autoscaler/horizontal/kube_adapters.h"

#include <string>

#include <gtest/gtest.h>

namespace epc {
namespace {

CrossVersionObjectReference Ref(std::string api_version, std::string kind, std::string name) {
  return {std::move(api_version), std::move(kind), std::move(name)};
}

TEST(ScalePath, KnownKinds) {
  EXPECT_EQ(*ScalePath("default", Ref("apps/v1", "Deployment", "web")),
            "/apis/apps/v1/namespaces/default/deployments/web/scale");
  EXPECT_EQ(*ScalePath("ns", Ref("apps/v1", "StatefulSet", "db")),
            "/apis/apps/v1/namespaces/ns/statefulsets/db/scale");
  EXPECT_EQ(*ScalePath("ns", Ref("apps/v1", "ReplicaSet", "rs")),
            "/apis/apps/v1/namespaces/ns/replicasets/rs/scale");
  EXPECT_EQ(*ScalePath("ns", Ref("v1", "ReplicationController", "rc")),
            "/api/v1/namespaces/ns/replicationcontrollers/rc/scale");
  EXPECT_EQ(*ScalePath("capi", Ref("cluster.x-k8s.io/v1beta1", "MachineDeployment", "md")),
            "/apis/cluster.x-k8s.io/v1beta1/namespaces/capi/machinedeployments/md/scale");
}

TEST(ScalePath, OtherKindsAreGuessed) {
  EXPECT_EQ(KindToResource("Rollout"), "rollouts");
  EXPECT_EQ(KindToResource("Ingress"), "ingresses");
  EXPECT_EQ(KindToResource("Policy"), "policies");
  EXPECT_EQ(KindToResource("Gateway"), "gateways");
  EXPECT_EQ(*ScalePath("ns", Ref("argoproj.io/v1alpha1", "Rollout", "r")),
            "/apis/argoproj.io/v1alpha1/namespaces/ns/rollouts/r/scale");
}

TEST(ScalePath, BadApiVersion) {
  EXPECT_FALSE(ScalePath("ns", Ref("", "Deployment", "web")).ok());
  EXPECT_FALSE(ScalePath("ns", Ref("apps/", "Deployment", "web")).ok());
  EXPECT_FALSE(ScalePath("ns", Ref("/v1", "Deployment", "web")).ok());
  EXPECT_FALSE(ScalePath("ns", Ref("a/b/c", "Deployment", "web")).ok());
}

TEST(ScaleJson, Decodes) {
  auto s = ParseScaleJson(R"j({"kind":"Scale","apiVersion":"autoscaling/v1",
      "metadata":{"name":"web","resourceVersion":"42"},"spec":{"replicas":3},
      "status":{"replicas":2,"selector":"app=web,tier in (a,b)"}})j");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->spec_replicas, 3);
  EXPECT_EQ(s->status_replicas, 2);
  EXPECT_EQ(s->selector, "app=web,tier in (a,b)");
  EXPECT_EQ(s->resource_version, "42");
}

TEST(ScaleJson, MissingFieldsAreZeroAndEmpty) {
  // A scale of a deployment at 0 replicas omits spec.replicas (omitempty).
  auto s = ParseScaleJson(R"({"metadata":{},"spec":{},"status":{"replicas":0}})");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->spec_replicas, 0);
  EXPECT_EQ(s->selector, "");
}

TEST(ScaleJson, Errors) {
  EXPECT_FALSE(ParseScaleJson("nope").ok());
  EXPECT_FALSE(ParseScaleJson("[]").ok());
  EXPECT_FALSE(ParseScaleJson(R"({"spec":{"replicas":"3"}})").ok());
  EXPECT_FALSE(ParseScaleJson(R"({"spec":{"replicas":-1}})").ok());
}

TEST(TargetPodJson, Decodes) {
  auto p = ParseTargetPodJson(R"({"metadata":{"name":"web-0","namespace":"default",
      "labels":{"app":"web"}},
      "spec":{"containers":[{"name":"c","image":"x","resources":{"requests":{"cpu":"500m"}}}]},
      "status":{"phase":"Running","startTime":"2025-04-23T10:00:00Z","conditions":[
        {"type":"PodScheduled","status":"True"},
        {"type":"Ready","status":"True","lastTransitionTime":"2025-04-23T10:00:30Z"}]}})");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->hpa.name, "web-0");
  EXPECT_EQ(p->hpa.phase, "Running");
  EXPECT_FALSE(p->hpa.deleting);
  ASSERT_TRUE(p->hpa.start_time.has_value());
  ASSERT_TRUE(p->hpa.ready.has_value());
  EXPECT_EQ(p->hpa.ready->status, hpa::ConditionStatus::kTrue);
  EXPECT_EQ(p->hpa.ready->last_transition_time - *p->hpa.start_time, std::chrono::seconds(30));
  ASSERT_TRUE(p->pod.has_value());
  auto request = hpa::CalculatePodRequest(*p->pod, "cpu");
  ASSERT_TRUE(request.ok()) << request.error();
  EXPECT_EQ(*request, 500);
}

TEST(TargetPodJson, PendingDeletingWithoutConditions) {
  auto p = ParseTargetPodJson(
      R"({"metadata":{"name":"p","deletionTimestamp":"2025-04-23T10:00:00Z"},"spec":{}})");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->hpa.phase, "Pending");
  EXPECT_TRUE(p->hpa.deleting);
  EXPECT_FALSE(p->hpa.start_time.has_value());
  EXPECT_FALSE(p->hpa.ready.has_value());
}

TEST(TargetPodJson, NotReady) {
  auto p = ParseTargetPodJson(R"({"metadata":{"name":"p"},"status":{"conditions":[
      {"type":"Ready","status":"False","lastTransitionTime":"2025-04-23T10:00:30Z"}]}})");
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(p->hpa.ready->status, hpa::ConditionStatus::kFalse);
}

TEST(TargetPodJson, Errors) {
  EXPECT_FALSE(ParseTargetPodJson("{").ok());
  EXPECT_FALSE(ParseTargetPodJson(R"({"metadata":{}})").ok());
  EXPECT_FALSE(
      ParseTargetPodJson(R"({"metadata":{"name":"p"},"status":{"startTime":"soon"}})").ok());
}

}  // namespace
}  // namespace epc
