// Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics and defaults
// (lease duration 15 s, renew deadline 10 s, retry period 2 s), so that of several replicas of
// a daemon exactly one acts.
//
// LeaseArbiter is the decision (pure, injected time): given the lease as last read, may this
// candidate take or keep it? LeaderElector is the loop that reads and writes the Lease.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "common/k8s/api_client.h"
#include "common/util/logging.h"

namespace epc {

struct LeaderElectionConfig {
  std::string lease_namespace = "kube-system";
  std::string lease_name;
  std::string identity;  // unique per replica, e.g. the pod name
  std::chrono::seconds lease_duration{15};
  std::chrono::seconds renew_deadline{10};
  std::chrono::seconds retry_period{2};
};

struct LeaseRecord {
  std::string holder;
  int64_t lease_duration_seconds = 0;
  std::string acquire_time;  // RFC 3339 with microseconds, as the API stores MicroTime
  std::string renew_time;
  int64_t transitions = 0;
  bool operator==(const LeaseRecord&) const = default;
};

// Tracks when the lease record last changed, on the local clock (as client-go does, so skewed
// clocks between replicas do not matter), and decides.
class LeaseArbiter {
 public:
  using Clock = std::chrono::steady_clock;
  LeaseArbiter(std::string identity, std::chrono::seconds lease_duration)
      : identity_(std::move(identity)), lease_duration_(lease_duration) {}

  // Records what was read. nullopt: no lease exists.
  void Observe(const std::optional<LeaseRecord>& record, Clock::time_point now);
  // True when this candidate may write itself as holder now: no lease, its own lease, or a
  // lease not renewed (as observed locally) for a whole lease duration.
  bool MayAcquire(Clock::time_point now) const;
  // The record to write: renewed when held, taken over (transitions + 1) otherwise.
  LeaseRecord Next(const std::string& now_rfc3339) const;

 private:
  const std::string identity_;
  const std::chrono::seconds lease_duration_;
  std::optional<LeaseRecord> observed_;
  Clock::time_point observed_at_{};
};

class LeaderElector {
 public:
  struct Callbacks {
    std::function<void()> started_leading;
    std::function<void()> stopped_leading;
  };
  LeaderElector(std::shared_ptr<ApiClient> client, LeaderElectionConfig config, Logger& log,
                Callbacks callbacks);

  // Blocks until Stop(): acquires, renews every retry period, and steps down when it cannot
  // renew within the renew deadline. On Stop() a leader releases the lease so a standby takes
  // over at once.
  void Run();
  void Stop();
  bool IsLeader() const { return leader_.load(); }

 private:
  bool TryAcquireOrRenew();
  void Release();
  bool WaitFor(std::chrono::milliseconds d);  // false when stopping

  const std::shared_ptr<ApiClient> client_;
  const LeaderElectionConfig config_;
  Logger& log_;
  const Callbacks callbacks_;
  LeaseArbiter arbiter_;
  std::string resource_version_;
  bool exists_ = false;
  std::atomic<bool> leader_{false};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable wake_;
};

// Now as a Kubernetes MicroTime: "2026-11-28T15:45:52.123456Z".
std::string NowMicroTime();

}  // namespace epc
