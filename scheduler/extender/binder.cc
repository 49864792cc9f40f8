#include "scheduler/extender/binder.h"

#include <string>

namespace epc {

Result<bool> StoreBinder::Bind(std::string_view pod_namespace, std::string_view pod_name,
                               std::string_view pod_uid, std::string_view node) {
  std::shared_ptr<const Pod> seen = seen_.Find(pod_uid);
  std::string who = "pod " + std::string(pod_namespace) + "/" + std::string(pod_name) + " (uid " +
                    std::string(pod_uid) + ")";
  if (!seen) return Error{who + " was not seen by filter; cannot bind"};
  if (seen->namespace_name != pod_namespace || seen->name != pod_name) {
    return Error{who + " does not match the pod filter saw with that uid (" + seen->namespace_name +
                 "/" + seen->name + "); cannot bind"};
  }
  Pod bound = *seen;
  bound.node_name = std::string(node);
  if (bound.phase.empty()) bound.phase = "Pending";
  store_.UpsertPod(bound);
  return true;
}

}  // namespace epc
