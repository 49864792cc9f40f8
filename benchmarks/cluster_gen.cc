#include "benchmarks/cluster_gen.h"

#include <cstdio>
#include <stdexcept>
#include <string_view>
#include <utility>

#include "common/k8s/decode.h"
#include "common/model/quantity.h"

namespace epc::bench {

namespace {

constexpr std::string_view kAzureEpc = "kubernetes.azure.com/sgx_epc_mem_in_MiB";
constexpr std::string_view kIntelEpc = "sgx.intel.com/epc";
constexpr std::string_view kPoolLabel = "epc.acceptance/pool";

enum class Kind { kAzureSgx, kIntelSgx, kGeneral };

Kind KindOf(size_t index) {
  size_t k = index % 10;
  if (k < 4) return Kind::kAzureSgx;
  if (k < 6) return Kind::kIntelSgx;
  return Kind::kGeneral;
}

// Every seventh SGX node (by index) is nearly full.
bool NearlyFull(size_t index) { return KindOf(index) != Kind::kGeneral && index % 7 == 3; }

std::string Hex(size_t value, int width) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%0*zx", width, value);
  return buf;
}

std::string Uuid(size_t seed, size_t salt) {
  return Hex((seed * 2654435761u + salt) & 0xffffffffu, 8) + "-" + Hex((seed + salt) & 0xffff, 4) +
         "-4" + Hex((seed * 7 + salt) & 0xfff, 3) + "-9" + Hex((seed * 13) & 0xfff, 3) + "-" +
         Hex(seed * 40503 + salt, 12);
}

// Appends `"key":"value"` (both already JSON-escaped), with a comma unless first.
void Str(std::string& out, std::string_view key, std::string_view value, bool first = false) {
  if (!first) out += ',';
  out += '"';
  out += key;
  out += "\":\"";
  out += value;
  out += '"';
}

void Condition(std::string& out, std::string_view type, std::string_view status,
               std::string_view reason, std::string_view message, bool first) {
  if (!first) out += ',';
  out += '{';
  Str(out, "type", type, true);
  Str(out, "status", status);
  Str(out, "lastHeartbeatTime", "2024-05-02T10:01:04Z");
  Str(out, "lastTransitionTime", "2024-05-02T09:14:27Z");
  Str(out, "reason", reason);
  Str(out, "message", message);
  out += '}';
}

void Image(std::string& out, std::string_view repo, std::string_view tag, size_t seed, int64_t size,
           bool first) {
  if (!first) out += ',';
  out += "{\"names\":[\"";
  out += repo;
  out += "@sha256:";
  for (int i = 0; i < 4; ++i) out += Hex((seed + 1) * 0x9e3779b97f4a7c15ull * (i + 3), 16);
  out += "\",\"";
  out += repo;
  out += ':';
  out += tag;
  out += "\"],\"sizeBytes\":";
  out += std::to_string(size);
  out += '}';
}

void ResourceList(std::string& out, std::string_view cpu, std::string_view storage,
                  std::string_view memory, Kind kind) {
  out += '{';
  Str(out, "cpu", cpu, true);
  Str(out, "ephemeral-storage", storage);
  Str(out, "hugepages-1Gi", "0");
  Str(out, "hugepages-2Mi", "0");
  if (kind == Kind::kAzureSgx) Str(out, kAzureEpc, "168");
  Str(out, "memory", memory);
  Str(out, "pods", "110");
  if (kind == Kind::kIntelSgx) Str(out, kIntelEpc, "112Mi");
  out += '}';
}

std::string PodJson(std::string_view name, std::string_view uid, std::string_view node_name,
                    std::string_view epc_mib, std::string_view phase) {
  std::string requests = "{\"cpu\":\"100m\",\"memory\":\"128Mi\"";
  std::string limits = "{\"memory\":\"256Mi\"";
  if (!epc_mib.empty()) {
    std::string epc = ",\"" + std::string(kAzureEpc) + "\":\"" + std::string(epc_mib) + "\"";
    requests += epc;
    limits += epc;
  }
  requests += '}';
  limits += '}';
  std::string out = "{\"metadata\":{";
  Str(out, "name", name, true);
  Str(out, "generateName", "enclave-6d9f8b7c5-");
  Str(out, "namespace", "default");
  Str(out, "uid", uid);
  Str(out, "resourceVersion", "5120");
  Str(out, "creationTimestamp", "2024-05-02T09:14:27Z");
  out += ",\"labels\":{\"app\":\"enclave\",\"pod-template-hash\":\"6d9f8b7c5\"}";
  out +=
      ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":"
      "\"enclave-6d9f8b7c5\",\"uid\":\"32a9e041-4ae5-2589-3549-030417662615\",\"controller\":true,"
      "\"blockOwnerDeletion\":true}]},";
  out +=
      "\"spec\":{\"volumes\":[{\"name\":\"kube-api-access-x2k9q\",\"projected\":{\"sources\":[{"
      "\"serviceAccountToken\":{\"expirationSeconds\":3607,\"path\":\"token\"}},{\"configMap\":{"
      "\"name\":\"kube-root-ca.crt\",\"items\":[{\"key\":\"ca.crt\",\"path\":\"ca.crt\"}]}}],"
      "\"defaultMode\":420}}],\"containers\":[{\"name\":\"app\",\"image\":\"ghcr.io/example/"
      "enclave-app:1.4.2\",\"resources\":{\"limits\":" +
      limits + ",\"requests\":" + requests +
      "},\"volumeMounts\":[{\"name\":\"kube-api-access-x2k9q\",\"readOnly\":true,\"mountPath\":"
      "\"/var/run/secrets/kubernetes.io/serviceaccount\"}],\"terminationMessagePath\":\"/dev/"
      "termination-log\",\"terminationMessagePolicy\":\"File\",\"imagePullPolicy\":"
      "\"IfNotPresent\"}],\"restartPolicy\":\"Always\",\"terminationGracePeriodSeconds\":30,"
      "\"dnsPolicy\":\"ClusterFirst\",\"serviceAccountName\":\"default\",\"serviceAccount\":"
      "\"default\",";
  if (!node_name.empty()) {
    out += "\"nodeName\":\"";
    out += node_name;
    out += "\",";
  }
  out +=
      "\"securityContext\":{},\"schedulerName\":\"default-scheduler\",\"tolerations\":[{\"key\":"
      "\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\",\"effect\":\"NoExecute\","
      "\"tolerationSeconds\":300},{\"key\":\"node.kubernetes.io/unreachable\",\"operator\":"
      "\"Exists\",\"effect\":\"NoExecute\",\"tolerationSeconds\":300}],\"priority\":0,"
      "\"enableServiceLinks\":true,\"preemptionPolicy\":\"PreemptLowerPriority\"},";
  out += "\"status\":{\"phase\":\"";
  out += phase;
  out += "\",\"qosClass\":\"Burstable\"}}";
  return out;
}

}  // namespace

std::string NodeName(size_t index) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "aks-nodepool-%08zu-vmss", index);
  return buf;
}

std::string NodeJson(size_t index) {
  const Kind kind = KindOf(index);
  const bool sgx = kind != Kind::kGeneral;
  const std::string name = NodeName(index);
  const std::string pool = sgx ? "confidential" : "general";
  const std::string agentpool = sgx ? "confpool" : "nodepool1";
  const std::string instance = sgx ? "Standard_DC8s_v3" : "Standard_D8s_v5";
  const std::string zone = "eastus-" + std::to_string(index % 3 + 1);
  std::string out;
  out.reserve(10 * 1024);

  out += "{\"metadata\":{";
  Str(out, "name", name, true);
  Str(out, "uid", Uuid(index, 1));
  Str(out, "resourceVersion", std::to_string(4711000 + index * 17));
  Str(out, "creationTimestamp", "2024-05-02T09:14:27Z");
  out += ",\"labels\":{";
  Str(out, "agentpool", agentpool, true);
  Str(out, "beta.kubernetes.io/arch", "amd64");
  Str(out, "beta.kubernetes.io/instance-type", instance);
  Str(out, "beta.kubernetes.io/os", "linux");
  Str(out, kPoolLabel, pool);
  Str(out, "failure-domain.beta.kubernetes.io/region", "eastus");
  Str(out, "failure-domain.beta.kubernetes.io/zone", zone);
  Str(out, "kubernetes.azure.com/agentpool", agentpool);
  Str(out, "kubernetes.azure.com/cluster", "MC_epc-rg_epc-aks_eastus");
  Str(out, "kubernetes.azure.com/consolidated-additional-properties", Uuid(index % 4, 2));
  Str(out, "kubernetes.azure.com/kubelet-identity-client-id", Uuid(7, 3));
  Str(out, "kubernetes.azure.com/mode", sgx ? "user" : "system");
  Str(out, "kubernetes.azure.com/network-policy", "none");
  Str(out, "kubernetes.azure.com/node-image-version", "AKSUbuntu-2204gen2containerd-202404.16.0");
  Str(out, "kubernetes.azure.com/nodepool-type", "VirtualMachineScaleSets");
  Str(out, "kubernetes.azure.com/os-sku", "Ubuntu");
  Str(out, "kubernetes.azure.com/role", "agent");
  Str(out, "kubernetes.azure.com/storageprofile", "managed");
  Str(out, "kubernetes.azure.com/storagetier", "Premium_LRS");
  Str(out, "kubernetes.io/arch", "amd64");
  Str(out, "kubernetes.io/hostname", name);
  Str(out, "kubernetes.io/os", "linux");
  Str(out, "kubernetes.io/role", "agent");
  Str(out, "node-role.kubernetes.io/agent", "");
  Str(out, "node.kubernetes.io/instance-type", instance);
  Str(out, "storageprofile", "managed");
  Str(out, "storagetier", "Premium_LRS");
  Str(out, "topology.disk.csi.azure.com/zone", zone);
  Str(out, "topology.kubernetes.io/region", "eastus");
  Str(out, "topology.kubernetes.io/zone", zone);
  out += "},\"annotations\":{";
  Str(out, "csi.volume.kubernetes.io/nodeid",
      "{\\\"disk.csi.azure.com\\\":\\\"" + name + "\\\",\\\"file.csi.azure.com\\\":\\\"" + name +
          "\\\"}",
      true);
  Str(out, "node.alpha.kubernetes.io/ttl", "0");
  Str(out, "volumes.kubernetes.io/controller-managed-attach-detach", "true");
  Str(out, "kubernetes.azure.com/node-image-version", "202404.16.0");
  out += "}},";

  out += "\"spec\":{";
  Str(out, "podCIDR", "10.244." + std::to_string(index % 256) + ".0/24", true);
  out += ",\"podCIDRs\":[\"10.244." + std::to_string(index % 256) + ".0/24\"]";
  Str(out, "providerID",
      "azure:///subscriptions/3f2a1b9c-0000-4e5f-8a7b-9c0d1e2f3a4b/resourceGroups/"
      "mc_epc-rg_epc-aks_eastus/providers/Microsoft.Compute/virtualMachineScaleSets/aks-" +
          agentpool + "-12345678-vmss/virtualMachines/" + std::to_string(index));
  if (sgx) {
    out +=
        ",\"taints\":[{\"key\":\"kubernetes.azure.com/sgx\",\"value\":\"true\",\"effect\":"
        "\"PreferNoSchedule\"}]";
  }
  out += "},";

  out += "\"status\":{\"capacity\":";
  ResourceList(out, "8", "129886128Ki", "65851340Ki", kind);
  out += ",\"allocatable\":";
  ResourceList(out, "7820m", "119703055367", "60060620Ki", kind);
  out += ",\"conditions\":[";
  Condition(out, "ContainerRuntimeProblem", "False", "ContainerRuntimeIsUp",
            "container runtime service is up", true);
  Condition(out, "VMEventScheduled", "False", "NoVMEventScheduled", "VM has no scheduled event",
            false);
  Condition(out, "FrequentContainerdRestart", "False", "NoFrequentContainerdRestart",
            "containerd is functioning properly", false);
  Condition(out, "KernelDeadlock", "False", "KernelHasNoDeadlock", "kernel has no deadlock", false);
  Condition(out, "ReadonlyFilesystem", "False", "FilesystemIsNotReadOnly",
            "Filesystem is not read-only", false);
  Condition(out, "FilesystemCorruptionProblem", "False", "FilesystemIsOK", "Filesystem is healthy",
            false);
  Condition(out, "FrequentKubeletRestart", "False", "NoFrequentKubeletRestart",
            "kubelet is functioning properly", false);
  Condition(out, "FrequentUnregisterNetDevice", "False", "NoFrequentUnregisterNetDevice",
            "node is functioning properly", false);
  Condition(out, "FrequentDockerRestart", "False", "NoFrequentDockerRestart",
            "docker is functioning properly", false);
  Condition(out, "KubeletProblem", "False", "KubeletIsUp", "kubelet service is up", false);
  Condition(out, "NetworkUnavailable", "False", "RouteCreated", "RouteController created a route",
            false);
  Condition(out, "MemoryPressure", "False", "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available", false);
  Condition(out, "DiskPressure", "False", "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure", false);
  Condition(out, "PIDPressure", "False", "KubeletHasSufficientPID",
            "kubelet has sufficient PID available", false);
  Condition(out, "Ready", "True", "KubeletReady",
            "kubelet is posting ready status. AppArmor enabled", false);
  out += "],\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"10.224." +
         std::to_string(index / 250) + "." + std::to_string(index % 250 + 4) +
         "\"},{\"type\":\"Hostname\",\"address\":\"" + name + "\"}]";
  out += ",\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":10250}},\"nodeInfo\":{";
  Str(out, "machineID", Hex(index * 0x9e3779b9u, 32), true);
  Str(out, "systemUUID", Uuid(index, 5));
  Str(out, "bootID", Uuid(index, 6));
  Str(out, "kernelVersion", "5.15.0-1064-azure");
  Str(out, "osImage", "Ubuntu 22.04.4 LTS");
  Str(out, "containerRuntimeVersion", "containerd://1.7.15-1");
  Str(out, "kubeletVersion", "v1.29.4");
  Str(out, "kubeProxyVersion", "v1.29.4");
  Str(out, "operatingSystem", "linux");
  Str(out, "architecture", "amd64");
  out += "},\"images\":[";
  struct ImageSpec {
    std::string_view repo, tag;
    int64_t size;
  };
  static constexpr ImageSpec kImages[] = {
      {"mcr.microsoft.com/oss/kubernetes/kube-proxy", "v1.29.4-hotfix.20240411", 85621349},
      {"mcr.microsoft.com/containernetworking/azure-cns", "v1.5.23", 78421030},
      {"mcr.microsoft.com/oss/kubernetes-csi/azuredisk-csi", "v1.29.5", 75411392},
      {"mcr.microsoft.com/oss/kubernetes-csi/azurefile-csi", "v1.29.5", 72312480},
      {"mcr.microsoft.com/oss/calico/node", "v3.24.6", 71249180},
      {"mcr.microsoft.com/azuremonitor/containerinsights/ciprod", "3.1.19", 68221456},
      {"mcr.microsoft.com/oss/kubernetes/azure-cloud-node-manager", "v1.29.4", 34215080},
      {"mcr.microsoft.com/oss/kubernetes-csi/livenessprobe", "v2.12.0", 22190348},
      {"mcr.microsoft.com/oss/kubernetes-csi/csi-node-driver-registrar", "v2.10.0", 21554092},
      {"mcr.microsoft.com/aks/sgx-plugin", "v1.2.2", 25838000},
      {"mcr.microsoft.com/aks/aks-node-ca-watcher", "master.240322.1", 19411332},
      {"ghcr.io/example/enclave-app", "1.4.2", 15308001},
      {"mcr.microsoft.com/oss/kubernetes/pause", "3.6", 299514},
  };
  bool first = true;
  size_t seed = 0;
  for (const ImageSpec& image : kImages) {
    Image(out, image.repo, image.tag, seed++, image.size, first);
    first = false;
  }
  out += "],\"volumesInUse\":[],\"volumesAttached\":[]";
  out += ",\"config\":{}}}";
  return out;
}

std::string PendingPodJson() {
  return PodJson("enclave-6d9f8b7c5-pending", "4f1e7c2a-91d3-4b8e-a6f0-5c2d3e4f5a6b", "", "10",
                 "Pending");
}

std::string FullModeBody(size_t count) {
  std::string pod = PendingPodJson();
  std::string out;
  out.reserve(pod.size() + count * 9600 + 128);
  out += "{\"Pod\":";
  out += pod;
  out += ",\"Nodes\":{\"metadata\":{},\"items\":[";
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += ',';
    out += NodeJson(i);
  }
  out += "]},\"NodeNames\":null}";
  return out;
}

std::string NamesModeBody(size_t count) {
  std::string out = "{\"Pod\":";
  out += PendingPodJson();
  out += ",\"Nodes\":null,\"NodeNames\":[";
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out += ',';
    out += '"';
    out += NodeName(i);
    out += '"';
  }
  out += "]}";
  return out;
}

Config BenchConfig() {
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
  return config;
}

size_t BoundPodCount(size_t count) {
  size_t pods = 0;
  for (size_t i = 0; i < count; ++i) pods += KindOf(i) == Kind::kGeneral ? 2 : 4;
  return pods;
}

std::unique_ptr<ClusterStore> NewFilledStore(const Config& config, size_t count) {
  auto store = std::make_unique<ClusterStore>(config.epc_resources, PoolClassifier(config.pools));
  std::vector<Node> nodes;
  nodes.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    NodeDecodeResult decoded = ParseNodeJson(NodeJson(i));
    if (!decoded.error.empty())
      throw std::runtime_error("generated node does not decode: " + decoded.error);
    nodes.push_back(std::move(decoded.node));
  }
  store->ReplaceNodes(std::move(nodes));
  // SGX nodes: 4 enclave pods (20 MiB each, or 40 MiB on a nearly full node: 160 of 168 MiB);
  // general nodes: 2 pods without EPC.
  std::vector<Pod> pods;
  pods.reserve(BoundPodCount(count));
  for (size_t i = 0; i < count; ++i) {
    const bool sgx = KindOf(i) != Kind::kGeneral;
    const std::string epc = !sgx ? "" : NearlyFull(i) ? "40" : "20";
    for (size_t k = 0; k < (sgx ? 4u : 2u); ++k) {
      std::string name = "enclave-" + std::to_string(i) + "-" + std::to_string(k);
      Result<Pod> pod =
          ParsePodJson(PodJson(name, Uuid(i * 8 + k, 9), NodeName(i), epc, "Running"));
      if (!pod) throw std::runtime_error("generated pod does not decode: " + pod.error());
      pods.push_back(std::move(pod).value());
    }
  }
  store->ReplacePods(pods);
  return store;
}

}  // namespace epc::bench
