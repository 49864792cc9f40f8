#include "common/model/pod_request.h"

namespace epc {
namespace {

// What the API server stores as a container's requests: each request, and for a resource with
// a limit but no request, the limit.
ResourceQuantities EffectiveRequests(const Container& c) {
  ResourceQuantities r = c.requests;
  for (const auto& [name, limit] : c.limits) {
    if (r.find(name) == r.end()) r.emplace(name, limit);
  }
  return r;
}

// Kubernetes' addResourceList and maxResourceList, on exact quantities: like kube-scheduler,
// sum and compare the quantities first and round to integers (ToResources) only at the end.
void Add(ResourceQuantities& list, const ResourceQuantities& add) {
  for (const auto& [name, q] : add) {
    auto it = list.find(name);
    if (it == list.end()) {
      list.emplace(name, q);
    } else {
      it->second = it->second + q;
    }
  }
}

void Max(ResourceQuantities& list, const ResourceQuantities& other) {
  for (const auto& [name, q] : other) {
    auto it = list.find(name);
    if (it == list.end()) {
      list.emplace(name, q);
    } else if (q > it->second) {
      it->second = q;
    }
  }
}

}  // namespace

Resources PodRequests(const Pod& pod, const EpcResources& epc) {
  ResourceQuantities reqs;
  for (const Container& c : pod.containers) Add(reqs, EffectiveRequests(c));

  ResourceQuantities restartable;  // sidecars started so far
  ResourceQuantities init_reqs;
  for (const Container& c : pod.init_containers) {
    ResourceQuantities r = EffectiveRequests(c);
    if (c.restartable_init) {
      // A sidecar keeps running next to the app containers and every later init container.
      Add(reqs, r);
      Add(restartable, r);
      r = restartable;
    } else {
      // A regular init container runs next to the sidecars started before it.
      Add(r, restartable);
    }
    Max(init_reqs, r);
  }
  Max(reqs, init_reqs);
  Add(reqs, pod.overhead);

  Resources result = ToResources(reqs, epc);
  result.pods = 1;
  return result;
}

}  // namespace epc
