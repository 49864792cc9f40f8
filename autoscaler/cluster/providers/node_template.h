// Helpers the node-group providers share: node templates to and from Kubernetes JSON and the
// cluster-autoscaler capacity annotations, and merging a configured template over a discovered
// one. Pure functions over values; the caller owns everything.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc::cluster {

// The annotation prefix cluster-autoscaler reads for scale-from-zero templates.
inline constexpr std::string_view kCapacityAnnotationPrefix =
    "capacity.cluster-autoscaler.kubernetes.io/";
// Our EPC capacity annotation: Cluster API and cluster-autoscaler annotations have no way to say
// how much EPC a new node brings (design.md). The value is either a byte quantity ("128Mi",
// counted as sgx.intel.com/epc) or "<resource>=<quantity>", e.g.
// "kubernetes.azure.com/sgx_epc_mem_in_MiB=168" (the quantity in that resource's own unit).
inline constexpr std::string_view kEpcCapacityAnnotation = "capacity.epc.dev/epc";
inline constexpr std::string_view kDefaultEpcResource = "sgx.intel.com/epc";

// A template node from capacity annotations: cpu, memory, ephemeral-disk (ephemeral-storage),
// maxPods (pods), labels ("k=v,k2=v2"), taints ("k=v:NoSchedule,k2:NoExecute"), and the EPC
// annotation above. Capacity and allocatable are set alike. Errors name the annotation.
Result<Node> TemplateFromAnnotations(const Labels& annotations, std::string name);

// True when any capacity annotation (ours included) is present.
bool HasCapacityAnnotations(const Labels& annotations);

// `base` with `overlay` applied: overlay's capacity/allocatable entries, labels and annotations
// win key by key; overlay's taints replace base's when overlay has any.
Node MergeTemplate(Node base, const Node& overlay);

// A v1.Node object (metadata, spec.taints, spec.unschedulable, status capacity/allocatable and a
// Ready condition matching `node.ready`).
nlohmann::json NodeToJson(const Node& node);

// RFC 3339 UTC with seconds ("2024-05-01T12:00:00Z") of the current wall time.
std::string NowRfc3339();

}  // namespace epc::cluster
