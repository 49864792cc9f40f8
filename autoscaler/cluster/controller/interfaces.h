// The cluster autoscaler controller's view of the Kubernetes API, as small interfaces so its
// Reconcile() runs against the API server in the daemon (kube_adapters.h) and against fakes or
// the API test double in tests (the pattern of autoscaler/horizontal/interfaces.h):
//
//   ClusterPodLister    every pod of the cluster, decoded (drain rules need whole pods)
//   NodeDrainer         the ToBeDeletedByClusterAutoscaler taint, and evictions
//   ObjectEventRecorder Kubernetes Events about pods and nodes
//
// The node-group provider is the fourth (autoscaler/cluster/providers/provider.h). The controller
// holds references; whoever builds it owns the implementations and keeps them alive longer.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc::cluster {

// cluster-autoscaler's taint on a node it is draining; its value is the Unix time in seconds.
inline constexpr std::string_view kToBeDeletedTaint = "ToBeDeletedByClusterAutoscaler";

class ClusterPodLister {
 public:
  virtual ~ClusterPodLister() = default;
  virtual Result<std::vector<Pod>> ListPods() = 0;
};

enum class EvictionOutcome {
  kEvicted,       // accepted (or the pod was already gone)
  kBlockedByPdb,  // 429: a PodDisruptionBudget refuses it now
};

struct EvictionResult {
  EvictionOutcome outcome = EvictionOutcome::kEvicted;
  std::string message;  // kBlockedByPdb: the server's message
};

class NodeDrainer {
 public:
  virtual ~NodeDrainer() = default;
  // Adds kToBeDeletedTaint:NoSchedule (idempotent).
  virtual Result<bool> Taint(const std::string& node) = 0;
  // Removes kToBeDeletedTaint (idempotent; a missing node is no error).
  virtual Result<bool> Untaint(const std::string& node) = 0;
  // policy/v1 Eviction of the pod. Errors: transport failures and statuses other than 2xx, 404
  // and 429.
  virtual Result<EvictionResult> Evict(const std::string& ns, const std::string& name) = 0;
};

struct ObjectRef {
  std::string kind;            // "Pod" or "Node"
  std::string namespace_name;  // empty for nodes
  std::string name;
  std::string uid;
};

inline constexpr std::string_view kEventTypeNormal = "Normal";
inline constexpr std::string_view kEventTypeWarning = "Warning";

class ObjectEventRecorder {
 public:
  virtual ~ObjectEventRecorder() = default;
  // Best effort: failures are the recorder's to log.
  virtual void Record(const ObjectRef& object, std::string_view type, std::string_view reason,
                      const std::string& message) = 0;
};

}  // namespace epc::cluster
