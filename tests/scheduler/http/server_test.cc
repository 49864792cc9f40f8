#include "scheduler/http/server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <regex>
#include <string_view>
#include <thread>

#include <nlohmann/json.hpp>

#include "scheduler/version.h"
#include "scheduler/wire/extender_args.h"
#include "tests/scheduler/testing/fixtures.h"

namespace epc {
namespace {

using nlohmann::json;
using testing::EpcPod;
using testing::Example;
using testing::MetricValue;
using testing::NodeJson;
using testing::PodJson;
using testing::SgxNode;
using testing::TestServer;

constexpr const char* kJson = "application/json";

// A connected socket to 127.0.0.1:port whose reads give up after 2 s, or -1.
int ConnectTo(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  timeval tv{2, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// Everything the server answers on `fd` until it closes (or 2 s pass); closes `fd`.
std::string ReadUntilClosed(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fd);
  return out;
}

// Sends raw bytes and returns everything the server answers until it closes (or 2 s pass).
std::string RawExchange(int port, const std::string& bytes) {
  int fd = ConnectTo(port);
  if (fd < 0) return "";
  (void)!write(fd, bytes.data(), bytes.size());
  return ReadUntilClosed(fd);
}

// POSTs `body` to `path` with `Content-Length: length` and `Connection: close`, in writes of
// `piece` bytes each after `pause`, then ends the sending side; returns the answer as
// RawExchange does.
std::string PostInPieces(int port, const std::string& path, std::string_view body, size_t length,
                         size_t piece, std::chrono::milliseconds pause) {
  int fd = ConnectTo(port);
  if (fd < 0) return "";
  const std::string head = "POST " + path +
                           " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           "Connection: close\r\nContent-Length: " +
                           std::to_string(length) + "\r\n\r\n";
  (void)!write(fd, head.data(), head.size());
  for (size_t at = 0; at < body.size(); at += piece) {
    std::this_thread::sleep_for(pause);
    const size_t size = std::min(piece, body.size() - at);
    for (size_t sent = 0; sent < size;) {
      const ssize_t n = write(fd, body.data() + at + sent, size - sent);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
  }
  shutdown(fd, SHUT_WR);
  return ReadUntilClosed(fd);
}

// The status code of a raw HTTP/1.1 answer, and its body.
int StatusOf(const std::string& answer) {
  return answer.rfind("HTTP/1.1 ", 0) == 0 ? std::atoi(answer.c_str() + 9) : 0;
}
std::string BodyOf(const std::string& answer) {
  const size_t at = answer.find("\r\n\r\n");
  return at == std::string::npos ? "" : answer.substr(at + 4);
}

// POSTs `body` to /filter chunked (no Content-Length), `chunk` bytes at a time, each after
// `pause`.
httplib::Result PostChunked(httplib::Client& cli, const std::string& body, size_t chunk,
                            std::chrono::milliseconds pause) {
  return cli.Post(
      "/filter",
      [&](size_t offset, httplib::DataSink& sink) {
        if (offset >= body.size()) {
          sink.done();
          return true;
        }
        if (pause.count() > 0) std::this_thread::sleep_for(pause);
        return sink.write(body.data() + offset, std::min(chunk, body.size() - offset));
      },
      kJson);
}

json ParseBody(const httplib::Result& res) {
  EXPECT_TRUE(res) << "no response";
  if (!res) return json();
  EXPECT_EQ(res->get_header_value("Content-Type").rfind(kJson, 0), 0u) << res->body;
  // Never gzipped, even for Go's automatic Accept-Encoding: gzip (see server.cc).
  EXPECT_EQ(res->get_header_value("Content-Encoding"), "");
  return json::parse(res->body, nullptr, false);
}

TEST(Server, FilterFullModeExampleAnswersNodesAsReceived) {
  TestServer t;
  httplib::Client cli("127.0.0.1", t.port());
  std::string body = Example("filter-full-mode.json");
  auto res = cli.Post("/filter", body, kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = ParseBody(res);
  ASSERT_TRUE(j.is_object()) << res->body;
  // Both SGX nodes have room for 10 MiB; the general node can never host an EPC pod.
  ASSERT_EQ(j["Nodes"]["items"].size(), 2u) << res->body;
  EXPECT_EQ(j["Nodes"]["items"][0]["metadata"]["name"], "aks-sgxpool-0");
  EXPECT_EQ(j["Nodes"]["items"][1]["metadata"]["name"], "aks-sgxpool-1");
  // Whole objects come back, not just names.
  EXPECT_EQ(j["Nodes"]["items"][0]["status"]["nodeInfo"]["kubeletVersion"], "v1.29.4");
  EXPECT_EQ(j["Nodes"]["items"][0], json::parse(body)["Nodes"]["items"][0]);
  EXPECT_TRUE(j["NodeNames"].is_null());
  EXPECT_TRUE(j["FailedNodes"].empty());
  ASSERT_EQ(j["FailedAndUnresolvableNodes"].size(), 1u);
  EXPECT_TRUE(j["FailedAndUnresolvableNodes"].contains("aks-generalpool-0"));
  EXPECT_EQ(j["Error"], "");
}

// A full-mode body past kSplitDecodeMinBytes, as kube-scheduler's encoder writes it, is decoded
// in parts (DecodeFullModeArgsInParts): every node is judged, and the passing ones come back
// as received, in order.
// 1,800 nodes of three kinds (each renamed 600 times) for a pod asking 10 MiB of EPC: the
// first kind fits, the others never can.
struct ThousandsOfNodes {
  ThousandsOfNodes() {
    const std::string kinds[] = {testing::Compact(NodeJson(SgxNode("NAME", "168"))),
                                 testing::Compact(NodeJson(SgxNode("NAME", "4"))),
                                 testing::Compact(NodeJson(testing::GeneralNode("NAME")))};
    for (size_t i = 0; i < 1800; ++i) {
      const std::string name = "node-" + std::to_string(i);
      std::string node = kinds[i % 3];
      for (size_t at = node.find("NAME"); at != std::string::npos; at = node.find("NAME", at))
        node.replace(at, 4, name);
      nodes.push_back(std::move(node));
      if (i % 3 == 0) fitting.push_back(nodes.back());
    }
  }
  // Nodes.items as kube-scheduler's encoder writes it, for `nodes` (or these).
  std::string Body(const std::vector<std::string>* other = nullptr) const {
    return testing::GoFullModeArgs(testing::Compact(PodJson(EpcPod("p", "u1", "10"))),
                                   other != nullptr ? *other : nodes);
  }
  // The passing nodes' texts as the answer's Nodes.items holds them.
  std::string FittingItems() const {
    std::string items = "[";
    for (size_t i = 0; i < fitting.size(); ++i) items += (i ? "," : "") + fitting[i];
    return items + "]";
  }

  std::vector<std::string> nodes;
  std::vector<std::string> fitting;
};

TEST(Server, FilterFullModeOfThousandsOfNodes) {
  TestServer t;
  httplib::Client cli("127.0.0.1", t.port());
  const ThousandsOfNodes cluster;
  const std::vector<std::string>& nodes = cluster.nodes;
  const std::string body = cluster.Body();
  ASSERT_GE(body.size(), kSplitDecodeMinBytes);
  auto res = cli.Post("/filter", body, kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body.substr(0, 500);
  // The answer's items are the received texts, so they can be compared as text.
  EXPECT_NE(res->body.find(cluster.FittingItems()), std::string::npos);
  json j = ParseBody(res);
  ASSERT_EQ(j["Nodes"]["items"].size(), 600u);
  // 4 MiB of EPC can never hold 10 MiB, and a general node never any: both unresolvable.
  EXPECT_TRUE(j["FailedNodes"].empty());
  EXPECT_EQ(j["FailedAndUnresolvableNodes"].size(), 1200u);
  EXPECT_NE(j["FailedAndUnresolvableNodes"]["node-1798"].get<std::string>().find("exceeds"),
            std::string::npos);
  EXPECT_TRUE(j["FailedAndUnresolvableNodes"].contains("node-1799"));

  // A smaller body next is read into the storage the first one left (RequestBufferPool), and
  // answered as itself.
  const std::vector<std::string> first_600(nodes.begin(), nodes.begin() + 600);
  const std::string smaller =
      testing::GoFullModeArgs(testing::Compact(PodJson(EpcPod("p", "u1", "10"))), first_600);
  ASSERT_GE(smaller.size(), size_t{1} << 20);
  auto again = cli.Post("/filter", smaller, kJson);
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 200) << again->body.substr(0, 500);
  json k = ParseBody(again);
  ASSERT_EQ(k["Nodes"]["items"].size(), 200u);
  EXPECT_EQ(k["FailedAndUnresolvableNodes"].size(), 400u);
  EXPECT_FALSE(k["FailedAndUnresolvableNodes"].contains("node-1799"));
  EXPECT_EQ(k["Nodes"]["items"][199]["metadata"]["name"], "node-597");
}

// A full-mode body with a Content-Length is decoded while it arrives (FullModeStreamDecoder).
// Sent slowly in pieces, it is answered as if sent at once; a broken item in its middle gets
// the one-pass decoder's error; a body that stops halfway never wedges the server.
TEST(Server, FullModeBodiesAreDecodedWhileTheyArrive) {
  TestServer t;
  const ThousandsOfNodes cluster;
  const std::string body = cluster.Body();
  ASSERT_GE(body.size(), kSplitDecodeMinBytes);
  constexpr size_t kPiece = 512 << 10;
  constexpr std::chrono::milliseconds kPause(3);

  std::string answer = PostInPieces(t.port(), "/filter", body, body.size(), kPiece, kPause);
  ASSERT_EQ(StatusOf(answer), 200) << answer.substr(0, 500);
  EXPECT_NE(BodyOf(answer).find(cluster.FittingItems()), std::string::npos);
  json j = json::parse(BodyOf(answer));
  EXPECT_EQ(j["Nodes"]["items"].size(), 600u);
  EXPECT_EQ(j["FailedAndUnresolvableNodes"].size(), 1200u);

  std::vector<std::string> broken = cluster.nodes;
  broken[900] = R"({"metadata":{"name":"x"},"spec":[})";
  const std::string broken_body = cluster.Body(&broken);
  answer = PostInPieces(t.port(), "/filter", broken_body, broken_body.size(), kPiece, kPause);
  ASSERT_EQ(StatusOf(answer), 400) << answer.substr(0, 500);
  EXPECT_NE(json::parse(BodyOf(answer))["error"].get<std::string>().find("not JSON"),
            std::string::npos)
      << BodyOf(answer);

  // Half the body, then the client stops sending: the server gives up on it.
  const std::string_view half(body.data(), body.size() / 2);
  answer = PostInPieces(t.port(), "/filter", half, body.size(), kPiece, kPause);
  EXPECT_NE(StatusOf(answer), 200) << answer.substr(0, 500);
  // Half the body as a whole one: the JSON it is not.
  answer = PostInPieces(t.port(), "/filter", half, half.size(), kPiece, kPause);
  EXPECT_EQ(StatusOf(answer), 400) << answer.substr(0, 500);

  // And the server still answers the whole body, at once.
  httplib::Client cli("127.0.0.1", t.port());
  auto res = cli.Post("/filter", body, kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body.substr(0, 500);
  EXPECT_NE(res->body.find(cluster.FittingItems()), std::string::npos);

  // Prioritize reads its body the same way: in pieces, the scores it gives at once.
  answer = PostInPieces(t.port(), "/prioritize", body, body.size(), kPiece, kPause);
  ASSERT_EQ(StatusOf(answer), 200) << answer.substr(0, 500);
  res = cli.Post("/prioritize", body, kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body.substr(0, 500);
  const json scores = json::parse(BodyOf(answer));
  EXPECT_EQ(scores, json::parse(res->body));
  ASSERT_EQ(scores.size(), 1800u);
  EXPECT_EQ(scores[1799]["Host"], "node-1799");
  EXPECT_EQ(scores[1799]["Score"], 0);  // a general node, for an EPC pod
}

TEST(Server, FilterNamesModeAndPrioritizeUseTheStore) {
  TestServer t;
  t.store->UpsertNode(testing::ToNode(NodeJson(SgxNode("aks-sgxpool-0", "168"))));
  t.store->UpsertNode(testing::ToNode(NodeJson(SgxNode("aks-sgxpool-1", "4"))));
  httplib::Client cli("127.0.0.1", t.port());
  // As kube-scheduler's Go client does, ask for gzip; the answer still comes uncompressed.
  auto res =
      cli.Post("/filter", {{"Accept-Encoding", "gzip"}}, Example("filter-names-mode.json"), kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = ParseBody(res);
  EXPECT_TRUE(j["Nodes"].is_null());
  EXPECT_EQ(j["NodeNames"], json({"aks-sgxpool-0"}));
  EXPECT_NE(j["FailedAndUnresolvableNodes"]["aks-sgxpool-1"].get<std::string>().find("exceeds"),
            std::string::npos)
      << res->body;
  EXPECT_EQ(j["FailedNodes"]["aks-generalpool-0"],
            "node \"aks-generalpool-0\" is not in the extender's cluster state");

  res = cli.Post("/prioritize", Example("filter-names-mode.json"), kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  j = ParseBody(res);
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["Host"], "aks-sgxpool-0");
  EXPECT_TRUE(j[0]["Score"].is_number_integer());
}

TEST(Server, PreemptAndBind) {
  Config config = testing::TestConfig();
  config.extender.enable_bind = true;
  config.extender.url_prefix = "/scheduler";
  TestServer t(config);
  t.store->UpsertNode(testing::ToNode(NodeJson(SgxNode("aks-sgxpool-0", "168"))));
  testing::PodSpec victim = EpcPod("victim", "0b5e-victim-uid-1", "160");
  victim.node_name = "aks-sgxpool-0";
  victim.phase = "Running";
  t.store->UpsertPod(testing::ToPod(PodJson(victim)));
  httplib::Client cli("127.0.0.1", t.port());

  auto res = cli.Post("/scheduler/preempt", Example("preempt-names-mode.json"), kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  json j = ParseBody(res);
  EXPECT_EQ(
      j, json::parse(
             R"({"NodeNameToMetaVictims": {"aks-sgxpool-0": {"Pods": [{"UID": "0b5e-victim-uid-1"}],
                                "NumPDBViolations": 0}}})"));

  // Bind before filter saw the pod: an answer with Error (200, as the protocol wants).
  res = cli.Post("/scheduler/bind", Example("bind.json"), kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  j = ParseBody(res);
  EXPECT_NE(j["Error"].get<std::string>().find("was not seen by filter; cannot bind"),
            std::string::npos);

  // After filter saw it, bind accounts its EPC.
  t.store->DeletePod("0b5e-victim-uid-1");
  res = cli.Post("/scheduler/filter", Example("filter-names-mode.json"), kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  res = cli.Post("/scheduler/bind", Example("bind.json"), kJson);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(ParseBody(res), json::parse(R"({"Error": ""})"));
  EXPECT_EQ(t.store->Snapshot()->FindNode("aks-sgxpool-0")->requested.epc_bytes, 10LL << 20);

  // Without the prefix the verbs are not there.
  res = cli.Post("/filter", Example("filter-names-mode.json"), kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(Server, BindIsNotServedUnlessEnabled) {
  TestServer t;
  httplib::Client cli("127.0.0.1", t.port());
  auto res = cli.Post("/bind", Example("bind.json"), kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST(Server, BadRequestsGetJsonErrors) {
  TestServer t;
  httplib::Client cli("127.0.0.1", t.port());
  struct Case {
    std::string body;
    std::string error_part;
  };
  const Case cases[] = {
      {"", "request body is empty"},
      {"{not json", "request body is not JSON"},
      {R"({"NodeNames": ["a"]})", "\"Pod\" is missing"},
      {R"({"Pod": {}, "NodeNames": [1]})", "\"NodeNames\" must be an array of strings"},
      {R"({"Pod": {}, "NodeNames": null, "Nodes": null})", "both missing or null"},
      {"[]", "must be a JSON object"},
  };
  for (const Case& c : cases) {
    for (const char* path : {"/filter", "/prioritize"}) {
      auto res = cli.Post(path, c.body, kJson);
      ASSERT_TRUE(res) << c.body;
      EXPECT_EQ(res->status, 400) << path << " " << c.body;
      json j = ParseBody(res);
      ASSERT_TRUE(j.contains("error")) << res->body;
      EXPECT_NE(j["error"].get<std::string>().find(c.error_part), std::string::npos) << j["error"];
    }
  }
  auto res = cli.Post("/preempt", R"({"Pod": {}, "NodeNameToMetaVictims": 7})", kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  // Still serving afterwards.
  res = cli.Post("/filter", Example("filter-full-mode.json"), kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(t.logs().find("\"Pod\" is missing"), std::string::npos) << t.logs();
}

TEST(Server, UnknownPathsAndWrongMethods) {
  TestServer t;
  httplib::Client cli("127.0.0.1", t.port());
  auto res = cli.Post("/filterr", "{}", kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  json j = ParseBody(res);
  EXPECT_NE(j["error"].get<std::string>().find("no such path \"/filterr\""), std::string::npos)
      << res->body;
  EXPECT_NE(j["error"].get<std::string>().find("/filter"), std::string::npos);

  res = cli.Get("/nothing");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);

  res = cli.Get("/filter");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "POST");
  j = ParseBody(res);
  EXPECT_NE(j["error"].get<std::string>().find("use POST"), std::string::npos);

  res = cli.Put("/prioritize", "{}", kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  res = cli.Delete("/filter");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);

  res = cli.Post("/healthz", "{}", kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, HEAD");

  // httplib's own errors get the same shape.
  std::string raw = RawExchange(t.port(), "NONSENSE\r\n\r\n");
  EXPECT_NE(raw.find("HTTP/1.1 400"), std::string::npos) << raw;
  EXPECT_NE(raw.find("{\"error\":"), std::string::npos) << raw;
}

TEST(Server, OversizedBodiesGet413) {
  Config config = testing::TestConfig();
  config.extender.max_request_body_bytes = 4096;
  TestServer t(config);
  httplib::Client cli("127.0.0.1", t.port());
  std::string big(10000, ' ');
  big[0] = '{';
  big.back() = '}';
  auto res = cli.Post("/filter", big, kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  json j = ParseBody(res);
  EXPECT_NE(j["error"].get<std::string>().find("4096"), std::string::npos) << res->body;

  // Chunked (no Content-Length): the limit holds too. The chunks come slowly, so the server
  // has read past the limit while the client is still sending: it must read the rest (and drop
  // it) before answering, or the client's next write meets a closed connection and it never
  // sees the 413.
  httplib::Client chunked("127.0.0.1", t.port());
  chunked.set_keep_alive(true);
  res = PostChunked(chunked, big, 1000, std::chrono::milliseconds(5));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  json chunked_error = ParseBody(res);
  EXPECT_NE(chunked_error["error"].get<std::string>().find("4096"), std::string::npos);
  // The body was read to its end: the connection serves the next request.
  res = chunked.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  // However far past the limit (here 256 times), the body is read to its end and dropped: its
  // rest is never taken for a next request on the connection.
  const std::string huge(1 << 20, ' ');
  httplib::Client endless("127.0.0.1", t.port());
  endless.set_keep_alive(true);
  res = PostChunked(endless, huge, 64 << 10, std::chrono::milliseconds(0));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  res = endless.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);

  // A body just under the limit is read (and then found wanting).
  httplib::Client again("127.0.0.1", t.port());
  res = again.Post("/filter", std::string(4000, ' '), kJson);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
}

TEST(Server, KeepAliveSurvivesErrors) {
  TestServer t;
  std::string full = Example("filter-full-mode.json");
  {
    httplib::Client cli("127.0.0.1", t.port());
    cli.set_keep_alive(true);
    for (int round = 0; round < 3; ++round) {
      auto res = cli.Post("/nope", full, kJson);  // body must be drained, not taken for a request
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 404);
      res = cli.Post("/filter", full, kJson);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 200);
      res = cli.Get("/filter");
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 405);
      res = cli.Post("/filter", "garbage", kJson);
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 400);
    }
  }
}

TEST(Server, HealthReadyVersion) {
  TestServer t;
  httplib::Client cli("127.0.0.1", t.port());
  auto res = cli.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");
  res = cli.Head("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  res = cli.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");
  res = cli.Get("/version");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  json j = ParseBody(res);
  EXPECT_EQ(j["component"], "epc-extender");
  EXPECT_EQ(j["version"], std::string(ExtenderVersion()));
  EXPECT_TRUE(std::regex_match(j["version"].get<std::string>(), std::regex(R"(\d+\.\d+\.\d+.*)")))
      << j;

  t.server.set_readiness([] { return std::string("the cluster state is 200s old"); });
  res = cli.Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_NE(res->body.find("the cluster state is 200s old"), std::string::npos) << res->body;
}

TEST(Server, MetricsAfterTraffic) {
  TestServer t;
  t.store->UpsertNode(testing::ToNode(NodeJson(SgxNode("sgx-a", "168"))));
  t.store->UpsertNode(testing::ToNode(NodeJson(testing::GeneralNode("gen-a"))));
  testing::PodSpec running = EpcPod("r", "r1", "100");
  running.node_name = "sgx-a";
  running.phase = "Running";
  t.store->UpsertPod(testing::ToPod(PodJson(running)));

  httplib::Client cli("127.0.0.1", t.port());
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(cli.Post("/filter", Example("filter-full-mode.json"), kJson)->status, 200);
  ASSERT_EQ(cli.Post("/filter", "nope", kJson)->status, 400);
  ASSERT_EQ(cli.Post("/filter", "", kJson)->status, 400);
  ASSERT_EQ(cli.Get("/zzz")->status, 404);
  ASSERT_EQ(cli.Get("/filter")->status, 405);

  auto res = cli.Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain", 0), 0u);
  const std::string& m = res->body;
  EXPECT_EQ(MetricValue(m, "epc_extender_requests_total", {"verb=\"filter\"", "outcome=\"ok\""}), 3)
      << m;
  EXPECT_EQ(
      MetricValue(m, "epc_extender_requests_total", {"verb=\"filter\"", "outcome=\"bad_request\""}),
      2);
  EXPECT_EQ(
      MetricValue(m, "epc_extender_requests_total", {"verb=\"unknown\"", "outcome=\"not_found\""}),
      1);
  EXPECT_EQ(MetricValue(m, "epc_extender_requests_total",
                        {"verb=\"filter\"", "outcome=\"method_not_allowed\""}),
            1);
  EXPECT_EQ(MetricValue(m, "epc_extender_request_duration_seconds_count", {"verb=\"filter\""}), 5);
  EXPECT_EQ(MetricValue(m, "epc_extender_request_duration_seconds_bucket",
                        {"verb=\"filter\"", "le=\"+Inf\""}),
            5);
  EXPECT_TRUE(MetricValue(m, "epc_extender_request_duration_seconds_bucket",
                          {"verb=\"filter\"", "le=\"0.0005\""}));
  EXPECT_EQ(MetricValue(m, "epc_extender_filter_rejections_total", {"reason=\"no_epc\""}), 3);
  EXPECT_EQ(MetricValue(m, "epc_extender_bad_requests_total", {"reason=\"not_json\""}), 1);
  EXPECT_EQ(MetricValue(m, "epc_extender_bad_requests_total", {"reason=\"empty_body\""}), 1);
  EXPECT_EQ(MetricValue(m, "epc_extender_bad_requests_total", {"reason=\"unknown_path\""}), 1);
  EXPECT_EQ(MetricValue(m, "epc_extender_bad_requests_total", {"reason=\"method_not_allowed\""}),
            1);
  // Cluster gauges from the snapshot at scrape time.
  EXPECT_EQ(MetricValue(m, "epc_pool_epc_capacity_bytes", {"pool=\"confidential\""}),
            168.0 * (1 << 20));
  EXPECT_EQ(MetricValue(m, "epc_pool_epc_requested_bytes", {"pool=\"confidential\""}),
            100.0 * (1 << 20));
  EXPECT_EQ(MetricValue(m, "epc_pool_epc_free_bytes", {"pool=\"confidential\""}), 68.0 * (1 << 20));
  EXPECT_EQ(MetricValue(m, "epc_pool_epc_capacity_bytes", {"pool=\"general\""}), 0);
  EXPECT_EQ(
      MetricValue(m, "epc_node_epc_allocatable_bytes", {"node=\"sgx-a\"", "pool=\"confidential\""}),
      168.0 * (1 << 20));
  EXPECT_EQ(MetricValue(m, "epc_node_epc_requested_bytes", {"node=\"sgx-a\""}), 100.0 * (1 << 20));
  EXPECT_FALSE(
      MetricValue(m, "epc_node_epc_allocatable_bytes", {"node=\"gen-a\""}));  // confidential only
  EXPECT_NE(m.find("# TYPE epc_extender_request_duration_seconds histogram"), std::string::npos);

  // The gauges follow the state.
  t.store->DeletePod("r1");
  res = cli.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(MetricValue(res->body, "epc_pool_epc_requested_bytes", {"pool=\"confidential\""}), 0);
}

TEST(Server, ServesConcurrentRequests) {
  TestServer t;
  std::string full = Example("filter-full-mode.json");
  std::string names = Example("filter-names-mode.json");
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i) {
    threads.emplace_back([&, i] {
      httplib::Client cli("127.0.0.1", t.port());
      cli.set_keep_alive(i % 2 == 0);
      for (int k = 0; k < 15; ++k) {
        auto res = cli.Post(k % 3 == 2 ? "/prioritize" : "/filter", k % 2 ? names : full, kJson);
        if (res && res->status == 200) ++ok;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(ok.load(), 90);
}

TEST(Server, BindFailureNamesTheAddress) {
  TestServer first;
  Config config = testing::TestConfig();
  config.extender.port = first.port();
  TestServer second(config, /*start=*/false);
  Result<int> port = second.server.Start();
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().find("127.0.0.1:" + std::to_string(first.port())), std::string::npos)
      << port.error();
}

TEST(Server, StopIsPromptAndIdempotent) {
  TestServer t;
  t.server.Stop();
  t.server.Stop();
  httplib::Client cli("127.0.0.1", t.port());
  EXPECT_FALSE(cli.Get("/healthz"));
}

// ---------------------------------------------------------------------------------------------
// TLS

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!certs_.ok) GTEST_FAIL() << "openssl could not make test certificates in " << certs_.dir;
  }
  Config TlsConfig(bool client_ca) {
    Config config = testing::TestConfig();
    config.extender.tls.cert_file = certs_.server_cert;
    config.extender.tls.key_file = certs_.server_key;
    if (client_ca) config.extender.tls.client_ca_file = certs_.ca_cert;
    return config;
  }
  testing::TestCerts certs_;
};

TEST_F(TlsTest, ServesHttps) {
  TestServer t(TlsConfig(false));
  EXPECT_TRUE(t.server.tls());
  httplib::SSLClient cli("127.0.0.1", t.port());
  cli.set_ca_cert_path(certs_.ca_cert.c_str());
  cli.enable_server_certificate_verification(true);
  auto res = cli.Post("/filter", Example("filter-full-mode.json"), kJson);
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(ParseBody(res)["Nodes"]["items"].size(), 2u);

  // Plain HTTP to the TLS port gets no HTTP answer.
  httplib::Client plain("127.0.0.1", t.port());
  plain.set_read_timeout(2, 0);
  auto plain_res = plain.Get("/healthz");
  EXPECT_TRUE(!plain_res || plain_res->status != 200);
}

TEST_F(TlsTest, RequiresClientCertificatesWhenAClientCaIsSet) {
  TestServer t(TlsConfig(true));
  {
    httplib::SSLClient cli("127.0.0.1", t.port(), certs_.client_cert, certs_.client_key);
    cli.set_ca_cert_path(certs_.ca_cert.c_str());
    cli.enable_server_certificate_verification(true);
    auto res = cli.Post("/filter", Example("filter-full-mode.json"), kJson);
    ASSERT_TRUE(res) << httplib::to_string(res.error());
    EXPECT_EQ(res->status, 200);
  }
  {
    httplib::SSLClient cli("127.0.0.1", t.port());  // no client certificate
    cli.set_ca_cert_path(certs_.ca_cert.c_str());
    cli.enable_server_certificate_verification(true);
    auto res = cli.Get("/healthz");
    EXPECT_FALSE(res) << res->status;
  }
  {
    // A certificate from another CA is refused.
    httplib::SSLClient cli("127.0.0.1", t.port(), certs_.other_client_cert,
                           certs_.other_client_key);
    cli.set_ca_cert_path(certs_.ca_cert.c_str());
    cli.enable_server_certificate_verification(true);
    auto res = cli.Get("/healthz");
    EXPECT_FALSE(res) << res->status;
  }
}

TEST_F(TlsTest, BadTlsFilesAreStartErrorsThatNameTheFile) {
  Config config = TlsConfig(false);
  config.extender.tls.cert_file = certs_.dir + "/missing.crt";
  TestServer missing(config, false);
  Result<int> port = missing.server.Start();
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().find("missing.crt"), std::string::npos) << port.error();

  config = TlsConfig(false);
  config.extender.tls.key_file = certs_.client_key;  // not the certificate's key
  TestServer mismatched(config, false);
  port = mismatched.server.Start();
  ASSERT_FALSE(port.ok());
  EXPECT_NE(port.error().find("TLS: cannot load"), std::string::npos) << port.error();
}

}  // namespace
}  // namespace epc
