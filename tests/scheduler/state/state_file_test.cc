#include "scheduler/state/state_file.h"

#include <gtest/gtest.h>

#include "tests/scheduler/testing/fixtures.h"

namespace epc {
namespace {

using testing::NodeJson;
using testing::PodJson;

TEST(StateFile, LoadsNodesAndPods) {
  auto store = testing::NewStore(testing::TestConfig());
  testing::PodSpec bound = testing::EpcPod("r", "r1", "100");
  bound.node_name = "sgx-0";
  bound.phase = "Running";
  std::string text = R"({"nodes": [)" + NodeJson(testing::SgxNode("sgx-0")) + "," +
                     NodeJson(testing::GeneralNode("gen-0")) + R"(], "Pods": [)" + PodJson(bound) +
                     "," + PodJson(testing::EpcPod("pending", "p1", "5")) + "]}";
  auto summary = LoadStateJson(text, "state.json", *store);
  ASSERT_TRUE(summary.ok()) << summary.error();
  EXPECT_EQ(summary->nodes, 2u);
  EXPECT_EQ(summary->pods, 2u);
  auto snapshot = store->Snapshot();
  EXPECT_EQ(snapshot->node_count(), 2u);
  ASSERT_NE(snapshot->FindNode("sgx-0"), nullptr);
  EXPECT_EQ(snapshot->FindNode("sgx-0")->requested.epc_bytes, 100LL << 20);
  EXPECT_EQ(snapshot->FindPod("p1"), nullptr);  // pending: not accounted
}

TEST(StateFile, ErrorsNameTheFileAndTheItem) {
  auto store = testing::NewStore(testing::TestConfig());
  testing::NodeSpec bad = testing::SgxNode("sgx-bad");
  bad.cpu = "1q";
  struct Case {
    std::string text;
    std::string error_part;
  };
  const Case cases[] = {
      {"[]", "state.json: must be a JSON object"},
      {"{", "state.json: not JSON"},
      {R"({"nodes": {}})", "state.json: \"nodes\" must be an array"},
      {R"({"nodez": []})", "state.json: unknown key \"nodez\""},
      {R"({"nodes": [)" + NodeJson(testing::SgxNode("ok")) + "," + NodeJson(bad) + "]}",
       "state.json: nodes[1] (\"sgx-bad\"): "},
      {R"({"nodes": [{"metadata": {}}]})", "state.json: nodes[0]: metadata.name is missing"},
      {R"({"pods": [5]})", "state.json: pods[0] must be an object"},
  };
  for (const Case& c : cases) {
    auto summary = LoadStateJson(c.text, "state.json", *store);
    ASSERT_FALSE(summary.ok()) << c.text;
    EXPECT_NE(summary.error().find(c.error_part), std::string::npos) << summary.error();
  }
  EXPECT_EQ(store->Snapshot()->node_count(), 0u);  // nothing half-loaded
  auto missing = LoadStateFile("/nonexistent/state.json", *store);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("/nonexistent/state.json"), std::string::npos);
}

}  // namespace
}  // namespace epc
