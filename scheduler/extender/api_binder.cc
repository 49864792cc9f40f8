#include "scheduler/extender/api_binder.h"

#include <nlohmann/json.hpp>

namespace epc {

Result<bool> ApiBinder::Bind(std::string_view pod_namespace, std::string_view pod_name,
                             std::string_view pod_uid, std::string_view node) {
  nlohmann::json binding = {{"apiVersion", "v1"},
                            {"kind", "Binding"},
                            {"metadata", {{"name", pod_name}, {"namespace", pod_namespace}}},
                            {"target", {{"apiVersion", "v1"}, {"kind", "Node"}, {"name", node}}}};
  // The UID precondition makes sure a pod recreated under the same name is not bound by mistake.
  if (!pod_uid.empty()) binding["metadata"]["uid"] = pod_uid;
  const std::string path = "/api/v1/namespaces/" + std::string(pod_namespace) + "/pods/" +
                           std::string(pod_name) + "/binding";
  auto res = client_->Post(path, binding.dump());
  const std::string what = "binding pod " + std::string(pod_namespace) + "/" +
                           std::string(pod_name) + " to node " + std::string(node);
  if (!res.ok()) return Error{what + ": " + res.error()};
  if (!res->ok()) return Error{what + ": " + res->ErrorMessage()};
  return true;
}

}  // namespace epc
