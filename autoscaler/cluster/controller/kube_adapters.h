// The cluster autoscaler controller's collaborators over the Kubernetes API
// (common/k8s/api_client.h):
//
//   CachedClusterPodLister  a copy of the PodCache the daemon's informer keeps (no API call)
//   ApiClusterPodLister     GET /api/v1/pods (paged), decoded with ParsePodJson; for a caller
//                           without a watch
//   ApiNodeDrainer          node taints by read-modify-PUT (retried on 409), and
//                           POST pods/<name>/eviction (policy/v1)
//   ApiObjectEventRecorder  POST core/v1 Events (Nodes' in the "default" namespace, as kubectl
//                           shows them)
//
// Each shares the ApiClient (shared_ptr); the recorder holds a reference to the daemon's Logger.
#pragma once

#include <memory>
#include <string>

#include "autoscaler/cluster/controller/interfaces.h"
#include "common/k8s/api_client.h"
#include "common/state/pod_cache.h"
#include "common/util/logging.h"

namespace epc::cluster {

class CachedClusterPodLister final : public ClusterPodLister {
 public:
  // `cache` is not owned and must outlive the lister.
  explicit CachedClusterPodLister(const PodCache& cache) : cache_(cache) {}
  Result<std::vector<Pod>> ListPods() override { return cache_.List(); }

 private:
  const PodCache& cache_;
};

class ApiClusterPodLister final : public ClusterPodLister {
 public:
  explicit ApiClusterPodLister(std::shared_ptr<ApiClient> client) : client_(std::move(client)) {}
  Result<std::vector<Pod>> ListPods() override;

 private:
  std::shared_ptr<ApiClient> client_;
};

class ApiNodeDrainer final : public NodeDrainer {
 public:
  explicit ApiNodeDrainer(std::shared_ptr<ApiClient> client) : client_(std::move(client)) {}
  Result<bool> Taint(const std::string& node) override;
  Result<bool> Untaint(const std::string& node) override;
  Result<EvictionResult> Evict(const std::string& ns, const std::string& name) override;

 private:
  Result<bool> UpdateTaints(const std::string& node, bool add);
  std::shared_ptr<ApiClient> client_;
};

class ApiObjectEventRecorder final : public ObjectEventRecorder {
 public:
  ApiObjectEventRecorder(std::shared_ptr<ApiClient> client, std::string component, Logger& log)
      : client_(std::move(client)), component_(std::move(component)), log_(log) {}
  void Record(const ObjectRef& object, std::string_view type, std::string_view reason,
              const std::string& message) override;

 private:
  std::shared_ptr<ApiClient> client_;
  std::string component_;
  Logger& log_;
  uint64_t sequence_ = 0;
};

}  // namespace epc::cluster
