#include "common/config/config.h"
#include "tests/testing/config_parse.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

namespace epc {
namespace {

using testing::MustParse;
using testing::ParseError;

void ExpectDefaults(const Config& c) {
  ASSERT_EQ(c.epc_resources.list().size(), 2u);
  EXPECT_EQ(c.epc_resources.list()[0].name, EpcResources().list()[0].name);
  EXPECT_EQ(c.epc_resources.list()[1].name, EpcResources().list()[1].name);
  EXPECT_TRUE(c.pools.empty());
  EXPECT_EQ(c.scheduling.general_pods_on_confidential, GeneralPodPolicy::kPenalize);
  EXPECT_EQ(c.scheduling.strategy, ScoringStrategy::kBinpack);
  EXPECT_EQ(c.extender.bind_address, "0.0.0.0");
  EXPECT_EQ(c.extender.port, 8888);
  EXPECT_EQ(c.extender.url_prefix, "");
  EXPECT_EQ(c.extender.max_request_body_bytes, 256LL << 20);
  EXPECT_FALSE(c.extender.enable_bind);
  EXPECT_EQ(c.extender.worker_threads, 8);
  EXPECT_FALSE(c.extender.tls.enabled());
  EXPECT_EQ(c.extender.tls.key_file, "");
  EXPECT_EQ(c.extender.tls.client_ca_file, "");
}

TEST(ConfigDefaults, EmptyInputs) {
  for (const char* yaml : {"", "\n\n", "# just a comment\n", "{}", "---\n", "~", "null\n",
                           "scheduling:\nextender: ~\npools:\nepcResources: null\n",
                           "extender: {}\nscheduling: {}\npools: []\n", "extender:\n  tls:\n"}) {
    SCOPED_TRACE(yaml);
    ExpectDefaults(MustParse(yaml));
  }
}

TEST(ConfigDefaults, DefaultEpcResourcesUnits) {
  Config c = MustParse("");
  const EpcResource* intel = c.epc_resources.Find("sgx.intel.com/epc");
  const EpcResource* azure = c.epc_resources.Find("kubernetes.azure.com/sgx_epc_mem_in_MiB");
  ASSERT_NE(intel, nullptr);
  ASSERT_NE(azure, nullptr);
  EXPECT_EQ(intel->unit, EpcUnit::kBytes);
  EXPECT_EQ(azure->unit, EpcUnit::kMiB);
}

TEST(ConfigKeys, EveryKey) {
  Config c = MustParse(R"(
epcResources:
  - name: example.com/epc
    unit: MiB
  - name: other.com/epc
pools:
  - name: sgx
    confidential: true
    nodeSelector:
      matchLabels: {agentpool: sgxpool, "kubernetes.io/os": linux}
      matchExpressions:
        - {key: tier, operator: In, values: [a, b]}
        - key: gpu
          operator: DoesNotExist
  - name: general
scheduling:
  generalPodsOnConfidentialNodes: deny
  scoringStrategy: spread
extender:
  bindAddress: 127.0.0.1
  port: 10443
  urlPrefix: /scheduler/epc
  maxRequestBodyBytes: 1048576
  enableBind: true
  workerThreads: 256
  tls:
    certFile: /etc/tls/tls.crt
    keyFile: /etc/tls/tls.key
    clientCAFile: /etc/tls/ca.crt
)");
  ASSERT_EQ(c.epc_resources.list().size(), 2u);
  EXPECT_EQ(c.epc_resources.list()[0].name, "example.com/epc");
  EXPECT_EQ(c.epc_resources.list()[0].unit, EpcUnit::kMiB);
  EXPECT_EQ(c.epc_resources.list()[1].unit, EpcUnit::kBytes);
  EXPECT_FALSE(c.epc_resources.IsEpc("sgx.intel.com/epc"));
  ASSERT_EQ(c.pools.size(), 2u);
  EXPECT_EQ(c.pools[0].name, "sgx");
  EXPECT_TRUE(c.pools[0].confidential);
  EXPECT_EQ(c.pools[0].node_selector.match_labels.size(), 2u);
  EXPECT_EQ(c.pools[0].node_selector.match_labels.at("agentpool"), "sgxpool");
  EXPECT_EQ(c.pools[0].node_selector.match_labels.at("kubernetes.io/os"), "linux");
  ASSERT_EQ(c.pools[0].node_selector.match_expressions.size(), 2u);
  EXPECT_EQ(c.pools[0].node_selector.match_expressions[0].key, "tier");
  EXPECT_EQ(c.pools[0].node_selector.match_expressions[0].op, "In");
  EXPECT_EQ(c.pools[0].node_selector.match_expressions[0].values,
            (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(c.pools[0].node_selector.match_expressions[1].op, "DoesNotExist");
  EXPECT_EQ(c.pools[1].name, "general");
  EXPECT_FALSE(c.pools[1].confidential);
  EXPECT_TRUE(c.pools[1].node_selector.match_labels.empty());
  EXPECT_EQ(c.scheduling.general_pods_on_confidential, GeneralPodPolicy::kDeny);
  EXPECT_EQ(c.scheduling.strategy, ScoringStrategy::kSpread);
  EXPECT_EQ(c.extender.bind_address, "127.0.0.1");
  EXPECT_EQ(c.extender.port, 10443);
  EXPECT_EQ(c.extender.url_prefix, "/scheduler/epc");
  EXPECT_EQ(c.extender.max_request_body_bytes, 1048576);
  EXPECT_TRUE(c.extender.enable_bind);
  EXPECT_EQ(c.extender.worker_threads, 256);
  EXPECT_TRUE(c.extender.tls.enabled());
  EXPECT_EQ(c.extender.tls.cert_file, "/etc/tls/tls.crt");
  EXPECT_EQ(c.extender.tls.key_file, "/etc/tls/tls.key");
  EXPECT_EQ(c.extender.tls.client_ca_file, "/etc/tls/ca.crt");
}

TEST(ConfigKeys, EnumValues) {
  EXPECT_EQ(MustParse("scheduling: {generalPodsOnConfidentialNodes: allow}")
                .scheduling.general_pods_on_confidential,
            GeneralPodPolicy::kAllow);
  EXPECT_EQ(MustParse("scheduling: {generalPodsOnConfidentialNodes: penalize}")
                .scheduling.general_pods_on_confidential,
            GeneralPodPolicy::kPenalize);
  EXPECT_EQ(MustParse("scheduling: {scoringStrategy: binpack}").scheduling.strategy,
            ScoringStrategy::kBinpack);
  EXPECT_EQ(MustParse("epcResources: [{name: x, unit: bytes}]").epc_resources.list()[0].unit,
            EpcUnit::kBytes);
}

TEST(ConfigKeys, MaxRequestBodyBytes) {
  EXPECT_EQ(MustParse("extender: {maxRequestBodyBytes: 256Mi}").extender.max_request_body_bytes,
            256LL << 20);
  EXPECT_EQ(MustParse("extender: {maxRequestBodyBytes: \"64Ki\"}").extender.max_request_body_bytes,
            64 << 10);
  EXPECT_EQ(MustParse("extender: {maxRequestBodyBytes: 1G}").extender.max_request_body_bytes,
            1000000000);
  EXPECT_EQ(MustParse("extender: {maxRequestBodyBytes: 1}").extender.max_request_body_bytes, 1);
  EXPECT_EQ(MustParse("extender: {maxRequestBodyBytes: 1e6}").extender.max_request_body_bytes,
            1000000);
}

TEST(ConfigKeys, UrlPrefixAndPortBounds) {
  EXPECT_EQ(MustParse("extender: {urlPrefix: /x}").extender.url_prefix, "/x");
  EXPECT_EQ(MustParse("extender: {urlPrefix: ''}").extender.url_prefix, "");
  EXPECT_EQ(MustParse("extender: {port: 1}").extender.port, 1);
  EXPECT_EQ(MustParse("extender: {port: 65535}").extender.port, 65535);
  EXPECT_EQ(MustParse("extender: {workerThreads: 1}").extender.worker_threads, 1);
}

TEST(ConfigKeys, AnchorsAndAliases) {
  Config c = MustParse(R"(
pools:
  - name: a
    nodeSelector: &sel {matchLabels: {agentpool: sgxpool}}
  - name: b
    nodeSelector: *sel
)");
  ASSERT_EQ(c.pools.size(), 2u);
  EXPECT_EQ(c.pools[1].node_selector.match_labels.at("agentpool"), "sgxpool");
}

// ---- Errors: each names source, line:column and the key path ----

TEST(ConfigErrors, UnknownKeys) {
  EXPECT_EQ(
      ParseError("extender:\n  port: 1\n  prot: 2\n"),
      "config.yaml:3:3: extender.prot: unknown key; known keys: bindAddress, port, urlPrefix, "
      "maxRequestBodyBytes, enableBind, workerThreads, tls");
  EXPECT_EQ(ParseError("schedulng: {}\n"),
            "config.yaml:1:1: schedulng: unknown key; known keys: epcResources, pools, scheduling, "
            "extender, autoscaler");
  EXPECT_EQ(ParseError("scheduling:\n  ScoringStrategy: spread\n")
                .rfind("config.yaml:2:3: scheduling.ScoringStrategy: unknown key", 0),
            0u);
  EXPECT_EQ(ParseError("pools:\n  - name: a\n  - name: b\n    confidental: true\n")
                .rfind("config.yaml:4:5: pools[1].confidental: unknown key", 0),
            0u);
  EXPECT_EQ(ParseError("extender:\n  tls:\n    caFile: x\n")
                .rfind("config.yaml:3:5: extender.tls.caFile: unknown key", 0),
            0u);
  EXPECT_EQ(ParseError("pools:\n- name: a\n  nodeSelector:\n    matchLabel: {}\n")
                .rfind("config.yaml:4:5: pools[0].nodeSelector.matchLabel: unknown key", 0),
            0u);
  EXPECT_EQ(
      ParseError(
          "pools:\n- name: a\n  nodeSelector:\n    matchExpressions:\n    - {key: a, op: In}\n")
          .rfind("config.yaml:5:16: pools[0].nodeSelector.matchExpressions[0].op: unknown key", 0),
      0u);
  EXPECT_EQ(ParseError("epcResources:\n  - name: a\n    units: MiB\n")
                .rfind("config.yaml:3:5: epcResources[0].units: unknown key", 0),
            0u);
}

TEST(ConfigErrors, DuplicateKeys) {
  EXPECT_EQ(ParseError("extender:\n  port: 1\n  port: 2\n"),
            "config.yaml:3:3: extender.port: duplicate key (first at line 2)");
  EXPECT_EQ(
      ParseError("pools:\n- name: a\n  nodeSelector:\n    matchLabels:\n      x: a\n      x: b\n"),
      "config.yaml:6:7: pools[0].nodeSelector.matchLabels[\"x\"]: duplicate key (first at line 5)");
}

TEST(ConfigErrors, WrongTypes) {
  EXPECT_EQ(ParseError("extender:\n  enableBind: yes\n"),
            "config.yaml:2:15: extender.enableBind: expected true or false, got \"yes\"");
  EXPECT_EQ(ParseError("extender: {enableBind: \"true\"}"),
            "config.yaml:1:24: extender.enableBind: expected true or false, got \"true\"");
  EXPECT_EQ(ParseError("extender: {enableBind: 1}"),
            "config.yaml:1:24: extender.enableBind: expected true or false, got \"1\"");
  EXPECT_EQ(ParseError("pools:\n  - name: a\n    confidential: on\n"),
            "config.yaml:3:19: pools[0].confidential: expected true or false, got \"on\"");
  EXPECT_EQ(ParseError("extender:\n  port: 8888.0\n"),
            "config.yaml:2:9: extender.port: expected an integer, got \"8888.0\"");
  EXPECT_EQ(ParseError("extender:\n  port: \"8888\"\n"),
            "config.yaml:2:9: extender.port: expected an integer, got \"8888\"");
  EXPECT_EQ(ParseError("extender:\n  port: 0x22b8\n"),
            "config.yaml:2:9: extender.port: expected an integer, got \"0x22b8\"");
  EXPECT_EQ(ParseError("extender:\n  port: [8888]\n"),
            "config.yaml:2:9: extender.port: expected an integer, got a list");
  EXPECT_EQ(ParseError("extender:\n  bindAddress: {a: b}\n"),
            "config.yaml:2:16: extender.bindAddress: expected a string, got a map");
  EXPECT_EQ(ParseError("scheduling:\n  scoringStrategy: [binpack]\n"),
            "config.yaml:2:20: scheduling.scoringStrategy: expected a string, got a list");
  EXPECT_EQ(ParseError("scheduling: spread\n"),
            "config.yaml:1:13: scheduling: expected a map, got \"spread\"");
  EXPECT_EQ(ParseError("pools: {name: a}\n"), "config.yaml:1:8: pools: expected a list, got a map");
  EXPECT_EQ(ParseError("pools:\n  - sgx\n"),
            "config.yaml:2:5: pools[0]: expected a map, got \"sgx\"");
  EXPECT_EQ(ParseError("pools:\n  -\n  - name: b\n").rfind("config.yaml:", 0), 0u);
  EXPECT_EQ(ParseError("pools:\n- name: a\n  nodeSelector:\n    matchExpressions:\n    - {key: a, "
                       "operator: In, values: x}\n"),
            "config.yaml:5:38: pools[0].nodeSelector.matchExpressions[0].values: expected a list, "
            "got \"x\"");
  EXPECT_EQ(
      ParseError("pools:\n- name: a\n  nodeSelector:\n    matchLabels: {a: [b]}\n"),
      "config.yaml:4:22: pools[0].nodeSelector.matchLabels[\"a\"]: expected a string, got a list");
  EXPECT_EQ(ParseError("- a\n- b\n"), "config.yaml:1:1: expected a map, got a list");
  EXPECT_EQ(ParseError("just text\n"), "config.yaml:1:1: expected a map, got \"just text\"");
  EXPECT_EQ(ParseError("? [a]\n: 1\n"), "config.yaml:1:3: expected a string key, got a list");
}

TEST(ConfigErrors, BadValues) {
  EXPECT_EQ(
      ParseError("scheduling:\n  scoringStrategy: tightest\n"),
      "config.yaml:2:20: scheduling.scoringStrategy: \"tightest\" is not one of binpack, spread");
  EXPECT_EQ(ParseError("scheduling:\n  generalPodsOnConfidentialNodes: Deny\n"),
            "config.yaml:2:35: scheduling.generalPodsOnConfidentialNodes: \"Deny\" is not one of "
            "deny, penalize, allow");
  EXPECT_EQ(ParseError("epcResources:\n  - name: x\n    unit: KiB\n"),
            "config.yaml:3:11: epcResources[0].unit: \"KiB\" is not one of bytes, MiB");
  EXPECT_EQ(ParseError("extender:\n  port: 0\n"),
            "config.yaml:2:9: extender.port: 0 is out of range 1..65535");
  EXPECT_EQ(ParseError("extender:\n  port: 65536\n"),
            "config.yaml:2:9: extender.port: 65536 is out of range 1..65535");
  EXPECT_EQ(ParseError("extender:\n  port: -1\n"),
            "config.yaml:2:9: extender.port: -1 is out of range 1..65535");
  EXPECT_EQ(ParseError("extender:\n  port: 99999999999999999999999\n"),
            "config.yaml:2:9: extender.port: 99999999999999999999999 is out of range 1..65535");
  EXPECT_EQ(ParseError("extender:\n  workerThreads: 257\n"),
            "config.yaml:2:18: extender.workerThreads: 257 is out of range 1..256");
  EXPECT_EQ(ParseError("extender:\n  workerThreads: 0\n"),
            "config.yaml:2:18: extender.workerThreads: 0 is out of range 1..256");
  EXPECT_EQ(
      ParseError("extender:\n  urlPrefix: scheduler\n"),
      "config.yaml:2:14: extender.urlPrefix: \"scheduler\" must be empty or start with \"/\"");
  EXPECT_EQ(ParseError("extender:\n  urlPrefix: /scheduler/\n"),
            "config.yaml:2:14: extender.urlPrefix: \"/scheduler/\" must not end with \"/\"");
  EXPECT_EQ(ParseError("extender:\n  urlPrefix: /\n"),
            "config.yaml:2:14: extender.urlPrefix: \"/\" must not end with \"/\"");
  EXPECT_EQ(ParseError("extender:\n  bindAddress: ''\n"),
            "config.yaml:2:16: extender.bindAddress: must not be empty");
  EXPECT_EQ(ParseError("extender:\n  maxRequestBodyBytes: 0\n"),
            "config.yaml:2:24: extender.maxRequestBodyBytes: \"0\" must be greater than 0");
  EXPECT_EQ(ParseError("extender:\n  maxRequestBodyBytes: -5Mi\n"),
            "config.yaml:2:24: extender.maxRequestBodyBytes: \"-5Mi\" must be greater than 0");
  EXPECT_EQ(
      ParseError("extender:\n  maxRequestBodyBytes: 1.5\n"),
      "config.yaml:2:24: extender.maxRequestBodyBytes: \"1.5\" is not a whole number of bytes");
  EXPECT_EQ(ParseError("extender:\n  maxRequestBodyBytes: 100Ei\n"),
            "config.yaml:2:24: extender.maxRequestBodyBytes: \"100Ei\" is too large");
  EXPECT_EQ(ParseError("extender:\n  maxRequestBodyBytes: lots\n"),
            "config.yaml:2:24: extender.maxRequestBodyBytes: expected a positive integer or a "
            "quantity like "
            "\"256Mi\", got \"lots\"");
  EXPECT_EQ(ParseError("extender:\n  maxRequestBodyBytes: {}\n"),
            "config.yaml:2:24: extender.maxRequestBodyBytes: expected a string, got a map");
}

TEST(ConfigErrors, Tls) {
  EXPECT_EQ(ParseError("extender:\n  tls:\n    keyFile: k.pem\n"),
            "config.yaml:3:14: extender.tls.keyFile: keyFile is set but certFile is not");
  EXPECT_EQ(ParseError("extender:\n  tls:\n    certFile: c.pem\n"),
            "config.yaml:3:15: extender.tls.certFile: certFile is set but keyFile is not");
  EXPECT_EQ(ParseError("extender:\n  tls:\n    certFile: c.pem\n    keyFile: ''\n"),
            "config.yaml:3:15: extender.tls.certFile: certFile is set but keyFile is not");
  EXPECT_EQ(ParseError("extender:\n  tls:\n    clientCAFile: ca.pem\n"),
            "config.yaml:3:19: extender.tls.clientCAFile: clientCAFile needs certFile and keyFile "
            "(client "
            "certificates need TLS)");
  Config c = MustParse("extender:\n  tls: {certFile: c.pem, keyFile: k.pem}\n");
  EXPECT_TRUE(c.extender.tls.enabled());
  EXPECT_EQ(c.extender.tls.client_ca_file, "");
}

TEST(ConfigErrors, Pools) {
  EXPECT_EQ(ParseError("pools:\n  - name: sgx\n  - name: general\n  - name: sgx\n"),
            "config.yaml:4:11: pools[2].name: duplicate pool name \"sgx\" (also pools[0].name)");
  EXPECT_EQ(ParseError("pools:\n  - name: a\n  - confidential: true\n"),
            "config.yaml:3:5: pools[1].name: is required");
  EXPECT_EQ(ParseError("pools:\n  - name:\n    confidential: true\n"),
            "config.yaml:2:5: pools[0].name: is required");
  EXPECT_EQ(ParseError("pools:\n  - name: ''\n"),
            "config.yaml:2:11: pools[0].name: must not be empty");
  EXPECT_EQ(ParseError("epcResources:\n  - unit: MiB\n"),
            "config.yaml:2:5: epcResources[0].name: is required");
  EXPECT_EQ(ParseError("epcResources:\n  - name: a\n  - name: a\n"),
            "config.yaml:3:11: epcResources[1].name: duplicate resource name \"a\" (also "
            "epcResources[0].name)");
  EXPECT_EQ(ParseError("epcResources: []\n"),
            "config.yaml:1:15: epcResources: must list at least one resource");
  EXPECT_EQ(ParseError("epcResources:\n  - name: sgx.intel.com/epc\n  - name: memory\n"),
            "config.yaml:3:11: epcResources[1].name: \"memory\" is a standard Kubernetes "
            "resource, not one an SGX device plugin advertises (e.g. sgx.intel.com/epc)");
}

TEST(ConfigErrors, SelectorRequirements) {
  const std::string head = "pools:\n- name: general\n  nodeSelector:\n    matchExpressions:\n";
  // Each case: one requirement at line 5, column 7.
  for (const char* req :
       {"{key: agentpool, operator: In}", "{key: agentpool, operator: In, values: []}",
        "{key: agentpool, operator: Exists, values: [a]}",
        "{key: agentpool, operator: Gt, values: ['1']}",
        "{key: agentpool, operator: Like, values: [a]}", "{key: agentpool}"}) {
    const std::string error = ParseError(head + "    - " + req + "\n");
    EXPECT_EQ(error.rfind("config.yaml:5:7: pools[0].nodeSelector.matchExpressions[0]: ", 0), 0u)
        << error;
  }
  // The ones that are valid.
  MustParse(head + "    - {key: agentpool, operator: NotIn, values: [sgxpool]}\n");
  MustParse(head + "    - {key: agentpool, operator: DoesNotExist}\n");
}

TEST(ConfigErrors, YamlSyntax) {
  const std::string error = ParseError("extender:\n  port: [1,\n");
  EXPECT_EQ(error.rfind("config.yaml:3:1: invalid YAML: ", 0), 0u) << error;
  const std::string error2 = ParseError("scheduling:\n  scoringStrategy: a: b\n");
  EXPECT_EQ(error2.rfind("config.yaml:2:", 0), 0u) << error2;
  EXPECT_NE(error2.find("invalid YAML"), std::string::npos) << error2;
  EXPECT_EQ(ParseError("a: 1\n---\nb: 2\n"),
            "config.yaml:2:1: expected one YAML document, found a second one here");
  EXPECT_EQ(ParseError("---\n---\n"),
            "config.yaml:2:1: expected one YAML document, found a second one here");
  // Inputs on which yaml-cpp 0.7's LoadAll() never returns, allocating without bound.
  EXPECT_EQ(ParseError(","), "config.yaml:1:1: invalid YAML: unexpected \",\"");
  EXPECT_EQ(ParseError("# comment\n,#x\nextender: {}\n"),
            "config.yaml:2:1: invalid YAML: unexpected \",\"");
}

TEST(ConfigErrors, SourceNameIsUsed) {
  Result<Config> c = ParseConfig("extender: {port: x}", "/etc/epc/config.yaml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), "/etc/epc/config.yaml:1:18: extender.port: expected an integer, got \"x\"");
}

// ---- Files ----

TEST(ConfigFile, ExampleParses) {
  Result<Config> c = LoadConfigFile(std::string(EPC_SOURCE_DIR) + "/examples/config.yaml");
  ASSERT_TRUE(c.ok()) << c.error();
  ASSERT_EQ(c->pools.size(), 2u);
  EXPECT_EQ(c->pools[0].name, "sgx");
  EXPECT_TRUE(c->pools[0].confidential);
  EXPECT_EQ(c->pools[0].node_selector.match_labels.at("agentpool"), "sgxpool");
  EXPECT_EQ(c->pools[1].name, "general");
  EXPECT_FALSE(c->pools[1].confidential);
  ASSERT_EQ(c->pools[1].node_selector.match_expressions.size(), 1u);
  EXPECT_EQ(c->pools[1].node_selector.match_expressions[0].key, "agentpool");
  EXPECT_EQ(c->pools[1].node_selector.match_expressions[0].op, "NotIn");
  EXPECT_EQ(c->pools[1].node_selector.match_expressions[0].values,
            std::vector<std::string>{"sgxpool"});
  EXPECT_EQ(c->extender.bind_address, "127.0.0.1");
  EXPECT_EQ(c->extender.port, 8888);
  // Everything else documents the defaults.
  Config defaults;
  EXPECT_EQ(c->extender.max_request_body_bytes, defaults.extender.max_request_body_bytes);
  EXPECT_EQ(c->extender.worker_threads, defaults.extender.worker_threads);
  EXPECT_EQ(c->extender.enable_bind, defaults.extender.enable_bind);
  EXPECT_EQ(c->extender.url_prefix, defaults.extender.url_prefix);
  EXPECT_FALSE(c->extender.tls.enabled());
  EXPECT_EQ(c->scheduling.general_pods_on_confidential,
            defaults.scheduling.general_pods_on_confidential);
  EXPECT_EQ(c->scheduling.strategy, defaults.scheduling.strategy);
  ASSERT_EQ(c->epc_resources.list().size(), defaults.epc_resources.list().size());
  for (size_t i = 0; i < defaults.epc_resources.list().size(); ++i) {
    EXPECT_EQ(c->epc_resources.list()[i].name, defaults.epc_resources.list()[i].name);
    EXPECT_EQ(c->epc_resources.list()[i].unit, defaults.epc_resources.list()[i].unit);
  }
}

TEST(ConfigFile, ExampleDocumentsEveryKey) {
  std::ifstream in(std::string(EPC_SOURCE_DIR) + "/examples/config.yaml");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* key : {"epcResources:",
                          "name:",
                          "unit:",
                          "pools:",
                          "confidential:",
                          "nodeSelector:",
                          "matchLabels:",
                          "matchExpressions:",
                          "key:",
                          "operator:",
                          "values:",
                          "scheduling:",
                          "generalPodsOnConfidentialNodes:",
                          "scoringStrategy:",
                          "extender:",
                          "bindAddress:",
                          "port:",
                          "urlPrefix:",
                          "maxRequestBodyBytes:",
                          "enableBind:",
                          "workerThreads:",
                          "tls:",
                          "certFile:",
                          "keyFile:",
                          "clientCAFile:"}) {
    EXPECT_NE(text.find(key), std::string::npos) << key;
  }
}

TEST(ConfigFile, Unreadable) {
  Result<Config> missing = LoadConfigFile("/nonexistent/epc/config.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error(),
            "cannot read config file /nonexistent/epc/config.yaml: No such file or directory");
  Result<Config> dir = LoadConfigFile("/");
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.error(), "cannot read config file /: Is a directory");
}

TEST(ConfigFile, ErrorsNameThePath) {
  char path[] = "/tmp/epc-config-test-XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string text = "extender:\n  port: 70000\n";
  ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fd);
  Result<Config> c = LoadConfigFile(path);
  std::remove(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.error(), std::string(path) + ":2:9: extender.port: 70000 is out of range 1..65535");
}

}  // namespace
}  // namespace epc
