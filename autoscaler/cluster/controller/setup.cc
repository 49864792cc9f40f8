#include "autoscaler/cluster/controller/setup.h"

#include <chrono>
#include <utility>

#include "autoscaler/cluster/providers/clusterapi.h"
#include "autoscaler/cluster/providers/kwok.h"

namespace epc::cluster {

ClusterAutoscalerOptions ClusterOptionsFromConfig(const Config& config, bool dry_run) {
  const ClusterAutoscalingConfig& c = config.autoscaler.cluster;
  using std::chrono::seconds;
  ClusterAutoscalerOptions o;
  o.scale_up.max_nodes_total = c.max_nodes_total;
  o.scale_up.max_nodes_per_scale_up = c.max_nodes_per_scale_up;
  o.scale_up.max_node_provision_time = seconds(c.max_node_provision_time_seconds);
  o.scale_down.utilization_threshold = c.scale_down.utilization_threshold;
  o.scale_down.unneeded_time = seconds(c.scale_down.unneeded_time_seconds);
  o.scale_down.delay_after_add = seconds(c.scale_down.delay_after_add_seconds);
  o.scale_down.max_empty_bulk_delete = c.scale_down.max_empty_bulk_delete;
  o.scale_down.max_nodes_per_pass = c.scale_down.max_nodes_per_pass;
  o.scale_down.pdb_block_time = seconds(c.scale_down.unremovable_node_recheck_timeout_seconds);
  o.scale_down.skip_nodes_with_local_storage = c.scale_down.skip_nodes_with_local_storage;
  o.scale_down.skip_nodes_with_system_pods = c.scale_down.skip_nodes_with_system_pods;
  o.backoff.initial = seconds(c.initial_backoff_seconds);
  o.backoff.max = seconds(c.max_backoff_seconds);
  o.expander.name = c.expander;
  o.expander.priorities = c.expander_priorities;
  o.policy = config.scheduling;
  o.scale_up_cooldown = seconds(c.scale_up_cooldown_seconds);
  o.scale_down_enabled = c.scale_down.enabled;
  o.dry_run = dry_run;
  for (const NodeGroupConfig& g : c.node_groups) {
    if (!g.pool.empty()) o.group_pools.emplace(g.name, g.pool);
  }
  return o;
}

Result<std::unique_ptr<NodeGroupProvider>> MakeProvider(const ClusterAutoscalingConfig& config,
                                                        std::shared_ptr<ApiClient> client) {
  switch (config.provider) {
    case NodeGroupProviderKind::kKwok: {
      KwokOptions options;
      for (const NodeGroupConfig& g : config.node_groups) {
        // The parser requires maxSize and a template for kwok groups.
        options.groups.push_back({g.name, g.min_size.value_or(0), g.max_size.value_or(0),
                                  g.template_node.value_or(Node{})});
      }
      return std::unique_ptr<NodeGroupProvider>(
          std::make_unique<KwokProvider>(std::move(client), std::move(options)));
    }
    case NodeGroupProviderKind::kClusterApi: {
      ClusterApiOptions options;
      options.namespace_name = config.cluster_api_namespace;
      for (const NodeGroupConfig& g : config.node_groups) {
        options.groups.push_back({g.name, g.min_size, g.max_size, g.template_node});
      }
      return std::unique_ptr<NodeGroupProvider>(
          std::make_unique<ClusterApiProvider>(std::move(client), std::move(options)));
    }
  }
  return Error{"unknown node-group provider"};
}

}  // namespace epc::cluster
