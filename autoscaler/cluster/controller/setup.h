// From the configuration file's autoscaler.cluster section (common/config/config.h) to the
// cluster autoscaler's parts: the controller's options and the node-group provider it names.
// The only place that knows both the configuration's shape and the decision code's options.
#pragma once

#include <memory>

#include "autoscaler/cluster/controller/controller.h"
#include "autoscaler/cluster/providers/provider.h"
#include "common/config/config.h"
#include "common/k8s/api_client.h"
#include "common/util/result.h"

namespace epc::cluster {

// The controller's options: scale-up, scale-down and backoff settings, the expander, the
// scheduling policy (shared with the extender) and the pool each declared group belongs to.
ClusterAutoscalerOptions ClusterOptionsFromConfig(const Config& config, bool dry_run);

// The provider autoscaler.cluster.provider names, with the declared node groups. The provider
// shares `client`. Errors: none today; a Result so that providers with checks can follow.
Result<std::unique_ptr<NodeGroupProvider>> MakeProvider(const ClusterAutoscalingConfig& config,
                                                        std::shared_ptr<ApiClient> client);

}  // namespace epc::cluster
