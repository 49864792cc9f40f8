// epc-extender: the kube-scheduler extender daemon.
//
//   epc-extender --config FILE [--kubeconfig FILE | --state FILE] [--v N] [--bind-address ADDR]
//                [--port N] [--reservation-ttl-seconds N] [--max-cache-staleness-seconds N]
//                [--version] [--help]
//
// Flags override the config file. Exit codes: 0 after a clean stop (SIGTERM, SIGINT), 1 for a
// configuration or start-up error, 2 for a usage error.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "common/config/config.h"
#include "common/k8s/api_client.h"
#include "common/k8s/client_config.h"
#include "common/k8s/cluster_informer.h"
#include "common/k8s/decode.h"
#include "common/state/cluster_state.h"
#include "common/util/flags.h"
#include "common/util/logging.h"
#include "scheduler/extender/api_binder.h"
#include "scheduler/extender/binder.h"
#include "scheduler/extender/extender.h"
#include "scheduler/extender/seen_pods.h"
#include "scheduler/http/metrics.h"
#include "scheduler/http/server.h"
#include "scheduler/state/state_file.h"
#include "scheduler/version.h"

namespace {

constexpr std::string_view kUsage = R"(Usage: epc-extender --config FILE [flags]

The EPC-aware kube-scheduler extender: serves POST <urlPrefix>/filter, /prioritize, /preempt
(and /bind when extender.enableBind) plus GET /healthz, /readyz, /metrics and /version.

Flags (--flag=value and --flag value both work; flags override the config file):
  --config FILE          configuration file (YAML; see examples/config.yaml)
  --bind-address ADDR    address to listen on (extender.bindAddress)
  --port N               port to listen on, 0 for any free port (extender.port)
  --kubeconfig FILE      the cluster to watch and bind in (default: $KUBECONFIG, else the
                         in-cluster service account)
  --state FILE           no cluster: load nodes and pods from a JSON file
                         {"nodes": [...], "pods": [...]} instead (demos, tests)
  --reservation-ttl-seconds N
                         how long filter holds a pod's EPC until the pod is seen bound (30)
  --max-cache-staleness-seconds N
                         /readyz fails when the watch has not heard from the API server for
                         this long (120)
  --v N                  log verbosity (2: one line per request)
  --version              print the version and exit
  --help, -h             print this help and exit
)";

struct Flags {
  std::string config;
  std::string kubeconfig;
  int reservation_ttl_seconds = 30;
  int max_staleness_seconds = 120;
  std::optional<std::string> bind_address;
  std::optional<int> port;
  std::optional<std::string> state;
  int verbosity = 0;
  bool help = false;
  bool version = false;
};

struct UsageError {
  std::string message;
};

// Returns the flags, or a usage error message.
std::variant<Flags, UsageError> ParseFlags(int argc, char** argv) {
  constexpr int kMax = std::numeric_limits<int>::max();
  Flags flags;
  epc::FlagSet set;
  set.String("config", flags.config);
  set.String("kubeconfig", flags.kubeconfig);
  set.String("state", flags.state);
  set.String("bind-address", flags.bind_address);
  set.Int("port", flags.port, 0, 65535, "0..65535");
  set.Int("reservation-ttl-seconds", flags.reservation_ttl_seconds, 1, kMax, "a positive integer");
  set.Int("max-cache-staleness-seconds", flags.max_staleness_seconds, 1, kMax,
          "a positive integer");
  set.Int("v", flags.verbosity, 0, kMax, "a non-negative integer");
  set.Bool("version", flags.version);
  if (std::optional<std::string> error = set.Parse(argc, argv)) return UsageError{*error};
  flags.help = set.help();
  if (!flags.help && !flags.version && (!set.Given("config") || flags.config.empty())) {
    return UsageError{"--config FILE is required"};
  }
  if (flags.state && !flags.kubeconfig.empty()) {
    return UsageError{"--state and --kubeconfig exclude each other"};
  }
  return flags;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = ParseFlags(argc, argv);
  if (auto* err = std::get_if<UsageError>(&parsed)) {
    std::cerr << "epc-extender: " << err->message << "\n\n" << kUsage;
    return 2;
  }
  const Flags& flags = std::get<Flags>(parsed);
  if (flags.help) {
    std::cout << kUsage;
    return 0;
  }
  if (flags.version) {
    std::cout << "epc-extender " << epc::ExtenderVersion() << "\n";
    return 0;
  }

  epc::Result<epc::Config> loaded = epc::LoadConfigFile(flags.config);
  if (!loaded) {
    std::cerr << loaded.error() << "\n";
    return 1;
  }
  epc::Config config = std::move(loaded).value();
  if (flags.bind_address) config.extender.bind_address = *flags.bind_address;
  if (flags.port) config.extender.port = *flags.port;

  epc::Logger log(std::cerr, flags.verbosity);
  epc::ClusterStore store(config.epc_resources, epc::PoolClassifier(config.pools));
  // Filter and prioritize read the store's latest snapshot; building one after a watch event
  // takes milliseconds at thousands of nodes, which must not land on a request. 20 ms lets a
  // burst of bindings go into one snapshot; EPC granted meanwhile stays held (reservations).
  store.PublishInBackground(std::chrono::milliseconds(20));
  epc::SeenPods seen;
  std::unique_ptr<epc::Binder> binder;
  std::unique_ptr<epc::ClusterInformer> informer;
  epc::ExtenderServer::PodLookup pod_lookup;
  std::function<std::string()> readiness = [] { return std::string(); };

  if (flags.state) {
    auto summary = epc::LoadStateFile(*flags.state, store);
    if (!summary) {
      std::cerr << summary.error() << "\n";
      return 1;
    }
    log.Info("loaded " + std::to_string(summary->nodes) + " nodes and " +
             std::to_string(summary->pods) + " pods from " + *flags.state);
    binder = std::make_unique<epc::StoreBinder>(store, seen);
    pod_lookup = [pods = std::move(summary.value().all_pods)](
                     const std::string& ns, const std::string& name) -> epc::Result<epc::Pod> {
      for (const epc::Pod& p : pods) {
        if (p.namespace_name == ns && p.name == name) return p;
      }
      return epc::Error{"pod " + ns + "/" + name + " is not in the state file"};
    };
  } else {
    auto client_config = epc::ResolveClientConfig(flags.kubeconfig);
    if (!client_config) {
      std::cerr << "epc-extender: " << client_config.error()
                << " (use --kubeconfig FILE, or --state FILE to run without a cluster)\n";
      return 1;
    }
    auto client = epc::ApiClient::Create(client_config.value());
    if (!client) {
      std::cerr << "epc-extender: " << client.error() << "\n";
      return 1;
    }
    log.Info("watching nodes and pods at " + client_config->Server() + " (" +
             client_config->source + ")");
    std::shared_ptr<epc::ApiClient> api = client.value();
    binder = std::make_unique<epc::ApiBinder>(api);
    epc::ReflectorOptions reflector_options;
    // Reconnect well within the staleness bound so a quiet, healthy watch stays fresh.
    reflector_options.watch_timeout =
        std::chrono::seconds(std::max(1, std::min(300, flags.max_staleness_seconds / 2)));
    informer = std::make_unique<epc::ClusterInformer>(api, store, log, reflector_options);
    pod_lookup = [api](const std::string& ns, const std::string& name) -> epc::Result<epc::Pod> {
      auto res =
          api->Get("/api/v1/namespaces/" + epc::UrlEncode(ns) + "/pods/" + epc::UrlEncode(name));
      if (!res) return epc::Error{res.error()};
      if (!res->ok()) return epc::Error{"pod " + ns + "/" + name + ": " + res->ErrorMessage()};
      return epc::ParsePodJson(res->body);
    };
    const auto bound = std::chrono::seconds(flags.max_staleness_seconds);
    epc::ClusterInformer* watch = informer.get();
    readiness = [watch, bound]() -> std::string {
      if (!watch->Synced()) return "the node and pod caches have not synced with the API server";
      const auto age = watch->Staleness();
      if (age > bound) {
        return "the cluster state is " +
               std::to_string(std::chrono::duration_cast<std::chrono::seconds>(age).count()) +
               "s old (bound " + std::to_string(bound.count()) +
               "s): the API server is unreachable";
      }
      return std::string();
    };
  }

  epc::ExtenderOptions options;
  options.reservation_ttl = std::chrono::seconds(flags.reservation_ttl_seconds);
  epc::Extender extender(store, config.scheduling, &seen,
                         config.extender.enable_bind ? binder.get() : nullptr, options);
  epc::ExtenderMetrics metrics;
  epc::ExtenderServer server(config.extender, extender, metrics, log);
  server.set_readiness(readiness);
  server.set_pod_lookup(pod_lookup);
  if (informer) informer->Start();

  // Signals go to one thread that stops the server; every other thread has them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  epc::Result<int> port = server.Bind();
  if (!port) {
    std::cerr << port.error() << "\n";
    return 1;
  }
  std::string prefix = config.extender.url_prefix.empty() ? "\"\"" : config.extender.url_prefix;
  log.Info("epc-extender " + std::string(epc::ExtenderVersion()) + " listening on " +
           config.extender.bind_address + ":" + std::to_string(*port) + " (" +
           (server.tls() ? "https" : "http") + "), urlPrefix " + prefix + ", bind " +
           (config.extender.enable_bind ? "enabled" : "disabled") + ", " +
           std::to_string(config.extender.worker_threads) + " worker threads");

  std::atomic<bool> served{false};
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    if (!served) {
      log.Info(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
               ", shutting down");
    }
    server.Stop();
  });
  server.Serve();
  // Serve() also returns when listening fails; wake the signal thread so it can be joined.
  served = true;
  pthread_kill(signal_thread.native_handle(), SIGTERM);
  signal_thread.join();
  if (informer) informer->Stop();
  log.Info("stopped");
  return 0;
}
