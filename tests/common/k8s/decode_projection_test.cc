// DecodeNode with a NodeProjection: stores only what the projection names, fails exactly when
// and as the full decode fails, and gives the predicate the same NodeInfo.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/k8s/decode.h"
#include "common/model/epc_resources.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"

namespace epc {
namespace {

using nlohmann::json;

constexpr std::string_view kAzure = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
constexpr std::string_view kIntel = "sgx.intel.com/epc";

std::vector<std::string> ExampleNodes() {
  std::ifstream in(std::string(EPC_EXAMPLES_DIR) + "/filter-full-mode.json", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<std::string> out;
  const json request = json::parse(ss.str());
  for (const json& node : request["Nodes"]["items"]) out.push_back(node.dump());
  return out;
}

// The extender's projection for pools chosen by `epc.acceptance/pool` and `agentpool`.
NodeProjection ExtenderLike() {
  NodeProjection p;
  p.annotations = false;
  p.uid_and_version = false;
  p.all_labels = false;
  p.label_keys = {"epc.acceptance/pool", "agentpool"};
  p.all_resources = false;
  p.resource_names = {std::string(kIntel), std::string(kAzure)};
  return p;
}

NodeDecodeResult Decode(const std::string& text, const NodeProjection& projection) {
  const simdjson::padded_string padded(text);
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document doc;
  simdjson::ondemand::value value;
  if (parser.iterate(padded).get(doc) != simdjson::SUCCESS ||
      doc.get_value().get(value) != simdjson::SUCCESS) {
    return {Node(), "not JSON"};
  }
  return DecodeNode(value, projection);
}

// `full` reduced to what `p` keeps.
Node Project(Node full, const NodeProjection& p) {
  if (!p.annotations) full.annotations.clear();
  if (!p.uid_and_version) {
    full.uid.clear();
    full.resource_version.clear();
  }
  auto keep = [](const std::vector<std::string>& keys, const std::string& key) {
    return std::find(keys.begin(), keys.end(), key) != keys.end();
  };
  if (!p.all_labels) {
    std::erase_if(full.labels, [&](const auto& kv) { return !keep(p.label_keys, kv.first); });
  }
  if (!p.all_resources) {
    for (ResourceQuantities* list : {&full.allocatable, &full.capacity}) {
      std::erase_if(*list, [&](const auto& kv) { return !keep(p.resource_names, kv.first); });
    }
  }
  return full;
}

void ExpectSameNode(const Node& a, const Node& b, const std::string& context) {
  EXPECT_EQ(a.name, b.name) << context;
  EXPECT_EQ(a.uid, b.uid) << context;
  EXPECT_EQ(a.resource_version, b.resource_version) << context;
  EXPECT_EQ(a.labels, b.labels) << context;
  EXPECT_EQ(a.annotations, b.annotations) << context;
  EXPECT_EQ(a.allocatable, b.allocatable) << context;
  EXPECT_EQ(a.capacity, b.capacity) << context;
  ASSERT_EQ(a.taints.size(), b.taints.size()) << context;
  for (size_t i = 0; i < a.taints.size(); ++i) {
    EXPECT_EQ(a.taints[i].key, b.taints[i].key) << context;
    EXPECT_EQ(a.taints[i].value, b.taints[i].value) << context;
    EXPECT_EQ(a.taints[i].effect, b.taints[i].effect) << context;
  }
  EXPECT_EQ(a.unschedulable, b.unschedulable) << context;
  EXPECT_EQ(a.ready, b.ready) << context;
}

TEST(DecodeProjection, DefaultKeepsEverything) {
  for (const std::string& text : ExampleNodes()) {
    NodeDecodeResult full = ParseNodeJson(text);
    NodeDecodeResult projected = Decode(text, NodeProjection());
    ASSERT_EQ(projected.error, full.error);
    ExpectSameNode(projected.node, full.node, text.substr(0, 80));
    EXPECT_FALSE(projected.node.annotations.empty());
  }
}

TEST(DecodeProjection, KeepsOnlyWhatItNames) {
  const NodeProjection p = ExtenderLike();
  for (const std::string& text : ExampleNodes()) {
    NodeDecodeResult full = ParseNodeJson(text);
    NodeDecodeResult projected = Decode(text, p);
    ASSERT_EQ(projected.error, "");
    ExpectSameNode(projected.node, Project(full.node, p), full.node.name);
    EXPECT_TRUE(projected.node.annotations.empty());
    EXPECT_EQ(projected.node.labels.size(), 2u) << full.node.name;  // both keys are on every node
    EXPECT_FALSE(projected.node.allocatable.contains("cpu"));
  }
}

// Fields a projection leaves out are still checked: a node fails with the same error.
TEST(DecodeProjection, LeftOutFieldsFailAsInTheFullDecode) {
  const std::string cases[] = {
      R"({"metadata": {"name": "n", "uid": 7}})",
      R"({"metadata": {"name": "n", "resourceVersion": ["1"]}})",
      R"({"metadata": {"name": "n", "labels": {"other": 1}}})",
      R"({"metadata": {"name": "n", "labels": ["x"]}})",
      R"({"metadata": {"name": "n", "annotations": {"a": {"b": "c"}}}})",
      R"({"metadata": {"name": "n", "annotations": "x"}})",
      R"({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": "7820x"}}})",
      R"({"metadata": {"name": "n"}, "status": {"capacity": {"memory": true}}})",
      R"({"metadata": {"name": "n"}, "status": {"allocatable": {"pods": 1.5e400}}})",
      R"({"metadata": {"name": "n"}, "status": {"allocatable": {"cpu": null, "sgx.intel.com/epc": "1x"}}})",
      R"({"metadata": {"name": "n"}, "spec": {"taints": [{"key": 1}]}})",
      R"({"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": 1}]}})",
      R"({"metadata": {"name": "n", "labels": {"agentpool": 5}}})",
  };
  for (const std::string& text : cases) {
    NodeDecodeResult full = ParseNodeJson(text);
    NodeDecodeResult projected = Decode(text, ExtenderLike());
    EXPECT_NE(full.error, "") << text;
    EXPECT_EQ(projected.error, full.error) << text;
    EXPECT_EQ(projected.node.name, "n") << text;
  }
}

// Conditions and spec left out are skipped unread: not stored, and not checked either.
TEST(DecodeProjection, ConditionsAndTaintsLeftOutAreSkippedUnread) {
  NodeProjection p = ExtenderLike();
  p.conditions = false;
  p.taints_and_unschedulable = false;
  const std::string cordoned = R"({"metadata": {"name": "n"},
      "spec": {"unschedulable": true, "taints": [{"key": "k", "effect": "NoSchedule"}]},
      "status": {"conditions": [{"type": "Ready", "status": "False"}],
                 "allocatable": {"sgx.intel.com/epc": "8Mi"}}})";
  NodeDecodeResult full = ParseNodeJson(cordoned);
  ASSERT_EQ(full.error, "");
  EXPECT_FALSE(full.node.ready);
  EXPECT_TRUE(full.node.unschedulable);
  EXPECT_EQ(full.node.taints.size(), 1u);
  NodeDecodeResult skipped = Decode(cordoned, p);
  ASSERT_EQ(skipped.error, "");
  EXPECT_TRUE(skipped.node.ready);
  EXPECT_FALSE(skipped.node.unschedulable);
  EXPECT_TRUE(skipped.node.taints.empty());
  EXPECT_EQ(skipped.node.allocatable, full.node.allocatable);
  // Each flag alone leaves the other part read.
  NodeProjection only_conditions = ExtenderLike();
  only_conditions.conditions = false;
  NodeDecodeResult spec_read = Decode(cordoned, only_conditions);
  EXPECT_TRUE(spec_read.node.ready);
  EXPECT_TRUE(spec_read.node.unschedulable);
  NodeProjection only_spec = ExtenderLike();
  only_spec.taints_and_unschedulable = false;
  NodeDecodeResult conditions_read = Decode(cordoned, only_spec);
  EXPECT_FALSE(conditions_read.node.ready);
  EXPECT_FALSE(conditions_read.node.unschedulable);
  // Malformed but well-formed JSON there is not read, so not an error.
  for (
      const std::string text : {
          R"({"metadata": {"name": "n"}, "spec": {"taints": [{"key": 1}]}})",
          R"({"metadata": {"name": "n"}, "status": {"conditions": [{"type": "Ready", "status": 1}]}})",
      }) {
    EXPECT_NE(ParseNodeJson(text).error, "") << text;
    EXPECT_EQ(Decode(text, p).error, "") << text;
  }
}

// Random damage to real nodes: with or without a projection, the same error, and when there is
// none, the same node less what the projection leaves out.
TEST(DecodeProjection, SameOutcomeAsTheFullDecodeOnDamagedNodes) {
  const std::vector<std::string> nodes = ExampleNodes();
  const NodeProjection p = ExtenderLike();
  std::mt19937 rng(4242);
  const char alphabet[] = "{}[]\":,\\ntf0-1e.x \x80";
  int clean = 0;
  for (int i = 0; i < 1500; ++i) {
    std::string text = nodes[static_cast<size_t>(i) % nodes.size()];
    const int edits = static_cast<int>(rng() % 3);
    for (int e = 0; e < edits; ++e) {
      const size_t at = rng() % text.size();
      if (rng() % 2 == 0) {
        text[at] = alphabet[rng() % (sizeof(alphabet) - 1)];
      } else {
        text.insert(at, 1, alphabet[rng() % (sizeof(alphabet) - 1)]);
      }
    }
    NodeDecodeResult full = ParseNodeJson(text);
    if (full.error.find("invalid JSON") != std::string::npos ||
        full.error.find("JSON object") != std::string::npos) {
      continue;  // a broken document: the whole-document parse and a value decode differ
    }
    NodeDecodeResult projected = Decode(text, p);
    ASSERT_EQ(projected.error, full.error) << text;
    if (full.error.empty()) {
      ++clean;
      ExpectSameNode(projected.node, Project(full.node, p), text);
    }
  }
  EXPECT_GT(clean, 100);
}

// What the predicate sees of a node is the same either way.
TEST(DecodeProjection, SameNodeInfoAsTheFullDecode) {
  PoolSpec confidential{"confidential", true, {}};
  confidential.node_selector.match_labels["epc.acceptance/pool"] = "confidential";
  PoolSpec by_agentpool{"sgx", true, {}};
  by_agentpool.node_selector.match_expressions.push_back({"agentpool", "In", {"sgxpool"}});
  PoolSpec general{"general", false, {}};
  general.node_selector.match_expressions.push_back({"agentpool", "Exists", {}});
  const PoolClassifier pools({confidential, by_agentpool, general});
  const EpcResources epc;

  std::vector<std::string> texts = ExampleNodes();
  texts.push_back(R"({"metadata": {"name": "capacity-only"},
      "status": {"capacity": {"sgx.intel.com/epc": "64Mi", "cpu": "2"}}})");
  texts.push_back(R"({"metadata": {"name": "both-units", "labels": {"agentpool": "sgxpool"}},
      "status": {"allocatable": {"sgx.intel.com/epc": "32Mi",
                                 "kubernetes.azure.com/sgx_epc_mem_in_MiB": 16, "cpu": null}}})");
  texts.push_back(
      R"({"metadata": {"name": "null-epc", "labels": {"epc.acceptance/pool": "confidential"}},
      "status": {"allocatable": {"kubernetes.azure.com/sgx_epc_mem_in_MiB": null}}})");
  texts.push_back(R"({"metadata": {"name": "unlabelled"}, "status": {"allocatable": null}})");
  for (const std::string& text : texts) {
    NodeDecodeResult full = ParseNodeJson(text);
    NodeDecodeResult projected = Decode(text, ExtenderLike());
    ASSERT_EQ(full.error, "") << text;
    ASSERT_EQ(projected.error, "") << text;
    const NodeInfo a = MakeNodeInfo(full.node, epc, pools);
    const NodeInfo b = MakeNodeInfo(projected.node, epc, pools);
    EXPECT_EQ(a.allocatable.epc_bytes, b.allocatable.epc_bytes) << full.node.name;
    EXPECT_EQ(a.epc_capacity_bytes, b.epc_capacity_bytes) << full.node.name;
    EXPECT_EQ(a.pool.index, b.pool.index) << full.node.name;
    EXPECT_EQ(a.pool.confidential, b.pool.confidential) << full.node.name;
    EXPECT_EQ(Predicate().FitKey(a), Predicate().FitKey(b)) << full.node.name;
  }
}

}  // namespace
}  // namespace epc
