#include "common/k8s/cluster_informer.h"

#include "common/k8s/decode.h"

namespace epc {

ClusterInformer::ClusterInformer(std::shared_ptr<ApiClient> client, ClusterStore& store,
                                 Logger& log, ReflectorOptions options, PodCache* pods)
    : store_(store), pod_cache_(pods), log_(log) {
  nodes_ = std::make_unique<Reflector>(
      client, "/api/v1/nodes", "",
      ReflectorHandler{[this](const auto& objects) { OnNodes(objects); },
                       [this](auto type, auto object) { OnNodeEvent(type, object); }},
      log, options);
  // Every pod, not only assigned ones: a pod that turns Succeeded must leave the accounting,
  // and the explain endpoint and autoscaler look at pending pods.
  pods_ = std::make_unique<Reflector>(
      client, "/api/v1/pods", "",
      ReflectorHandler{[this](const auto& objects) { OnPods(objects); },
                       [this](auto type, auto object) { OnPodEvent(type, object); }},
      log, options);
}

ClusterInformer::~ClusterInformer() { Stop(); }

void ClusterInformer::Start() {
  node_thread_ = std::jthread([this] { nodes_->Run(); });
  pod_thread_ = std::jthread([this] { pods_->Run(); });
}

void ClusterInformer::Stop() {
  nodes_->Stop();
  pods_->Stop();
  if (node_thread_.joinable()) node_thread_.join();
  if (pod_thread_.joinable()) pod_thread_.join();
}

bool ClusterInformer::Synced() const { return nodes_->HasSynced() && pods_->HasSynced(); }

std::chrono::steady_clock::duration ClusterInformer::Staleness() const {
  const auto oldest = std::min(nodes_->last_contact(), pods_->last_contact());
  return std::chrono::steady_clock::now() - oldest;
}

void ClusterInformer::OnNodes(const std::vector<std::string>& objects) {
  std::vector<Node> nodes;
  nodes.reserve(objects.size());
  for (const std::string& text : objects) {
    NodeDecodeResult r = ParseNodeJson(text);
    if (!r.error.empty()) {
      log_.Warning("node " + r.node.name + " left out of the cache: " + r.error);
      continue;
    }
    nodes.push_back(std::move(r.node));
  }
  store_.ReplaceNodes(std::move(nodes));
}

void ClusterInformer::OnNodeEvent(std::string_view type, std::string_view object) {
  NodeDecodeResult r = ParseNodeJson(object);
  if (type == "DELETED") {
    if (!r.node.name.empty()) store_.DeleteNode(r.node.name);
    return;
  }
  if (!r.error.empty()) {
    log_.Warning("node " + r.node.name + " event ignored: " + r.error);
    return;
  }
  store_.UpsertNode(std::move(r.node));
}

void ClusterInformer::OnPods(const std::vector<std::string>& objects) {
  std::vector<Pod> pods;
  pods.reserve(objects.size());
  for (const std::string& text : objects) {
    auto pod = ParsePodJson(text);
    if (!pod.ok()) {
      log_.Warning("pod left out of the cache: " + pod.error());
      continue;
    }
    pods.push_back(std::move(pod).value());
  }
  store_.ReplacePods(pods);
  if (pod_cache_ != nullptr) pod_cache_->Replace(pods);
}

void ClusterInformer::OnPodEvent(std::string_view type, std::string_view object) {
  auto pod = ParsePodJson(object);
  if (!pod.ok()) {
    log_.Warning("pod event ignored: " + pod.error());
    return;
  }
  if (type == "DELETED") {
    store_.DeletePod(pod->uid);
    if (pod_cache_ != nullptr) pod_cache_->Delete(*pod);
  } else {
    store_.UpsertPod(pod.value());
    if (pod_cache_ != nullptr) pod_cache_->Upsert(*pod);
  }
}

}  // namespace epc
