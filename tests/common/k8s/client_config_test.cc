#include "common/k8s/client_config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace epc {
namespace {

class KubeconfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("epc-kubeconfig-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string Write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST_F(KubeconfigTest, CurrentContextWithInlineDataAndToken) {
  // "LS0tLS1CRUdJTi0tLS0t" is base64 of "-----BEGIN-----".
  const std::string path = Write("config", R"(
apiVersion: v1
kind: Config
current-context: b
contexts:
- name: a
  context: {cluster: one, user: u1}
- name: b
  context: {cluster: two, user: u2}
clusters:
- name: one
  cluster: {server: "https://one.example:6443"}
- name: two
  cluster:
    server: "https://10.0.0.1:8443/prefix/"
    certificate-authority-data: LS0tLS1CRUdJTi0tLS0t
users:
- name: u1
  user: {token: wrong}
- name: u2
  user: {token: s3cret}
)");
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->scheme, "https");
  EXPECT_EQ(c->host, "10.0.0.1");
  EXPECT_EQ(c->port, 8443);
  EXPECT_EQ(c->base_path, "/prefix");
  EXPECT_EQ(c->ca_pem, "-----BEGIN-----");
  EXPECT_EQ(c->bearer_token, "s3cret");
  EXPECT_EQ(c->Server(), "https://10.0.0.1:8443/prefix");

  auto a = LoadKubeconfig(path, "a");
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->host, "one.example");
  EXPECT_EQ(a->bearer_token, "wrong");
}

TEST_F(KubeconfigTest, RelativeFilesResolveAgainstTheKubeconfigDirectory) {
  Write("ca.crt", "CA");
  Write("client.crt", "CERT");
  Write("client.key", "KEY");
  Write("token", "tok\n");
  const std::string path = Write("config", R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://[::1]:6443", certificate-authority: ca.crt}}]
users: [{name: u, user: {client-certificate: client.crt, client-key: client.key, tokenFile: token}}]
)");
  auto c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->host, "::1");
  EXPECT_EQ(c->port, 6443);
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_EQ(c->client_cert_pem, "CERT");
  EXPECT_EQ(c->client_key_pem, "KEY");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
}

TEST_F(KubeconfigTest, ErrorsNameWhatIsWrong) {
  EXPECT_NE(LoadKubeconfig((dir_ / "absent").string()).error().find("cannot read"),
            std::string::npos);
  const std::string no_ctx = Write("a", "clusters: []\n");
  EXPECT_NE(LoadKubeconfig(no_ctx).error().find("no current-context"), std::string::npos);
  const std::string missing = Write("b", R"(
current-context: c
contexts: [{name: c, context: {cluster: nope, user: u}}]
clusters: []
)");
  EXPECT_NE(LoadKubeconfig(missing).error().find("cluster \"nope\" not found"), std::string::npos);
  const std::string bad_file = Write("d", R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://h:1", certificate-authority: /nonexistent/ca}}]
)");
  EXPECT_NE(LoadKubeconfig(bad_file).error().find("/nonexistent/ca"), std::string::npos);
  const std::string half = Write("e", R"(
current-context: c
contexts: [{name: c, context: {cluster: k, user: u}}]
clusters: [{name: k, cluster: {server: "https://h:1"}}]
users: [{name: u, user: {client-certificate-data: Q0VSVA==}}]
)");
  EXPECT_NE(LoadKubeconfig(half).error().find("both certificate and key"), std::string::npos);
}

TEST(ServerUrlTest, Parses) {
  ClientConfig c;
  ASSERT_TRUE(ParseServerUrl("http://127.0.0.1:8080", c).ok());
  EXPECT_EQ(c.scheme, "http");
  EXPECT_EQ(c.port, 8080);
  ASSERT_TRUE(ParseServerUrl("https://api.example", c).ok());
  EXPECT_EQ(c.port, 443);
  EXPECT_EQ(c.host, "api.example");
  EXPECT_FALSE(ParseServerUrl("api.example:443", c).ok());
  EXPECT_FALSE(ParseServerUrl("ftp://x", c).ok());
  EXPECT_FALSE(ParseServerUrl("https://h:99999", c).ok());
  EXPECT_FALSE(ParseServerUrl("https://h:", c).ok());
  EXPECT_FALSE(ParseServerUrl("https://:80", c).ok());
}

TEST_F(KubeconfigTest, InClusterReadsTheServiceAccount) {
  Write("token", "sa-token");
  Write("ca.crt", "CA");
  auto c = InClusterConfig(
      {{"KUBERNETES_SERVICE_HOST", "10.96.0.1"}, {"KUBERNETES_SERVICE_PORT", "443"}},
      dir_.string());
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->Server(), "https://10.96.0.1:443");
  EXPECT_EQ(c->token_file, (dir_ / "token").string());
  EXPECT_EQ(c->ca_pem, "CA");
  EXPECT_NE(InClusterConfig({}, dir_.string()).error().find("KUBERNETES_SERVICE_HOST"),
            std::string::npos);
}

}  // namespace
}  // namespace epc
