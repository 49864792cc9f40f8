// The config file's section parsers that other YAML files share: a simulator scenario declares
// EPC resources, pools and the scheduling policy with exactly the config file's keys and checks.
// They throw yaml::YamlError (see yaml_walker.h); the calling parser catches it.
#pragma once

#include <string>
#include <vector>

#include "common/config/hpa_spec.h"
#include "common/config/yaml_walker.h"
#include "common/model/epc_resources.h"
#include "common/model/objects.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"

namespace epc {

void ParseEpcResources(const yaml::Value& v, EpcResources& out);  // epcResources
void ParseRequirement(const yaml::Value& v, SelectorRequirement& out);
void ParseLabelSelector(const yaml::Value& v, LabelSelector& out);  // matchLabels/Expressions
void ParsePools(const yaml::Value& v, std::vector<PoolSpec>& out);  // pools
void ParseScheduling(const yaml::Value& v, SchedulingPolicy& out);  // scheduling

// Kubernetes-shaped values that node templates (config nodeGroups, scenario nodeGroups) and pod
// templates share.
Quantity ParseNonNegativeQuantity(const yaml::Value& v);                // "4", "16Gi", "500m"
void ParseResourceList(const yaml::Value& v, ResourceQuantities& out);  // name: quantity
void ParseLabels(const yaml::Value& v, Labels& out);                    // key: value
void ParseTaints(const yaml::Value& v, std::vector<Taint>& out);        // [{key, value, effect}]
void ParseTolerations(const yaml::Value& v, std::vector<Toleration>& out);
// A node template's keys (labels, taints, capacity, allocatable) given as one map.
void ParseNodeTemplate(const yaml::Value& v, Node& out);
// The defaults a template gets after parsing: capacity = allocatable when not given, 110 pods
// (kubelet's default) when allocatable does not say, Ready, and the name `name`.
void CompleteNodeTemplate(Node& node, std::string name);

// A cluster-autoscaler expander's name: least-waste, most-pods, priority or random.
std::string ParseExpanderName(const yaml::Value& v);

// autoscaling/v2 HorizontalPodAutoscalerBehavior (scaleUp / scaleDown rules).
void ParseHpaBehavior(const yaml::Value& v, HpaBehavior& out);

}  // namespace epc
