// ClusterInformer: the node and pod watch caches that feed a ClusterStore from the API server.
//
// Two reflectors (nodes, pods) run on threads of their own; each event patches the store
// incrementally, and the PodCache (whole pods) when one is given. The informer is ready once
// both have listed, and fresh while both have heard from the server within the staleness bound
// (the extender's /readyz).
#pragma once

#include <chrono>
#include <memory>
#include <thread>

#include "common/k8s/api_client.h"
#include "common/k8s/reflector.h"
#include "common/state/cluster_state.h"
#include "common/state/pod_cache.h"
#include "common/util/logging.h"

namespace epc {

class ClusterInformer {
 public:
  // `pods` (may be null; not owned, must outlive the informer) also gets every pod, whole.
  ClusterInformer(std::shared_ptr<ApiClient> client, ClusterStore& store, Logger& log,
                  ReflectorOptions options = {}, PodCache* pods = nullptr);
  ~ClusterInformer();  // stops and joins

  void Start();
  void Stop();

  bool Synced() const;
  // Since the older of the two reflectors' last contact with the server.
  std::chrono::steady_clock::duration Staleness() const;

 private:
  void OnNodes(const std::vector<std::string>& objects);
  void OnNodeEvent(std::string_view type, std::string_view object);
  void OnPods(const std::vector<std::string>& objects);
  void OnPodEvent(std::string_view type, std::string_view object);

  ClusterStore& store_;
  PodCache* pod_cache_;
  Logger& log_;
  std::unique_ptr<Reflector> nodes_;
  std::unique_ptr<Reflector> pods_;
  std::jthread node_thread_;
  std::jthread pod_thread_;
};

}  // namespace epc
