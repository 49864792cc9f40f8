#include "autoscaler/cluster/providers/kwok.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/k8s/decode.h"
#include "tests/testing/builders.h"
#include "tests/testing/fake_apiserver.h"

namespace epc::cluster {
namespace {

using nlohmann::json;
using testing::Q;

class KwokTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    auto c = ApiClient::Create(server_.Config());
    ASSERT_TRUE(c.ok()) << c.error();
    client_ = *c;
  }
  KwokOptions Options() {
    KwokOptions o;
    o.seed = 7;
    Node sgx = testing::NodeBuilder("t")
                   .Allocatable(testing::kIntelEpc, "128Mi")
                   .Label("pool", "confidential")
                   .Build();
    sgx.taints.push_back({"sgx", "true", "NoSchedule"});
    o.groups.push_back({"confidential", 0, 2, sgx});
    o.groups.push_back({"general", 1, 3, testing::NodeBuilder("g").Build()});
    return o;
  }
  std::vector<Node> Nodes() {
    auto r = client_->Get("/api/v1/nodes");
    EXPECT_TRUE(r.ok() && r->ok());
    std::vector<Node> out;
    json list = json::parse(r->body);
    for (const auto& item : list["items"]) {
      auto n = ParseNodeJson(item.dump());
      EXPECT_EQ(n.error, "");
      out.push_back(n.node);
    }
    return out;
  }
  testing::FakeApiServer server_;
  std::shared_ptr<ApiClient> client_;
};

TEST_F(KwokTest, CreatesReadyNodesFromTemplate) {
  KwokProvider p(client_, Options());
  auto groups = p.Refresh();
  ASSERT_TRUE(groups.ok()) << groups.error();
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].target_size, 0);
  ASSERT_TRUE((*groups)[0].template_node.has_value());

  auto t = p.IncreaseSize("confidential", 2);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, 2);
  EXPECT_EQ(*p.TargetSize("confidential"), 2);
  EXPECT_FALSE(p.IncreaseSize("confidential", 1).ok());  // max 2

  std::vector<Node> nodes = Nodes();
  ASSERT_EQ(nodes.size(), 2u);
  for (const Node& n : nodes) {
    EXPECT_TRUE(n.name.starts_with("confidential-")) << n.name;
    EXPECT_EQ(n.name.size(), std::string("confidential-").size() + 5);
    EXPECT_EQ(n.labels.at(std::string(kNodeGroupLabel)), "confidential");
    EXPECT_EQ(n.labels.at("pool"), "confidential");
    EXPECT_EQ(n.annotations.at(std::string(kKwokNodeAnnotation)), "fake");
    EXPECT_TRUE(n.ready);
    EXPECT_EQ(n.allocatable.at("sgx.intel.com/epc"), Q("128Mi"));
    EXPECT_EQ(n.capacity.at("cpu"), Q("4"));
    ASSERT_EQ(n.taints.size(), 1u);
    EXPECT_EQ(n.taints[0].key, "sgx");
    EXPECT_EQ(p.NodeGroupForNode(n).value_or(""), "confidential");
  }
  EXPECT_NE(nodes[0].name, nodes[1].name);
}

TEST_F(KwokTest, DeletesExactlyTheNamedNodes) {
  KwokProvider p(client_, Options());
  ASSERT_TRUE(p.IncreaseSize("general", 3).ok());
  std::vector<Node> nodes = Nodes();
  ASSERT_EQ(nodes.size(), 3u);
  std::vector<std::string> doomed = {nodes[1].name};
  auto t = p.DeleteNodes("general", doomed);
  ASSERT_TRUE(t.ok()) << t.error();
  EXPECT_EQ(*t, 2);
  std::vector<Node> left = Nodes();
  ASSERT_EQ(left.size(), 2u);
  for (const Node& n : left) EXPECT_NE(n.name, doomed[0]);
  // Min size 1; unknown nodes refused.
  std::vector<std::string> both = {left[0].name, left[1].name};
  EXPECT_FALSE(p.DeleteNodes("general", both).ok());
  std::vector<std::string> foreign = {"nope"};
  EXPECT_FALSE(p.DeleteNodes("general", foreign).ok());
  EXPECT_EQ(Nodes().size(), 2u);
}

// Every node a kwok group's target counts exists: there is never anything to withdraw.
TEST_F(KwokTest, DecreaseTargetSizeNeverRemovesNodes) {
  KwokProvider p(client_, Options());
  ASSERT_TRUE(p.IncreaseSize("general", 2).ok());
  auto t = p.DecreaseTargetSize("general", 1);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().find("no instances waiting to be created"), std::string::npos) << t.error();
  EXPECT_FALSE(p.DecreaseTargetSize("general", 0).ok());
  EXPECT_FALSE(p.DecreaseTargetSize("nope", 1).ok());
  EXPECT_EQ(Nodes().size(), 2u);
  EXPECT_EQ(*p.TargetSize("general"), 2);
}

}  // namespace
}  // namespace epc::cluster
