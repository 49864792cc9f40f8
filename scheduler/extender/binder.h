// Binder: how the extender's bind verb puts a pod on a node.
//
// kube-scheduler delegates binding to an extender configured with bindVerb; the extender then
// owns the pod -> node binding. StoreBinder (here) binds in the in-memory cluster state only; the
// API-server binder (POST pods/binding) comes with the Kubernetes client.
#pragma once

#include <string_view>

#include "common/state/cluster_state.h"
#include "common/util/result.h"
#include "scheduler/extender/seen_pods.h"

namespace epc {

class Binder {
 public:
  virtual ~Binder() = default;
  // An error message names the pod and why it could not be bound.
  virtual Result<bool> Bind(std::string_view pod_namespace, std::string_view pod_name,
                            std::string_view pod_uid, std::string_view node) = 0;
};

// Binds in the ClusterStore: the pod as filter last saw it (SeenPods) is upserted with its node
// name set, so its EPC counts against the node at once.
class StoreBinder : public Binder {
 public:
  StoreBinder(ClusterStore& store, const SeenPods& seen) : store_(store), seen_(seen) {}
  Result<bool> Bind(std::string_view pod_namespace, std::string_view pod_name,
                    std::string_view pod_uid, std::string_view node) override;

 private:
  ClusterStore& store_;
  const SeenPods& seen_;
};

}  // namespace epc
