// epc-extender: the kube-scheduler extender daemon.
//
//   epc-extender --config FILE [--v N] [--bind-address ADDR] [--port N] [--state FILE]
//                [--version] [--help]
//
// Flags override the config file. Exit codes: 0 after a clean stop (SIGTERM, SIGINT), 1 for a
// configuration or start-up error, 2 for a usage error.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <variant>
#include <vector>

#include "common/config/config.h"
#include "common/state/cluster_state.h"
#include "common/util/logging.h"
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
  --state FILE           load nodes and pods from a JSON file {"nodes": [...], "pods": [...]}
                         into the cluster state at start (until the API watch lands)
  --v N                  log verbosity (2: one line per request)
  --version              print the version and exit
  --help, -h             print this help and exit
)";

struct Flags {
  std::string config;
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

std::optional<int> ParseInt(std::string_view s) {
  int v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// Returns the flags, or a usage error message.
std::variant<Flags, UsageError> ParseFlags(int argc, char** argv) {
  Flags flags;
  bool have_config = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help" || arg == "-help") {
      flags.help = true;
      continue;
    }
    if (arg.substr(0, 2) != "--")
      return UsageError{"unexpected argument \"" + std::string(arg) + "\""};
    std::string_view name = arg.substr(2);
    std::optional<std::string_view> value;
    if (size_t eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name == "version") {
      if (value && *value != "true") return UsageError{"--version takes no value"};
      flags.version = true;
      continue;
    }
    const bool known = name == "config" || name == "v" || name == "bind-address" ||
                       name == "port" || name == "state";
    if (!known) return UsageError{"unknown flag --" + std::string(name)};
    if (!value) {
      if (i + 1 >= argc) return UsageError{"flag --" + std::string(name) + " needs a value"};
      value = argv[++i];
    }
    if (name == "config") {
      flags.config = std::string(*value);
      have_config = true;
    } else if (name == "state") {
      flags.state = std::string(*value);
    } else if (name == "bind-address") {
      flags.bind_address = std::string(*value);
    } else if (name == "v") {
      auto v = ParseInt(*value);
      if (!v || *v < 0)
        return UsageError{"--v must be a non-negative integer, not \"" + std::string(*value) +
                          "\""};
      flags.verbosity = *v;
    } else if (name == "port") {
      auto p = ParseInt(*value);
      if (!p || *p < 0 || *p > 65535)
        return UsageError{"--port must be 0..65535, not \"" + std::string(*value) + "\""};
      flags.port = *p;
    }
  }
  if (!flags.help && !flags.version && (!have_config || flags.config.empty())) {
    return UsageError{"--config FILE is required"};
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
  if (flags.state) {
    auto summary = epc::LoadStateFile(*flags.state, store);
    if (!summary) {
      std::cerr << summary.error() << "\n";
      return 1;
    }
    log.Info("loaded " + std::to_string(summary->nodes) + " nodes and " +
             std::to_string(summary->pods) + " pods from " + *flags.state);
  }

  epc::SeenPods seen;
  epc::StoreBinder binder(store, seen);
  epc::Extender extender(store, config.scheduling, &seen,
                         config.extender.enable_bind ? &binder : nullptr);
  epc::ExtenderMetrics metrics;
  epc::ExtenderServer server(config.extender, extender, metrics, log);

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
  log.Info("stopped");
  return 0;
}
