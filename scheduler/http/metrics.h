// ExtenderMetrics: the extender's Prometheus metrics, on a registry of its own (no global one).
//
//   epc_extender_requests_total{verb,outcome}          every HTTP request answered
//   epc_extender_request_duration_seconds{verb}        extender verbs only
//   epc_extender_filter_rejections_total{reason}       first failure of each rejected node
//   epc_extender_bad_requests_total{reason}            4xx answers
//   epc_pool_epc_{capacity,requested,free}_bytes{pool} from the cluster snapshot at scrape time
//   epc_node_epc_{allocatable,requested}_bytes{node,pool}  confidential nodes only
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include "common/policy/pools.h"
#include "common/state/cluster_state.h"

namespace epc {

class ExtenderMetrics {
 public:
  ExtenderMetrics();

  void ObserveRequest(std::string_view verb, std::string_view outcome);
  void ObserveDuration(std::string_view verb, double seconds);
  // `nodes` nodes rejected for `reason`.
  void CountRejection(std::string_view reason, uint64_t nodes = 1);
  void CountBadRequest(std::string_view reason);

  // Prometheus text format (version 0.0.4): the registry's families, then the cluster gauges
  // computed from `snapshot` (may be null: no cluster gauges).
  std::string Render(const ClusterSnapshot* snapshot, const PoolClassifier& pools) const;

  prometheus::Registry& registry() { return *registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& rejections_;
  prometheus::Family<prometheus::Counter>& bad_requests_;

  std::mutex mu_;
  std::map<std::string, prometheus::Histogram*, std::less<>> histograms_;
};

}  // namespace epc
