// The API client, reflector and leader election against the API server double (a child process).
#include "common/k8s/api_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/k8s/leader_election.h"
#include "common/k8s/reflector.h"
#include "tests/testing/certs.h"
#include "tests/testing/eventually.h"
#include "tests/testing/fake_apiserver.h"

namespace epc {
namespace {

using nlohmann::json;
using testing::Eventually;
using testing::FakeApiServer;

std::string NodeJson(const std::string& name) {
  return json{{"apiVersion", "v1"}, {"kind", "Node"}, {"metadata", {{"name", name}}}}.dump();
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(ApiClientTest, CrudAndStatusCodes) {
  FakeApiServer server;
  ASSERT_TRUE(server.ok());
  auto client = ApiClient::Create(server.Config());
  ASSERT_TRUE(client.ok()) << client.error();
  ApiClient& api = *client.value();

  auto created = api.Post("/api/v1/nodes", NodeJson("n1"));
  ASSERT_TRUE(created.ok()) << created.error();
  EXPECT_EQ(created->status, 201) << created->body;
  EXPECT_EQ(api.Post("/api/v1/nodes", NodeJson("n1"))->status, 409);

  auto missing = api.Get("/api/v1/nodes/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_NE(missing->ErrorMessage().find("HTTP 404"), std::string::npos);
  EXPECT_NE(missing->ErrorMessage().find("nope"), std::string::npos) << missing->ErrorMessage();

  auto patched = api.MergePatch("/api/v1/nodes/n1", R"({"spec":{"unschedulable":true}})");
  ASSERT_TRUE(patched.ok());
  EXPECT_EQ(patched->status, 200);
  EXPECT_TRUE(json::parse(patched->body)["spec"]["unschedulable"].get<bool>());

  // An update with a stale resourceVersion is a 409 Conflict the caller sees.
  json stale = json::parse(created->body);
  stale["metadata"]["labels"] = {{"a", "b"}};
  auto conflict = api.Put("/api/v1/nodes/n1", stale.dump());
  ASSERT_TRUE(conflict.ok());
  EXPECT_EQ(conflict->status, 409);

  EXPECT_EQ(api.Delete("/api/v1/nodes/n1")->status, 200);
  EXPECT_EQ(api.Get("/api/v1/nodes/n1")->status, 404);
}

TEST(ApiClientTest, ConnectionRefusedIsATransportError) {
  ClientConfig c;
  c.scheme = "http";
  c.host = "127.0.0.1";
  c.port = 1;  // nothing listens there
  auto client = ApiClient::Create(c);
  ASSERT_TRUE(client.ok());
  auto res = client.value()->Get("/api");
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.error().find("GET http://127.0.0.1:1/api"), std::string::npos) << res.error();
}

TEST(ApiClientTest, HttpsWithCaAndTokenFileThatRotates) {
  testing::TestCerts certs;
  ASSERT_TRUE(certs.ok);
  FakeApiServer server(
      {"--tls-cert", certs.server_cert, "--tls-key", certs.server_key, "--token", "second"});
  ASSERT_TRUE(server.ok());

  ClientConfig c = server.Config();
  c.ca_pem = ReadFile(certs.ca_cert);
  c.token_file = certs.dir + "/token";
  std::ofstream(c.token_file) << "first\n";
  auto client = ApiClient::Create(c);
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.value()->Get("/api/v1/nodes")->status, 401);
  // The projected token rotates: the next request reads the new one.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  std::ofstream(c.token_file) << "second\n";
  auto res = client.value()->Get("/api/v1/nodes");
  ASSERT_TRUE(res.ok()) << res.error();
  EXPECT_EQ(res->status, 200) << res->body;

  // A CA that did not sign the server's certificate: the TLS handshake fails.
  ClientConfig wrong = c;
  wrong.ca_pem = ReadFile(certs.other_ca_cert);
  auto untrusted = ApiClient::Create(wrong);
  ASSERT_TRUE(untrusted.ok());
  EXPECT_FALSE(untrusted.value()->Get("/api/v1/nodes").ok());
  // insecure-skip-tls-verify accepts it.
  wrong.insecure_skip_tls_verify = true;
  EXPECT_EQ(ApiClient::Create(wrong).value()->Get("/api/v1/nodes")->status, 200);

  ClientConfig garbage = c;
  garbage.ca_pem = "not a certificate";
  EXPECT_NE(ApiClient::Create(garbage).error().find("certificate authority"), std::string::npos);
}

// Collects what a reflector hands its handler.
struct Collected {
  std::mutex mu;
  int replaces = 0;
  size_t last_replace_size = 0;
  std::vector<std::string> events;
  ReflectorHandler Handler() {
    return {[this](const std::vector<std::string>& objects) {
              std::lock_guard l(mu);
              ++replaces;
              last_replace_size = objects.size();
            },
            [this](std::string_view type, std::string_view object) {
              std::lock_guard l(mu);
              events.push_back(std::string(type) + " " +
                               json::parse(object)["metadata"]["name"].get<std::string>());
            }};
  }
  int Replaces() {
    std::lock_guard l(mu);
    return replaces;
  }
  bool Saw(const std::string& e) {
    std::lock_guard l(mu);
    return std::find(events.begin(), events.end(), e) != events.end();
  }
};

TEST(ReflectorTest, PagesWatchesRelistsOnGoneAndResumesAfterDrops) {
  FakeApiServer server({"--bookmark-interval", "1"});
  ASSERT_TRUE(server.ok());
  auto api = ApiClient::Create(server.Config()).value();
  for (int i = 0; i < 25; ++i)
    ASSERT_EQ(api->Post("/api/v1/nodes", NodeJson("n" + std::to_string(i)))->status, 201);

  std::ostringstream log_text;
  Logger log(log_text, 2);
  Collected got;
  ReflectorOptions options;
  options.page_size = 10;
  options.initial_backoff = std::chrono::milliseconds(20);
  options.watch_timeout = std::chrono::seconds(30);
  Reflector reflector(api, "/api/v1/nodes", "", got.Handler(), log, options);
  std::jthread runner([&] { reflector.Run(); });

  ASSERT_TRUE(Eventually([&] { return reflector.HasSynced(); }));
  {
    std::lock_guard l(got.mu);
    EXPECT_EQ(got.last_replace_size, 25u);
  }
  ASSERT_EQ(api->Post("/api/v1/nodes", NodeJson("late"))->status, 201);
  EXPECT_TRUE(Eventually([&] { return got.Saw("ADDED late"); }));

  // A dropped connection: the watch resumes from the last version, no relist.
  ASSERT_EQ(api->Post("/__test/drop-watches", "{}")->status, 200);
  ASSERT_EQ(api->Post("/api/v1/nodes", NodeJson("after-drop"))->status, 201);
  EXPECT_TRUE(Eventually([&] { return got.Saw("ADDED after-drop"); }));
  EXPECT_EQ(got.Replaces(), 1);

  // Kept away (503s) while history moves on and is compacted: the watch's version is gone,
  // the server answers 410, the reflector relists. The 503s also exercise the back-off.
  ASSERT_EQ(
      api->Post("/__test/fail?path=%5E/api/v1/nodes&code=503&count=1000&method=GET", "{}")->status,
      200);
  ASSERT_EQ(api->Post("/__test/drop-watches", "{}")->status, 200);
  ASSERT_EQ(api->Post("/api/v1/nodes", NodeJson("while-away"))->status, 201);
  ASSERT_EQ(api->Post("/__test/compact", "{}")->status, 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_EQ(api->Delete("/__test/fail")->status, 200);
  EXPECT_TRUE(Eventually([&] { return got.Replaces() >= 2; }));
  {
    std::lock_guard l(got.mu);
    EXPECT_EQ(got.last_replace_size, 28u);
  }
  EXPECT_NE(log_text.str().find("410 Gone"), std::string::npos) << log_text.str();
  ASSERT_EQ(api->Delete("/api/v1/nodes/n3")->status, 200);
  EXPECT_TRUE(Eventually([&] { return got.Saw("DELETED n3"); }));

  reflector.Stop();
}

TEST(LeaderElectorTest, OneLeaderAndAFastHandOverOnRelease) {
  FakeApiServer server;
  ASSERT_TRUE(server.ok());
  auto api = ApiClient::Create(server.Config()).value();
  std::ostringstream log_text;
  Logger log(log_text);
  auto config = [](const std::string& id) {
    LeaderElectionConfig c;
    c.lease_namespace = "default";
    c.lease_name = "epc-test";
    c.identity = id;
    c.lease_duration = std::chrono::seconds(3);
    c.renew_deadline = std::chrono::seconds(2);
    c.retry_period = std::chrono::seconds(1);
    return c;
  };
  std::atomic<int> leaders{0};
  LeaderElector::Callbacks cb{[&] { ++leaders; }, [&] { --leaders; }};
  LeaderElector a(api, config("a"), log, cb);
  LeaderElector b(api, config("b"), log, cb);
  std::jthread ta([&] { a.Run(); });
  ASSERT_TRUE(Eventually([&] { return a.IsLeader(); }));
  std::jthread tb([&] { b.Run(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  EXPECT_TRUE(a.IsLeader());
  EXPECT_FALSE(b.IsLeader());
  EXPECT_EQ(leaders.load(), 1);
  auto lease = json::parse(
      api->Get("/apis/coordination.k8s.io/v1/namespaces/default/leases/epc-test")->body);
  EXPECT_EQ(lease["spec"]["holderIdentity"], "a");

  // a steps down and releases the lease: b takes it without waiting a lease duration.
  a.Stop();
  ta.join();
  EXPECT_TRUE(Eventually([&] { return b.IsLeader(); }, std::chrono::seconds(3)));
  lease = json::parse(
      api->Get("/apis/coordination.k8s.io/v1/namespaces/default/leases/epc-test")->body);
  EXPECT_EQ(lease["spec"]["holderIdentity"], "b");
  EXPECT_EQ(lease["spec"]["leaseTransitions"], 1);
  b.Stop();
}

}  // namespace
}  // namespace epc
