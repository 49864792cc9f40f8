#include "scheduler/http/metrics.h"

#include <algorithm>
#include <vector>

#include <prometheus/text_serializer.h>

namespace epc {

namespace {

const prometheus::Histogram::BucketBoundaries& DurationBuckets() {
  static const prometheus::Histogram::BucketBoundaries kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};
  return kBuckets;
}

prometheus::ClientMetric GaugeSample(std::vector<prometheus::ClientMetric::Label> labels,
                                     double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

prometheus::MetricFamily GaugeFamily(std::string name, std::string help) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = prometheus::MetricType::Gauge;
  return f;
}

}  // namespace

ExtenderMetrics::ExtenderMetrics()
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(prometheus::BuildCounter()
                    .Name("epc_extender_requests_total")
                    .Help("HTTP requests the extender answered, by verb (route) and outcome.")
                    .Register(*registry_)),
      durations_(prometheus::BuildHistogram()
                     .Name("epc_extender_request_duration_seconds")
                     .Help("Time to answer an extender verb, from the first body byte read to the "
                           "answer built.")
                     .Register(*registry_)),
      rejections_(
          prometheus::BuildCounter()
              .Name("epc_extender_filter_rejections_total")
              .Help("Nodes the filter verb rejected, by the reason of the first failed check.")
              .Register(*registry_)),
      bad_requests_(prometheus::BuildCounter()
                        .Name("epc_extender_bad_requests_total")
                        .Help("Requests answered with a 4xx status, by reason.")
                        .Register(*registry_)) {
  // The verbs appear at zero from the start, so rate() works before the first request.
  for (const char* verb : {"filter", "prioritize", "preempt", "bind"}) {
    histograms_.emplace(verb, &durations_.Add({{"verb", verb}}, DurationBuckets()));
  }
}

void ExtenderMetrics::ObserveRequest(std::string_view verb, std::string_view outcome) {
  requests_.Add({{"verb", std::string(verb)}, {"outcome", std::string(outcome)}}).Increment();
}

void ExtenderMetrics::ObserveDuration(std::string_view verb, double seconds) {
  prometheus::Histogram* h = nullptr;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = histograms_.find(verb);
    if (it == histograms_.end()) {
      it = histograms_
               .emplace(std::string(verb),
                        &durations_.Add({{"verb", std::string(verb)}}, DurationBuckets()))
               .first;
    }
    h = it->second;
  }
  h->Observe(seconds);
}

void ExtenderMetrics::CountRejection(std::string_view reason, uint64_t nodes) {
  rejections_.Add({{"reason", std::string(reason)}}).Increment(static_cast<double>(nodes));
}

void ExtenderMetrics::CountBadRequest(std::string_view reason) {
  bad_requests_.Add({{"reason", std::string(reason)}}).Increment();
}

std::string ExtenderMetrics::Render(const ClusterSnapshot* snapshot,
                                    const PoolClassifier& pools) const {
  std::vector<prometheus::MetricFamily> families = registry_->Collect();
  if (snapshot != nullptr) {
    struct PoolTotals {
      int64_t capacity = 0;
      int64_t requested = 0;
    };
    std::map<std::string, PoolTotals, std::less<>> totals;
    for (const PoolSpec& pool : pools.pools()) totals[pool.name];

    auto node_alloc =
        GaugeFamily("epc_node_epc_allocatable_bytes",
                    "EPC a confidential node offers to pods (allocatable), in bytes.");
    auto node_req =
        GaugeFamily("epc_node_epc_requested_bytes",
                    "EPC requested by the pods bound to a confidential node, in bytes.");
    std::vector<const NodeInfo*> nodes = snapshot->Nodes();
    std::sort(nodes.begin(), nodes.end(),
              [](const NodeInfo* a, const NodeInfo* b) { return a->node->name < b->node->name; });
    for (const NodeInfo* info : nodes) {
      std::string pool(pools.Name(info->pool));
      PoolTotals& t = totals[pool];
      t.capacity += info->allocatable.epc_bytes;
      t.requested += info->requested.epc_bytes;
      if (!info->pool.confidential) continue;
      node_alloc.metric.push_back(GaugeSample({{"node", info->node->name}, {"pool", pool}},
                                              static_cast<double>(info->allocatable.epc_bytes)));
      node_req.metric.push_back(GaugeSample({{"node", info->node->name}, {"pool", pool}},
                                            static_cast<double>(info->requested.epc_bytes)));
    }

    auto cap = GaugeFamily("epc_pool_epc_capacity_bytes",
                           "EPC the nodes of a pool offer to pods (allocatable), in bytes.");
    auto req = GaugeFamily("epc_pool_epc_requested_bytes",
                           "EPC requested by the pods bound to a pool's nodes, in bytes.");
    auto free = GaugeFamily(
        "epc_pool_epc_free_bytes",
        "EPC of a pool not yet requested (capacity - requested, at least 0), in bytes.");
    for (const auto& [pool, t] : totals) {
      cap.metric.push_back(GaugeSample({{"pool", pool}}, static_cast<double>(t.capacity)));
      req.metric.push_back(GaugeSample({{"pool", pool}}, static_cast<double>(t.requested)));
      free.metric.push_back(GaugeSample(
          {{"pool", pool}}, static_cast<double>(std::max<int64_t>(0, t.capacity - t.requested))));
    }
    families.push_back(std::move(cap));
    families.push_back(std::move(req));
    families.push_back(std::move(free));
    families.push_back(std::move(node_alloc));
    families.push_back(std::move(node_req));
  }
  return prometheus::TextSerializer().Serialize(families);
}

}  // namespace epc
