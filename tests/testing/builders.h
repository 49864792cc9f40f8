// Builders for model objects in tests: terse, readable fixtures, e.g.
//   NodeBuilder("sgx-0").Label("agentpool", "sgxpool").Allocatable(kIntelEpc, "128Mi").Build()
//   PodBuilder("web").Request(kAzureEpc, "10").Build()
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

#include "common/model/objects.h"
#include "common/model/quantity.h"

namespace epc::testing {

inline Quantity Q(const std::string& text) {
  auto q = Quantity::Parse(text);
  if (!q.ok()) throw std::invalid_argument(q.error());
  return q.value();
}

inline constexpr std::string_view kIntelEpc = "sgx.intel.com/epc";
inline constexpr std::string_view kAzureEpc = "kubernetes.azure.com/sgx_epc_mem_in_MiB";

class NodeBuilder {
 public:
  explicit NodeBuilder(std::string name) {
    n_.name = std::move(name);
    n_.uid = "uid-" + n_.name;
    Allocatable("cpu", "4").Allocatable("memory", "16Gi").Allocatable("pods", "110");
  }
  // Sets capacity and allocatable alike.
  NodeBuilder& Allocatable(std::string_view r, const std::string& q) {
    n_.allocatable[std::string(r)] = Q(q);
    n_.capacity[std::string(r)] = Q(q);
    return *this;
  }
  NodeBuilder& Label(const std::string& k, const std::string& v) {
    n_.labels[k] = v;
    return *this;
  }
  NodeBuilder& Taint(const std::string& k, const std::string& v, const std::string& effect) {
    n_.taints.push_back({k, v, effect});
    return *this;
  }
  NodeBuilder& Unschedulable() {
    n_.unschedulable = true;
    return *this;
  }
  NodeBuilder& NotReady() {
    n_.ready = false;
    return *this;
  }
  Node Build() const { return n_; }

 private:
  Node n_;
};

class PodBuilder {
 public:
  explicit PodBuilder(std::string name, std::string ns = "default") {
    p_.name = std::move(name);
    p_.namespace_name = std::move(ns);
    p_.uid = "uid-" + p_.namespace_name + "-" + p_.name;
    p_.phase = "Pending";
    p_.containers.push_back(Container{"app", {}, {}, false});
  }
  PodBuilder& Request(std::string_view r, const std::string& q) {
    p_.containers.front().requests[std::string(r)] = Q(q);
    return *this;
  }
  PodBuilder& Limit(std::string_view r, const std::string& q) {
    p_.containers.front().limits[std::string(r)] = Q(q);
    return *this;
  }
  PodBuilder& OnNode(const std::string& node, const std::string& phase = "Running") {
    p_.node_name = node;
    p_.phase = phase;
    return *this;
  }
  PodBuilder& Uid(const std::string& uid) {
    p_.uid = uid;
    return *this;
  }
  PodBuilder& Tolerate(const std::string& k, const std::string& op, const std::string& v,
                       const std::string& effect) {
    p_.tolerations.push_back({k, op, v, effect, std::nullopt});
    return *this;
  }
  PodBuilder& NodeSelector(const std::string& k, const std::string& v) {
    p_.node_selector[k] = v;
    return *this;
  }
  PodBuilder& RequireNodeLabelIn(const std::string& k, std::vector<std::string> values) {
    NodeSelectorTerm term;
    term.match_expressions.push_back({k, "In", std::move(values)});
    p_.required_node_affinity.push_back(std::move(term));
    return *this;
  }
  Pod Build() const { return p_; }

 private:
  Pod p_;
};

}  // namespace epc::testing
