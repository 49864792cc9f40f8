// The horizontal controller's view of the world, as small interfaces so that its reconcile runs
// against the Kubernetes API in the daemon (kube_adapters.h) and against fakes in tests:
//
//   ScaleClient    reads and writes a target's scale subresource
//   PodLister      lists the pods a scale's selector matches
//   EventRecorder  records Kubernetes Events about a target
//   Clock          steady time for the behavior windows, wall time for pod and sample times
//
// (MetricsClient, the fourth, lives in autoscaler/metrics/metrics_client.h.) The controller holds
// references; whoever builds it owns the implementations and keeps them alive longer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "autoscaler/horizontal/replica_calculator.h"
#include "autoscaler/horizontal/scaling_behavior.h"
#include "common/config/hpa_spec.h"
#include "common/model/objects.h"
#include "common/util/result.h"

namespace epc {

// A scale subresource (autoscaling/v1 Scale) as read.
struct ScaleInfo {
  int32_t spec_replicas = 0;       // spec.replicas
  int32_t status_replicas = 0;     // status.replicas
  std::string selector{};          // status.selector, a label selector string ("app=web")
  std::string resource_version{};  // metadata.resourceVersion, guards the update
};

class ScaleClient {
 public:
  virtual ~ScaleClient() = default;
  virtual Result<ScaleInfo> GetScale(const std::string& ns,
                                     const CrossVersionObjectReference& ref) = 0;
  // Writes spec.replicas = `replicas`; `read` is what GetScale returned (a concurrent change
  // makes the update fail with a conflict, to be retried with fresh data next period).
  virtual Result<bool> UpdateScale(const std::string& ns, const CrossVersionObjectReference& ref,
                                   const ScaleInfo& read, int32_t replicas) = 0;
};

// A pod of the target: what the replica calculator needs, and the decoded pod for requests.
struct TargetPod {
  hpa::HpaPod hpa{};
  std::optional<Pod> pod{};  // nullopt when the pod's spec did not decode: requests unknown
};

class PodLister {
 public:
  virtual ~PodLister() = default;
  virtual Result<std::vector<TargetPod>> ListPods(const std::string& ns,
                                                  const std::string& selector) = 0;
};

inline constexpr std::string_view kEventNormal = "Normal";
inline constexpr std::string_view kEventWarning = "Warning";

class EventRecorder {
 public:
  virtual ~EventRecorder() = default;
  // Best effort: a failure to record is the recorder's to log, never the caller's problem.
  virtual void Record(const std::string& ns, const CrossVersionObjectReference& ref,
                      std::string_view type, std::string_view reason,
                      const std::string& message) = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  virtual hpa::SteadyTime SteadyNow() = 0;
  virtual hpa::WallTime WallNow() = 0;
};

class SystemClock : public Clock {
 public:
  hpa::SteadyTime SteadyNow() override { return std::chrono::steady_clock::now(); }
  hpa::WallTime WallNow() override { return std::chrono::system_clock::now(); }
};

}  // namespace epc
