// The config file's section parsers that other YAML files share: a simulator scenario declares
// EPC resources, pools and the scheduling policy with exactly the config file's keys and checks.
// They throw yaml::YamlError (see yaml_walker.h); the calling parser catches it.
#pragma once

#include <vector>

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

}  // namespace epc
