// The horizontal controller's reconcile, against fakes of every collaborator and a fake clock.
#include "autoscaler/horizontal/controller.h"

#include <chrono>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/model/quantity.h"

namespace epc {
namespace {

using std::chrono::seconds;

class FakeScales : public ScaleClient {
 public:
  Result<ScaleInfo> GetScale(const std::string& ns,
                             const CrossVersionObjectReference& ref) override {
    ++gets;
    last_ns = ns;
    last_ref = ref;
    if (get_error) return Error{*get_error};
    return scale;
  }
  Result<bool> UpdateScale(const std::string&, const CrossVersionObjectReference&, const ScaleInfo&,
                           int32_t replicas) override {
    if (update_error) return Error{*update_error};
    updates.push_back(replicas);
    scale.spec_replicas = replicas;
    return true;
  }
  ScaleInfo scale{2, 2, "app=web", "1"};
  std::optional<std::string> get_error;
  std::optional<std::string> update_error;
  std::vector<int32_t> updates;
  int gets = 0;
  std::string last_ns;
  CrossVersionObjectReference last_ref;
};

class FakePods : public PodLister {
 public:
  Result<std::vector<TargetPod>> ListPods(const std::string&,
                                          const std::string& selector) override {
    last_selector = selector;
    if (error) return Error{*error};
    return pods;
  }
  std::vector<TargetPod> pods;
  std::optional<std::string> error;
  std::string last_selector;
};

class FakeMetrics : public MetricsClient {
 public:
  Result<hpa::PodMetricsInfo> GetResourceMetric(std::string_view, const std::string&,
                                                const std::string&) override {
    ++calls;
    if (error) return Error{*error};
    return resource;
  }
  Result<hpa::PodMetricsInfo> GetPodsMetric(const std::string& query, const std::string&,
                                            const hpa::PodNameSet&) override {
    ++calls;
    last_query = query;
    if (error) return Error{*error};
    if (auto it = pods_by_query.find(query); it != pods_by_query.end()) return it->second;
    return pods;
  }
  Result<int64_t> GetObjectMetric(const std::string&) override {
    ++calls;
    if (error) return Error{*error};
    return object;
  }
  Result<std::vector<int64_t>> GetExternalMetric(const std::string&) override {
    ++calls;
    if (error) return Error{*error};
    return external;
  }
  // Sets every pod of `names` to `value` (units) in both pods and resource samples.
  void SetAll(const std::vector<std::string>& names, double value, hpa::WallTime at) {
    pods.clear();
    for (const std::string& n : names) {
      pods[n] = hpa::PodMetric{static_cast<int64_t>(value * 1000), at, seconds(30)};
    }
    resource = pods;
  }
  hpa::PodMetricsInfo pods;
  std::map<std::string, hpa::PodMetricsInfo> pods_by_query;
  hpa::PodMetricsInfo resource;
  int64_t object = 0;
  std::vector<int64_t> external;
  std::optional<std::string> error;
  std::string last_query;
  int calls = 0;
};

struct RecordedEvent {
  std::string type, reason, message;
};

class FakeEvents : public EventRecorder {
 public:
  void Record(const std::string&, const CrossVersionObjectReference&, std::string_view type,
              std::string_view reason, const std::string& message) override {
    events.push_back({std::string(type), std::string(reason), message});
  }
  int Count(std::string_view reason) const {
    int n = 0;
    for (const RecordedEvent& e : events) n += e.reason == reason;
    return n;
  }
  std::vector<RecordedEvent> events;
};

class FakeClock : public Clock {
 public:
  hpa::SteadyTime SteadyNow() override { return steady; }
  hpa::WallTime WallNow() override { return wall; }
  void Advance(std::chrono::seconds d) {
    steady += d;
    wall += d;
  }
  hpa::SteadyTime steady = hpa::SteadyTime{} + std::chrono::hours(1000);
  hpa::WallTime wall = hpa::WallTime{} + std::chrono::hours(24 * 365 * 50);
};

// Reads one sample of the registry: a counter's or gauge's value, or -1 when absent.
double Sample(AutoscalerMetrics& m, const std::string& name,
              const std::map<std::string, std::string>& labels) {
  for (const prometheus::MetricFamily& f : m.registry().Collect()) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& c : f.metric) {
      std::map<std::string, std::string> have;
      for (const auto& l : c.label) have[l.name] = l.value;
      if (have != labels) continue;
      return f.type == prometheus::MetricType::Counter ? c.counter.value : c.gauge.value;
    }
  }
  return -1;
}

HpaMetricSpec PodsMetric(const std::string& name, double average) {
  HpaMetricSpec m;
  m.type = HpaMetricSourceType::kPods;
  HpaPodsMetricSource p;
  p.metric_name = name;
  p.query = "sum by (pod) (" + name + ")";
  p.target.type = HpaMetricTargetType::kAverageValue;
  p.target.average_value_milli = static_cast<int64_t>(average * 1000);
  m.pods = p;
  return m;
}

HpaMetricSpec CpuMetric(int32_t utilization) {
  HpaMetricSpec m;
  m.type = HpaMetricSourceType::kResource;
  m.resource = HpaResourceMetricSource{
      "cpu", {.type = HpaMetricTargetType::kUtilization, .average_utilization = utilization}};
  return m;
}

// A Deployment "web" in "default", 1..10 replicas, with a behavior: immediate scale-up by up to
// 100 pods, scale-down after `down_window` seconds.
HorizontalTargetConfig Target(std::vector<HpaMetricSpec> metrics, int down_window = 60) {
  HorizontalTargetConfig t;
  t.name = "web";
  t.spec.namespace_name = "default";
  t.spec.scale_target_ref = {"apps/v1", "Deployment", "web"};
  t.spec.min_replicas = 1;
  t.spec.max_replicas = 10;
  t.spec.metrics = std::move(metrics);
  HpaBehavior b;
  b.scale_up.policies = {{HpaScalingPolicyType::kPods, 100, 15}};
  b.scale_down.stabilization_window_seconds = down_window;
  t.spec.behavior = b;
  return t;
}

TargetPod RunningPod(const std::string& name, hpa::WallTime now, const std::string& cpu = "500m") {
  TargetPod p;
  p.hpa.name = name;
  p.hpa.phase = "Running";
  p.hpa.start_time = now - std::chrono::hours(1);
  p.hpa.ready = hpa::PodReadyCondition{hpa::ConditionStatus::kTrue,
                                       now - std::chrono::hours(1) + seconds(10)};
  Pod pod;
  pod.name = name;
  pod.namespace_name = "default";
  pod.phase = "Running";
  Container c;
  c.name = "app";
  if (!cpu.empty()) c.requests["cpu"] = *Quantity::Parse(cpu);
  pod.containers.push_back(c);
  p.pod = pod;
  return p;
}

class ControllerTest : public ::testing::Test {
 protected:
  void Make(HorizontalTargetConfig target, bool dry_run = false) {
    HorizontalControllerOptions o;
    o.dry_run = dry_run;
    controller_.emplace(std::vector<HorizontalTargetConfig>{std::move(target)}, o, scales_, pods_,
                        metrics_client_, events_, clock_, metrics_, log_);
  }
  void SetPods(int n) {
    pods_.pods.clear();
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i) {
      names.push_back("web-" + std::to_string(i));
      pods_.pods.push_back(RunningPod(names.back(), clock_.wall));
    }
    names_ = names;
  }
  // Every pod reports `value`.
  void Report(double value) { metrics_client_.SetAll(names_, value, clock_.wall - seconds(5)); }
  // The deployment controller's part: pods follow spec.replicas.
  void FollowReplicas() {
    SetPods(scales_.scale.spec_replicas);
    scales_.scale.status_replicas = scales_.scale.spec_replicas;
  }
  double Errors(const std::string& kind) {
    return Sample(metrics_, "epc_autoscaler_errors_total", {{"kind", kind}});
  }
  TargetStatus Sync() { return controller_->ReconcileAll().at(0); }

  std::ostringstream log_text_;
  Logger log_{log_text_, 2};
  FakeScales scales_;
  FakePods pods_;
  FakeMetrics metrics_client_;
  FakeEvents events_;
  FakeClock clock_;
  AutoscalerMetrics metrics_;
  std::optional<HorizontalController> controller_;
  std::vector<std::string> names_;
};

TEST_F(ControllerTest, ScalesUpOnAPodsMetric) {
  Make(Target({PodsMetric("rps", 10)}));
  SetPods(2);
  Report(50);  // 5x the target
  TargetStatus s = Sync();
  EXPECT_EQ(pods_.last_selector, "app=web");
  EXPECT_EQ(scales_.last_ref.kind, "Deployment");
  EXPECT_EQ(metrics_client_.last_query, "sum by (pod) (rps)");
  ASSERT_EQ(scales_.updates, std::vector<int32_t>{10});
  EXPECT_TRUE(s.rescale);
  EXPECT_TRUE(s.updated);
  EXPECT_EQ(s.current_replicas, 2);
  EXPECT_EQ(s.desired_replicas, 10);
  EXPECT_EQ(s.reason, "pods metric rps above target");
  ASSERT_EQ(s.metrics.size(), 1u);
  EXPECT_EQ(s.metrics[0].name, "rps");
  EXPECT_EQ(s.metrics[0].current, 50);
  EXPECT_EQ(s.metrics[0].target, 10);
  EXPECT_EQ(s.metrics[0].replicas, 10);

  ASSERT_EQ(events_.events.size(), 1u);
  EXPECT_EQ(events_.events[0].type, "Normal");
  EXPECT_EQ(events_.events[0].reason, "SuccessfulRescale");
  EXPECT_EQ(events_.events[0].message, "New size: 10; reason: pods metric rps above target");

  const std::map<std::string, std::string> target{{"namespace", "default"},
                                                  {"target", "Deployment/web"}};
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_current_replicas", target), 2);
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_desired_replicas", target), 10);
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_min_replicas", target), 1);
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_max_replicas", target), 10);
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_scale_events_total",
                   {{"namespace", "default"}, {"target", "Deployment/web"}, {"direction", "up"}}),
            1);
  auto with_metric = target;
  with_metric["metric"] = "rps";
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_metric_value", with_metric), 50);
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_metric_target", with_metric), 10);
  EXPECT_GT(
      Sample(metrics_, "epc_autoscaler_last_reconcile_timestamp_seconds", {{"loop", "horizontal"}}),
      0);
  // The rescale went into the behavior history.
  EXPECT_EQ(controller_->state(0).scale_up_events().size(), 1u);
}

TEST_F(ControllerTest, WithinToleranceHolds) {
  Make(Target({PodsMetric("rps", 10)}));
  SetPods(2);
  Report(10.5);
  TargetStatus s = Sync();
  EXPECT_TRUE(scales_.updates.empty());
  EXPECT_FALSE(s.rescale);
  EXPECT_EQ(s.desired_replicas, 2);
  EXPECT_TRUE(events_.events.empty());
}

TEST_F(ControllerTest, MissingDataHoldsAndNeverScalesDown) {
  Make(Target({PodsMetric("rps", 10)}, /*down_window=*/0));
  scales_.scale.spec_replicas = 4;
  FollowReplicas();
  metrics_client_.error = "prometheus http://127.0.0.1:9090: Could not establish connection";
  for (int i = 0; i < 20; ++i) {
    TargetStatus s = Sync();
    EXPECT_FALSE(s.rescale);
    EXPECT_EQ(s.desired_replicas, 4);
    ASSERT_EQ(s.metrics.size(), 1u);
    EXPECT_FALSE(s.metrics[0].current);
    EXPECT_NE(s.reason.find("holding at 4"), std::string::npos) << s.reason;
    clock_.Advance(seconds(15));
  }
  EXPECT_TRUE(scales_.updates.empty());
  EXPECT_EQ(Errors("metrics_unavailable"), 20);
  EXPECT_EQ(events_.Count("FailedGetPodsMetric"), 20);
  EXPECT_EQ(events_.Count("FailedComputeMetricsReplicas"), 20);
  EXPECT_EQ(events_.events[0].type, "Warning");
  EXPECT_EQ(events_.events[0].message,
            "failed to get pods metric value: unable to get metric rps: prometheus "
            "http://127.0.0.1:9090: Could not establish connection");
  EXPECT_NE(log_text_.str().find("Could not establish connection"), std::string::npos);
  // No value series while the metric cannot be read; the target stays.
  const std::map<std::string, std::string> labels{
      {"namespace", "default"}, {"target", "Deployment/web"}, {"metric", "rps"}};
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_metric_value", labels), -1);
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_metric_target", labels), 10);

  // Data returns: scaling resumes (here down, the window being 0).
  metrics_client_.error.reset();
  Report(5);
  TargetStatus s = Sync();
  EXPECT_EQ(scales_.updates, std::vector<int32_t>{2});
  EXPECT_EQ(s.reason, "All metrics below target");
}

TEST_F(ControllerTest, ScalesDownOnlyAfterTheStabilizationWindow) {
  Make(Target({PodsMetric("rps", 10)}, /*down_window=*/60));
  SetPods(2);
  Report(40);
  Sync();
  ASSERT_EQ(scales_.updates, std::vector<int32_t>{8});
  FollowReplicas();
  Report(10);  // at target: holds
  Sync();
  ASSERT_EQ(scales_.updates.size(), 1u);

  Report(2.5);  // a quarter of the target: 8 -> 2, but not within the window
  for (int t = 15; t < 60; t += 15) {
    clock_.Advance(seconds(15));
    TargetStatus s = Sync();
    EXPECT_EQ(s.desired_replicas, 8) << "at +" << t << "s";
    bool stabilized = false;
    for (const hpa::HpaCondition& c : s.conditions) {
      stabilized |= c.type == "AbleToScale" && c.reason == "ScaleDownStabilized";
    }
    EXPECT_TRUE(stabilized) << "at +" << t << "s";
  }
  ASSERT_EQ(scales_.updates.size(), 1u);
  // 60 s after the last recommendation of 8, the window holds only low ones.
  clock_.Advance(seconds(15));
  TargetStatus s = Sync();
  EXPECT_EQ(scales_.updates, (std::vector<int32_t>{8, 2}));
  EXPECT_EQ(s.reason, "All metrics below target");
  EXPECT_EQ(events_.events.back().message, "New size: 2; reason: All metrics below target");
  EXPECT_EQ(Sample(metrics_, "epc_autoscaler_hpa_scale_events_total",
                   {{"namespace", "default"}, {"target", "Deployment/web"}, {"direction", "down"}}),
            1);
}

TEST_F(ControllerTest, CpuUtilizationFromResourceMetrics) {
  Make(Target({CpuMetric(50)}));
  SetPods(2);    // 500m requested each
  Report(0.45);  // 450m used: 90% of the request
  TargetStatus s = Sync();
  EXPECT_EQ(scales_.updates, std::vector<int32_t>{4});
  ASSERT_EQ(s.metrics.size(), 1u);
  EXPECT_EQ(s.metrics[0].name, "cpu");
  EXPECT_EQ(s.metrics[0].current, 90);
  EXPECT_EQ(s.metrics[0].target, 50);
  EXPECT_EQ(s.reason, "cpu resource utilization (percentage of request) above target");
}

TEST_F(ControllerTest, CpuWithoutRequestIsInvalidNotUnavailable) {
  Make(Target({CpuMetric(50)}));
  SetPods(1);
  pods_.pods.push_back(RunningPod("no-request", clock_.wall, ""));
  names_.push_back("no-request");
  Report(0.45);
  TargetStatus s = Sync();
  EXPECT_TRUE(scales_.updates.empty());
  EXPECT_EQ(events_.Count("FailedGetResourceMetric"), 1);
  EXPECT_NE(s.metrics[0].error.find("failed to get cpu resource metric value: failed to get cpu "
                                    "utilization: missing request for cpu"),
            std::string::npos)
      << s.metrics[0].error;
  EXPECT_EQ(Errors("metrics_invalid"), 1);
  EXPECT_EQ(Errors("metrics_unavailable"), 0);
}

TEST_F(ControllerTest, OneMetricDownStillScalesUpButNeverDown) {
  HpaMetricSpec a = PodsMetric("a", 10), b = PodsMetric("b", 10);
  Make(Target({a, b}, /*down_window=*/0));
  SetPods(2);
  hpa::PodMetricsInfo high, low;
  for (const std::string& n : names_) {
    high[n] = {40000, clock_.wall, seconds(30)};
    low[n] = {1000, clock_.wall, seconds(30)};
  }
  // b's query has no data: the fake errors for it through an empty map.
  metrics_client_.pods_by_query[a.pods->query] = high;
  metrics_client_.pods_by_query[b.pods->query] = {};
  Sync();
  // An empty map from the source would be a bug (sources error instead); the calculator still
  // refuses it, so b is invalid and a's scale-up proceeds, as the HPA does.
  EXPECT_EQ(scales_.updates, std::vector<int32_t>{8});
  FollowReplicas();
  high.clear();
  for (const std::string& n : names_) low[n] = {1000, clock_.wall, seconds(30)};
  metrics_client_.pods_by_query[a.pods->query] = low;
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(seconds(15));
    TargetStatus s = Sync();
    EXPECT_FALSE(s.rescale);
  }
  EXPECT_EQ(scales_.updates, std::vector<int32_t>{8});
}

TEST_F(ControllerTest, FailedGetScale) {
  Make(Target({PodsMetric("rps", 10)}));
  scales_.get_error = "deployments.apps \"web\" not found";
  TargetStatus s = Sync();
  EXPECT_FALSE(s.current_replicas);
  EXPECT_EQ(metrics_client_.calls, 0);
  EXPECT_EQ(events_.Count("FailedGetScale"), 1);
  EXPECT_EQ(events_.events[0].message,
            "the HPA controller was unable to get the target's current scale: deployments.apps "
            "\"web\" not found");
  EXPECT_EQ(Errors("api_error"), 1);
  EXPECT_NE(TargetStatusJson(s, false).find("\"desiredReplicas\":null"), std::string::npos);
}

TEST_F(ControllerTest, FailedRescale) {
  Make(Target({PodsMetric("rps", 10)}));
  SetPods(2);
  Report(50);
  scales_.update_error = "Operation cannot be fulfilled: the object has been modified";
  TargetStatus s = Sync();
  EXPECT_TRUE(s.rescale);
  EXPECT_FALSE(s.updated);
  EXPECT_EQ(events_.Count("FailedRescale"), 1);
  EXPECT_EQ(events_.events[0].message,
            "New size: 10; reason: pods metric rps above target; error: Operation cannot be "
            "fulfilled: the object has been modified");
  EXPECT_EQ(Errors("scale_failed"), 1);
  EXPECT_TRUE(controller_->state(0).scale_up_events().empty());  // not stored: not done
  EXPECT_EQ(s.conditions[0].reason, "FailedUpdateScale");
}

TEST_F(ControllerTest, PodListFailureHolds) {
  Make(Target({PodsMetric("rps", 10)}));
  SetPods(2);
  Report(50);
  pods_.error = "connection refused";
  TargetStatus s = Sync();
  EXPECT_TRUE(scales_.updates.empty());
  EXPECT_EQ(Errors("api_error"), 1);
  EXPECT_NE(s.metrics[0].error.find("unable to get pods while calculating replica count: "
                                    "connection refused"),
            std::string::npos);
}

TEST_F(ControllerTest, MissingSelectorHolds) {
  Make(Target({PodsMetric("rps", 10)}));
  scales_.scale.selector = "";
  SetPods(2);
  Report(50);
  TargetStatus s = Sync();
  EXPECT_TRUE(scales_.updates.empty());
  EXPECT_EQ(events_.Count("SelectorRequired"), 1);
  EXPECT_EQ(metrics_client_.calls, 0);
  bool invalid = false;
  for (const hpa::HpaCondition& c : s.conditions) invalid |= c.reason == "InvalidSelector";
  EXPECT_TRUE(invalid);
}

TEST_F(ControllerTest, OutsideBoundsIsClampedWithoutMetrics) {
  Make(Target({PodsMetric("rps", 10)}));
  scales_.scale.spec_replicas = 15;
  TargetStatus s = Sync();
  EXPECT_EQ(metrics_client_.calls, 0);
  EXPECT_EQ(scales_.updates, std::vector<int32_t>{10});
  EXPECT_EQ(s.reason, "Current number of replicas above Spec.MaxReplicas");
}

TEST_F(ControllerTest, ObjectAndExternalMetrics) {
  HpaMetricSpec object;
  object.type = HpaMetricSourceType::kObject;
  object.object =
      HpaObjectMetricSource{{"networking.k8s.io/v1", "Ingress", "main"},
                            "ingress_rps",
                            "sum(rate(x[1m]))",
                            {.type = HpaMetricTargetType::kValue, .value_milli = 100000}};
  HpaMetricSpec external;
  external.type = HpaMetricSourceType::kExternal;
  external.external = HpaExternalMetricSource{
      "queue", "sum(q)", {.type = HpaMetricTargetType::kAverageValue, .average_value_milli = 5000}};
  Make(Target({object, external}));
  SetPods(2);
  metrics_client_.object = 300000;                   // 3x the Value target: 2 ready pods -> 6
  metrics_client_.external = {10000, 10000, 20000};  // 40 / 5 per pod -> 8
  TargetStatus s = Sync();
  ASSERT_EQ(s.metrics.size(), 2u);
  EXPECT_EQ(s.metrics[0].replicas, 6);
  EXPECT_EQ(s.metrics[0].current, 300);
  EXPECT_EQ(s.metrics[0].description, "Ingress metric ingress_rps");
  EXPECT_EQ(s.metrics[1].replicas, 8);
  EXPECT_EQ(s.metrics[1].current, 20);  // ceil(40 / 2 status replicas)
  EXPECT_EQ(scales_.updates, std::vector<int32_t>{8});
  EXPECT_EQ(s.reason, "external metric queue above target");
}

TEST_F(ControllerTest, DryRunDecidesButWritesNothing) {
  Make(Target({PodsMetric("rps", 10)}), /*dry_run=*/true);
  SetPods(2);
  Report(50);
  TargetStatus s = Sync();
  EXPECT_TRUE(s.rescale);
  EXPECT_FALSE(s.updated);
  EXPECT_EQ(s.desired_replicas, 10);
  EXPECT_TRUE(scales_.updates.empty());
  EXPECT_TRUE(events_.events.empty());
  EXPECT_NE(log_text_.str().find("dry run: would scale from 2 to 10"), std::string::npos);

  auto j = nlohmann::json::parse(TargetStatusJson(s, true));
  EXPECT_EQ(j["target"], "Deployment/web");
  EXPECT_EQ(j["namespace"], "default");
  EXPECT_EQ(j["dryRun"], true);
  EXPECT_EQ(j["currentReplicas"], 2);
  EXPECT_EQ(j["desiredReplicas"], 10);
  EXPECT_EQ(j["reason"], "pods metric rps above target");
  ASSERT_EQ(j["metrics"].size(), 1u);
  EXPECT_EQ(j["metrics"][0]["name"], "rps");
  EXPECT_EQ(j["metrics"][0]["current"], 50.0);
  EXPECT_EQ(j["metrics"][0]["target"], 10.0);
  EXPECT_EQ(j["metrics"][0]["targetType"], "AverageValue");
  ASSERT_GE(j["conditions"].size(), 2u);
  EXPECT_EQ(j["conditions"][0]["type"], "AbleToScale");
}

TEST_F(ControllerTest, LegacyRulesWithoutBehavior) {
  HorizontalTargetConfig t = Target({PodsMetric("rps", 10)});
  t.spec.behavior.reset();
  Make(t);
  SetPods(2);
  Report(50);
  TargetStatus s = Sync();
  // Without behavior the HPA scales up to at most max(2 x current, 4) at a time.
  EXPECT_EQ(scales_.updates, std::vector<int32_t>{4});
  bool limited = false;
  for (const hpa::HpaCondition& c : s.conditions) limited |= c.reason == "ScaleUpLimit";
  EXPECT_TRUE(limited);
}

}  // namespace
}  // namespace epc
