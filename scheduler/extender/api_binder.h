// ApiBinder: binds through the Kubernetes API (POST pods/<name>/binding), as kube-scheduler's
// DefaultBinder does, for an extender configured with bindVerb.
#pragma once

#include <memory>

#include "common/k8s/api_client.h"
#include "scheduler/extender/binder.h"

namespace epc {

class ApiBinder : public Binder {
 public:
  explicit ApiBinder(std::shared_ptr<ApiClient> client) : client_(std::move(client)) {}
  // Errors carry the API server's message, e.g. a 409 "pod x is already assigned to node y".
  Result<bool> Bind(std::string_view pod_namespace, std::string_view pod_name,
                    std::string_view pod_uid, std::string_view node) override;

 private:
  std::shared_ptr<ApiClient> client_;
};

}  // namespace epc
