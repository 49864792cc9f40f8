#include "tests/scheduler/testing/fixtures.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/k8s/decode.h"

namespace epc::testing {

using nlohmann::json;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string Example(std::string_view name) {
  return ReadFile(std::string(EPC_EXAMPLES_DIR) + "/" + std::string(name));
}

std::string NodeJson(const NodeSpec& spec) {
  json capacity = {{"cpu", "8"},
                   {"ephemeral-storage", "129886128Ki"},
                   {"hugepages-1Gi", "0"},
                   {"hugepages-2Mi", "0"},
                   {"memory", "65851340Ki"},
                   {"pods", "110"}};
  json allocatable = {{"cpu", spec.cpu},        {"ephemeral-storage", "119703055367"},
                      {"hugepages-1Gi", "0"},   {"hugepages-2Mi", "0"},
                      {"memory", "60060620Ki"}, {"pods", "110"}};
  if (!spec.epc_resource.empty()) {
    capacity[spec.epc_resource] = spec.epc_amount;
    allocatable[spec.epc_resource] = spec.epc_amount;
  }
  auto condition = [](const char* type, const char* status, const char* reason) {
    return json{{"type", type},
                {"status", status},
                {"lastHeartbeatTime", "2024-05-02T10:01:04Z"},
                {"lastTransitionTime", "2024-05-02T09:14:27Z"},
                {"reason", reason},
                {"message", std::string("kubelet reports ") + reason}};
  };
  json spec_obj = {{"podCIDR", "10.244.25.0/24"},
                   {"podCIDRs", {"10.244.25.0/24"}},
                   {"providerID",
                    "azure:///subscriptions/0000/resourceGroups/mc_rg/providers/Microsoft.Compute/"
                    "virtualMachineScaleSets/aks-pool/virtualMachines/" +
                        spec.name}};
  if (spec.unschedulable) {
    spec_obj["unschedulable"] = true;
    spec_obj["taints"] = {{{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}}};
  }
  json node = {
      {"metadata",
       {{"name", spec.name},
        {"uid", "uid-" + spec.name},
        {"resourceVersion", "4711"},
        {"creationTimestamp", "2024-05-02T09:14:27Z"},
        {"labels",
         {{"agentpool", spec.pool + "pool"},
          {"kubernetes.io/arch", "amd64"},
          {"kubernetes.io/hostname", spec.name},
          {"kubernetes.io/os", "linux"},
          {"node.kubernetes.io/instance-type",
           spec.epc_resource.empty() ? "Standard_D8s_v5" : "Standard_DC8s_v3"},
          {"topology.kubernetes.io/zone", "eastus-2"},
          {std::string(kPoolLabel), spec.pool}}},
        {"annotations",
         {{"node.alpha.kubernetes.io/ttl", "0"},
          {"volumes.kubernetes.io/controller-managed-attach-detach", "true"}}}}},
      {"spec", spec_obj},
      {"status",
       {{"capacity", capacity},
        {"allocatable", allocatable},
        {"conditions",
         {condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
          condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
          condition("PIDPressure", "False", "KubeletHasSufficientPID"),
          condition("Ready", spec.ready ? "True" : "False",
                    spec.ready ? "KubeletReady" : "KubeletNotReady")}},
        {"addresses",
         {{{"type", "InternalIP"}, {"address", "10.224.0.4"}},
          {{"type", "Hostname"}, {"address", spec.name}}}},
        {"daemonEndpoints", {{"kubeletEndpoint", {{"Port", 10250}}}}},
        {"nodeInfo",
         {{"machineID", "cb11dca378c7832f540048e53564775f"},
          {"systemUUID", "2d4baf8a-ea14-6552-0b7f-7bc9c373162b"},
          {"bootID", "6bdf6aad-5482-4835-dc1d-0cd24a4a14a5"},
          {"kernelVersion", "5.15.0-1064-azure"},
          {"osImage", "Ubuntu 22.04.4 LTS"},
          {"containerRuntimeVersion", "containerd://1.7.15-1"},
          {"kubeletVersion", "v1.29.4"},
          {"kubeProxyVersion", "v1.29.4"},
          {"operatingSystem", "linux"},
          {"architecture", "amd64"}}},
        {"images",
         {{{"names",
            {"mcr.microsoft.com/oss/kubernetes/"
             "kube-proxy@sha256:7edcc10cbce899ef2d25b4d41d506fb8584015f35743d327bae421fed0afdd19",
             "mcr.microsoft.com/oss/kubernetes/kube-proxy:v1.0.0"}},
           {"sizeBytes", 10000000}},
          {{"names", {"mcr.microsoft.com/aks/sgx-plugin:v1.2.2"}}, {"sizeBytes", 25838000}}}}}}};
  return node.dump(1);
}

NodeSpec SgxNode(std::string name, std::string mib) {
  NodeSpec spec;
  spec.name = std::move(name);
  spec.pool = "confidential";
  spec.epc_resource = std::string(kAzureEpc);
  spec.epc_amount = std::move(mib);
  return spec;
}

NodeSpec GeneralNode(std::string name) {
  NodeSpec spec;
  spec.name = std::move(name);
  spec.pool = "general";
  return spec;
}

std::string PodJson(const PodSpec& spec) {
  json requests = {{"cpu", "100m"}, {"memory", "128Mi"}};
  json limits = {{"memory", "256Mi"}};
  if (!spec.epc_amount.empty()) {
    requests[spec.epc_resource] = spec.epc_amount;
    limits[spec.epc_resource] = spec.epc_amount;
  }
  json pod_spec = {
      {"volumes",
       {{{"name", "kube-api-access"},
         {"projected",
          {{"sources",
            {{{"serviceAccountToken", {{"expirationSeconds", 3607}, {"path", "token"}}}}}},
           {"defaultMode", 420}}}}}},
      {"containers",
       {{{"name", "app"},
         {"image", "ghcr.io/example/enclave-app:1.4.2"},
         {"resources", {{"requests", requests}, {"limits", limits}}},
         {"terminationMessagePath", "/dev/termination-log"},
         {"imagePullPolicy", "IfNotPresent"}}}},
      {"restartPolicy", "Always"},
      {"schedulerName", "default-scheduler"},
      {"tolerations",
       {{{"key", "node.kubernetes.io/not-ready"},
         {"operator", "Exists"},
         {"effect", "NoExecute"},
         {"tolerationSeconds", 300}}}},
      {"priority", 0},
      {"preemptionPolicy", "PreemptLowerPriority"}};
  if (!spec.node_name.empty()) pod_spec["nodeName"] = spec.node_name;
  json pod = {{"metadata",
               {{"name", spec.name},
                {"namespace", spec.ns},
                {"uid", spec.uid},
                {"resourceVersion", "5120"},
                {"creationTimestamp", "2024-05-02T09:14:27Z"},
                {"labels", {{"app", "enclave"}}},
                {"ownerReferences",
                 {{{"apiVersion", "apps/v1"},
                   {"kind", "ReplicaSet"},
                   {"name", "enclave-6d9f8b7c5"},
                   {"uid", "32a9e041-4ae5-2589-3549-030417662615"},
                   {"controller", true},
                   {"blockOwnerDeletion", true}}}}}},
              {"spec", pod_spec},
              {"status", {{"phase", spec.phase}, {"qosClass", "Burstable"}}}};
  return pod.dump(1);
}

PodSpec EpcPod(std::string name, std::string uid, std::string mib) {
  PodSpec spec;
  spec.name = std::move(name);
  spec.uid = std::move(uid);
  spec.epc_amount = std::move(mib);
  return spec;
}

Node ToNode(const std::string& text) {
  NodeDecodeResult r = ParseNodeJson(text);
  if (!r.error.empty()) throw std::runtime_error("fixture node does not decode: " + r.error);
  return r.node;
}

Pod ToPod(const std::string& text) {
  Result<Pod> r = ParsePodJson(text);
  if (!r) throw std::runtime_error("fixture pod does not decode: " + r.error());
  return r.value();
}

std::string FullModeArgs(const std::string& pod_json, const std::vector<std::string>& node_jsons) {
  std::string out =
      "{\n \"Pod\": " + pod_json + ",\n \"Nodes\": {\n  \"metadata\": {},\n  \"items\": [\n";
  for (size_t i = 0; i < node_jsons.size(); ++i) {
    out += i == 0 ? "   " : ",\n   ";
    out += node_jsons[i];
  }
  out += "\n  ]\n },\n \"NodeNames\": null\n}";
  return out;
}

std::string GoFullModeArgs(const std::string& pod_json, const std::vector<std::string>& node_jsons,
                           std::string_view tail) {
  std::string out = R"({"Pod":)" + pod_json + R"(,"Nodes":{"metadata":{},"items":[)";
  for (size_t i = 0; i < node_jsons.size(); ++i) {
    if (i > 0) out += ',';
    out += node_jsons[i];
  }
  out += tail;
  return out;
}

std::string Compact(std::string_view text) { return json::parse(text).dump(); }

std::string NamesModeArgs(const std::string& pod_json, const std::vector<std::string>& names) {
  return "{\n \"Pod\": " + pod_json + ",\n \"NodeNames\": " + json(names).dump() +
         ",\n \"Nodes\": null\n}";
}

std::string MetaPreemptArgs(const std::string& pod_json,
                            const std::map<std::string, std::vector<std::string>>& victims) {
  json map = json::object();
  for (const auto& [node, uids] : victims) {
    json pods = json::array();
    for (const auto& uid : uids) pods.push_back({{"UID", uid}});
    map[node] = {{"Pods", pods}, {"NumPDBViolations", 0}};
  }
  return "{\"Pod\": " + pod_json +
         ", \"NodeNameToVictims\": null, \"NodeNameToMetaVictims\": " + map.dump() + "}";
}

std::string FullPreemptArgs(
    const std::string& pod_json,
    const std::map<std::string, std::vector<std::string>>& victim_pod_jsons) {
  std::string map = "{";
  bool first = true;
  for (const auto& [node, pods] : victim_pod_jsons) {
    if (!first) map += ",";
    first = false;
    map += json(node).dump() + ": {\"Pods\": [";
    for (size_t i = 0; i < pods.size(); ++i) map += (i ? "," : "") + pods[i];
    map += "], \"NumPDBViolations\": 1}";
  }
  map += "}";
  return "{\"Pod\": " + pod_json + ", \"NodeNameToVictims\": " + map +
         ", \"NodeNameToMetaVictims\": null}";
}

Config TestConfig() {
  Config config;
  PoolSpec confidential;
  confidential.name = "confidential";
  confidential.confidential = true;
  confidential.node_selector.match_labels[std::string(kPoolLabel)] = "confidential";
  PoolSpec general;
  general.name = "general";
  general.node_selector.match_labels[std::string(kPoolLabel)] = "general";
  config.pools = {confidential, general};
  config.extender.bind_address = "127.0.0.1";
  config.extender.port = 0;
  config.extender.worker_threads = 4;
  return config;
}

std::unique_ptr<ClusterStore> NewStore(const Config& config) {
  return std::make_unique<ClusterStore>(config.epc_resources, PoolClassifier(config.pools));
}

TestServer::TestServer(Config cfg, bool start)
    : config(std::move(cfg)),
      store(NewStore(config)),
      binder(*store, seen),
      extender(*store, config.scheduling, &seen, config.extender.enable_bind ? &binder : nullptr),
      log(log_text, 2),
      server(config.extender, extender, metrics, log) {
  if (start) {
    Result<int> port = server.Start();
    if (!port) throw std::runtime_error("test server did not start: " + port.error());
  }
}

TestServer::~TestServer() { server.Stop(); }

std::optional<double> MetricValue(const std::string& text, std::string_view name,
                                  const std::vector<std::string>& labels) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.rfind(std::string(name), 0) != 0) continue;
    if (line.size() <= name.size() || (line[name.size()] != '{' && line[name.size()] != ' '))
      continue;
    bool all = true;
    for (const auto& label : labels) all = all && line.find(label) != std::string::npos;
    if (!all) continue;
    return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return std::nullopt;
}

}  // namespace epc::testing
