// The Kubernetes objects the project reasons about, reduced to the fields decisions use.
//
// These are plain values decoded from v1.Node / v1.Pod JSON (common/k8s/decode.h) or built by
// the simulator. Quantities are already parsed; a malformed one is a decode error, never a field.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/model/quantity.h"

namespace epc {

using Labels = std::map<std::string, std::string, std::less<>>;
using ResourceQuantities = std::map<std::string, Quantity, std::less<>>;

struct Taint {
  std::string key;
  std::string value;
  std::string effect;  // NoSchedule, PreferNoSchedule, NoExecute
  bool operator==(const Taint&) const = default;
};

struct Toleration {
  std::string key;  // empty with operator Exists: tolerates every taint
  std::string op;   // "Equal" (the default when empty) or "Exists"
  std::string value;
  std::string effect;  // empty: every effect
  std::optional<int64_t> toleration_seconds;

  bool operator==(const Toleration&) const = default;
};

// One requirement of a label selector or node selector term. Operators: In, NotIn, Exists,
// DoesNotExist, and for node selectors also Gt and Lt.
struct SelectorRequirement {
  std::string key;
  std::string op;
  std::vector<std::string> values;

  bool operator==(const SelectorRequirement&) const = default;
};

struct LabelSelector {
  Labels match_labels;
  std::vector<SelectorRequirement> match_expressions;
};

// A term of requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: the requirements
// are ANDed; the terms of one affinity are ORed. matchFields supports metadata.name only.
struct NodeSelectorTerm {
  std::vector<SelectorRequirement> match_expressions;
  std::vector<SelectorRequirement> match_fields;

  bool operator==(const NodeSelectorTerm&) const = default;
};

struct Node {
  std::string name;
  std::string uid;
  std::string resource_version;
  Labels labels;
  Labels annotations;
  ResourceQuantities capacity;
  ResourceQuantities allocatable;
  std::vector<Taint> taints;
  bool unschedulable = false;  // spec.unschedulable (cordoned)
  // status.conditions[type=Ready].status == "True". A node object without a Ready condition
  // (a node template, a test fixture) counts as ready.
  bool ready = true;
  bool operator==(const Node&) const = default;
};

struct Container {
  std::string name;
  ResourceQuantities requests;
  ResourceQuantities limits;
  bool restartable_init = false;  // init container with restartPolicy: Always (a sidecar)

  bool operator==(const Container&) const = default;
};

struct OwnerReference {
  std::string api_version;
  std::string kind;
  std::string name;
  std::string uid;
  bool controller = false;

  bool operator==(const OwnerReference&) const = default;
};

struct Pod {
  std::string name;
  std::string namespace_name;
  std::string uid;
  std::string resource_version;
  std::string node_name;  // spec.nodeName; empty while pending
  std::string scheduler_name;
  std::string phase;  // Pending, Running, Succeeded, Failed, Unknown
  Labels labels;
  Labels annotations;
  std::vector<OwnerReference> owners;
  std::vector<Container> containers;
  std::vector<Container> init_containers;
  ResourceQuantities overhead;
  Labels node_selector;
  std::vector<NodeSelectorTerm> required_node_affinity;  // ORed; empty: no constraint
  std::vector<Toleration> tolerations;
  int32_t priority = 0;
  bool uses_local_storage = false;  // an emptyDir (not in memory) or hostPath volume
  bool deleting = false;            // metadata.deletionTimestamp is set
  bool ready = false;               // condition Ready == True
  // condition PodScheduled == False with reason Unschedulable
  bool unschedulable = false;
  std::string start_time;  // status.startTime, RFC 3339, empty when unset

  bool operator==(const Pod&) const = default;
};

// Bound to a node and not finished: the pods whose requests count against a node.
inline bool UsesNodeResources(const Pod& pod) {
  return !pod.node_name.empty() && pod.phase != "Succeeded" && pod.phase != "Failed";
}

}  // namespace epc
