// The `autoscaler:` section of the configuration (common/config), tested with the autoscaler.
#include <string>

#include <gtest/gtest.h>

#include "common/config/config.h"
#include "tests/testing/config_parse.h"

namespace epc {
namespace {

using testing::MustParse;
using testing::ParseError;

TEST(AutoscalerConfig, Defaults) {
  for (const char* yaml :
       {"", "autoscaler:\n", "autoscaler: {}\n", "autoscaler: {horizontal: []}"}) {
    SCOPED_TRACE(yaml);
    const AutoscalerConfig a = MustParse(yaml).autoscaler;
    EXPECT_EQ(a.sync_period_seconds, 15);
    EXPECT_EQ(a.prometheus.url, "");
    EXPECT_EQ(a.prometheus.timeout_seconds, 5);
    EXPECT_DOUBLE_EQ(a.tolerance, 0.1);
    EXPECT_EQ(a.cpu_initialization_period_seconds, 300);
    EXPECT_EQ(a.initial_readiness_delay_seconds, 30);
    EXPECT_EQ(a.downscale_stabilization_seconds, 300);
    EXPECT_EQ(a.leader_election.lease_name, "epc-autoscaler");
    EXPECT_EQ(a.leader_election.lease_namespace, "kube-system");
    EXPECT_EQ(a.leader_election.lease_duration_seconds, 15);
    EXPECT_EQ(a.leader_election.renew_deadline_seconds, 10);
    EXPECT_EQ(a.leader_election.retry_period_seconds, 2);
    EXPECT_TRUE(a.horizontal.empty());
  }
}

constexpr char kEveryKey[] = R"(
autoscaler:
  syncPeriodSeconds: 1
  prometheus:
    url: http://prometheus.monitoring:9090/prom/
    timeoutSeconds: 3
  tolerance: 0.05
  cpuInitializationPeriodSeconds: 60
  initialReadinessDelaySeconds: 10
  downscaleStabilizationSeconds: 120
  leaderElection:
    leaseName: as
    leaseNamespace: epc
    leaseDurationSeconds: 30
    renewDeadlineSeconds: 20
    retryPeriodSeconds: 5
  horizontal:
    - apiVersion: autoscaling/v2
      kind: HorizontalPodAutoscaler
      metadata:
        name: web
        namespace: shop
        labels: {team: a}
        annotations: {note: copied}
      spec:
        scaleTargetRef:
          apiVersion: apps/v1
          kind: Deployment
          name: web
        minReplicas: 2
        maxReplicas: 20
        metrics:
          - type: Resource
            resource:
              name: cpu
              target: {type: Utilization, averageUtilization: 60}
          - type: Resource
            resource:
              name: memory
              target: {type: AverageValue, averageValue: 512Mi}
          - type: Pods
            pods:
              metric: {name: app_requests_per_second}
              query: sum by (namespace, pod) (rate(http_requests_total[1m]))
              target: {type: AverageValue, averageValue: "500m"}
          - type: Object
            object:
              describedObject: {apiVersion: networking.k8s.io/v1, kind: Ingress, name: main}
              metric: {name: requests_per_second}
              query: sum(rate(nginx_requests_total[1m]))
              target: {type: Value, value: "10k"}
          - type: External
            external:
              metric: {name: queue_depth}
              query: sum(queue_messages)
              target: {type: AverageValue, averageValue: 30}
        behavior:
          scaleUp:
            stabilizationWindowSeconds: 10
            selectPolicy: Min
            policies:
              - {type: Pods, value: 2, periodSeconds: 30}
            tolerance: "0.2"
          scaleDown:
            selectPolicy: Disabled
    - metadata: {name: sts}
      spec:
        scaleTargetRef: {kind: StatefulSet, name: db}
        maxReplicas: 3
)";

TEST(AutoscalerConfig, EveryKey) {
  const AutoscalerConfig a = MustParse(kEveryKey).autoscaler;
  EXPECT_EQ(a.sync_period_seconds, 1);
  EXPECT_EQ(a.prometheus.url, "http://prometheus.monitoring:9090/prom");  // trailing / dropped
  EXPECT_EQ(a.prometheus.timeout_seconds, 3);
  EXPECT_DOUBLE_EQ(a.tolerance, 0.05);
  EXPECT_EQ(a.cpu_initialization_period_seconds, 60);
  EXPECT_EQ(a.initial_readiness_delay_seconds, 10);
  EXPECT_EQ(a.downscale_stabilization_seconds, 120);
  EXPECT_EQ(a.leader_election.lease_name, "as");
  EXPECT_EQ(a.leader_election.lease_namespace, "epc");
  EXPECT_EQ(a.leader_election.lease_duration_seconds, 30);
  EXPECT_EQ(a.leader_election.renew_deadline_seconds, 20);
  EXPECT_EQ(a.leader_election.retry_period_seconds, 5);
  ASSERT_EQ(a.horizontal.size(), 2u);

  const HorizontalTargetConfig& web = a.horizontal[0];
  EXPECT_EQ(web.name, "web");
  const HpaSpec& s = web.spec;
  EXPECT_EQ(s.namespace_name, "shop");
  EXPECT_EQ(s.scale_target_ref.api_version, "apps/v1");
  EXPECT_EQ(s.scale_target_ref.kind, "Deployment");
  EXPECT_EQ(s.scale_target_ref.name, "web");
  EXPECT_EQ(s.min_replicas, 2);
  EXPECT_EQ(s.max_replicas, 20);
  ASSERT_EQ(s.metrics.size(), 5u);

  ASSERT_TRUE(s.metrics[0].resource);
  EXPECT_EQ(s.metrics[0].type, HpaMetricSourceType::kResource);
  EXPECT_EQ(s.metrics[0].resource->name, "cpu");
  EXPECT_EQ(s.metrics[0].resource->target.type, HpaMetricTargetType::kUtilization);
  EXPECT_EQ(s.metrics[0].resource->target.average_utilization, 60);

  ASSERT_TRUE(s.metrics[1].resource);
  EXPECT_EQ(s.metrics[1].resource->target.type, HpaMetricTargetType::kAverageValue);
  EXPECT_EQ(s.metrics[1].resource->target.average_value_milli, 512LL * 1024 * 1024 * 1000);

  ASSERT_TRUE(s.metrics[2].pods);
  EXPECT_EQ(s.metrics[2].type, HpaMetricSourceType::kPods);
  EXPECT_EQ(s.metrics[2].pods->metric_name, "app_requests_per_second");
  EXPECT_EQ(s.metrics[2].pods->query, "sum by (namespace, pod) (rate(http_requests_total[1m]))");
  EXPECT_EQ(s.metrics[2].pods->target.average_value_milli, 500);

  ASSERT_TRUE(s.metrics[3].object);
  EXPECT_EQ(s.metrics[3].object->described_object.kind, "Ingress");
  EXPECT_EQ(s.metrics[3].object->described_object.api_version, "networking.k8s.io/v1");
  EXPECT_EQ(s.metrics[3].object->described_object.name, "main");
  EXPECT_EQ(s.metrics[3].object->target.type, HpaMetricTargetType::kValue);
  EXPECT_EQ(s.metrics[3].object->target.value_milli, 10'000'000);

  ASSERT_TRUE(s.metrics[4].external);
  EXPECT_EQ(s.metrics[4].external->metric_name, "queue_depth");
  EXPECT_EQ(s.metrics[4].external->target.average_value_milli, 30'000);
  EXPECT_FALSE(s.metrics[4].external->target.value_milli);

  ASSERT_TRUE(s.behavior);
  EXPECT_EQ(s.behavior->scale_up.stabilization_window_seconds, 10);
  EXPECT_EQ(s.behavior->scale_up.select_policy, HpaSelectPolicy::kMin);
  ASSERT_EQ(s.behavior->scale_up.policies.size(), 1u);
  EXPECT_EQ(s.behavior->scale_up.policies[0].type, HpaScalingPolicyType::kPods);
  EXPECT_EQ(s.behavior->scale_up.policies[0].value, 2);
  EXPECT_EQ(s.behavior->scale_up.policies[0].period_seconds, 30);
  EXPECT_EQ(s.behavior->scale_up.tolerance_milli, 200);
  EXPECT_EQ(s.behavior->scale_down.select_policy, HpaSelectPolicy::kDisabled);
  // Unset fields keep Kubernetes' defaults.
  EXPECT_FALSE(s.behavior->scale_down.stabilization_window_seconds);
  EXPECT_EQ(s.behavior->scale_down.policies.size(), DefaultScaleDownRules().policies.size());

  const HorizontalTargetConfig& sts = a.horizontal[1];
  EXPECT_EQ(sts.spec.namespace_name, "default");
  EXPECT_EQ(sts.spec.scale_target_ref.api_version, "apps/v1");  // defaulted from the kind
  EXPECT_EQ(sts.spec.min_replicas, 1);
  EXPECT_FALSE(sts.spec.behavior);
  // autoscaling/v2 defaulting: no metrics is 80% CPU.
  ASSERT_EQ(sts.spec.metrics.size(), 1u);
  ASSERT_TRUE(sts.spec.metrics[0].resource);
  EXPECT_EQ(sts.spec.metrics[0].resource->name, "cpu");
  EXPECT_EQ(sts.spec.metrics[0].resource->target.average_utilization, 80);
}

TEST(AutoscalerConfig, EmptyBehaviorIsKubernetesDefaults) {
  const AutoscalerConfig a = MustParse(R"(
autoscaler:
  horizontal:
    - metadata: {name: web}
      spec:
        scaleTargetRef: {kind: Deployment, name: web}
        maxReplicas: 3
        behavior: {}
)")
                                 .autoscaler;
  ASSERT_TRUE(a.horizontal[0].spec.behavior);
  EXPECT_EQ(a.horizontal[0].spec.behavior->scale_up.policies.size(), 2u);
  EXPECT_EQ(a.horizontal[0].spec.behavior->scale_up.stabilization_window_seconds, 0);
}

TEST(AutoscalerConfig, ToleranceAsQuantity) {
  EXPECT_DOUBLE_EQ(MustParse("autoscaler: {tolerance: \"50m\"}").autoscaler.tolerance, 0.05);
  EXPECT_DOUBLE_EQ(MustParse("autoscaler: {tolerance: 0}").autoscaler.tolerance, 0);
}

// ---- Errors: each names the file position and key path ----

std::string Target(const std::string& spec_lines) {
  return "autoscaler:\n  prometheus: {url: \"http://p:9090\"}\n  horizontal:\n"
         "    - metadata: {name: web}\n      spec:\n"
         "        scaleTargetRef: {kind: Deployment, name: web}\n" +
         spec_lines;
}

TEST(AutoscalerConfigErrors, UnknownKey) {
  EXPECT_EQ(ParseError("autoscaler:\n  syncPeriod: 15\n"),
            "config.yaml:2:3: autoscaler.syncPeriod: unknown key; known keys: syncPeriodSeconds, "
            "prometheus, tolerance, cpuInitializationPeriodSeconds, "
            "initialReadinessDelaySeconds, downscaleStabilizationSeconds, leaderElection, "
            "horizontal, cluster");
  EXPECT_EQ(ParseError(Target("        maxReplicas: 3\n        status: {}\n")),
            "config.yaml:8:9: autoscaler.horizontal[0].spec.status: unknown key; known keys: "
            "scaleTargetRef, minReplicas, maxReplicas, metrics, behavior");
}

TEST(AutoscalerConfigErrors, WrongType) {
  EXPECT_EQ(ParseError("autoscaler: {syncPeriodSeconds: fast}"),
            "config.yaml:1:33: autoscaler.syncPeriodSeconds: expected an integer, got \"fast\"");
  EXPECT_EQ(ParseError("autoscaler: {horizontal: {web: 1}}"),
            "config.yaml:1:26: autoscaler.horizontal: expected a list, got a map");
  EXPECT_EQ(ParseError(Target("        maxReplicas: [3]\n")),
            "config.yaml:7:22: autoscaler.horizontal[0].spec.maxReplicas: expected an integer, "
            "got a list");
}

TEST(AutoscalerConfigErrors, OutOfRange) {
  EXPECT_EQ(ParseError("autoscaler: {syncPeriodSeconds: 0}"),
            "config.yaml:1:33: autoscaler.syncPeriodSeconds: 0 is out of range 1..3600");
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        behavior:\n          scaleDown:\n"
                              "            stabilizationWindowSeconds: 3601\n"))
                .find("behavior.scaleDown.stabilizationWindowSeconds: 3601 is out of range"),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, Required) {
  EXPECT_EQ(ParseError(Target("        minReplicas: 1\n")),
            "config.yaml:6:9: autoscaler.horizontal[0].spec.maxReplicas: is required");
  EXPECT_EQ(ParseError("autoscaler:\n  horizontal:\n    - spec: {}\n"),
            "config.yaml:3:13: autoscaler.horizontal[0].spec.scaleTargetRef: is required");
  EXPECT_EQ(ParseError("autoscaler:\n  horizontal:\n    - metadata: {namespace: x}\n"),
            "config.yaml:3:17: autoscaler.horizontal[0].metadata.name: is required");
}

TEST(AutoscalerConfigErrors, BadQuantity) {
  EXPECT_EQ(ParseError(Target("        maxReplicas: 3\n        metrics:\n          - type: Pods\n"
                              "            pods:\n              metric: {name: rps}\n"
                              "              query: up\n"
                              "              target: {type: AverageValue, averageValue: 10x}\n")),
            "config.yaml:13:58: autoscaler.horizontal[0].spec.metrics[0].pods.target."
            "averageValue: expected a quantity like \"500m\" or \"10\", got \"10x\"");
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        metrics:\n          - type: Pods\n"
                              "            pods:\n              metric: {name: rps}\n"
                              "              query: up\n"
                              "              target: {type: AverageValue, averageValue: \"0\"}\n"))
                .find("averageValue: \"0\" must be greater than 0"),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, BadEnum) {
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        metrics:\n"
                              "          - type: ContainerResource\n"))
                .find("metrics[0].type: \"ContainerResource\" is not one of Resource, Pods, "
                      "Object, External"),
            std::string::npos);
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        metrics:\n          - type: Pods\n"
                              "            pods:\n              metric: {name: rps}\n"
                              "              query: up\n"
                              "              target: {type: Value, value: 1}\n"))
                .find("pods.target.type: \"Value\" is not one of AverageValue"),
            std::string::npos);
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        behavior:\n          scaleUp:\n"
                              "            selectPolicy: Maximum\n"))
                .find("selectPolicy: \"Maximum\" is not one of Max, Min, Disabled"),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, TargetFieldMustMatchType) {
  const std::string resource =
      "        maxReplicas: 3\n        metrics:\n          - type: Resource\n"
      "            resource:\n              name: cpu\n              target: ";
  EXPECT_EQ(ParseError(Target(resource + "{type: Utilization, averageValue: 1}\n")),
            "config.yaml:12:57: autoscaler.horizontal[0].spec.metrics[0].resource.target."
            "averageValue: must not be set when type is Utilization");
  EXPECT_EQ(ParseError(Target(resource + "{type: AverageValue}\n")),
            "config.yaml:12:23: autoscaler.horizontal[0].spec.metrics[0].resource.target."
            "averageValue: is required when type is AverageValue");
  EXPECT_NE(ParseError(Target(resource + "{type: Utilization, averageUtilization: 0}\n"))
                .find("averageUtilization: 0 is out of range 1.."),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, SourceMustMatchType) {
  EXPECT_EQ(ParseError(Target("        maxReplicas: 3\n        metrics:\n"
                              "          - type: Pods\n")),
            "config.yaml:9:13: autoscaler.horizontal[0].spec.metrics[0].pods: is required when "
            "type is Pods");
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        metrics:\n"
                              "          - type: Resource\n            resource:\n"
                              "              name: cpu\n"
                              "              target: {type: Utilization, averageUtilization: 50}\n"
                              "            pods: {}\n"))
                .find("metrics[0].pods: must not be set when type is Resource"),
            std::string::npos);
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        metrics:\n"
                              "          - type: Pods\n            pods:\n"
                              "              metric: {name: rps, selector: {matchLabels: {a: b}}}\n"
                              "              query: up\n"
                              "              target: {type: AverageValue, averageValue: 1}\n"))
                .find("metric.selector: is not supported: put the label matchers into the "
                      "metric's `query`"),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, CrossField) {
  EXPECT_EQ(ParseError(Target("        minReplicas: 5\n        maxReplicas: 3\n")),
            "config.yaml:8:22: autoscaler.horizontal[0].spec.maxReplicas: must be greater than or "
            "equal to minReplicas (5)");
  EXPECT_NE(ParseError(Target("        minReplicas: 0\n        maxReplicas: 3\n"))
                .find("minReplicas: 0 (scale to zero, Kubernetes' HPAScaleToZero gate) is not "
                      "supported"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler:\n  leaderElection: {leaseDurationSeconds: 10, "
                       "renewDeadlineSeconds: 10}\n")
                .find("leaseDurationSeconds (10) must be greater than renewDeadlineSeconds (10)"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler:\n  leaderElection: {renewDeadlineSeconds: 2, "
                       "retryPeriodSeconds: 2}\n")
                .find("must be greater than 1.2 x retryPeriodSeconds (2)"),
            std::string::npos);
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n        behavior:\n          scaleUp:\n"
                              "            policies: []\n"))
                .find("behavior.scaleUp.policies: must list at least one policy"),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, PrometheusNeededForQueries) {
  EXPECT_EQ(ParseError("autoscaler:\n  horizontal:\n    - metadata: {name: web}\n      spec:\n"
                       "        scaleTargetRef: {kind: Deployment, name: web}\n"
                       "        maxReplicas: 3\n        metrics:\n          - type: External\n"
                       "            external:\n              metric: {name: q}\n"
                       "              query: sum(q)\n"
                       "              target: {type: Value, value: 1}\n"),
            "config.yaml:8:13: autoscaler.horizontal[0].spec.metrics[0]: Pods, Object and "
            "External metrics are read from Prometheus: set autoscaler.prometheus.url");
  EXPECT_NE(ParseError("autoscaler: {prometheus: {url: \"prometheus:9090\"}}")
                .find("is not an http:// or https:// URL with a host"),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, Duplicates) {
  const std::string two =
      "autoscaler:\n  horizontal:\n"
      "    - metadata: {name: web}\n"
      "      spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3}\n"
      "    - metadata: {name: web}\n"
      "      spec: {scaleTargetRef: {kind: Deployment, name: other}, maxReplicas: 3}\n";
  EXPECT_EQ(ParseError(two),
            "config.yaml:5:24: autoscaler.horizontal[1].metadata.name: duplicate "
            "HorizontalPodAutoscaler default/web (also autoscaler.horizontal[0])");
  const std::string same_target =
      "autoscaler:\n  horizontal:\n"
      "    - metadata: {name: a}\n"
      "      spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3}\n"
      "    - metadata: {name: b}\n"
      "      spec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 3}\n";
  EXPECT_NE(ParseError(same_target)
                .find("Deployment/web in namespace default is already autoscaled by "
                      "autoscaler.horizontal[0]"),
            std::string::npos);
}

TEST(AutoscalerConfigErrors, HpaHeader) {
  EXPECT_NE(ParseError("autoscaler:\n  horizontal:\n    - apiVersion: autoscaling/v1\n")
                .find("apiVersion: \"autoscaling/v1\" is not autoscaling/v2"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler:\n  horizontal:\n    - kind: Deployment\n")
                .find("kind: \"Deployment\" is not HorizontalPodAutoscaler"),
            std::string::npos);
  EXPECT_NE(ParseError(Target("        maxReplicas: 3\n")
                           .replace(Target("").find("{kind: Deployment"), 17, "{kind: Rollout"))
                .find("scaleTargetRef.apiVersion: is required for kind \"Rollout\""),
            std::string::npos);
}

}  // namespace
}  // namespace epc
