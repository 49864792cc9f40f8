// The `autoscaler.cluster:` section of the configuration (common/config), and its translation
// into the cluster autoscaler's options (autoscaler/cluster/controller/setup.h).
#include <chrono>
#include <string>

#include <gtest/gtest.h>

#include "autoscaler/cluster/controller/setup.h"
#include "common/config/config.h"
#include "tests/testing/config_parse.h"

namespace epc {
namespace {

using testing::MustParse;
using testing::ParseError;

constexpr const char* kPools = R"(pools:
  - name: sgx
    confidential: true
    nodeSelector: {matchLabels: {agentpool: sgx}}
  - name: general
    nodeSelector: {matchLabels: {agentpool: general}}
)";

TEST(ClusterConfig, DefaultsAreClusterAutoscalers) {
  const ClusterAutoscalingConfig c = MustParse("autoscaler: {cluster: {}}").autoscaler.cluster;
  EXPECT_FALSE(c.enabled);
  EXPECT_EQ(c.provider, NodeGroupProviderKind::kClusterApi);
  EXPECT_EQ(c.scan_interval_seconds, 10);
  EXPECT_EQ(c.expander, "least-waste");
  EXPECT_EQ(c.max_nodes_total, 0);
  EXPECT_EQ(c.max_node_provision_time_seconds, 900);
  EXPECT_TRUE(c.scale_down.enabled);
  EXPECT_DOUBLE_EQ(c.scale_down.utilization_threshold, 0.5);
  EXPECT_EQ(c.scale_down.unneeded_time_seconds, 600);
  EXPECT_EQ(c.scale_down.delay_after_add_seconds, 600);
  EXPECT_EQ(c.scale_down.unremovable_node_recheck_timeout_seconds, 300);
  EXPECT_TRUE(c.node_groups.empty());

  const cluster::ClusterAutoscalerOptions o =
      cluster::ClusterOptionsFromConfig(MustParse(""), /*dry_run=*/false);
  EXPECT_EQ(o.scale_down.unneeded_time, std::chrono::minutes(10));
  EXPECT_EQ(o.scale_up.max_node_provision_time, std::chrono::minutes(15));
  EXPECT_EQ(o.expander.name, "least-waste");
  EXPECT_FALSE(o.dry_run);
}

TEST(ClusterConfig, EveryKey) {
  const Config config = MustParse(std::string(kPools) + R"(
scheduling: {scoringStrategy: spread}
autoscaler:
  cluster:
    enabled: true
    provider: kwok
    clusterAPI: {namespace: capi}
    scanIntervalSeconds: 2
    expander: priority
    expanderPriorities: ["^sgx-", ".*"]
    maxNodesTotal: 40
    maxNodesPerScaleUp: 5
    scaleUpCooldownSeconds: 30
    maxNodeProvisionTimeSeconds: 120
    initialBackoffSeconds: 10
    maxBackoffSeconds: 60
    scaleDown:
      enabled: false
      utilizationThreshold: 0.35
      unneededTimeSeconds: 3
      delayAfterAddSeconds: 4
      maxEmptyBulkDelete: 2
      maxNodesPerPass: 3
      unremovableNodeRecheckTimeoutSeconds: 5
      skipNodesWithLocalStorage: false
      skipNodesWithSystemPods: false
    nodeGroups:
      - name: sgx-dc4
        pool: sgx
        minSize: 1
        maxSize: 3
        template:
          labels: {agentpool: sgx}
          taints: [{key: sgx, value: "true", effect: NoSchedule}]
          capacity: {cpu: "4", memory: 16Gi}
          allocatable: {cpu: 3900m, memory: 14Gi, kubernetes.azure.com/sgx_epc_mem_in_MiB: "168"}
)");
  const ClusterAutoscalingConfig& c = config.autoscaler.cluster;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.provider, NodeGroupProviderKind::kKwok);
  EXPECT_EQ(c.cluster_api_namespace, "capi");
  EXPECT_EQ(c.expander_priorities, (std::vector<std::string>{"^sgx-", ".*"}));
  ASSERT_EQ(c.node_groups.size(), 1u);
  const NodeGroupConfig& g = c.node_groups[0];
  EXPECT_EQ(g.name, "sgx-dc4");
  EXPECT_EQ(g.pool, "sgx");
  EXPECT_EQ(g.min_size, 1);
  EXPECT_EQ(g.max_size, 3);
  ASSERT_TRUE(g.template_node.has_value());
  EXPECT_EQ(g.template_node->name, "template-sgx-dc4");
  EXPECT_EQ(g.template_node->labels.at("agentpool"), "sgx");
  ASSERT_EQ(g.template_node->taints.size(), 1u);
  EXPECT_EQ(g.template_node->taints[0].effect, "NoSchedule");
  EXPECT_EQ(g.template_node->allocatable.at("cpu").MilliValue(), 3900);
  EXPECT_EQ(g.template_node->allocatable.at("kubernetes.azure.com/sgx_epc_mem_in_MiB").Value(),
            168);
  EXPECT_EQ(g.template_node->allocatable.at("pods").Value(), 110);  // kubelet's default
  EXPECT_EQ(g.template_node->capacity.at("cpu").Value(), 4);        // given capacity kept
  EXPECT_TRUE(g.template_node->ready);

  const cluster::ClusterAutoscalerOptions o =
      cluster::ClusterOptionsFromConfig(config, /*dry_run=*/true);
  EXPECT_TRUE(o.dry_run);
  EXPECT_EQ(o.scale_up.max_nodes_total, 40);
  EXPECT_EQ(o.scale_up.max_nodes_per_scale_up, 5);
  EXPECT_EQ(o.scale_up.max_node_provision_time, std::chrono::seconds(120));
  EXPECT_EQ(o.scale_up_cooldown, std::chrono::seconds(30));
  EXPECT_EQ(o.backoff.initial, std::chrono::seconds(10));
  EXPECT_EQ(o.backoff.max, std::chrono::seconds(60));
  EXPECT_FALSE(o.scale_down_enabled);
  EXPECT_DOUBLE_EQ(o.scale_down.utilization_threshold, 0.35);
  EXPECT_EQ(o.scale_down.unneeded_time, std::chrono::seconds(3));
  EXPECT_EQ(o.scale_down.delay_after_add, std::chrono::seconds(4));
  EXPECT_EQ(o.scale_down.max_empty_bulk_delete, 2);
  EXPECT_EQ(o.scale_down.max_nodes_per_pass, 3);
  EXPECT_EQ(o.scale_down.pdb_block_time, std::chrono::seconds(5));
  EXPECT_FALSE(o.scale_down.skip_nodes_with_local_storage);
  EXPECT_FALSE(o.scale_down.skip_nodes_with_system_pods);
  EXPECT_EQ(o.expander.name, "priority");
  EXPECT_EQ(o.expander.priorities.size(), 2u);
  EXPECT_EQ(o.policy.strategy, ScoringStrategy::kSpread);  // the extender's policy, shared
  EXPECT_EQ(o.group_pools.at("sgx-dc4"), "sgx");
}

TEST(ClusterConfig, ClusterApiGroupsMayOnlyOverride) {
  const ClusterAutoscalingConfig c =
      MustParse(
          "autoscaler: {cluster: {enabled: true, nodeGroups: [{name: capi/md-0, maxSize: "
          "4}]}}")
          .autoscaler.cluster;
  ASSERT_EQ(c.node_groups.size(), 1u);
  EXPECT_FALSE(c.node_groups[0].min_size.has_value());
  EXPECT_EQ(c.node_groups[0].max_size, 4);
  EXPECT_FALSE(c.node_groups[0].template_node.has_value());
}

TEST(ClusterConfigErrors, NameTheKeyAndLine) {
  EXPECT_EQ(ParseError("autoscaler:\n  cluster:\n    expander: cheapest\n"),
            "config.yaml:3:15: autoscaler.cluster.expander: \"cheapest\" is not one of "
            "least-waste, most-pods, priority, random");
  EXPECT_EQ(ParseError("autoscaler:\n  cluster:\n    provider: aks\n"),
            "config.yaml:3:15: autoscaler.cluster.provider: \"aks\" is not one of clusterapi, "
            "kwok");
  EXPECT_NE(ParseError("autoscaler: {cluster: {scaleDown: {utilizationThreshold: 1.5}}}")
                .find("autoscaler.cluster.scaleDown.utilizationThreshold: must be between 0 and 1"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {scanIntervalSeconds: 0}}")
                .find("autoscaler.cluster.scanIntervalSeconds"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {nodeGroup: []}}").find("nodeGroup"),
            std::string::npos);
}

TEST(ClusterConfigErrors, ProviderSpecificGroupRules) {
  EXPECT_NE(ParseError("autoscaler: {cluster: {nodeGroups: [{name: md-0}]}}")
                .find("\"md-0\" must be <namespace>/<MachineDeployment name> for the clusterapi "
                      "provider"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {provider: kwok, nodeGroups: [{name: g, maxSize: "
                       "2}]}}")
                .find("template is required for the kwok provider"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {provider: kwok, nodeGroups: [{name: g, template: "
                       "{allocatable: {cpu: 1}}}]}}")
                .find("maxSize is required for the kwok provider"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {enabled: true, provider: kwok}}")
                .find("the kwok provider needs nodeGroups"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {nodeGroups: [{name: a/b, minSize: 3, maxSize: 2}]}}")
                .find("maxSize (2) is smaller than minSize (3)"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {nodeGroups: [{name: a/b}, {name: a/b}]}}")
                .find("duplicate node group \"a/b\""),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {provider: kwok, nodeGroups: [{name: g, maxSize: 1, "
                       "template: {labels: {a: b}}}]}}")
                .find("allocatable"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {provider: kwok, nodeGroups: [{name: g, maxSize: 1, "
                       "template: {allocatable: {cpu: -1}}}]}}")
                .find("must not be negative"),
            std::string::npos);
  EXPECT_NE(
      ParseError("autoscaler: {cluster: {provider: kwok, nodeGroups: [{name: g, maxSize: 1, "
                 "template: {allocatable: {cpu: 1}, taints: [{key: k, effect: Sometimes}]}}]}}")
          .find("effect"),
      std::string::npos);
}

TEST(ClusterConfigErrors, PoolMustExist) {
  // The pools section may come after the node groups; the check waits for the whole file.
  EXPECT_TRUE(ParseConfig("autoscaler: {cluster: {nodeGroups: [{name: a/b, pool: sgx}]}}\n" +
                              std::string(kPools),
                          "config.yaml")
                  .ok());
  EXPECT_EQ(ParseError(std::string(kPools) +
                       "autoscaler:\n  cluster:\n    nodeGroups:\n      - name: a/b\n        pool: "
                       "gpu\n"),
            "config.yaml:11:15: autoscaler.cluster.nodeGroups[0].pool: pool \"gpu\" is not "
            "defined under pools (known: sgx, general)");
}

TEST(ClusterConfigErrors, PriorityExpanderNeedsValidPatterns) {
  EXPECT_NE(ParseError("autoscaler: {cluster: {expander: priority}}")
                .find("the priority expander needs expanderPriorities"),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {expander: priority, expanderPriorities: [\"(\"]}}")
                .find("invalid group-name pattern \"(\""),
            std::string::npos);
  EXPECT_NE(ParseError("autoscaler: {cluster: {initialBackoffSeconds: 60, maxBackoffSeconds: 10}}")
                .find("maxBackoffSeconds (10) is smaller than initialBackoffSeconds (60)"),
            std::string::npos);
}

TEST(ClusterConfig, ExampleFileDeclaresGroups) {
  Result<Config> c = LoadConfigFile(std::string(EPC_SOURCE_DIR) + "/examples/config.yaml");
  ASSERT_TRUE(c.ok()) << c.error();
  const ClusterAutoscalingConfig& cluster = c->autoscaler.cluster;
  EXPECT_FALSE(cluster.enabled);
  ASSERT_EQ(cluster.node_groups.size(), 2u);
  EXPECT_EQ(cluster.node_groups[0].pool, "sgx");
  ASSERT_TRUE(cluster.node_groups[0].template_node.has_value());
  EXPECT_EQ(cluster.node_groups[0]
                .template_node->allocatable.at("kubernetes.azure.com/sgx_epc_mem_in_MiB")
                .Value(),
            168);
}

}  // namespace
}  // namespace epc
