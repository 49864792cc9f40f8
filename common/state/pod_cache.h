// PodCache: every pod of the cluster as the watch last showed it, whole (owner references,
// volumes, annotations, status), for readers that need more of a pod than the ClusterStore keeps
// (the cluster autoscaler's drain rules and pending pods).
//
// ClusterInformer keeps it current from the same pod watch that feeds the store, so a reader
// takes a copy instead of listing every pod from the API server on each loop (as
// cluster-autoscaler reads its informer's lister). Thread-safe: the watch writes while readers
// copy.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/model/objects.h"

namespace epc {

class PodCache {
 public:
  // After a (re)list: these become the whole set.
  void Replace(const std::vector<Pod>& pods);
  void Upsert(const Pod& pod);
  void Delete(const Pod& pod);

  // A copy of every pod, by namespace then name (the order the API server lists them in).
  std::vector<Pod> List() const;
  size_t size() const;

 private:
  static std::string Key(const Pod& pod) { return pod.namespace_name + "/" + pod.name; }

  mutable std::mutex mu_;
  std::map<std::string, Pod> pods_;  // by Key()
};

}  // namespace epc
