// ClusterInformer against the API server double (a child process): the store and the PodCache
// follow the pod watch.
#include "common/k8s/cluster_informer.h"

#include <gtest/gtest.h>

#include <chrono>
#include <sstream>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/state/pod_cache.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_apiserver.h"

namespace epc {
namespace {

using nlohmann::json;
using testing::Eventually;

std::string PodJson(const std::string& name, const std::string& owner) {
  return json{{"apiVersion", "v1"},
              {"kind", "Pod"},
              {"metadata",
               {{"name", name},
                {"namespace", "default"},
                {"ownerReferences", json::array({{{"apiVersion", "apps/v1"},
                                                  {"kind", "ReplicaSet"},
                                                  {"name", owner},
                                                  {"uid", "uid-" + owner},
                                                  {"controller", true}}})}}},
              {"spec", {{"containers", json::array({{{"name", "c"}, {"image", "busybox"}}})}}}}
      .dump();
}

bool Has(const PodCache& cache, const std::string& name) {
  for (const Pod& p : cache.List()) {
    if (p.name == name) return true;
  }
  return false;
}

TEST(ClusterInformerTest, PodCacheFollowsTheWatchWithWholePods) {
  testing::FakeApiServer server;
  ASSERT_TRUE(server.ok());
  auto api = ApiClient::Create(server.Config()).value();
  ASSERT_EQ(api->Post("/api/v1/namespaces/default/pods", PodJson("listed", "rs-a"))->status, 201);

  std::ostringstream log_text;
  Logger log(log_text, 1);
  ClusterStore store(EpcResources(), PoolClassifier(std::vector<PoolSpec>{}));
  PodCache cache;
  ClusterInformer informer(api, store, log, {}, &cache);
  informer.Start();
  ASSERT_TRUE(Eventually([&] { return informer.Synced(); })) << log_text.str();
  ASSERT_EQ(cache.size(), 1u);
  // Whole pods: what the drain rules read is there.
  const Pod listed = cache.List().front();
  EXPECT_EQ(listed.name, "listed");
  ASSERT_EQ(listed.owners.size(), 1u);
  EXPECT_EQ(listed.owners[0].kind, "ReplicaSet");

  ASSERT_EQ(api->Post("/api/v1/namespaces/default/pods", PodJson("watched", "rs-b"))->status, 201);
  EXPECT_TRUE(Eventually([&] { return Has(cache, "watched"); }));
  ASSERT_EQ(api->Delete("/api/v1/namespaces/default/pods/listed")->status, 200);
  EXPECT_TRUE(Eventually([&] { return !Has(cache, "listed"); }));
  EXPECT_EQ(cache.size(), 1u);
  informer.Stop();
}

}  // namespace
}  // namespace epc
