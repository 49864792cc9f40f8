// Test fixtures for the extender: request payloads shaped exactly as kube-scheduler sends them
// (whole v1.Node and v1.Pod objects, Go field names, the unused field as null), a cluster
// store, and a running server on loopback.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/config.h"
#include "common/model/objects.h"
#include "common/state/cluster_state.h"
#include "common/util/logging.h"
#include "scheduler/extender/binder.h"
#include "scheduler/extender/extender.h"
#include "scheduler/extender/seen_pods.h"
#include "scheduler/http/metrics.h"
#include "scheduler/http/server.h"
#include "tests/testing/builders.h"
#include "tests/testing/certs.h"

namespace epc::testing {

inline constexpr std::string_view kPoolLabel = "epc.acceptance/pool";

std::string ReadFile(const std::string& path);
// A payload from shared/examples.
std::string Example(std::string_view name);

struct NodeSpec {
  std::string name;
  std::string pool = "confidential";  // the epc.acceptance/pool label
  std::string epc_resource;           // empty: no EPC
  std::string epc_amount;             // e.g. "168" (Azure MiB) or "112Mi" (Intel bytes)
  std::string cpu = "7820m";
  bool ready = true;
  bool unschedulable = false;
};
// A whole v1.Node as the API server serves it: labels, annotations, spec, capacity,
// allocatable, conditions, addresses, daemonEndpoints, nodeInfo, images.
std::string NodeJson(const NodeSpec& spec);
NodeSpec SgxNode(std::string name, std::string mib = "168");  // Azure units
NodeSpec GeneralNode(std::string name);

struct PodSpec {
  std::string name;
  std::string ns = "default";
  std::string uid;
  std::string epc_resource = std::string(kAzureEpc);
  std::string epc_amount;  // empty: no EPC request
  std::string node_name;   // empty: pending
  std::string phase = "Pending";
};
// A whole v1.Pod as kube-scheduler sends it in ExtenderArgs.Pod.
std::string PodJson(const PodSpec& spec);
PodSpec EpcPod(std::string name, std::string uid, std::string mib);

Node ToNode(const std::string& json);
Pod ToPod(const std::string& json);

// ExtenderArgs bodies.
std::string FullModeArgs(const std::string& pod_json, const std::vector<std::string>& node_jsons);
// The same as Go's encoder writes it for kube-scheduler: no spaces, the Go field names, and
// `tail` (Nodes' and the body's end) after the last item. The JSON texts go in as they are:
// Compact() them first for Go's spacing (items then meet as `},{"metadata":`).
std::string GoFullModeArgs(const std::string& pod_json, const std::vector<std::string>& node_jsons,
                           std::string_view tail = R"(]},"NodeNames":null})");
// `json` without spaces and with its keys sorted ("metadata" before "spec" and "status", as Go's
// field order puts them).
std::string Compact(std::string_view json);
std::string NamesModeArgs(const std::string& pod_json, const std::vector<std::string>& names);
// ExtenderPreemptionArgs with NodeNameToMetaVictims (names mode).
std::string MetaPreemptArgs(const std::string& pod_json,
                            const std::map<std::string, std::vector<std::string>>& victims);
// ExtenderPreemptionArgs with NodeNameToVictims (full pods).
std::string FullPreemptArgs(
    const std::string& pod_json,
    const std::map<std::string, std::vector<std::string>>& victim_pod_jsons);

// Pools "confidential" and "general" by the epc.acceptance/pool label; defaults otherwise.
Config TestConfig();
std::unique_ptr<ClusterStore> NewStore(const Config& config);

// An extender over its own store, served on 127.0.0.1:<any port>. Stops in its destructor.
class TestServer {
 public:
  explicit TestServer(Config config = TestConfig(), bool start = true);
  ~TestServer();

  Result<int> Start() { return server.Start(); }
  int port() const { return server.port(); }
  std::string logs() const { return log_text.str(); }

  Config config;
  std::unique_ptr<ClusterStore> store;
  SeenPods seen;
  StoreBinder binder;
  Extender extender;
  ExtenderMetrics metrics;
  std::ostringstream log_text;
  Logger log;
  ExtenderServer server;
};

// The value of the first sample in Prometheus text whose line starts with `name{` (or `name `)
// and contains every one of `labels` (`verb="filter"`); nullopt when none.
std::optional<double> MetricValue(const std::string& text, std::string_view name,
                                  const std::vector<std::string>& labels = {});

}  // namespace epc::testing
