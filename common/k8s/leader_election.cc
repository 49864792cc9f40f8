#include "common/k8s/leader_election.h"

#include <ctime>

#include <nlohmann/json.hpp>

namespace epc {
namespace {

using nlohmann::json;

std::optional<LeaseRecord> RecordFrom(const json& lease) {
  const json spec = lease.value("spec", json::object());
  LeaseRecord r;
  r.holder = spec.value("holderIdentity", "");
  r.lease_duration_seconds = spec.value("leaseDurationSeconds", int64_t{0});
  r.acquire_time = spec.value("acquireTime", "");
  r.renew_time = spec.value("renewTime", "");
  r.transitions = spec.value("leaseTransitions", int64_t{0});
  return r;
}

}  // namespace

std::string NowMicroTime() {
  const auto now = std::chrono::system_clock::now();
  const auto secs = std::chrono::system_clock::to_time_t(now);
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1'000'000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06lldZ", buf, static_cast<long long>(micros));
  return out;
}

void LeaseArbiter::Observe(const std::optional<LeaseRecord>& record, Clock::time_point now) {
  if (record != observed_) {
    observed_ = record;
    observed_at_ = now;
  }
}

bool LeaseArbiter::MayAcquire(Clock::time_point now) const {
  if (!observed_ || observed_->holder.empty() || observed_->holder == identity_) return true;
  const auto duration = observed_->lease_duration_seconds > 0
                            ? std::chrono::seconds(observed_->lease_duration_seconds)
                            : lease_duration_;
  return now >= observed_at_ + duration;
}

LeaseRecord LeaseArbiter::Next(const std::string& now_rfc3339) const {
  LeaseRecord r;
  r.holder = identity_;
  r.lease_duration_seconds = lease_duration_.count();
  r.renew_time = now_rfc3339;
  if (observed_ && observed_->holder == identity_) {
    r.acquire_time = observed_->acquire_time;
    r.transitions = observed_->transitions;
  } else {
    r.acquire_time = now_rfc3339;
    // As client-go: any change of holder, a released (empty) one included, is a transition.
    r.transitions = observed_ ? observed_->transitions + 1 : 0;
  }
  return r;
}

LeaderElector::LeaderElector(std::shared_ptr<ApiClient> client, LeaderElectionConfig config,
                             Logger& log, Callbacks callbacks)
    : client_(std::move(client)),
      config_(std::move(config)),
      log_(log),
      callbacks_(std::move(callbacks)),
      arbiter_(config_.identity, config_.lease_duration) {}

void LeaderElector::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
}

bool LeaderElector::WaitFor(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !wake_.wait_for(lock, d, [&] { return stop_.load(); });
}

bool LeaderElector::TryAcquireOrRenew() {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + config_.lease_namespace +
                           "/leases/" + config_.lease_name;
  auto got = client_->Get(path);
  if (!got.ok()) {
    log_.V(2, "leader election: " + got.error());
    return false;
  }
  const auto now = LeaseArbiter::Clock::now();
  if (got->status == 404) {
    exists_ = false;
    arbiter_.Observe(std::nullopt, now);
  } else if (got->ok()) {
    json lease;
    try {
      lease = json::parse(got->body);
    } catch (const json::exception& e) {
      log_.Warning(std::string("leader election: lease is not JSON: ") + e.what());
      return false;
    }
    exists_ = true;
    resource_version_ = lease["metadata"].value("resourceVersion", "");
    arbiter_.Observe(RecordFrom(lease), now);
  } else {
    log_.V(2, "leader election: " + got->ErrorMessage());
    return false;
  }
  if (!arbiter_.MayAcquire(now)) return false;

  const LeaseRecord next = arbiter_.Next(NowMicroTime());
  json body = {{"apiVersion", "coordination.k8s.io/v1"},
               {"kind", "Lease"},
               {"metadata", {{"name", config_.lease_name}, {"namespace", config_.lease_namespace}}},
               {"spec",
                {{"holderIdentity", next.holder},
                 {"leaseDurationSeconds", next.lease_duration_seconds},
                 {"acquireTime", next.acquire_time},
                 {"renewTime", next.renew_time},
                 {"leaseTransitions", next.transitions}}}};
  Result<ApiResponse> written = Error{""};
  if (exists_) {
    body["metadata"]["resourceVersion"] = resource_version_;
    written = client_->Put(path, body.dump());
  } else {
    written = client_->Post(
        "/apis/coordination.k8s.io/v1/namespaces/" + config_.lease_namespace + "/leases",
        body.dump());
  }
  if (!written.ok()) {
    log_.V(2, "leader election: " + written.error());
    return false;
  }
  if (!written->ok()) {
    // 409: another candidate wrote first; we read again next round.
    log_.V(2, "leader election: " + written->ErrorMessage());
    return false;
  }
  arbiter_.Observe(next, now);
  return true;
}

void LeaderElector::Release() {
  const std::string path = "/apis/coordination.k8s.io/v1/namespaces/" + config_.lease_namespace +
                           "/leases/" + config_.lease_name;
  auto got = client_->Get(path);
  if (!got.ok() || !got->ok()) return;
  try {
    json lease = json::parse(got->body);
    if (lease["spec"].value("holderIdentity", "") != config_.identity) return;
    // As client-go's ReleaseOnCancel: keep the record, empty the holder, 1 s duration.
    lease["spec"]["holderIdentity"] = "";
    lease["spec"]["leaseDurationSeconds"] = 1;
    lease["spec"]["renewTime"] = NowMicroTime();
    (void)client_->Put(path, lease.dump());
  } catch (const json::exception&) {
  }
}

void LeaderElector::Run() {
  log_.Info("leader election: " + config_.identity + " contending for lease " +
            config_.lease_namespace + "/" + config_.lease_name);
  auto last_renew = LeaseArbiter::Clock::now();
  while (!stop_) {
    const bool ok = TryAcquireOrRenew();
    const auto now = LeaseArbiter::Clock::now();
    if (ok) {
      last_renew = now;
      if (!leader_.exchange(true)) {
        log_.Info("leader election: " + config_.identity + " became leader");
        if (callbacks_.started_leading) callbacks_.started_leading();
      }
    } else if (leader_ && now - last_renew >= config_.renew_deadline) {
      leader_ = false;
      log_.Warning("leader election: " + config_.identity + " lost the lease (not renewed within " +
                   std::to_string(config_.renew_deadline.count()) + "s)");
      if (callbacks_.stopped_leading) callbacks_.stopped_leading();
    }
    if (!WaitFor(config_.retry_period)) break;
  }
  if (leader_.exchange(false)) {
    Release();
    if (callbacks_.stopped_leading) callbacks_.stopped_leading();
  }
}

}  // namespace epc
