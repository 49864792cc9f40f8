// epc-autoscaler: horizontal pod autoscaling with the Kubernetes HPA's semantics, on CPU (and
// any resource metrics.k8s.io serves) and on any Prometheus query (EPC, requests per second...),
// and cluster autoscaling of node groups (autoscaler.cluster) decided with the extender's
// predicate. Two loops, one per kind, each gated by the same leader lease.
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
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>

#include "autoscaler/app/autoscaler_metrics.h"
#include "autoscaler/app/probe_server.h"
#include "autoscaler/cluster/controller/controller.h"
#include "autoscaler/cluster/controller/kube_adapters.h"
#include "autoscaler/cluster/controller/report_json.h"
#include "autoscaler/cluster/controller/setup.h"
#include "autoscaler/horizontal/controller.h"
#include "autoscaler/horizontal/kube_adapters.h"
#include "autoscaler/metrics/source_metrics_client.h"
#include "autoscaler/version.h"
#include "common/config/config.h"
#include "common/k8s/api_client.h"
#include "common/k8s/client_config.h"
#include "common/k8s/cluster_informer.h"
#include "common/k8s/leader_election.h"
#include "common/state/cluster_state.h"
#include "common/util/flags.h"
#include "common/util/logging.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: epc-autoscaler --config FILE [flags]

Horizontal pod autoscaling with the Kubernetes HPA's semantics for the targets listed under
autoscaler.horizontal in the config file: Resource metrics from metrics.k8s.io, Pods, Object and
External metrics from Prometheus queries. With autoscaler.cluster.enabled, also sizes the node
groups of autoscaler.cluster (Cluster API MachineDeployments or kwok nodes) for pending pods and
idle nodes, with the same fit predicate as epc-extender. Serves /metrics, /healthz and /readyz.

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
  --dry-run                          decide and report, never write scales, nodes, taints,
                                     evictions or events
  --once                             one reconcile of every target, print one JSON line per
                                     target and per node group on stdout, exit (no leader
                                     election, no servers)
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
  epc::FlagSet set;
  set.String("config", flags.config);
  set.String("kubeconfig", flags.kubeconfig);
  set.Bool("leader-elect", flags.leader_elect);
  set.String("leader-elect-identity", flags.identity);
  set.String("metrics-bind-address", flags.metrics_address);
  set.String("health-probe-bind-address", flags.health_address);
  set.Bool("dry-run", flags.dry_run);
  set.Bool("once", flags.once);
  set.Int("v", flags.verbosity, 0, std::numeric_limits<int>::max(), "a non-negative integer");
  set.Bool("version", flags.version);
  if (std::optional<std::string> error = set.Parse(argc, argv)) return UsageError{*error};
  flags.help = set.help();
  if (!flags.help && !flags.version && (!set.Given("config") || flags.config.empty())) {
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

// Runs `reconcile` every `period` while `leading()` holds, until `stop`. A standby checks the
// lease often so that it takes over within a period.
void RunLoop(StopSignal& stop, std::chrono::steady_clock::duration period,
             const std::function<bool()>& leading, const std::function<void()>& reconcile,
             epc::Logger& log, const std::string& name) {
  bool was_leader = true;
  do {
    const auto start = std::chrono::steady_clock::now();
    const bool leader = leading();
    if (leader != was_leader) {
      log.Info(name + (leader ? ": leading, reconciling" : ": not leading, standing by"));
      was_leader = leader;
    }
    if (leader) reconcile();
    const auto elapsed = std::chrono::steady_clock::now() - start;
    const auto wait =
        leader ? (elapsed < period ? period - elapsed : std::chrono::steady_clock::duration::zero())
               : std::chrono::steady_clock::duration(std::chrono::milliseconds(200));
    if (!stop.WaitFor(wait)) break;
  } while (true);
}

double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The cluster autoscaler and what feeds it: a node/pod informer into a ClusterStore, the
// provider, and the API adapters. Built only with autoscaler.cluster.enabled.
struct ClusterAutoscaling {
  ClusterAutoscaling(const epc::Config& config, std::shared_ptr<epc::ApiClient> api,
                     epc::Logger& log)
      : store(config.epc_resources, epc::PoolClassifier(config.pools)),
        informer(api, store, log, {}, &pod_cache),
        pods(pod_cache),
        drainer(api),
        events(api, "epc-autoscaler", log) {}

  epc::ClusterStore store;
  epc::PodCache pod_cache;  // whole pods from the informer's watch, for drain rules
  epc::ClusterInformer informer;
  epc::cluster::CachedClusterPodLister pods;
  epc::cluster::ApiNodeDrainer drainer;
  epc::cluster::ApiObjectEventRecorder events;
  std::unique_ptr<epc::cluster::NodeGroupProvider> provider;
  std::unique_ptr<epc::cluster::ClusterAutoscaler> controller;
};

// One cluster reconcile, its metrics and its log line; nothing before the caches have synced
// (a half-listed cluster would look like pending pods and empty nodes).
std::optional<epc::cluster::ClusterReconcileReport> ReconcileCluster(
    ClusterAutoscaling& c, epc::AutoscalerMetrics& metrics, epc::Logger& log) {
  if (!c.informer.Synced()) {
    log.V(1, "cluster autoscaler: waiting for the node and pod caches to sync");
    return std::nullopt;
  }
  const auto start = std::chrono::steady_clock::now();
  epc::cluster::ClusterReconcileReport report = c.controller->Reconcile(start);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  metrics.UpdateCluster(c.controller->metrics());
  metrics.ObserveReconcile("cluster", seconds, UnixSeconds());
  if (log.Enabled(2)) {
    for (const std::string& line : epc::cluster::ClusterReportJsonLines(report)) log.Info(line);
  }
  return report;
}

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
  const epc::Config whole_config = std::move(loaded).value();
  const epc::AutoscalerConfig& config = whole_config.autoscaler;
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

  std::optional<ClusterAutoscaling> cluster;
  if (config.cluster.enabled) {
    cluster.emplace(whole_config, api, log);
    auto provider = epc::cluster::MakeProvider(config.cluster, api);
    if (!provider) {
      std::cerr << "autoscaler.cluster: " << provider.error() << "\n";
      return 1;
    }
    cluster->provider = std::move(provider).value();
    auto created = epc::cluster::ClusterAutoscaler::Create(
        epc::cluster::ClusterOptionsFromConfig(whole_config, flags.dry_run), cluster->store,
        *cluster->provider, cluster->pods, cluster->drainer, cluster->events, log);
    if (!created) {
      std::cerr << "autoscaler.cluster: " << created.error() << "\n";
      return 1;
    }
    cluster->controller = std::move(created).value();
  }

  log.Info("epc-autoscaler " + std::string(epc::AutoscalerVersion()) + ": " +
           std::to_string(config.horizontal.size()) + " horizontal targets, sync every " +
           std::to_string(config.sync_period_seconds) + "s, API server " + client_config->Server() +
           " (" + client_config->source + "), Prometheus " +
           (config.prometheus.url.empty() ? std::string("not configured") : config.prometheus.url) +
           (flags.dry_run ? ", dry run" : ""));
  if (cluster) {
    log.Info("cluster autoscaling: provider " + std::string(cluster->provider->Name()) + ", " +
             std::to_string(config.cluster.node_groups.size()) +
             " configured node groups, scan every " +
             std::to_string(config.cluster.scan_interval_seconds) + "s, expander " +
             config.cluster.expander);
    cluster->informer.Start();
  }
  if (config.horizontal.empty() && !cluster) {
    log.Warning("autoscaler.horizontal lists no targets and autoscaler.cluster is not enabled");
  }

  if (flags.once) {
    for (const epc::TargetStatus& s : controller.ReconcileAll()) {
      std::cout << epc::TargetStatusJson(s, flags.dry_run) << "\n";
    }
    if (cluster) {
      // One pass needs a synced cache; give the informer a bounded time to list.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (!cluster->informer.Synced() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
      auto report = ReconcileCluster(*cluster, metrics, log);
      if (!report) {
        std::cerr << "epc-autoscaler: the node and pod caches did not sync within 60s\n";
        return 1;
      }
      for (const std::string& line : epc::cluster::ClusterReportJsonLines(*report)) {
        std::cout << line << "\n";
      }
      cluster->informer.Stop();
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
  health.Handle("/readyz", [&ready, &cluster] {
    if (!ready) return epc::ProbeServer::Answer{503, "starting\n"};
    if (cluster && !cluster->informer.Synced()) {
      return epc::ProbeServer::Answer{503, "the node and pod caches have not synced\n"};
    }
    return epc::ProbeServer::Answer{200, "ok\n"};
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

  const std::function<bool()> leading = [&] { return !elect || elector->IsLeader(); };
  std::thread loop([&] {
    RunLoop(
        stop, std::chrono::seconds(config.sync_period_seconds), leading,
        [&] { controller.ReconcileAll(); }, log, "horizontal autoscaler");
  });
  std::thread cluster_loop;
  if (cluster) {
    cluster_loop = std::thread([&] {
      RunLoop(
          stop, std::chrono::seconds(config.cluster.scan_interval_seconds), leading,
          [&] { ReconcileCluster(*cluster, metrics, log); }, log, "cluster autoscaler");
    });
  }
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
  if (cluster_loop.joinable()) cluster_loop.join();
  if (cluster) cluster->informer.Stop();
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
