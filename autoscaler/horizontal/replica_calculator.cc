#include "autoscaler/horizontal/replica_calculator.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <utility>

namespace epc::hpa {
namespace {

constexpr int32_t kMaxInt32 = std::numeric_limits<int32_t>::max();
constexpr int32_t kMinInt32 = std::numeric_limits<int32_t>::min();
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();
constexpr int64_t kMinInt64 = std::numeric_limits<int64_t>::min();

// Go's int32(f) / int64(f) truncate toward zero; out of range they are platform-defined, here
// they saturate (NaN gives 0).
int32_t ToInt32(double v) {
  if (std::isnan(v)) return 0;
  if (v >= static_cast<double>(kMaxInt32)) return kMaxInt32;
  if (v <= static_cast<double>(kMinInt32)) return kMinInt32;
  return static_cast<int32_t>(v);
}

int64_t ToInt64(double v) {
  if (std::isnan(v)) return 0;
  if (v >= 9223372036854775808.0) return kMaxInt64;  // 2^63
  if (v <= -9223372036854775808.0) return kMinInt64;
  return static_cast<int64_t>(v);
}

int32_t CeilToInt32(double v) { return ToInt32(std::ceil(v)); }

std::string Ratio(double r) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", r);
  return buf;
}

std::string Int128ToString(__int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  std::string digits;
  while (v != 0) {
    const int d = static_cast<int>(v % 10);
    digits.insert(digits.begin(), static_cast<char>('0' + (d < 0 ? -d : d)));
    v /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string ToleranceBand(const Tolerances& t) {
  return "[" + Ratio(1.0 - t.scale_down) + ", " + Ratio(1.0 + t.scale_up) + "]";
}

bool IsPodReady(const HpaPod& pod) {
  return pod.ready.has_value() && pod.ready->status == ConditionStatus::kTrue;
}

// getReadyPodsCount
Result<int64_t> GetReadyPodsCount(const std::vector<HpaPod>& pods) {
  if (pods.empty()) {
    return Error{"no pods returned by selector while calculating replica count"};
  }
  int64_t ready = 0;
  for (const HpaPod& pod : pods) {
    if (pod.phase == "Running" && IsPodReady(pod)) ++ready;
  }
  return ready;
}

Error NonPositiveTarget(int64_t target) {
  return Error{"target " + std::to_string(target) + " must be greater than 0"};
}

}  // namespace

Tolerances TolerancesForHpa(const HpaSpec& spec, double default_tolerance) {
  Tolerances t{default_tolerance, default_tolerance};
  if (!spec.behavior) return t;
  if (spec.behavior->scale_down.tolerance_milli) {
    t.scale_down = static_cast<double>(*spec.behavior->scale_down.tolerance_milli) / 1000.0;
  }
  if (spec.behavior->scale_up.tolerance_milli) {
    t.scale_up = static_cast<double>(*spec.behavior->scale_up.tolerance_milli) / 1000.0;
  }
  return t;
}

namespace {

enum class PodGroup { kReady, kUnready, kMissing, kIgnored };

// groupPods' rules for one pod; `metric` is the pod's sample, null when it has none. GroupPods
// and GetResourceReplicas both classify through here so the rules exist once.
PodGroup ClassifyPod(const HpaPod& pod, const PodMetric* metric, std::string_view resource,
                     Duration cpu_initialization_period, Duration delay_of_initial_readiness_status,
                     WallTime now) {
  if (pod.deleting || pod.phase == "Failed") return PodGroup::kIgnored;
  // Pending pods are ignored.
  if (pod.phase == "Pending") return PodGroup::kUnready;
  // Pods missing metrics.
  if (metric == nullptr) return PodGroup::kMissing;
  // Unready pods are ignored.
  if (resource == "cpu") {
    bool unready = false;
    if (!pod.ready.has_value() || !pod.start_time.has_value()) {
      unready = true;
    } else {
      const PodReadyCondition& condition = *pod.ready;
      if (*pod.start_time + cpu_initialization_period > now) {
        // Pod still within possible initialisation period. Ignore the sample if the pod is
        // unready or one window of metric wasn't collected since the last state transition.
        unready = condition.status == ConditionStatus::kFalse ||
                  metric->timestamp < condition.last_transition_time + metric->window;
      } else {
        // Ignore the metric if the pod is unready and it has never been ready.
        unready =
            condition.status == ConditionStatus::kFalse &&
            *pod.start_time + delay_of_initial_readiness_status > condition.last_transition_time;
      }
    }
    if (unready) return PodGroup::kUnready;
  }
  return PodGroup::kReady;
}

}  // namespace

PodGroups GroupPods(const std::vector<HpaPod>& pods, const PodMetricsInfo& metrics,
                    std::string_view resource, Duration cpu_initialization_period,
                    Duration delay_of_initial_readiness_status, WallTime now) {
  PodGroups g;
  for (const HpaPod& pod : pods) {
    auto it = metrics.find(pod.name);
    const PodMetric* metric = it == metrics.end() ? nullptr : &it->second;
    switch (ClassifyPod(pod, metric, resource, cpu_initialization_period,
                        delay_of_initial_readiness_status, now)) {
      case PodGroup::kIgnored:
        g.ignored.insert(pod.name);
        break;
      case PodGroup::kUnready:
        g.unready.insert(pod.name);
        break;
      case PodGroup::kMissing:
        g.missing.insert(pod.name);
        break;
      case PodGroup::kReady:
        ++g.ready_count;
        break;
    }
  }
  return g;
}

void RemoveMetricsForPods(PodMetricsInfo& metrics, const PodNameSet& pods) {
  for (const std::string& pod : pods) {
    auto it = metrics.find(pod);
    if (it != metrics.end()) metrics.erase(it);
  }
}

namespace {

// What GetResourceUtilizationRatio adds up: the samples and requests of the pods that have both.
// Exact: Kubernetes falls back to big.Int when int64 would overflow.
struct UtilizationSums {
  __int128 metrics_total = 0;
  __int128 requests_total = 0;
  int64_t entries = 0;

  void Add(int64_t value, int64_t request) {
    metrics_total += value;
    requests_total += request;
    ++entries;
  }
};

Result<ResourceUtilization> UtilizationFromSums(const UtilizationSums& sums,
                                                int32_t target_utilization) {
  // if the set of requests is completely disjoint from the set of metrics, then we could have
  // an issue where the requests total is zero
  if (sums.requests_total == 0) return Error{"no metrics returned matched known pods"};

  const __int128 percentage = sums.metrics_total * 100 / sums.requests_total;
  if (percentage < kMinInt32 || percentage > kMaxInt32) {
    return Error{"resource utilization " + Int128ToString(percentage) +
                 " is outside the int32 range"};
  }
  ResourceUtilization u;
  u.utilization = static_cast<int32_t>(percentage);
  u.ratio = static_cast<double>(u.utilization) / static_cast<double>(target_utilization);
  u.raw_average = static_cast<int64_t>(sums.metrics_total / sums.entries);
  return u;
}

}  // namespace

Result<ResourceUtilization> GetResourceUtilizationRatio(
    const PodMetricsInfo& metrics, const std::map<std::string, int64_t, std::less<>>& requests,
    int32_t target_utilization) {
  UtilizationSums sums;
  for (const auto& [pod_name, metric] : metrics) {
    auto it = requests.find(pod_name);
    if (it == requests.end()) {
      // we check for missing requests elsewhere, so assuming missing requests == extraneous
      // metrics
      continue;
    }
    sums.Add(metric.value, it->second);
  }
  return UtilizationFromSums(sums, target_utilization);
}

MetricUsage GetMetricUsageRatio(const PodMetricsInfo& metrics, int64_t target_usage) {
  MetricUsage u;
  if (metrics.empty()) return u;  // callers never pass no samples (Go would divide by zero)
  __int128 total = 0;
  for (const auto& [pod_name, metric] : metrics) total += metric.value;
  u.usage = static_cast<int64_t>(total / static_cast<__int128>(metrics.size()));
  u.ratio = static_cast<double>(u.usage) / static_cast<double>(target_usage);
  return u;
}

Result<int64_t> CalculatePodRequest(const Pod& pod, std::string_view resource,
                                    std::string_view container) {
  std::vector<const Container*> containers;
  for (const Container& c : pod.containers) containers.push_back(&c);
  for (const Container& c : pod.init_containers) {
    if (c.restartable_init) containers.push_back(&c);
  }
  int64_t request = 0;
  for (const Container* c : containers) {
    if (container.empty() || container == c->name) {
      auto it = c->requests.find(resource);
      if (it == c->requests.end()) {
        return Error{"missing request for " + std::string(resource) + " in container " + c->name +
                     " of Pod " + pod.name};
      }
      const int64_t milli = it->second.MilliValue();
      if (__builtin_add_overflow(request, milli, &request)) {
        request = milli > 0 ? kMaxInt64 : kMinInt64;
      }
    }
    // container names are unique inside the pod
    if (container == c->name) return request;
  }
  // If we're looking for a specific container and didn't find it
  if (!container.empty()) {
    return Error{"container " + std::string(container) + " not found in Pod " + pod.name};
  }
  return request;
}

namespace {

// A pod name and a value; the working lists of ResourceReplicasFrom, kept in name order.
struct NamedValue {
  std::string_view name;
  int64_t value = 0;
};

const int64_t* FindByName(const std::vector<NamedValue>& list, std::string_view name) {
  auto it = std::lower_bound(list.begin(), list.end(), name,
                             [](const NamedValue& a, std::string_view n) { return a.name < n; });
  return it != list.end() && it->name == name ? &it->value : nullptr;
}

// GetResourceReplicas, decision for decision, without copying `metrics` into maps and sets:
// the HPA runs every sync over every pod of the target, and epc-sim runs thousands of syncs
// over thousands of pods, where the map copies and string-keyed lookups dominated. Pods and
// samples are walked side by side in name order (the samples map is ordered by name; the pods
// are sorted unless the caller already lists them in name order), so every lookup is a merge
// step. The sums are exact integers, so adding them in another order than Kubernetes' map
// iteration gives the same totals.
Result<ResourceReplicas> ResourceReplicasFrom(const ReplicaCalculatorOptions& options,
                                              int32_t current_replicas, int32_t target_utilization,
                                              std::string_view resource,
                                              const Tolerances& tolerances,
                                              const std::vector<HpaPod>& pods,
                                              const PodMetricsInfo& metrics, WallTime now) {
  if (target_utilization <= 0) return NonPositiveTarget(target_utilization);
  if (pods.empty()) {
    return Error{"no pods returned by selector while calculating replica count"};
  }

  // Stable: of pods sharing a name the last one listed stays last, and its request is the one
  // Kubernetes' requests map keeps.
  std::vector<const HpaPod*> by_name;
  by_name.reserve(pods.size());
  for (const HpaPod& pod : pods) by_name.push_back(&pod);
  auto name_less = [](const HpaPod* a, const HpaPod* b) { return a->name < b->name; };
  if (!std::is_sorted(by_name.begin(), by_name.end(), name_less)) {
    std::stable_sort(by_name.begin(), by_name.end(), name_less);
  }

  // groupPods. Names arrive in order, so each list stays sorted and free of repeats by
  // comparing with its last entry.
  int ready_count = 0;
  std::vector<std::string_view> unready;
  std::vector<std::string_view> missing;
  std::vector<std::string_view> removed;  // ignored or unready: RemoveMetricsForPods drops them
  auto add = [](std::vector<std::string_view>& list, std::string_view name) {
    if (list.empty() || list.back() != name) list.push_back(name);
  };
  auto sample = metrics.begin();
  for (const HpaPod* pod : by_name) {
    while (sample != metrics.end() && std::string_view(sample->first) < pod->name) ++sample;
    const PodMetric* metric =
        sample != metrics.end() && sample->first == pod->name ? &sample->second : nullptr;
    switch (ClassifyPod(*pod, metric, resource, options.cpu_initialization_period,
                        options.delay_of_initial_readiness_status, now)) {
      case PodGroup::kIgnored:
        add(removed, pod->name);
        break;
      case PodGroup::kUnready:
        add(unready, pod->name);
        add(removed, pod->name);
        break;
      case PodGroup::kMissing:
        add(missing, pod->name);
        break;
      case PodGroup::kReady:
        ++ready_count;
        break;
    }
  }

  // The samples left after removing ignored and unready pods.
  std::vector<NamedValue> kept;
  kept.reserve(metrics.size());
  {
    auto r = removed.begin();
    for (const auto& [name, metric] : metrics) {
      while (r != removed.end() && *r < name) ++r;
      if (r != removed.end() && *r == name) continue;
      kept.push_back(NamedValue{name, metric.value});
    }
  }
  if (kept.empty()) {
    return Error{"did not receive metrics for targeted pods (pods might be unready)"};
  }

  for (const HpaPod& pod : pods) {
    if (!pod.request_milli) {
      return Error{"missing request for " + std::string(resource) + " in Pod " + pod.name};
    }
  }
  std::vector<NamedValue> requests;  // by pod name; the last pod of a name wins
  requests.reserve(by_name.size());
  for (const HpaPod* pod : by_name) {
    if (!requests.empty() && requests.back().name == pod->name) {
      requests.back().value = *pod->request_milli;
    } else {
      requests.push_back(NamedValue{pod->name, *pod->request_milli});
    }
  }

  // GetResourceUtilizationRatio over the kept samples; samples of unknown pods are extraneous.
  UtilizationSums sums;
  {
    auto q = requests.begin();
    for (const NamedValue& m : kept) {
      while (q != requests.end() && q->name < m.name) ++q;
      if (q != requests.end() && q->name == m.name) sums.Add(m.value, q->value);
    }
  }
  Result<ResourceUtilization> ratio = UtilizationFromSums(sums, target_utilization);
  if (!ratio.ok()) return Error{ratio.error()};
  const double usage_ratio = ratio->ratio;
  ResourceReplicas out;
  out.utilization = ratio->utilization;
  out.raw_average_value = ratio->raw_average;

  const bool scale_up_with_unready = !unready.empty() && usage_ratio > 1.0;
  if (!scale_up_with_unready && missing.empty()) {
    if (tolerances.IsWithin(usage_ratio)) {
      // return the current replicas if the change would be too small
      out.replicas = current_replicas;
      out.reason =
          "usage ratio " + Ratio(usage_ratio) + " is within tolerance " + ToleranceBand(tolerances);
      return out;
    }
    // if we don't have any unready or missing pods, we can calculate the new replica count now
    out.replicas = CeilToInt32(usage_ratio * static_cast<double>(ready_count));
    out.reason = "usage ratio " + Ratio(usage_ratio) + " over " + std::to_string(ready_count) +
                 " ready pods";
    return out;
  }

  // The samples filled in, in name order. None of these names is among the kept samples
  // (missing pods have none, unready ones were removed), so the rerun adds them to the sums.
  std::vector<NamedValue> filled;
  if (!missing.empty()) {
    if (usage_ratio < 1.0) {
      // on a scale-down, treat missing pods as using 100% (all) of the resource request or the
      // utilization target for targets higher than 100%
      const int64_t fallback_utilization = std::max<int64_t>(100, target_utilization);
      for (std::string_view name : missing) {
        // Every missing pod is a listed pod, and every listed pod has a request (checked above).
        filled.push_back(
            NamedValue{name, *FindByName(requests, name) * fallback_utilization / 100});
      }
    } else if (usage_ratio > 1.0) {
      // on a scale-up, treat missing pods as using 0% of the resource request
      for (std::string_view name : missing) filled.push_back(NamedValue{name, 0});
    }
  }
  if (scale_up_with_unready) {
    // on a scale-up, treat unready pods as using 0% of the resource request. Assigned after the
    // missing pods', so a name in both ends at 0.
    std::vector<NamedValue> merged;
    merged.reserve(filled.size() + unready.size());
    auto f = filled.begin();
    for (std::string_view name : unready) {
      while (f != filled.end() && f->name < name) merged.push_back(*f++);
      if (f != filled.end() && f->name == name) ++f;
      merged.push_back(NamedValue{name, 0});
    }
    merged.insert(merged.end(), f, filled.end());
    filled = std::move(merged);
  }

  // re-run the utilization calculation with our new numbers
  for (const NamedValue& m : filled) {
    if (const int64_t* request = FindByName(requests, m.name)) sums.Add(m.value, *request);
  }
  const size_t samples = kept.size() + filled.size();
  Result<ResourceUtilization> rerun = UtilizationFromSums(sums, target_utilization);
  if (!rerun.ok()) return Error{rerun.error()};
  const double new_usage_ratio = rerun->ratio;

  if (tolerances.IsWithin(new_usage_ratio) || (usage_ratio < 1.0 && new_usage_ratio > 1.0) ||
      (usage_ratio > 1.0 && new_usage_ratio < 1.0)) {
    // return the current replicas if the change would be too small, or if the new usage ratio
    // would cause a change in scale direction
    out.replicas = current_replicas;
    out.reason = "usage ratio " + Ratio(usage_ratio) + " becomes " + Ratio(new_usage_ratio) +
                 " counting unready and missing pods conservatively: within tolerance " +
                 ToleranceBand(tolerances) + " or reversed";
    return out;
  }

  const int32_t new_replicas = CeilToInt32(new_usage_ratio * static_cast<double>(samples));
  if ((new_usage_ratio < 1.0 && new_replicas > current_replicas) ||
      (new_usage_ratio > 1.0 && new_replicas < current_replicas)) {
    // return the current replicas if the change of metrics length would cause a change in scale
    // direction
    out.replicas = current_replicas;
    out.reason = "usage ratio " + Ratio(new_usage_ratio) + " over " + std::to_string(samples) +
                 " pods would reverse the scale direction";
    return out;
  }
  // return the result, where the number of replicas considered is however many replicas factored
  // into our calculation
  out.replicas = new_replicas;
  out.reason = "usage ratio " + Ratio(new_usage_ratio) + " over " + std::to_string(samples) +
               " pods, counting unready and missing pods conservatively";
  return out;
}

}  // namespace

Result<ResourceReplicas> ReplicaCalculator::GetResourceReplicas(
    int32_t current_replicas, int32_t target_utilization, std::string_view resource,
    const Tolerances& tolerances, const std::vector<HpaPod>& pods, PodMetricsInfo metrics,
    WallTime now) const {
  return ResourceReplicasFrom(options_, current_replicas, target_utilization, resource, tolerances,
                              pods, metrics, now);
}

Result<MetricReplicas> ReplicaCalculator::GetRawResourceReplicas(
    int32_t current_replicas, int64_t target_usage, std::string_view resource,
    const Tolerances& tolerances, const std::vector<HpaPod>& pods, PodMetricsInfo metrics,
    WallTime now) const {
  return CalcPlainMetricReplicas(std::move(metrics), current_replicas, target_usage, tolerances,
                                 pods, resource, now);
}

Result<MetricReplicas> ReplicaCalculator::GetMetricReplicas(
    int32_t current_replicas, int64_t target_usage, const Tolerances& tolerances,
    const std::vector<HpaPod>& pods, PodMetricsInfo metrics, WallTime now) const {
  return CalcPlainMetricReplicas(std::move(metrics), current_replicas, target_usage, tolerances,
                                 pods, "", now);
}

Result<MetricReplicas> ReplicaCalculator::CalcPlainMetricReplicas(
    PodMetricsInfo metrics, int32_t current_replicas, int64_t target_usage,
    const Tolerances& tolerances, const std::vector<HpaPod>& pods, std::string_view resource,
    WallTime now) const {
  if (target_usage <= 0) return NonPositiveTarget(target_usage);
  if (pods.empty()) {
    return Error{"no pods returned by selector while calculating replica count"};
  }

  PodGroups groups = GroupPods(pods, metrics, resource, options_.cpu_initialization_period,
                               options_.delay_of_initial_readiness_status, now);
  RemoveMetricsForPods(metrics, groups.ignored);
  RemoveMetricsForPods(metrics, groups.unready);
  if (metrics.empty()) {
    return Error{"did not receive metrics for targeted pods (pods might be unready)"};
  }

  const MetricUsage usage = GetMetricUsageRatio(metrics, target_usage);
  const double usage_ratio = usage.ratio;
  MetricReplicas out;
  out.usage = usage.usage;

  const bool scale_up_with_unready = !groups.unready.empty() && usage_ratio > 1.0;
  if (!scale_up_with_unready && groups.missing.empty()) {
    if (tolerances.IsWithin(usage_ratio)) {
      // return the current replicas if the change would be too small
      out.replicas = current_replicas;
      out.reason =
          "usage ratio " + Ratio(usage_ratio) + " is within tolerance " + ToleranceBand(tolerances);
      return out;
    }
    // if we don't have any unready or missing pods, we can calculate the new replica count now
    out.replicas = CeilToInt32(usage_ratio * static_cast<double>(groups.ready_count));
    out.reason = "usage ratio " + Ratio(usage_ratio) + " over " +
                 std::to_string(groups.ready_count) + " ready pods";
    return out;
  }

  if (!groups.missing.empty()) {
    if (usage_ratio < 1.0) {
      // on a scale-down, treat missing pods as using exactly the target amount
      for (const std::string& pod_name : groups.missing) {
        metrics[pod_name] = PodMetric{target_usage, {}, {}};
      }
    } else if (usage_ratio > 1.0) {
      // on a scale-up, treat missing pods as using 0% of the resource request
      for (const std::string& pod_name : groups.missing) metrics[pod_name] = PodMetric{};
    }
  }
  if (scale_up_with_unready) {
    // on a scale-up, treat unready pods as using 0% of the resource request
    for (const std::string& pod_name : groups.unready) metrics[pod_name] = PodMetric{};
  }

  // re-run the usage calculation with our new numbers
  const double new_usage_ratio = GetMetricUsageRatio(metrics, target_usage).ratio;

  if (tolerances.IsWithin(new_usage_ratio) || (usage_ratio < 1.0 && new_usage_ratio > 1.0) ||
      (usage_ratio > 1.0 && new_usage_ratio < 1.0)) {
    // return the current replicas if the change would be too small, or if the new usage ratio
    // would cause a change in scale direction
    out.replicas = current_replicas;
    out.reason = "usage ratio " + Ratio(usage_ratio) + " becomes " + Ratio(new_usage_ratio) +
                 " counting unready and missing pods conservatively: within tolerance " +
                 ToleranceBand(tolerances) + " or reversed";
    return out;
  }

  const int32_t new_replicas = CeilToInt32(new_usage_ratio * static_cast<double>(metrics.size()));
  if ((new_usage_ratio < 1.0 && new_replicas > current_replicas) ||
      (new_usage_ratio > 1.0 && new_replicas < current_replicas)) {
    // return the current replicas if the change of metrics length would cause a change in scale
    // direction
    out.replicas = current_replicas;
    out.reason = "usage ratio " + Ratio(new_usage_ratio) + " over " +
                 std::to_string(metrics.size()) + " pods would reverse the scale direction";
    return out;
  }
  // return the result, where the number of replicas considered is however many replicas factored
  // into our calculation
  out.replicas = new_replicas;
  out.reason = "usage ratio " + Ratio(new_usage_ratio) + " over " + std::to_string(metrics.size()) +
               " pods, counting unready and missing pods conservatively";
  return out;
}

namespace {

// getUsageRatioReplicaCount: with current_replicas 0 the ready pods and the tolerance are not
// considered, to allow scaling from zero.
Result<MetricReplicas> UsageRatioReplicaCount(int32_t current_replicas, double usage_ratio,
                                              int64_t usage, const Tolerances& tolerances,
                                              const std::vector<HpaPod>& pods) {
  MetricReplicas out;
  out.usage = usage;
  if (current_replicas != 0) {
    if (tolerances.IsWithin(usage_ratio)) {
      // return the current replicas if the change would be too small
      out.replicas = current_replicas;
      out.reason =
          "usage ratio " + Ratio(usage_ratio) + " is within tolerance " + ToleranceBand(tolerances);
      return out;
    }
    Result<int64_t> ready = GetReadyPodsCount(pods);
    if (!ready.ok()) return Error{"unable to calculate ready pods: " + ready.error()};
    const double replica_count = usage_ratio * static_cast<double>(*ready);
    out.replicas =
        replica_count > static_cast<double>(kMaxInt32) ? kMaxInt32 : CeilToInt32(replica_count);
    out.reason =
        "usage ratio " + Ratio(usage_ratio) + " over " + std::to_string(*ready) + " ready pods";
  } else {
    // Scale to zero or n pods depending on usageRatio
    out.replicas = CeilToInt32(usage_ratio);
    out.reason = "usage ratio " + Ratio(usage_ratio) + " from zero replicas";
  }
  return out;
}

// usage / target, per pod: update the count only when usage / (target x replicas) leaves the
// tolerance band.
MetricReplicas PerPodReplicaCount(int32_t status_replicas, int64_t target_per_pod, int64_t usage,
                                  const Tolerances& tolerances) {
  MetricReplicas out;
  out.replicas = status_replicas;
  const double usage_ratio = static_cast<double>(usage) / (static_cast<double>(target_per_pod) *
                                                           static_cast<double>(status_replicas));
  if (!tolerances.IsWithin(usage_ratio)) {
    // update number of replicas if the change is large enough
    const double result =
        std::ceil(static_cast<double>(usage) / static_cast<double>(target_per_pod));
    out.replicas = result > static_cast<double>(kMaxInt32) ? kMaxInt32 : ToInt32(result);
    out.reason = "usage per pod ratio " + Ratio(usage_ratio) + " outside tolerance " +
                 ToleranceBand(tolerances);
  } else {
    out.reason = "usage per pod ratio " + Ratio(usage_ratio) + " is within tolerance " +
                 ToleranceBand(tolerances);
  }
  // Handle usage overflow cases
  if (static_cast<double>(usage) >= static_cast<double>(kMaxInt64)) {
    out.usage = kMaxInt64;
  } else {
    out.usage =
        ToInt64(std::ceil(static_cast<double>(usage) / static_cast<double>(status_replicas)));
  }
  return out;
}

}  // namespace

Result<MetricReplicas> ReplicaCalculator::GetObjectMetricReplicas(
    int32_t current_replicas, int64_t target_usage, int64_t usage, const Tolerances& tolerances,
    const std::vector<HpaPod>& pods) const {
  if (target_usage <= 0) return NonPositiveTarget(target_usage);
  const double usage_ratio = static_cast<double>(usage) / static_cast<double>(target_usage);
  return UsageRatioReplicaCount(current_replicas, usage_ratio, usage, tolerances, pods);
}

Result<MetricReplicas> ReplicaCalculator::GetObjectPerPodMetricReplicas(
    int32_t status_replicas, int64_t target_average_usage, int64_t usage,
    const Tolerances& tolerances) const {
  if (target_average_usage <= 0) return NonPositiveTarget(target_average_usage);
  return PerPodReplicaCount(status_replicas, target_average_usage, usage, tolerances);
}

Result<MetricReplicas> ReplicaCalculator::GetExternalMetricReplicas(
    int32_t current_replicas, int64_t target_usage, std::span<const int64_t> values,
    const Tolerances& tolerances, const std::vector<HpaPod>& pods) const {
  if (target_usage <= 0) return NonPositiveTarget(target_usage);
  int64_t usage = 0;
  for (int64_t val : values) {
    // Cap at MaxInt64 for positive overflow
    if (val > 0 && usage > kMaxInt64 - val) {
      usage = kMaxInt64;
      break;
    }
    usage += val;  // Go wraps on negative overflow; sums of negative samples never get there
  }
  const double usage_ratio = static_cast<double>(usage) / static_cast<double>(target_usage);
  return UsageRatioReplicaCount(current_replicas, usage_ratio, usage, tolerances, pods);
}

Result<MetricReplicas> ReplicaCalculator::GetExternalPerPodMetricReplicas(
    int32_t status_replicas, int64_t target_usage_per_pod, std::span<const int64_t> values,
    const Tolerances& tolerances) const {
  if (target_usage_per_pod <= 0) return NonPositiveTarget(target_usage_per_pod);
  int64_t usage = 0;
  for (int64_t val : values) {
    // Go adds with wrap-around and treats a negative sum as an int64 overflow.
    usage = static_cast<int64_t>(static_cast<uint64_t>(usage) + static_cast<uint64_t>(val));
    if (usage < 0) {
      usage = kMaxInt64;
      break;
    }
  }
  return PerPodReplicaCount(status_replicas, target_usage_per_pod, usage, tolerances);
}

MetricProposal ReplicaCalculator::ComputeReplicasForMetric(
    const HpaMetricSpec& spec, int32_t spec_replicas, int32_t status_replicas,
    const std::vector<HpaPod>& pods, const MetricObservation& observation,
    const Tolerances& tolerances, WallTime now) const {
  MetricProposal p;
  auto fail = [&p](std::string condition_reason, std::string error) {
    p.replicas.reset();
    p.condition_reason = std::move(condition_reason);
    p.error = std::move(error);
    return p;
  };
  auto take = [&p](const auto& result) {
    p.replicas = result->replicas;
    p.reason = result->reason;
    return p;
  };

  switch (spec.type) {
    case HpaMetricSourceType::kResource: {
      if (!spec.resource) {
        return fail("FailedGetResourceMetric", "invalid resource metric source: not set");
      }
      const HpaResourceMetricSource& source = *spec.resource;
      const std::string& name = source.name;
      auto wrap = [&name](const std::string& err) {
        return "failed to get " + name + " resource metric value: " + err;
      };
      if (observation.pod_metrics.empty()) {
        return fail("FailedGetResourceMetric",
                    wrap("failed to get " + name +
                         " utilization: unable to get metrics for "
                         "resource " +
                         name + ": no metrics returned from resource metrics API"));
      }
      if (source.target.average_value_milli) {
        p.metric = name + " resource";
        auto r = GetRawResourceReplicas(spec_replicas, *source.target.average_value_milli, name,
                                        tolerances, pods, observation.pod_metrics, now);
        if (!r.ok()) {
          return fail("FailedGetResourceMetric",
                      wrap("failed to get " + name + " usage: " + r.error()));
        }
        return take(r);
      }
      if (!source.target.average_utilization) {
        return fail("FailedGetResourceMetric",
                    wrap("invalid resource metric source: neither an average utilization target "
                         "nor an average value (usage) target was set"));
      }
      p.metric = name + " resource utilization (percentage of request)";
      // Not GetResourceReplicas: it takes the samples by value, a copy of every sample per sync.
      auto r = ResourceReplicasFrom(options_, spec_replicas, *source.target.average_utilization,
                                    name, tolerances, pods, observation.pod_metrics, now);
      if (!r.ok()) {
        return fail("FailedGetResourceMetric",
                    wrap("failed to get " + name + " utilization: " + r.error()));
      }
      return take(r);
    }
    case HpaMetricSourceType::kPods: {
      auto wrap = [](const std::string& err) { return "failed to get pods metric value: " + err; };
      if (!spec.pods || !spec.pods->target.average_value_milli) {
        return fail("FailedGetPodsMetric",
                    wrap("invalid pods metric source: no average value target was set"));
      }
      p.metric = "pods metric " + spec.pods->metric_name;
      if (observation.pod_metrics.empty()) {
        return fail("FailedGetPodsMetric", wrap("unable to get metric " + spec.pods->metric_name +
                                                ": no metrics returned from custom metrics API"));
      }
      auto r = GetMetricReplicas(spec_replicas, *spec.pods->target.average_value_milli, tolerances,
                                 pods, observation.pod_metrics, now);
      if (!r.ok()) return fail("FailedGetPodsMetric", wrap(r.error()));
      return take(r);
    }
    case HpaMetricSourceType::kObject: {
      auto wrap = [](const std::string& err) {
        return "failed to get object metric value: " + err;
      };
      if (!spec.object) {
        return fail("FailedGetObjectMetric", wrap("invalid object metric source: not set"));
      }
      const HpaObjectMetricSource& source = *spec.object;
      const bool value_target = source.target.type == HpaMetricTargetType::kValue &&
                                source.target.value_milli.has_value();
      const bool average_target = source.target.type == HpaMetricTargetType::kAverageValue &&
                                  source.target.average_value_milli.has_value();
      if (!value_target && !average_target) {
        return fail("FailedGetObjectMetric",
                    wrap("invalid object metric source: neither a value target nor an average "
                         "value target was set"));
      }
      p.metric = source.described_object.kind + " metric " + source.metric_name;
      if (!observation.object_value) {
        return fail("FailedGetObjectMetric",
                    wrap("unable to get metric " + source.metric_name + ": no value on " +
                         source.described_object.kind + " " + spec.object->described_object.name));
      }
      auto r = value_target ? GetObjectMetricReplicas(spec_replicas, *source.target.value_milli,
                                                      *observation.object_value, tolerances, pods)
                            : GetObjectPerPodMetricReplicas(status_replicas,
                                                            *source.target.average_value_milli,
                                                            *observation.object_value, tolerances);
      if (!r.ok()) return fail("FailedGetObjectMetric", wrap(r.error()));
      return take(r);
    }
    case HpaMetricSourceType::kExternal: {
      if (!spec.external) {
        return fail("FailedGetExternalMetric", "invalid external metric source: not set");
      }
      const HpaExternalMetricSource& source = *spec.external;
      auto wrap = [&source](const std::string& err) {
        return "failed to get " + source.metric_name + " external metric value: " + err;
      };
      p.metric = "external metric " + source.metric_name;
      if (!source.target.average_value_milli && !source.target.value_milli) {
        return fail("FailedGetExternalMetric",
                    wrap("invalid external metric source: neither a value target nor an average "
                         "value target was set"));
      }
      if (observation.external_values.empty()) {
        return fail("FailedGetExternalMetric", wrap("unable to get external metric " +
                                                    source.metric_name + ": no samples returned"));
      }
      auto r =
          source.target.average_value_milli
              ? GetExternalPerPodMetricReplicas(status_replicas, *source.target.average_value_milli,
                                                observation.external_values, tolerances)
              : GetExternalMetricReplicas(spec_replicas, *source.target.value_milli,
                                          observation.external_values, tolerances, pods);
      if (!r.ok()) return fail("FailedGetExternalMetric", wrap(r.error()));
      return take(r);
    }
  }
  return fail("InvalidMetricSourceType", "unknown metric source type");
}

}  // namespace epc::hpa
