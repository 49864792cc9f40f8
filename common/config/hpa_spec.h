// HpaSpec: one horizontal pod autoscaler, as plain data mirroring autoscaling/v2
// HorizontalPodAutoscalerSpec (the Kubernetes field name of every member is in its comment).
//
// Shared by the configuration parser (common/config builds these from YAML) and the autoscaler
// (autoscaler/horizontal decides replica counts from them), so neither depends on the other.
// No logic lives here beyond Kubernetes' defaults.
//
// Differences from autoscaling/v2:
// - Quantities (value, averageValue, tolerance) are int64 milli-units, as the controller reads
//   them (Quantity.MilliValue()): "500m" is 500, "2" is 2000.
// - Pods, Object and External metrics carry a PromQL `query`: we read Prometheus, not the
//   custom/external metrics APIs, so a metric selector is replaced by the query.
// - metadata.namespace sits beside the spec (`namespace_name`), it names where the target lives.
// - minReplicas 0 (scale to zero) needs the HPAScaleToZero feature gate in Kubernetes and is out
//   of scope: the autoscaler rejects a spec with min_replicas < 1.
// - ContainerResource metrics are not modelled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace epc {

// scaleTargetRef (CrossVersionObjectReference).
struct CrossVersionObjectReference {
  std::string api_version{};  // apiVersion, e.g. "apps/v1"
  std::string kind{};         // kind, e.g. "Deployment"
  std::string name{};         // name
};

// MetricTarget.type
enum class HpaMetricTargetType { kUtilization, kValue, kAverageValue };

// target (MetricTarget). Exactly the member matching `type` is read.
struct HpaMetricTarget {
  HpaMetricTargetType type = HpaMetricTargetType::kUtilization;  // type
  std::optional<int32_t> average_utilization{};  // averageUtilization: percent of the pods' request
  std::optional<int64_t> average_value_milli{};  // averageValue (milli-units per pod)
  std::optional<int64_t> value_milli{};          // value (milli-units)
};

// MetricSpec.type
enum class HpaMetricSourceType { kResource, kPods, kObject, kExternal };

// resource (ResourceMetricSource): a resource of the pods, from the resource metrics API.
struct HpaResourceMetricSource {
  std::string name{};        // name: "cpu" or "memory" (any resource name the metric source serves)
  HpaMetricTarget target{};  // target: Utilization (averageUtilization) or AverageValue
};

// pods (PodsMetricSource): a per-pod metric, averaged over the pods. Target: AverageValue.
struct HpaPodsMetricSource {
  std::string metric_name{};  // metric.name
  std::string query{};        // ours: PromQL returning one sample per pod (label `pod`)
  HpaMetricTarget target{};   // target
};

// object (ObjectMetricSource): one metric of one Kubernetes object. Target: Value or AverageValue.
struct HpaObjectMetricSource {
  CrossVersionObjectReference described_object{};  // describedObject
  std::string metric_name{};                       // metric.name
  std::string query{};                             // ours: PromQL returning one sample
  HpaMetricTarget target{};                        // target
};

// external (ExternalMetricSource): a metric of something outside the cluster. Target: Value or
// AverageValue; all samples the query returns are summed, as Kubernetes sums the series.
struct HpaExternalMetricSource {
  std::string metric_name{};  // metric.name
  std::string query{};        // ours: PromQL
  HpaMetricTarget target{};   // target
};

// metrics[] (MetricSpec): `type` says which one of the sources below is set.
struct HpaMetricSpec {
  HpaMetricSourceType type = HpaMetricSourceType::kResource;  // type
  std::optional<HpaResourceMetricSource> resource{};          // resource
  std::optional<HpaPodsMetricSource> pods{};                  // pods
  std::optional<HpaObjectMetricSource> object{};              // object
  std::optional<HpaExternalMetricSource> external{};          // external
};

// HPAScalingPolicyType
enum class HpaScalingPolicyType { kPods, kPercent };

// policies[] (HPAScalingPolicy): at most `value` pods (or percent of the replicas at the start
// of the period) added or removed within any `period_seconds` (1..1800).
struct HpaScalingPolicy {
  HpaScalingPolicyType type = HpaScalingPolicyType::kPods;  // type
  int32_t value = 0;                                        // value (> 0)
  int32_t period_seconds = 0;                               // periodSeconds
};

// ScalingPolicySelect
enum class HpaSelectPolicy { kMax, kMin, kDisabled };

// scaleUp / scaleDown (HPAScalingRules).
struct HpaScalingRules {
  // stabilizationWindowSeconds (0..3600). Unset on scale-down means the autoscaler's
  // downscale stabilization window (default 300 s, Kubernetes'
  // --horizontal-pod-autoscaler-downscale-stabilization); unset on scale-up means 0.
  std::optional<int32_t> stabilization_window_seconds{};
  HpaSelectPolicy select_policy = HpaSelectPolicy::kMax;  // selectPolicy
  std::vector<HpaScalingPolicy> policies{};               // policies
  // tolerance (Quantity, HPAConfigurableTolerance): the usage ratio must leave [1 - down, 1 + up]
  // before this direction scales. Unset: the autoscaler's tolerance (default 0.1 = 100 milli).
  std::optional<int64_t> tolerance_milli{};
};

// Kubernetes' GenerateHPAScaleUpRules defaults: no stabilization, the larger of +4 pods and
// +100% every 15 s.
inline HpaScalingRules DefaultScaleUpRules() {
  HpaScalingRules r;
  r.stabilization_window_seconds = 0;
  r.select_policy = HpaSelectPolicy::kMax;
  r.policies = {{HpaScalingPolicyType::kPods, 4, 15}, {HpaScalingPolicyType::kPercent, 100, 15}};
  return r;
}

// Kubernetes' GenerateHPAScaleDownRules defaults: the controller's stabilization window (300 s
// unless configured otherwise), then down to the desired count at once (-100% every 15 s).
inline HpaScalingRules DefaultScaleDownRules() {
  HpaScalingRules r;
  r.select_policy = HpaSelectPolicy::kMax;
  r.policies = {{HpaScalingPolicyType::kPercent, 100, 15}};
  return r;
}

// behavior (HorizontalPodAutoscalerBehavior). A parser starts from these defaults and overrides
// each field the user sets, as Kubernetes' defaulting does (a given `policies` list replaces the
// default list entirely).
struct HpaBehavior {
  HpaScalingRules scale_up = DefaultScaleUpRules();      // scaleUp
  HpaScalingRules scale_down = DefaultScaleDownRules();  // scaleDown
};

// HorizontalPodAutoscalerSpec (+ metadata.namespace).
struct HpaSpec {
  std::string namespace_name{};                    // metadata.namespace of the HPA and its target
  CrossVersionObjectReference scale_target_ref{};  // scaleTargetRef
  int32_t min_replicas = 1;                        // minReplicas (Kubernetes' default 1)
  int32_t max_replicas = 0;                        // maxReplicas (required, >= min_replicas)
  std::vector<HpaMetricSpec> metrics{};            // metrics
  // behavior. Unset keeps Kubernetes' behavior for an HPA without `behavior`: the legacy rules
  // (scale up to at most max(2 x current, 4) per sync, downscale stabilization window), which
  // differ slightly from HpaBehavior{} (the defaults applied when `behavior` is present).
  std::optional<HpaBehavior> behavior{};
};

}  // namespace epc
