// The horizontal controller's collaborators over the Kubernetes API (common/k8s/api_client.h):
//
//   ApiScaleClient    GET/PUT <target>/scale of any scalable resource
//   ApiPodLister      GET /api/v1/namespaces/<ns>/pods?labelSelector=... (paged)
//   ApiEventRecorder  POST core/v1 Events, repeated ones folded into a count as client-go's
//                     event correlator does
//
// Each shares the ApiClient (shared_ptr). The pure parts (paths, decoding) are free functions
// so tests can reach them without HTTP.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "autoscaler/horizontal/interfaces.h"
#include "common/k8s/api_client.h"
#include "common/util/logging.h"
#include "common/util/result.h"

namespace epc {

// The resource (plural) of a kind: Deployment -> deployments, StatefulSet -> statefulsets,
// ReplicaSet -> replicasets, ReplicationController -> replicationcontrollers,
// MachineDeployment -> machinedeployments, MachineSet -> machinesets; any other kind is guessed
// as Kubernetes' UnsafeGuessKindToResource does (lower case; -s, -es after s, -ies after y).
std::string KindToResource(std::string_view kind);

// /apis/<group>/<version>/namespaces/<ns>/<plural>/<name>/scale, or /api/v1/... for the core
// group. Errors: an apiVersion that is not "<version>" or "<group>/<version>".
Result<std::string> ScalePath(const std::string& ns, const CrossVersionObjectReference& ref);

// An autoscaling/v1 Scale's JSON.
Result<ScaleInfo> ParseScaleJson(std::string_view json);

// One v1.Pod item of a list: the calculator's view, plus the decoded pod for requests.
Result<TargetPod> ParseTargetPodJson(std::string_view json);

class ApiScaleClient : public ScaleClient {
 public:
  explicit ApiScaleClient(std::shared_ptr<ApiClient> client) : client_(std::move(client)) {}
  Result<ScaleInfo> GetScale(const std::string& ns,
                             const CrossVersionObjectReference& ref) override;
  // PUT with the resourceVersion read, as the HPA controller's Scales().Update().
  Result<bool> UpdateScale(const std::string& ns, const CrossVersionObjectReference& ref,
                           const ScaleInfo& read, int32_t replicas) override;

 private:
  std::shared_ptr<ApiClient> client_;
};

class ApiPodLister : public PodLister {
 public:
  explicit ApiPodLister(std::shared_ptr<ApiClient> client) : client_(std::move(client)) {}
  Result<std::vector<TargetPod>> ListPods(const std::string& ns,
                                          const std::string& selector) override;

 private:
  std::shared_ptr<ApiClient> client_;
};

class ApiEventRecorder : public EventRecorder {
 public:
  // `component` is source.component and reportingComponent; `instance` reportingInstance.
  ApiEventRecorder(std::shared_ptr<ApiClient> client, std::string component, std::string instance,
                   Logger& log);
  void Record(const std::string& ns, const CrossVersionObjectReference& ref, std::string_view type,
              std::string_view reason, const std::string& message) override;

 private:
  struct Seen {
    std::string name;  // the Event object's name
    int64_t count = 0;
    std::string first_timestamp;
    std::chrono::steady_clock::time_point last{};
  };
  bool Create(const std::string& ns, const CrossVersionObjectReference& ref, std::string_view type,
              std::string_view reason, const std::string& message, Seen& seen);

  std::shared_ptr<ApiClient> client_;
  const std::string component_;
  const std::string instance_;
  Logger& log_;
  std::mutex mu_;
  std::map<std::string, Seen, std::less<>> seen_;  // key: object, type, reason, message
  uint64_t sequence_ = 0;
};

}  // namespace epc
