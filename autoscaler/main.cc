// epc-autoscaler: horizontal pod autoscaling with the Kubernetes HPA's semantics, on CPU (and
// any resource metrics.k8s.io serves) and on any Prometheus query (EPC, requests per second...).
//
//   epc-autoscaler --config FILE [--kubeconfig FILE] [--leader-elect] [--leader-elect-identity ID]
//                  [--metrics-bind-address ADDR] [--health-probe-bind-address ADDR]
//                  [--dry-run] [--once] [--v N] [--version] [--help]
//
// Exit codes: 0 after a clean stop (SIGTERM, SIGINT) or one --once pass, 1 for a configuration or
// start-up error, 2 for a usage error.
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

#include "autoscaler/app/autoscaler_metrics.h"
#include "autoscaler/app/probe_server.h"
#include "autoscaler/horizontal/controller.h"
#include "autoscaler/horizontal/kube_adapters.h"
#include "autoscaler/metrics/source_metrics_client.h"
#include "autoscaler/version.h"
#include "common/config/config.h"
#include "common/k8s/api_client.h"
#include "common/k8s/client_config.h"
#include "common/k8s/leader_election.h"
#include "common/util/logging.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: epc-autoscaler --config FILE [flags]

Horizontal pod autoscaling with the Kubernetes HPA's semantics for the targets listed under
autoscaler.horizontal in the config file: Resource metrics from metrics.k8s.io, Pods, Object and
External metrics from Prometheus queries. Serves /metrics, /healthz and /readyz.

Flags (--flag=value and --flag value both work):
  --config FILE                      configuration file (YAML; see examples/config.yaml)
  --kubeconfig FILE                  kubeconfig; default $KUBECONFIG, else the in-cluster
                                     service account
  --leader-elect[=true|false]        contend for the Lease autoscaler.leaderElection names; only
                                     the holder acts (default false)
  --leader-elect-identity ID         this replica's name in the Lease (default: the hostname)
  --metrics-bind-address ADDR        where /metrics is served (default 0.0.0.0:8080; port 0:
                                     any free port)
  --health-probe-bind-address ADDR   where /healthz and /readyz are served (default
                                     0.0.0.0:8081)
  --dry-run                          decide and report, never write scales or events
  --once                             one reconcile of every target, print one JSON line per
                                     target on stdout, exit (no leader election, no servers)
  --v N                              log verbosity (2: a line per target and reconcile)
  --version                          print the version and exit
  --help, -h                         print this help and exit
)";

struct Flags {
  std::string config;
  std::string kubeconfig;
  bool leader_elect = false;
  std::string identity;
  std::string metrics_address = "0.0.0.0:8080";
  std::string health_address = "0.0.0.0:8081";
  bool dry_run = false;
  bool once = false;
  int verbosity = 0;
  bool help = false;
  bool version = false;
};

struct UsageError {
  std::string message;
};

std::variant<Flags, UsageError> ParseFlags(int argc, char** argv) {
  Flags flags;
  bool have_config = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      flags.help = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      return UsageError{"unexpected argument \"" + std::string(arg) + "\""};
    }
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    // Boolean flags: --x, --x=true, --x=false.
    bool* boolean = name == "leader-elect" ? &flags.leader_elect
                    : name == "dry-run"    ? &flags.dry_run
                    : name == "once"       ? &flags.once
                    : name == "version"    ? &flags.version
                                           : nullptr;
    if (boolean != nullptr) {
      if (value && *value != "true" && *value != "false") {
        return UsageError{"--" + std::string(name) + " takes true or false, not \"" +
                          std::string(*value) + "\""};
      }
      *boolean = !value || *value == "true";
      continue;
    }
    std::string* text = name == "config"                      ? &flags.config
                        : name == "kubeconfig"                ? &flags.kubeconfig
                        : name == "leader-elect-identity"     ? &flags.identity
                        : name == "metrics-bind-address"      ? &flags.metrics_address
                        : name == "health-probe-bind-address" ? &flags.health_address
                                                              : nullptr;
    if (text == nullptr && name != "v") return UsageError{"unknown flag --" + std::string(name)};
    if (!value) {
      if (i + 1 >= argc) return UsageError{"flag --" + std::string(name) + " needs a value"};
      value = argv[++i];
    }
    if (name == "v") {
      int v = 0;
      auto [end, ec] = std::from_chars(value->data(), value->data() + value->size(), v);
      if (ec != std::errc() || end != value->data() + value->size() || v < 0) {
        return UsageError{"--v must be a non-negative integer, not \"" + std::string(*value) +
                          "\""};
      }
      flags.verbosity = v;
      continue;
    }
    *text = std::string(*value);
    if (name == "config") have_config = true;
  }
  if (!flags.help && !flags.version && (!have_config || flags.config.empty())) {
    return UsageError{"--config FILE is required"};
  }
  for (const std::string* address : {&flags.metrics_address, &flags.health_address}) {
    if (auto hp = epc::ParseBindAddress(*address); !hp.ok()) return UsageError{hp.error()};
  }
  return flags;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "epc-autoscaler";
  return buf;
}

// Sleeps until the deadline or Stop(); the loops' shared off switch.
class StopSignal {
 public:
  void Stop() {
    {
      std::lock_guard lock(mu_);
      stopped_ = true;
    }
    cv_.notify_all();
  }
  // False when stopped.
  bool WaitFor(std::chrono::steady_clock::duration d) {
    std::unique_lock lock(mu_);
    return !cv_.wait_for(lock, d, [&] { return stopped_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopped_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  auto parsed = ParseFlags(argc, argv);
  if (auto* err = std::get_if<UsageError>(&parsed)) {
    std::cerr << "epc-autoscaler: " << err->message << "\n\n" << kUsage;
    return 2;
  }
  Flags flags = std::get<Flags>(parsed);
  if (flags.help) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.version) {
    std::cout << "epc-autoscaler " << epc::AutoscalerVersion() << "\n";
    return 0;
  }
  if (flags.identity.empty()) flags.identity = Hostname();

  epc::Result<epc::Config> loaded = epc::LoadConfigFile(flags.config);
  if (!loaded) {
    std::cerr << loaded.error() << "\n";
    return 1;
  }
  const epc::AutoscalerConfig config = std::move(loaded).value().autoscaler;
  epc::Logger log(std::cerr, flags.verbosity);

  epc::Result<epc::ClientConfig> client_config = epc::ResolveClientConfig(flags.kubeconfig);
  if (!client_config) {
    std::cerr << client_config.error() << "\n";
    return 1;
  }
  auto client = epc::ApiClient::Create(*client_config);
  if (!client) {
    std::cerr << client.error() << "\n";
    return 1;
  }
  std::shared_ptr<epc::ApiClient> api = *client;

  // Signals go to one thread (started below); every other thread inherits them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  if (!flags.once) pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  epc::AutoscalerMetrics metrics;
  epc::ApiScaleClient scales(api);
  epc::ApiPodLister pods(api);
  epc::ApiEventRecorder events(api, "epc-autoscaler", flags.identity, log);
  epc::SourceMetricsClient metrics_client(api, config.prometheus.url,
                                          std::chrono::seconds(config.prometheus.timeout_seconds));
  epc::SystemClock clock;
  epc::HorizontalController controller(config.horizontal,
                                       epc::OptionsFromConfig(config, flags.dry_run), scales, pods,
                                       metrics_client, events, clock, metrics, log);

  log.Info("epc-autoscaler " + std::string(epc::AutoscalerVersion()) + ": " +
           std::to_string(config.horizontal.size()) + " horizontal targets, sync every " +
           std::to_string(config.sync_period_seconds) + "s, API server " + client_config->Server() +
           " (" + client_config->source + "), Prometheus " +
           (config.prometheus.url.empty() ? std::string("not configured") : config.prometheus.url) +
           (flags.dry_run ? ", dry run" : ""));
  if (config.horizontal.empty()) log.Warning("autoscaler.horizontal lists no targets");

  if (flags.once) {
    for (const epc::TargetStatus& s : controller.ReconcileAll()) {
      std::cout << epc::TargetStatusJson(s, flags.dry_run) << "\n";
    }
    std::cout.flush();
    return 0;
  }

  const bool elect = flags.leader_elect && !flags.dry_run;
  if (flags.leader_elect && flags.dry_run) {
    log.Info("--dry-run: not contending for the lease (a dry run writes nothing)");
  }
  std::atomic<bool> ready{false};
  epc::ProbeServer metrics_server(log);
  epc::ProbeServer health_server(log);
  const bool shared_address = flags.metrics_address == flags.health_address;
  epc::ProbeServer& health = shared_address ? metrics_server : health_server;
  metrics_server.Handle("/metrics", [&metrics] {
    return epc::ProbeServer::Answer{200, metrics.Render(), "text/plain; version=0.0.4"};
  });
  health.Handle("/healthz", [] { return epc::ProbeServer::Answer{200, "ok\n"}; });
  health.Handle("/readyz", [&ready] {
    return ready ? epc::ProbeServer::Answer{200, "ok\n"}
                 : epc::ProbeServer::Answer{503, "starting\n"};
  });
  epc::Result<int> metrics_port = metrics_server.Start(flags.metrics_address);
  if (!metrics_port) {
    std::cerr << "--metrics-bind-address: " << metrics_port.error() << "\n";
    return 1;
  }
  log.Info("serving /metrics on " + flags.metrics_address + " (port " +
           std::to_string(*metrics_port) + ")");
  if (!shared_address) {
    epc::Result<int> health_port = health_server.Start(flags.health_address);
    if (!health_port) {
      std::cerr << "--health-probe-bind-address: " << health_port.error() << "\n";
      return 1;
    }
    log.Info("serving /healthz and /readyz on " + flags.health_address + " (port " +
             std::to_string(*health_port) + ")");
  }

  StopSignal stop;
  std::optional<epc::LeaderElector> elector;
  std::thread elector_thread;
  if (elect) {
    epc::LeaderElectionConfig le;
    le.lease_name = config.leader_election.lease_name;
    le.lease_namespace = config.leader_election.lease_namespace;
    le.identity = flags.identity;
    le.lease_duration = std::chrono::seconds(config.leader_election.lease_duration_seconds);
    le.renew_deadline = std::chrono::seconds(config.leader_election.renew_deadline_seconds);
    le.retry_period = std::chrono::seconds(config.leader_election.retry_period_seconds);
    elector.emplace(api, le, log,
                    epc::LeaderElector::Callbacks{[&metrics] { metrics.SetLeader(true); },
                                                  [&metrics] { metrics.SetLeader(false); }});
    elector_thread = std::thread([&elector] { elector->Run(); });
  } else {
    metrics.SetLeader(true);  // without election every replica acts
  }

  std::thread loop([&] {
    const auto period = std::chrono::seconds(config.sync_period_seconds);
    bool was_leader = !elect;
    do {
      const auto start = std::chrono::steady_clock::now();
      const bool leader = !elect || elector->IsLeader();
      if (leader != was_leader) {
        log.Info(leader ? "leading: reconciling targets" : "not leading: standing by");
        was_leader = leader;
      }
      if (leader) controller.ReconcileAll();
      const auto elapsed = std::chrono::steady_clock::now() - start;
      // A standby checks the lease often so that it takes over within a period.
      const auto wait =
          leader
              ? (elapsed < period ? period - elapsed : std::chrono::steady_clock::duration::zero())
              : std::chrono::steady_clock::duration(std::chrono::milliseconds(200));
      if (!stop.WaitFor(wait)) break;
    } while (true);
  });
  ready = true;

  // The loop ends only through this thread, so it has always returned when the loop has.
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    log.Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
             ", shutting down");
    stop.Stop();
  });

  loop.join();
  if (elector) {
    elector->Stop();  // a leader releases the lease so a standby takes over at once
    elector_thread.join();
  }
  signal_thread.join();
  health_server.Stop();
  metrics_server.Stop();
  log.Info("stopped");
  return 0;
}
