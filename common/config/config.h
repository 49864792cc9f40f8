// Config: the one YAML file every binary reads (mounted from a ConfigMap in a cluster).
//
// Parsing is strict: an unknown key, a wrong type or a bad value is an error that names the key
// path and its position, e.g. `config.yaml:12:5: scheduling.scoringStrategy: "tightest" is not
// one of binpack, spread`. Every key has a default, so an empty file is a valid configuration.
// examples/config.yaml documents every key.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/hpa_spec.h"
#include "common/model/epc_resources.h"
#include "common/model/objects.h"
#include "common/policy/fit.h"
#include "common/policy/pools.h"
#include "common/util/result.h"

namespace epc {

struct TlsConfig {
  std::string cert_file;  // serve HTTPS when cert_file and key_file are set
  std::string key_file;
  std::string client_ca_file;  // when set, require client certificates signed by this CA
  bool enabled() const { return !cert_file.empty(); }
};

struct ExtenderConfig {
  std::string bind_address = "0.0.0.0";
  int port = 8888;
  std::string url_prefix;                        // "" or "/scheduler"; no trailing slash
  int64_t max_request_body_bytes = 256LL << 20;  // larger bodies get 413
  bool enable_bind = false;                      // serve <prefix>/bind
  int worker_threads = 8;
  TlsConfig tls;
};

// autoscaler.prometheus: where Pods, Object and External metrics are queried.
struct PrometheusConfig {
  std::string url;  // "http://prometheus:9090" (a path prefix is kept); empty: no Prometheus
  int timeout_seconds = 5;
};

// autoscaler.leaderElection: the Lease the autoscaler's replicas contend for (--leader-elect).
struct AutoscalerLeaderElectionConfig {
  std::string lease_name = "epc-autoscaler";
  std::string lease_namespace = "kube-system";
  int lease_duration_seconds = 15;
  int renew_deadline_seconds = 10;
  int retry_period_seconds = 2;
};

// autoscaler.horizontal[]: one autoscaling/v2 HorizontalPodAutoscaler, copied over as YAML.
struct HorizontalTargetConfig {
  std::string name;  // metadata.name
  HpaSpec spec;      // spec, with metadata.namespace in spec.namespace_name (default "default")
};

// autoscaler.cluster.nodeGroups[]: a node group the configuration declares. With the kwok
// provider every group is declared here, template included. With clusterapi, groups are
// discovered from MachineDeployment annotations; a declared group ("<namespace>/<name>") adds
// one without annotations and its minSize, maxSize and template win over the annotations.
struct NodeGroupConfig {
  std::string name;
  std::optional<int> min_size;
  std::optional<int> max_size;
  std::string pool;  // a name from `pools`, for reports; membership comes from the labels
  std::optional<Node> template_node;  // key `template`; CompleteNodeTemplate() applied
};

enum class NodeGroupProviderKind { kClusterApi, kKwok };

// autoscaler.cluster.scaleDown: cluster-autoscaler's --scale-down-* flags, same defaults.
struct ScaleDownConfig {
  bool enabled = true;
  double utilization_threshold = 0.5;  // max over cpu, memory and EPC of requested/allocatable
  int unneeded_time_seconds = 600;
  int delay_after_add_seconds = 600;
  int max_empty_bulk_delete = 10;
  int max_nodes_per_pass = 10;
  // --unremovable-node-recheck-timeout: a node whose drain a PodDisruptionBudget refused is not
  // tried again for this long.
  int unremovable_node_recheck_timeout_seconds = 300;
  bool skip_nodes_with_local_storage = true;
  bool skip_nodes_with_system_pods = true;
};

// autoscaler.cluster: sizing node groups. Off unless `enabled`; the defaults are
// cluster-autoscaler's (--scan-interval, --expander, --max-node-provision-time, ...).
struct ClusterAutoscalingConfig {
  bool enabled = false;
  NodeGroupProviderKind provider = NodeGroupProviderKind::kClusterApi;
  std::string cluster_api_namespace;  // clusterAPI.namespace; empty: every namespace
  int scan_interval_seconds = 10;
  std::string expander = "least-waste";          // least-waste, most-pods, priority, random
  std::vector<std::string> expander_priorities;  // priority: group-name regexes, highest first
  int max_nodes_total = 0;                       // 0: no cluster-wide cap
  int max_nodes_per_scale_up = 1000;
  int scale_up_cooldown_seconds = 0;
  int max_node_provision_time_seconds = 900;
  int initial_backoff_seconds = 300;
  int max_backoff_seconds = 1800;
  ScaleDownConfig scale_down;
  std::vector<NodeGroupConfig> node_groups;
};

// autoscaler: the epc-autoscaler daemon. The durations mirror kube-controller-manager's
// --horizontal-pod-autoscaler-* flags and default alike.
struct AutoscalerConfig {
  int sync_period_seconds = 15;
  PrometheusConfig prometheus;
  double tolerance = 0.1;
  int cpu_initialization_period_seconds = 300;
  int initial_readiness_delay_seconds = 30;
  int downscale_stabilization_seconds = 300;
  AutoscalerLeaderElectionConfig leader_election;
  std::vector<HorizontalTargetConfig> horizontal;
  ClusterAutoscalingConfig cluster;
};

struct Config {
  EpcResources epc_resources;  // key epcResources
  std::vector<PoolSpec> pools;
  SchedulingPolicy scheduling;
  ExtenderConfig extender;
  AutoscalerConfig autoscaler;
};

// `source` names the text in errors (a file path).
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view source);
Result<Config> LoadConfigFile(const std::string& path);

}  // namespace epc
