#include "common/k8s/decode.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace epc {
namespace {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string FullModeText() {
  return ReadFile(std::string(EPC_EXAMPLES_DIR) + "/filter-full-mode.json");
}

json FullMode() { return json::parse(FullModeText()); }

json ExampleNode(size_t i) { return FullMode()["Nodes"]["items"][i]; }
json ExamplePod() { return FullMode()["Pod"]; }

Quantity Q(std::string_view text) {
  Result<Quantity> q = Quantity::Parse(text);
  EXPECT_TRUE(q.ok()) << text;
  return q.ok() ? *q : Quantity();
}

Pod MustParsePod(const std::string& text) {
  Result<Pod> pod = ParsePodJson(text);
  EXPECT_TRUE(pod.ok()) << pod.error();
  return pod.ok() ? *pod : Pod();
}

std::string PodError(const std::string& text) {
  Result<Pod> pod = ParsePodJson(text);
  EXPECT_FALSE(pod.ok()) << text;
  return pod.ok() ? std::string() : pod.error();
}

// ---- The real payload: a whole extender filter request in full mode ----

TEST(DecodeExample, FullModeRequestOnDemand) {
  const simdjson::padded_string padded(FullModeText());
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc = parser.iterate(padded);
  std::vector<NodeDecodeResult> nodes;
  bool saw_pod = false;
  for (auto field : doc.get_object()) {
    std::string_view key = field.unescaped_key();
    if (key == "Pod") {
      Result<Pod> pod = DecodePod(field.value());
      ASSERT_TRUE(pod.ok()) << pod.error();
      EXPECT_EQ(pod->name, "enclave-web-7d9f8");
      saw_pod = true;
    } else if (key == "Nodes") {
      for (auto nf : field.value().get_object()) {
        if (std::string_view(nf.unescaped_key()) != "items") continue;
        for (auto item : nf.value().get_array()) nodes.push_back(DecodeNode(item.value()));
      }
    }
  }
  EXPECT_TRUE(saw_pod);
  ASSERT_EQ(nodes.size(), 3u);
  EXPECT_EQ(nodes[0].node.name, "aks-sgxpool-0");
  EXPECT_EQ(nodes[1].node.name, "aks-sgxpool-1");
  EXPECT_EQ(nodes[2].node.name, "aks-generalpool-0");
  for (const NodeDecodeResult& r : nodes) EXPECT_EQ(r.error, "") << r.node.name;
}

TEST(DecodeExample, AzureSgxNode) {
  NodeDecodeResult r = ParseNodeJson(ExampleNode(0).dump());
  ASSERT_EQ(r.error, "");
  const Node& n = r.node;
  EXPECT_EQ(n.name, "aks-sgxpool-0");
  EXPECT_EQ(n.uid, "08dc536e-2238-5a3e-3292-f097278f3bd3");
  EXPECT_EQ(n.resource_version, "4711");
  EXPECT_EQ(n.labels.size(), 21u);
  EXPECT_EQ(n.labels.at("agentpool"), "sgxpool");
  EXPECT_EQ(n.labels.at("node-role.kubernetes.io/agent"), "");
  EXPECT_EQ(n.annotations.size(), 3u);
  EXPECT_EQ(n.allocatable.size(), 7u);
  EXPECT_EQ(n.allocatable.at("cpu"), Q("7820m"));
  EXPECT_EQ(n.allocatable.at("memory"), Q("60060620Ki"));
  EXPECT_EQ(n.allocatable.at("kubernetes.azure.com/sgx_epc_mem_in_MiB").Value(), 168);
  EXPECT_EQ(n.capacity.at("cpu"), Q("8"));
  EXPECT_EQ(n.capacity.at("ephemeral-storage"), Q("129886128Ki"));
  EXPECT_TRUE(n.ready);
  EXPECT_FALSE(n.unschedulable);
  EXPECT_TRUE(n.taints.empty());
}

TEST(DecodeExample, IntelSgxNodeAndGeneralNode) {
  NodeDecodeResult intel = ParseNodeJson(ExampleNode(1).dump(2));
  ASSERT_EQ(intel.error, "");
  EXPECT_EQ(intel.node.allocatable.at("sgx.intel.com/epc").Value(), 112 << 20);
  NodeDecodeResult general = ParseNodeJson(ExampleNode(2).dump());
  ASSERT_EQ(general.error, "");
  EXPECT_EQ(general.node.name, "aks-generalpool-0");
  EXPECT_FALSE(general.node.allocatable.contains("sgx.intel.com/epc"));
  EXPECT_EQ(general.node.allocatable.at("pods").Value(), 110);
}

TEST(DecodeExample, Pod) {
  Result<Pod> r = ParsePodJson(ExamplePod().dump());
  ASSERT_TRUE(r.ok()) << r.error();
  const Pod& p = *r;
  EXPECT_EQ(p.name, "enclave-web-7d9f8");
  EXPECT_EQ(p.namespace_name, "default");
  EXPECT_EQ(p.uid, "4e406cee-4eaa-79ff-4612-4904a5c295d5");
  EXPECT_EQ(p.resource_version, "5120");
  EXPECT_EQ(p.labels.at("app"), "enclave");
  EXPECT_EQ(p.annotations.at("kubernetes.io/config.seen"), "2024-05-02T09:14:27Z");
  ASSERT_EQ(p.owners.size(), 1u);
  EXPECT_EQ(p.owners[0].api_version, "apps/v1");
  EXPECT_EQ(p.owners[0].kind, "ReplicaSet");
  EXPECT_EQ(p.owners[0].name, "enclave-6d9f8b7c5");
  EXPECT_EQ(p.owners[0].uid, "32a9e041-4ae5-2589-3549-030417662615");
  EXPECT_TRUE(p.owners[0].controller);
  ASSERT_EQ(p.containers.size(), 1u);
  const Container& c = p.containers[0];
  EXPECT_EQ(c.name, "app");
  EXPECT_EQ(c.requests.size(), 3u);
  EXPECT_EQ(c.requests.at("cpu"), Q("100m"));
  EXPECT_EQ(c.requests.at("memory"), Q("128Mi"));
  EXPECT_EQ(c.requests.at("kubernetes.azure.com/sgx_epc_mem_in_MiB").Value(), 10);
  EXPECT_EQ(c.limits.size(), 2u);
  EXPECT_EQ(c.limits.at("memory"), Q("256Mi"));
  EXPECT_FALSE(c.restartable_init);
  EXPECT_TRUE(p.init_containers.empty());
  EXPECT_EQ(p.scheduler_name, "default-scheduler");
  EXPECT_EQ(p.node_name, "");
  ASSERT_EQ(p.tolerations.size(), 2u);
  EXPECT_EQ(p.tolerations[0].key, "node.kubernetes.io/not-ready");
  EXPECT_EQ(p.tolerations[0].op, "Exists");
  EXPECT_EQ(p.tolerations[0].effect, "NoExecute");
  EXPECT_EQ(p.tolerations[0].toleration_seconds, 300);
  EXPECT_EQ(p.priority, 0);
  EXPECT_FALSE(p.uses_local_storage);  // a projected volume only
  EXPECT_EQ(p.phase, "Pending");
  EXPECT_TRUE(p.unschedulable);
  EXPECT_FALSE(p.ready);
  EXPECT_FALSE(p.deleting);
  EXPECT_EQ(p.start_time, "");
  EXPECT_TRUE(p.overhead.empty());
  EXPECT_TRUE(p.node_selector.empty());
  EXPECT_TRUE(p.required_node_affinity.empty());
}

// ---- Keys ----

TEST(DecodeKeys, CaseInsensitiveFieldNames) {
  NodeDecodeResult r = ParseNodeJson(R"({
    "METADATA": {"Name": "n1", "UID": "u", "ResourceVersion": "7", "LABELS": {"Zone": "A"},
                 "annotations": {"K": "V"}},
    "Spec": {"UnSchedulable": true, "TAINTS": [{"KEY": "k", "Value": "v", "eFFect": "NoSchedule"}]},
    "STATUS": {"Allocatable": {"CPU": "2"}, "CAPACITY": {"cpu": "4"},
               "Conditions": [{"TYPE": "Ready", "Status": "False"}]}})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.node.name, "n1");
  EXPECT_EQ(r.node.uid, "u");
  EXPECT_EQ(r.node.resource_version, "7");
  // Map keys are data: their case is kept.
  EXPECT_EQ(r.node.labels.at("Zone"), "A");
  EXPECT_FALSE(r.node.labels.contains("zone"));
  EXPECT_EQ(r.node.annotations.at("K"), "V");
  EXPECT_EQ(r.node.allocatable.at("CPU"), Q("2"));
  EXPECT_FALSE(r.node.allocatable.contains("cpu"));
  EXPECT_EQ(r.node.capacity.at("cpu"), Q("4"));
  EXPECT_TRUE(r.node.unschedulable);
  ASSERT_EQ(r.node.taints.size(), 1u);
  EXPECT_EQ(r.node.taints[0].key, "k");
  EXPECT_EQ(r.node.taints[0].value, "v");
  EXPECT_EQ(r.node.taints[0].effect, "NoSchedule");
  EXPECT_FALSE(r.node.ready);
}

TEST(DecodeKeys, PrefixesAndNearMissesDoNotMatch) {
  NodeDecodeResult r = ParseNodeJson(R"({"metadata": {"names": "x", "nam": "y", "name_": "z",
      "labelsx": {"a": "b"}}, "metadat": {"name": "w"}, "spec2": {"unschedulable": true}})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.node.name, "");
  EXPECT_TRUE(r.node.labels.empty());
  EXPECT_FALSE(r.node.unschedulable);
}

TEST(DecodeKeys, EscapedKeysAreUnescaped) {
  NodeDecodeResult r = ParseNodeJson(
      R"({"m\u0065tadata": {"n\u0041me": "n1", "labels": {"a\u002Fb": "c\"d", "\u00e9": "x"}},
          "metadata\u0000": {"name": "wrong"}, "status": {"allocatable": {"sgx\u002eintel.com/epc": "1Mi"}}})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.node.name, "n1");
  EXPECT_EQ(r.node.labels.at("a/b"), "c\"d");
  EXPECT_EQ(r.node.labels.at("\xc3\xa9"), "x");
  EXPECT_EQ(r.node.allocatable.at("sgx.intel.com/epc").Value(), 1 << 20);
}

TEST(DecodeKeys, DuplicateKeysLastWins) {
  NodeDecodeResult r =
      ParseNodeJson(R"({"metadata": {"name": "a", "Name": "b", "labels": {"x": "1"}},
      "spec": {"taints": [{"key": "t1"}, {"key": "t2"}], "taints": [{"key": "t3"}]}})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.node.name, "b");
  ASSERT_EQ(r.node.taints.size(), 1u);
  EXPECT_EQ(r.node.taints[0].key, "t3");
}

TEST(DecodeKeys, UnknownFieldsOfEveryShapeAreSkipped) {
  NodeDecodeResult r = ParseNodeJson(R"({
    "kind": "Node", "apiVersion": "v1",
    "metadata": {"managedFields": [{"manager": "kubelet", "fieldsV1": {"f:status": {"f:images": {}}}}],
                 "creationTimestamp": "2024-01-01T00:00:00Z", "generation": 3, "finalizers": null,
                 "x": [[[{"name": "inner"}]]], "name": "n1", "y": true, "z": -1.5e3},
    "status": {"images": [{"names": ["a", "b"], "sizeBytes": 1}], "nodeInfo": {"kubeletVersion": "v1"},
               "addresses": [{"type": "InternalIP", "address": "10.0.0.1"}],
               "allocatable": {"cpu": "1"}, "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}}}})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.node.name, "n1");
  EXPECT_EQ(r.node.allocatable.at("cpu"), Q("1"));
}

// ---- Nulls and defaults ----

TEST(DecodeNulls, NodeNullFieldsAreUnset) {
  NodeDecodeResult r = ParseNodeJson(R"({"metadata": {"name": "n", "uid": null, "labels": null,
      "annotations": null}, "spec": {"taints": null, "unschedulable": null},
      "status": {"capacity": null, "allocatable": {"cpu": null, "memory": "1Gi"}, "conditions": null}})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.node.name, "n");
  EXPECT_EQ(r.node.uid, "");
  EXPECT_TRUE(r.node.labels.empty());
  EXPECT_TRUE(r.node.taints.empty());
  EXPECT_FALSE(r.node.unschedulable);
  EXPECT_TRUE(r.node.capacity.empty());
  EXPECT_TRUE(r.node.allocatable.at("cpu").IsZero());
  EXPECT_EQ(r.node.allocatable.at("memory"), Q("1Gi"));
  EXPECT_TRUE(r.node.ready);
}

TEST(DecodeNulls, WholeSectionsNull) {
  NodeDecodeResult r = ParseNodeJson(R"({"metadata": null, "spec": null, "status": null})");
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.node.name, "");
  EXPECT_TRUE(r.node.ready);
  Pod p = MustParsePod(R"({"metadata": null, "spec": null, "status": null})");
  EXPECT_EQ(p.name, "");
}

TEST(DecodeNulls, EmptyObjects) {
  NodeDecodeResult r = ParseNodeJson("{}");
  EXPECT_EQ(r.error, "");
  EXPECT_TRUE(r.node.ready);
  Pod p = MustParsePod(" { } ");
  EXPECT_EQ(p.priority, 0);
  EXPECT_FALSE(p.ready);
}

TEST(DecodeNulls, PodNullFieldsAreUnset) {
  Pod p = MustParsePod(R"({
    "metadata": {"name": "p", "namespace": null, "ownerReferences": null, "deletionTimestamp": null,
                 "labels": {"a": null}},
    "spec": {"nodeName": null, "containers": [{"name": "c", "resources": {"requests": null, "limits": null}}],
             "initContainers": null, "overhead": null, "nodeSelector": null, "affinity": null,
             "tolerations": [{"key": "k", "tolerationSeconds": null, "operator": null}],
             "priority": null, "volumes": [{"name": "v", "emptyDir": null, "hostPath": null}]},
    "status": {"phase": null, "startTime": null, "conditions": null}})");
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.namespace_name, "");
  EXPECT_EQ(p.labels.at("a"), "");
  EXPECT_TRUE(p.owners.empty());
  EXPECT_FALSE(p.deleting);
  ASSERT_EQ(p.containers.size(), 1u);
  EXPECT_TRUE(p.containers[0].requests.empty());
  ASSERT_EQ(p.tolerations.size(), 1u);
  EXPECT_FALSE(p.tolerations[0].toleration_seconds.has_value());
  EXPECT_EQ(p.tolerations[0].op, "");
  EXPECT_EQ(p.priority, 0);
  EXPECT_FALSE(p.uses_local_storage);
  EXPECT_EQ(p.phase, "");
}

// ---- Node specifics ----

TEST(DecodeNode, Taints) {
  NodeDecodeResult r = ParseNodeJson(R"({"spec": {"taints": [
      {"key": "sgx.intel.com/epc", "effect": "NoSchedule", "timeAdded": null},
      {"key": "dedicated", "value": "enclave", "effect": "NoExecute"},
      {"key": "node.kubernetes.io/unreachable", "effect": "PreferNoSchedule", "timeAdded": "2024-01-01T00:00:00Z"}]}})");
  ASSERT_EQ(r.error, "");
  ASSERT_EQ(r.node.taints.size(), 3u);
  EXPECT_EQ(r.node.taints[0].key, "sgx.intel.com/epc");
  EXPECT_EQ(r.node.taints[0].value, "");
  EXPECT_EQ(r.node.taints[0].effect, "NoSchedule");
  EXPECT_EQ(r.node.taints[1].value, "enclave");
  EXPECT_EQ(r.node.taints[1].effect, "NoExecute");
  EXPECT_EQ(r.node.taints[2].effect, "PreferNoSchedule");
}

TEST(DecodeNode, ReadyCondition) {
  auto ready = [](const std::string& conditions) {
    NodeDecodeResult r = ParseNodeJson(R"({"status": {"conditions": )" + conditions + "}}");
    EXPECT_EQ(r.error, "") << conditions;
    return r.node.ready;
  };
  EXPECT_TRUE(ready("[]"));
  EXPECT_TRUE(ready(R"([{"type": "MemoryPressure", "status": "False"}])"));
  EXPECT_TRUE(ready(R"([{"type": "Ready", "status": "True"}])"));
  EXPECT_FALSE(ready(R"([{"type": "Ready", "status": "False"}])"));
  EXPECT_FALSE(ready(R"([{"type": "Ready", "status": "Unknown"}])"));
  EXPECT_FALSE(ready(R"([{"status": "False", "reason": "KubeletNotReady", "type": "Ready"}])"));
  EXPECT_FALSE(ready(R"([{"type": "Ready"}])"));
  EXPECT_TRUE(ready(
      R"([{"status": "True", "type": "Ready"}, {"type": "DiskPressure", "status": "False"}])"));
}

TEST(DecodeNode, NumericQuantities) {
  NodeDecodeResult r = ParseNodeJson(
      R"({"status": {"allocatable": {"pods": 110, "cpu": 1.5, "x": 1e3, "neg": -2, "s": 4 , "z": 0}}})");
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.node.allocatable.at("pods").Value(), 110);
  EXPECT_EQ(r.node.allocatable.at("cpu").MilliValue(), 1500);
  EXPECT_EQ(r.node.allocatable.at("x").Value(), 1000);
  EXPECT_EQ(r.node.allocatable.at("neg").Value(), -2);
  EXPECT_EQ(r.node.allocatable.at("s").Value(), 4);
  EXPECT_TRUE(r.node.allocatable.at("z").IsZero());
}

TEST(DecodeNode, BadQuantityKeepsNameAndRestOfNode) {
  // metadata comes last: the name is still found after the quantity error.
  NodeDecodeResult r = ParseNodeJson(R"({"status": {"allocatable": {"cpu": "4x", "memory": "1Gi"},
      "capacity": {"cpu": "bad"}}, "spec": {"unschedulable": true}, "metadata": {"name": "n7", "labels": {"a": "b"}}})");
  EXPECT_EQ(r.error, R"(status.allocatable["cpu"]: quantity "4x": unknown suffix "x")");
  EXPECT_EQ(r.node.name, "n7");
  EXPECT_EQ(r.node.labels.at("a"), "b");
  EXPECT_TRUE(r.node.unschedulable);
  EXPECT_EQ(r.node.allocatable.at("memory"), Q("1Gi"));
}

TEST(DecodeNode, ExampleNodeWithOneBadQuantity) {
  json node = ExampleNode(0);
  node["status"]["capacity"]["kubernetes.azure.com/sgx_epc_mem_in_MiB"] = "16 8";
  // Move metadata to the end of the object.
  json meta = node["metadata"];
  node.erase("metadata");
  std::string text = node.dump();
  text.pop_back();
  text += ",\"metadata\":" + meta.dump() + "}";
  NodeDecodeResult r = ParseNodeJson(text);
  EXPECT_NE(r.error.find(
                R"(status.capacity["kubernetes.azure.com/sgx_epc_mem_in_MiB"]: quantity "16 8")"),
            std::string::npos)
      << r.error;
  EXPECT_EQ(r.node.name, "aks-sgxpool-0");
}

TEST(DecodeNode, NonStringQuantity) {
  NodeDecodeResult r =
      ParseNodeJson(R"({"metadata": {"name": "n"}, "status": {"capacity": {"cpu": true}}})");
  EXPECT_EQ(r.error,
            R"(status.capacity["cpu"]: expected a quantity (string or number), got boolean)");
  EXPECT_EQ(r.node.name, "n");
  r = ParseNodeJson(R"({"status": {"capacity": {"cpu": {"value": 1}}}})");
  EXPECT_EQ(r.error,
            R"(status.capacity["cpu"]: expected a quantity (string or number), got object)");
}

TEST(DecodeNode, FirstErrorWins) {
  NodeDecodeResult r = ParseNodeJson(R"({"metadata": {"name": 5, "uid": "u"},
      "status": {"allocatable": {"cpu": "1x"}}, "spec": {"unschedulable": "yes"}})");
  EXPECT_EQ(r.error, "metadata.name: expected a string, got number");
  EXPECT_EQ(r.node.uid, "u");
}

struct WrongTypeCase {
  const char* json;
  const char* error;
};

TEST(DecodeNode, WrongTypesNameTheField) {
  const WrongTypeCase cases[] = {
      {R"({"metadata": {"name": 12}})", "metadata.name: expected a string, got number"},
      {R"({"metadata": {"name": ["a"]}})", "metadata.name: expected a string, got array"},
      {R"({"metadata": {"labels": ["a", "b"]}})", "metadata.labels: expected an object, got array"},
      {R"({"metadata": {"labels": {"a": 1}}})",
       R"(metadata.labels["a"]: expected a string, got number)"},
      {R"({"metadata": {"annotations": "x"}})",
       "metadata.annotations: expected an object, got string"},
      {R"({"metadata": []})", "metadata: expected an object, got array"},
      {R"({"spec": {"unschedulable": "true"}})",
       "spec.unschedulable: expected a boolean, got string"},
      {R"({"spec": {"taints": {"key": "a"}}})", "spec.taints: expected an array, got object"},
      {R"({"spec": {"taints": [{"key": "a"}, "b"]}})",
       "spec.taints[1]: expected an object, got string"},
      {R"({"spec": {"taints": [{"key": "a"}, {"effect": false}]}})",
       "spec.taints[1].effect: expected a string, got boolean"},
      {R"({"status": {"allocatable": [1]}})", "status.allocatable: expected an object, got array"},
      {R"({"status": {"conditions": [{"type": 1}]}})",
       "status.conditions[0].type: expected a string, got number"},
      {R"({"status": 7})", "status: expected an object, got number"},
  };
  for (const WrongTypeCase& c : cases) {
    NodeDecodeResult r = ParseNodeJson(c.json);
    EXPECT_EQ(r.error, c.error) << c.json;
  }
}

// A node that fails leaves the array iterator usable: the next node still decodes.
TEST(DecodeNode, ArrayContinuesAfterBadNode) {
  const simdjson::padded_string padded(std::string(R"([
      {"metadata": {"name": "a", "labels": [1, {"x": 2}]}, "status": {"allocatable": {"cpu": "1"}}},
      {"status": {"allocatable": {"cpu": "1q", "x": {"deep": [1, 2, {"y": null}]}}}, "metadata": {"name": "b"}},
      null,
      [1, 2],
      {"spec": {"taints": "nope", "unschedulable": true}, "metadata": {"name": "c"}},
      {"metadata": {"name": "d"}, "status": {"allocatable": {"cpu": "2"}}}])"));
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc = parser.iterate(padded);
  std::vector<NodeDecodeResult> results;
  for (auto item : doc.get_array()) results.push_back(DecodeNode(item.value()));
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[0].node.name, "a");
  EXPECT_EQ(results[0].error, "metadata.labels: expected an object, got array");
  EXPECT_EQ(results[0].node.allocatable.at("cpu"), Q("1"));
  EXPECT_EQ(results[1].node.name, "b");
  EXPECT_EQ(results[1].error.rfind(R"(status.allocatable["cpu"]: quantity "1q")", 0), 0u)
      << results[1].error;
  EXPECT_EQ(results[2].error, "expected a JSON object, got null");
  EXPECT_EQ(results[3].error, "expected a JSON object, got array");
  EXPECT_EQ(results[4].node.name, "c");
  EXPECT_TRUE(results[4].node.unschedulable);
  EXPECT_EQ(results[4].error, "spec.taints: expected an array, got string");
  EXPECT_EQ(results[5].error, "");
  EXPECT_EQ(results[5].node.name, "d");
  EXPECT_EQ(results[5].node.allocatable.at("cpu"), Q("2"));
}

// ---- Documents ----

TEST(DecodeDocument, NotAnObject) {
  EXPECT_EQ(ParseNodeJson("[]").error, "expected a JSON object, got array");
  EXPECT_EQ(ParseNodeJson("\"node\"").error, "expected a JSON object, got string");
  EXPECT_EQ(ParseNodeJson("42").error, "expected a JSON object, got number");
  EXPECT_EQ(ParseNodeJson("null").error, "expected a JSON object, got null");
  EXPECT_EQ(ParseNodeJson("true").error, "expected a JSON object, got boolean");
  EXPECT_EQ(PodError("[{}]"), "expected a JSON object, got array");
  EXPECT_EQ(PodError("1"), "expected a JSON object, got number");
}

TEST(DecodeDocument, EmptyInput) {
  EXPECT_EQ(ParseNodeJson("").error, "empty JSON document");
  EXPECT_EQ(ParseNodeJson(" \n\t ").error, "empty JSON document");
  EXPECT_EQ(PodError(""), "empty JSON document");
}

TEST(DecodeDocument, TrailingContent) {
  EXPECT_NE(ParseNodeJson(R"({"metadata": {"name": "a"}} x)").error, "");
  EXPECT_NE(ParseNodeJson(R"({} {})").error, "");
  EXPECT_NE(PodError(R"({}])"), "");
  EXPECT_EQ(ParseNodeJson("{}  \n").error, "");
}

TEST(DecodeDocument, Garbage) {
  for (const char* text :
       {"{", "}", "{]", "{\"metadata\"}", "{\"metadata\":}", "{\"a\" 1}", "{,}",
        "{\"metadata\": {\"name\": \"a\",}}", "{\"metadata\": {\"name\": tru}}", "nul",
        "{\"a\":1,}", "\"abc", "{\"metadata\": {\"name\": \"\\u12\"}}", "\xff\xfe{}",
        "{\"metadata\": {\"name\": \"a\"}, \"spec\": {\"nodeName\": \"a\"}}}"}) {
    EXPECT_NE(ParseNodeJson(text).error, "") << text;
    EXPECT_FALSE(ParsePodJson(text).ok()) << text;
  }
  // Bad scalars in fields the decoder reads.
  for (const char* text :
       {"{\"spec\": {\"unschedulable\": nul}}", "{\"status\": {\"allocatable\": {\"cpu\": 4x}}}",
        "{\"status\": {\"allocatable\": {\"cpu\": 01}}}",
        "{\"status\": {\"allocatable\": {\"cpu\": -}}}"}) {
    EXPECT_NE(ParseNodeJson(text).error, "") << text;
  }
  for (const char* text :
       {"{\"spec\": {\"priority\": 1x}}", "{\"spec\": {\"overhead\": {\"cpu\": 1.}}}",
        "{\"metadata\": {\"labels\": {\"a\": fals}}}"}) {
    EXPECT_FALSE(ParsePodJson(text).ok()) << text;
  }
}

// Every strict prefix of a valid object is invalid JSON: each must fail cleanly, never crash.
TEST(DecodeDocument, EveryTruncationFails) {
  const std::string node = ExampleNode(0).dump();
  for (size_t n = 0; n < node.size(); ++n) {
    NodeDecodeResult r = ParseNodeJson(std::string_view(node).substr(0, n));
    ASSERT_NE(r.error, "") << "prefix of " << n << " bytes";
  }
  EXPECT_EQ(ParseNodeJson(node).error, "");
  const std::string pod = ExamplePod().dump();
  for (size_t n = 0; n < pod.size(); ++n) {
    ASSERT_FALSE(ParsePodJson(std::string_view(pod).substr(0, n)).ok())
        << "prefix of " << n << " bytes";
  }
}

// Random byte damage: decoding returns (an error or a node), never crashes (run under ASan).
TEST(DecodeDocument, RandomDamageNeverCrashes) {
  const std::string node = ExampleNode(1).dump();
  const std::string pod = ExamplePod().dump();
  std::mt19937 rng(12345);
  const char alphabet[] = "{}[]\":,\\ntf0-1e.x \x80";
  int failures = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string text = (i % 2 == 0) ? node : pod;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      switch (rng() % 3) {
        case 0:
          text[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
          break;
        case 1:
          text.erase(at, 1 + rng() % 8);
          break;
        default:
          text.insert(at, 1, alphabet[rng() % (sizeof(alphabet) - 1)]);
          break;
      }
      if (text.empty()) text = "{";
    }
    if (i % 2 == 0) {
      failures += ParseNodeJson(text).error.empty() ? 0 : 1;
    } else {
      failures += ParsePodJson(text).ok() ? 0 : 1;
    }
  }
  EXPECT_GT(failures, 0);
}

// ---- Pod specifics ----

TEST(DecodePod, SidecarsAndInitContainers) {
  Pod p = MustParsePod(R"({"spec": {
    "initContainers": [
      {"name": "setup", "resources": {"requests": {"cpu": "500m"}}},
      {"restartPolicy": "Always", "name": "proxy", "resources": {"requests": {"memory": "64Mi"}}},
      {"name": "other", "restartPolicy": "OnFailure"}],
    "containers": [{"name": "app", "restartPolicy": "Always", "resources": {"limits": {"cpu": "1"}}}]}})");
  ASSERT_EQ(p.init_containers.size(), 3u);
  EXPECT_EQ(p.init_containers[0].name, "setup");
  EXPECT_FALSE(p.init_containers[0].restartable_init);
  EXPECT_EQ(p.init_containers[0].requests.at("cpu"), Q("500m"));
  EXPECT_EQ(p.init_containers[1].name, "proxy");
  EXPECT_TRUE(p.init_containers[1].restartable_init);
  EXPECT_EQ(p.init_containers[1].requests.at("memory"), Q("64Mi"));
  EXPECT_FALSE(p.init_containers[2].restartable_init);
  ASSERT_EQ(p.containers.size(), 1u);
  EXPECT_FALSE(p.containers[0].restartable_init);  // only init containers are sidecars
  EXPECT_EQ(p.containers[0].limits.at("cpu"), Q("1"));
}

TEST(DecodePod, Affinity) {
  Pod p = MustParsePod(R"({"spec": {"affinity": {
    "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"topologyKey": "x"}]},
    "nodeAffinity": {
      "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 1, "preference": {"matchExpressions": []}}],
      "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "agentpool", "operator": "In", "values": ["sgxpool", "sgx2"]},
                              {"key": "gpu", "operator": "DoesNotExist"}]},
        {"matchFields": [{"key": "metadata.name", "operator": "NotIn", "values": ["n1"]}],
         "matchExpressions": [{"key": "cores", "operator": "Gt", "values": ["4"]}]}]}}}}})");
  ASSERT_EQ(p.required_node_affinity.size(), 2u);
  const NodeSelectorTerm& t0 = p.required_node_affinity[0];
  ASSERT_EQ(t0.match_expressions.size(), 2u);
  EXPECT_EQ(t0.match_expressions[0].key, "agentpool");
  EXPECT_EQ(t0.match_expressions[0].op, "In");
  EXPECT_EQ(t0.match_expressions[0].values, (std::vector<std::string>{"sgxpool", "sgx2"}));
  EXPECT_EQ(t0.match_expressions[1].op, "DoesNotExist");
  EXPECT_TRUE(t0.match_expressions[1].values.empty());
  EXPECT_TRUE(t0.match_fields.empty());
  const NodeSelectorTerm& t1 = p.required_node_affinity[1];
  ASSERT_EQ(t1.match_fields.size(), 1u);
  EXPECT_EQ(t1.match_fields[0].key, "metadata.name");
  EXPECT_EQ(t1.match_fields[0].op, "NotIn");
  EXPECT_EQ(t1.match_fields[0].values, std::vector<std::string>{"n1"});
  ASSERT_EQ(t1.match_expressions.size(), 1u);
  EXPECT_EQ(t1.match_expressions[0].op, "Gt");
}

TEST(DecodePod, AffinityWrongType) {
  EXPECT_EQ(
      PodError(
          R"({"spec": {"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
      {"nodeSelectorTerms": [{"matchExpressions": [{"key": "a", "values": "x"}]}]}}}}})"),
      "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms["
      "0]"
      ".matchExpressions[0].values: expected an array, got string");
}

TEST(DecodePod, Tolerations) {
  Pod p = MustParsePod(R"({"spec": {"tolerations": [
      {"operator": "Exists"},
      {"key": "sgx", "operator": "Equal", "value": "yes", "effect": "NoSchedule"},
      {"key": "k", "effect": "NoExecute", "tolerationSeconds": -5},
      {"key": "big", "tolerationSeconds": 9223372036854775807}]}})");
  ASSERT_EQ(p.tolerations.size(), 4u);
  EXPECT_EQ(p.tolerations[0].key, "");
  EXPECT_EQ(p.tolerations[0].op, "Exists");
  EXPECT_EQ(p.tolerations[0].effect, "");
  EXPECT_FALSE(p.tolerations[0].toleration_seconds.has_value());
  EXPECT_EQ(p.tolerations[1].key, "sgx");
  EXPECT_EQ(p.tolerations[1].op, "Equal");
  EXPECT_EQ(p.tolerations[1].value, "yes");
  EXPECT_EQ(p.tolerations[1].effect, "NoSchedule");
  EXPECT_EQ(p.tolerations[2].toleration_seconds, -5);
  EXPECT_EQ(p.tolerations[3].toleration_seconds, INT64_MAX);
  EXPECT_EQ(PodError(R"({"spec": {"tolerations": [{"tolerationSeconds": 1.5}]}})"),
            "spec.tolerations[0].tolerationSeconds: expected an integer, got 1.5");
  EXPECT_EQ(PodError(R"({"spec": {"tolerations": [{"tolerationSeconds": "300"}]}})"),
            "spec.tolerations[0].tolerationSeconds: expected an integer, got string");
}

TEST(DecodePod, Priority) {
  EXPECT_EQ(MustParsePod(R"({"spec": {"priority": 2000001000}})").priority, 2000001000);
  EXPECT_EQ(MustParsePod(R"({"spec": {"priority": -10}})").priority, -10);
  EXPECT_EQ(PodError(R"({"spec": {"priority": 2147483648}})"),
            "spec.priority: integer 2147483648 is out of the int32 range");
  EXPECT_EQ(PodError(R"({"spec": {"priority": 1e3}})"),
            "spec.priority: expected an integer, got 1e3");
  EXPECT_EQ(PodError(R"({"spec": {"priority": 99999999999999999999}})"),
            "spec.priority: expected an integer, got 99999999999999999999");
  EXPECT_EQ(PodError(R"({"spec": {"priority": true}})"),
            "spec.priority: expected an integer, got boolean");
}

TEST(DecodePod, MetadataAndStatus) {
  Pod p = MustParsePod(R"({
    "status": {"conditions": [{"type": "PodScheduled", "status": "True"}, {"status": "True", "type": "Ready"}],
               "phase": "Running", "startTime": "2024-05-02T09:14:30Z", "podIP": "10.0.0.5"},
    "metadata": {"name": "p", "namespace": "ns", "deletionTimestamp": "2024-05-02T10:00:00Z",
                 "deletionGracePeriodSeconds": 30,
                 "ownerReferences": [{"kind": "Job", "name": "j", "uid": "1"},
                                     {"apiVersion": "v1", "kind": "Node", "name": "n", "controller": false}]},
    "spec": {"nodeName": "aks-sgxpool-0", "schedulerName": "epc", "overhead": {"cpu": "250m"},
             "nodeSelector": {"agentpool": "sgxpool", "kubernetes.io/os": "linux"}}})");
  EXPECT_EQ(p.namespace_name, "ns");
  EXPECT_TRUE(p.deleting);
  ASSERT_EQ(p.owners.size(), 2u);
  EXPECT_EQ(p.owners[0].kind, "Job");
  EXPECT_FALSE(p.owners[0].controller);
  EXPECT_EQ(p.owners[1].api_version, "v1");
  EXPECT_EQ(p.phase, "Running");
  EXPECT_EQ(p.start_time, "2024-05-02T09:14:30Z");
  EXPECT_TRUE(p.ready);
  EXPECT_FALSE(p.unschedulable);
  EXPECT_EQ(p.node_name, "aks-sgxpool-0");
  EXPECT_EQ(p.scheduler_name, "epc");
  EXPECT_EQ(p.overhead.at("cpu"), Q("250m"));
  EXPECT_EQ(p.node_selector.size(), 2u);
  EXPECT_EQ(p.node_selector.at("agentpool"), "sgxpool");
  EXPECT_TRUE(UsesNodeResources(p));
}

TEST(DecodePod, SchedulingConditions) {
  auto pod = [](const std::string& conditions) {
    return MustParsePod(R"({"status": {"conditions": )" + conditions + "}}");
  };
  EXPECT_TRUE(pod(R"([{"type": "PodScheduled", "status": "False", "reason": "Unschedulable"}])")
                  .unschedulable);
  EXPECT_TRUE(pod(R"([{"reason": "Unschedulable", "status": "False", "type": "PodScheduled"}])")
                  .unschedulable);
  EXPECT_FALSE(pod(R"([{"type": "PodScheduled", "status": "False", "reason": "SchedulerError"}])")
                   .unschedulable);
  EXPECT_FALSE(pod(R"([{"type": "PodScheduled", "status": "True", "reason": "Unschedulable"}])")
                   .unschedulable);
  EXPECT_FALSE(pod(R"([{"type": "Ready", "status": "False"}])").ready);
  EXPECT_FALSE(pod(R"([{"type": "ContainersReady", "status": "True"}])").ready);
}

TEST(DecodePod, LocalStorageVolumes) {
  auto local = [](const std::string& volumes) {
    return MustParsePod(R"({"spec": {"volumes": )" + volumes + "}}").uses_local_storage;
  };
  EXPECT_FALSE(local("[]"));
  EXPECT_FALSE(
      local(R"([{"name": "c", "configMap": {"name": "x"}}, {"name": "s", "secret": {}}])"));
  EXPECT_TRUE(local(R"([{"name": "scratch", "emptyDir": {}}])"));
  EXPECT_TRUE(local(R"([{"name": "scratch", "emptyDir": {"medium": "", "sizeLimit": "1Gi"}}])"));
  EXPECT_TRUE(local(R"([{"name": "huge", "emptyDir": {"medium": "HugePages"}}])"));
  EXPECT_FALSE(local(R"([{"name": "shm", "emptyDir": {"medium": "Memory"}}])"));
  EXPECT_TRUE(local(
      R"([{"name": "shm", "emptyDir": {"medium": "Memory"}}, {"name": "h", "hostPath": {"path": "/x"}}])"));
  EXPECT_EQ(PodError(R"({"spec": {"volumes": [{"name": "v", "hostPath": "/x"}]}})"),
            "spec.volumes[0].hostPath: expected an object, got string");
  EXPECT_EQ(PodError(R"({"spec": {"volumes": [{"name": "v"}, {"emptyDir": []}]}})"),
            "spec.volumes[1].emptyDir: expected an object, got array");
}

TEST(DecodePod, BadQuantityNamesContainerAndResource) {
  EXPECT_EQ(PodError(R"({"metadata": {"name": "p"}, "spec": {"containers": [
      {"name": "ok", "resources": {"requests": {"cpu": "1"}}},
      {"resources": {"requests": {"cpu": "1", "sgx.intel.com/epc": "10Qi"}}, "name": "enclave"}]}})"),
            R"(container "enclave": spec.containers[1].resources.requests["sgx.intel.com/epc"]: )"
            R"(quantity "10Qi": unknown suffix "Qi")");
  EXPECT_EQ(
      PodError(
          R"({"spec": {"initContainers": [{"name": "init", "resources": {"limits": {"memory": "x"}}}]}})")
          .rfind(
              R"(container "init": spec.initContainers[0].resources.limits["memory"]: quantity "x")",
              0),
      0u);
  EXPECT_EQ(PodError(R"({"spec": {"overhead": {"cpu": "1..5"}}})")
                .rfind(R"(spec.overhead["cpu"]: quantity "1..5")", 0),
            0u);
}

TEST(DecodePod, WrongTypes) {
  const WrongTypeCase cases[] = {
      {R"({"metadata": {"namespace": 1}})", "metadata.namespace: expected a string, got number"},
      {R"({"metadata": {"ownerReferences": [{"controller": "true"}]}})",
       "metadata.ownerReferences[0].controller: expected a boolean, got string"},
      {R"({"metadata": {"deletionTimestamp": 5}})",
       "metadata.deletionTimestamp: expected a string, got number"},
      {R"({"spec": {"containers": {}}})", "spec.containers: expected an array, got object"},
      {R"({"spec": {"containers": [{"name": "a", "resources": []}]}})",
       R"(container "a": spec.containers[0].resources: expected an object, got array)"},
      {R"({"spec": {"nodeSelector": {"a": ["b"]}}})",
       R"(spec.nodeSelector["a"]: expected a string, got array)"},
      {R"({"spec": {"tolerations": [{"key": 1}]}})",
       "spec.tolerations[0].key: expected a string, got number"},
      {R"({"spec": {"nodeName": false}})", "spec.nodeName: expected a string, got boolean"},
      {R"({"status": {"phase": {}}})", "status.phase: expected a string, got object"},
      {R"({"status": {"conditions": {}}})", "status.conditions: expected an array, got object"},
      {R"({"spec": {"initContainers": [{"restartPolicy": 1}]}})",
       "spec.initContainers[0].restartPolicy: expected a string, got number"},
  };
  for (const WrongTypeCase& c : cases) EXPECT_EQ(PodError(c.json), c.error) << c.json;
}

TEST(DecodePod, CaseInsensitive) {
  Pod p = MustParsePod(
      R"({"Metadata": {"NAME": "p", "NameSpace": "ns", "OwnerReferences": [{"Controller": true}],
      "DELETIONTIMESTAMP": "x"}, "SPEC": {"CONTAINERS": [{"Name": "c", "Resources": {"Requests": {"cpu": "1"}}}],
      "InitContainers": [{"RestartPolicy": "Always"}], "NodeSelector": {"a": "b"}, "Priority": 5,
      "Volumes": [{"EmptyDir": {"Medium": "Memory"}}],
      "Affinity": {"NodeAffinity": {"RequiredDuringSchedulingIgnoredDuringExecution": {"NodeSelectorTerms": [{"MatchFields": []}]}}}},
      "Status": {"Phase": "Running", "Conditions": [{"Type": "Ready", "Status": "True"}]}})");
  EXPECT_EQ(p.name, "p");
  EXPECT_EQ(p.namespace_name, "ns");
  ASSERT_EQ(p.owners.size(), 1u);
  EXPECT_TRUE(p.owners[0].controller);
  EXPECT_TRUE(p.deleting);
  ASSERT_EQ(p.containers.size(), 1u);
  EXPECT_EQ(p.containers[0].requests.at("cpu"), Q("1"));
  ASSERT_EQ(p.init_containers.size(), 1u);
  EXPECT_TRUE(p.init_containers[0].restartable_init);
  EXPECT_EQ(p.node_selector.at("a"), "b");
  EXPECT_EQ(p.priority, 5);
  EXPECT_FALSE(p.uses_local_storage);
  EXPECT_EQ(p.required_node_affinity.size(), 1u);
  EXPECT_EQ(p.phase, "Running");
  EXPECT_TRUE(p.ready);
}

}  // namespace
}  // namespace epc
