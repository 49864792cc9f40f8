// epc-sim: scenarios with known answers, determinism, the report's structure and bad scenario
// files.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "simulator/report.h"
#include "simulator/scenario.h"
#include "simulator/simulation.h"

namespace epc::sim {
namespace {

// One confidential group of 168 MiB EPC nodes; `workloads` is appended YAML.
std::string ConfScenario(int initial, int max, const std::string& workloads,
                         const std::string& autoscaler = "") {
  return "name: test\n"
         "duration: 2h\n"
         "pools:\n"
         "  - {name: confidential, confidential: true, nodeSelector: {matchLabels: {pool: conf}}}\n"
         "autoscaler:\n"
         "  scanInterval: 10s\n" +
         autoscaler +
         "nodeGroups:\n"
         "  - name: conf168\n"
         "    minSize: 0\n"
         "    maxSize: " +
         std::to_string(max) +
         "\n"
         "    initialSize: " +
         std::to_string(initial) +
         "\n"
         "    provisioningDelay: 3m\n"
         "    labels: {pool: conf}\n"
         "    allocatable: {cpu: \"8\", memory: 32Gi, kubernetes.azure.com/sgx_epc_mem_in_MiB: "
         "\"168\"}\n"
         "workloads:\n" +
         workloads;
}

Scenario MustParse(const std::string& text) {
  Result<Scenario> s = ParseScenario(text, "test.yaml");
  EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error());
  return s.ok() ? *s : Scenario{};
}

SimResult MustRun(const Scenario& s, uint64_t seed = 1, const std::string& label = "") {
  Result<SimResult> r = RunSimulation(s, seed, label);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error());
  return r.ok() ? *r : SimResult{};
}

TEST(SimulationTest, GrowsFromZeroByExactlyThreeNodes) {
  // 10 pods of 40 MiB EPC; a 168 MiB node holds 4: 4 + 4 + 2 -> 3 nodes.
  const Scenario s = MustParse(ConfScenario(0, 10,
                                            "  - name: enclave\n"
                                            "    replicas: 10\n"
                                            "    requests: {cpu: 100m, memory: 128Mi, "
                                            "kubernetes.azure.com/sgx_epc_mem_in_MiB: \"40\"}\n"));
  const SimResult r = MustRun(s);
  EXPECT_EQ(r.summary.nodes_added, 3);
  EXPECT_EQ(r.summary.pods_placed, 10);
  EXPECT_EQ(r.summary.never_placed, 0);
  ASSERT_FALSE(r.samples.empty());
  EXPECT_EQ(r.samples.back().nodes[0], 3);
  EXPECT_EQ(r.summary.pools[0].peak_nodes, 3);
  EXPECT_EQ(r.samples.back().epc_requested[0], 400LL << 20);
  EXPECT_EQ(r.samples.back().epc_capacity[0], 3 * (168LL << 20));
  // Provisioning delay 3 min plus the first scan at 10 s.
  EXPECT_GE(r.summary.pending_max_s, 180);
  EXPECT_LE(r.summary.pending_max_s, 200);
}

TEST(SimulationTest, JobNeedingMoreEpcThanAnyTemplateIsNeverPlaced) {
  const Scenario s = MustParse(ConfScenario(1, 5,
                                            "  - name: huge\n"
                                            "    kind: job\n"
                                            "    count: 1\n"
                                            "    arrival: {from: 10m, to: 10m}\n"
                                            "    requests: {cpu: 100m, "
                                            "kubernetes.azure.com/sgx_epc_mem_in_MiB: \"256\"}\n"));
  const SimResult r = MustRun(s);
  EXPECT_EQ(r.summary.never_placed, 1);
  EXPECT_EQ(r.summary.nodes_added, 0);
  ASSERT_EQ(r.summary.never_placed_by_workload.size(), 1u);
  EXPECT_EQ(r.summary.never_placed_by_workload[0].workload, "huge");
  EXPECT_NE(r.summary.never_placed_by_workload[0].reason.find("fits no node group"),
            std::string::npos);
  EXPECT_NE(SummaryTable({r}).find("huge x1"), std::string::npos);
}

// 5 pods of 40 MiB on one 168 MiB node: the fifth is rejected only for EPC (cpu is plenty).
constexpr const char* kFiveEnclavePods =
    "  - name: enclave\n"
    "    replicas: 5\n"
    "    requests: {cpu: 100m, memory: 128Mi, kubernetes.azure.com/sgx_epc_mem_in_MiB: \"40\"}\n";

TEST(SimulationTest, EpcBlindAutoscalerDoesNotScaleForEpcOnlyRejection) {
  const Scenario base =
      MustParse(ConfScenario(1, 5, kFiveEnclavePods, "  scaleDownUnneededTime: 10h\n"));
  Result<std::vector<Variant>> variants =
      ParseVariants({"autoscaler=epc-aware,autoscaler=epc-blind"});
  ASSERT_TRUE(variants.ok()) << variants.error();
  ASSERT_EQ(variants->size(), 2u);
  std::vector<SimResult> results;
  for (const Variant& v : *variants) {
    Result<Scenario> s = ApplyVariant(base, v);
    ASSERT_TRUE(s.ok()) << s.error();
    results.push_back(MustRun(*s, 1, v.label));
  }
  EXPECT_EQ(results[0].summary.nodes_added, 1);
  EXPECT_EQ(results[0].summary.never_placed, 0);
  EXPECT_EQ(results[1].summary.nodes_added, 0);
  EXPECT_EQ(results[1].summary.never_placed, 1);
  const std::string table = SummaryTable(results);
  EXPECT_NE(table.find("autoscaler=epc-aware"), std::string::npos);
  EXPECT_NE(table.find("autoscaler=epc-blind"), std::string::npos);
}

TEST(SimulationTest, EpcBlindScaleDownRemovesEpcFullNode) {
  // Two nodes, each EPC-full (4 x 40 of 168 MiB) with idle cpu. EPC-aware keeps both;
  // EPC-blind sees them as empty, removes one, and its pods cannot be placed again.
  const Scenario base = MustParse(ConfScenario(2, 5,
                                               "  - name: enclave\n"
                                               "    replicas: 8\n"
                                               "    requests: {cpu: 100m, memory: 128Mi, "
                                               "kubernetes.azure.com/sgx_epc_mem_in_MiB: \"40\"}\n",
                                               "  scaleDownUnneededTime: 5m\n"
                                               "  scaleDownDelayAfterAdd: 0s\n"));
  Result<Scenario> blind = ApplyVariant(base, *ParseVariant("autoscaler=epc-blind"));
  ASSERT_TRUE(blind.ok());
  const SimResult aware_r = MustRun(base);
  const SimResult blind_r = MustRun(*blind);
  EXPECT_EQ(aware_r.summary.nodes_removed, 0);
  EXPECT_GE(blind_r.summary.nodes_removed, 1);
  EXPECT_GT(blind_r.summary.pods_evicted, 0);
}

TEST(SimulationTest, HpaFollowsLoad) {
  const Scenario s =
      MustParse(ConfScenario(1, 5,
                             "  - name: web\n"
                             "    requests: {cpu: 500m, memory: 128Mi, "
                             "kubernetes.azure.com/sgx_epc_mem_in_MiB: \"8\"}\n"
                             "    hpa: {minReplicas: 1, maxReplicas: 20, "
                             "targetCPUUtilizationPercentage: 50}\n"
                             "    load:\n"
                             "      cpuPerRequest: 10m\n"
                             "      points: [{at: 0s, rps: 10}, {at: 30m, rps: 100}, "
                             "{at: 2h, rps: 100}]\n"));
  const SimResult r = MustRun(s);
  // 100 rps x 10m = 1000m; at 50% of 500m per pod: 4 replicas.
  ASSERT_FALSE(r.samples.empty());
  EXPECT_EQ(r.samples.back().replicas[0], 4);
  EXPECT_GT(r.summary.hpa_scale_ups, 0);
}

// A deployment under an HPA whose load asks for ~20 replicas from the start; `behavior` is
// appended to its hpa map.
std::string SteepLoadWithBehavior(const std::string& behavior) {
  return "  - name: web\n"
         "    requests: {cpu: 500m, memory: 128Mi, kubernetes.azure.com/sgx_epc_mem_in_MiB: "
         "\"4\"}\n"
         "    hpa:\n"
         "      minReplicas: 1\n"
         "      maxReplicas: 30\n"
         "      targetCPUUtilizationPercentage: 50\n" +
         behavior +
         "    load:\n"
         "      cpuPerRequest: 10m\n"
         "      points: [{at: 0s, rps: 500}, {at: 2h, rps: 500}]\n";
}

// "3 -> 5: ..." -> {3, 5}
std::pair<int, int> FromTo(const std::string& detail) {
  int from = 0, to = 0;
  EXPECT_EQ(std::sscanf(detail.c_str(), "%d -> %d", &from, &to), 2) << detail;
  return {from, to};
}

TEST(SimulationTest, HpaScaleUpPolicyLimitsGrowthPerPeriod) {
  // 500 rps x 10m = 5000m; at 50% of 500m per pod: 20 replicas. The scale-up policy lets the
  // HPA add at most 3 pods per minute, so it climbs 1 -> 4 -> 7 -> ... -> 19, one step every
  // 60 s, and stays at 19: 5000m over 19 pods is 52.6% of the request, within the 10% tolerance.
  const Scenario s =
      MustParse(ConfScenario(2, 5,
                             SteepLoadWithBehavior("      behavior:\n"
                                                   "        scaleUp:\n"
                                                   "          stabilizationWindowSeconds: 0\n"
                                                   "          selectPolicy: Max\n"
                                                   "          policies:\n"
                                                   "            - type: Pods\n"
                                                   "              value: 3\n"
                                                   "              periodSeconds: 60\n")));
  ASSERT_TRUE(s.workloads[0].hpa->behavior.has_value());
  const SimResult r = MustRun(s);
  std::vector<std::pair<int64_t, std::pair<int, int>>> ups;  // (t, (from, to))
  for (const EventRecord& e : r.events) {
    if (e.kind == "hpa-scale-up") ups.emplace_back(e.t, FromTo(e.detail));
  }
  ASSERT_EQ(ups.size(), 6u);
  for (size_t i = 0; i < ups.size(); ++i) {
    EXPECT_EQ(ups[i].second.first, 1 + 3 * static_cast<int>(i));
    EXPECT_EQ(ups[i].second.second, 4 + 3 * static_cast<int>(i));
    if (i > 0) {
      EXPECT_EQ(ups[i].first - ups[i - 1].first, 60);
    }
  }
  EXPECT_EQ(r.summary.hpa_scale_downs, 0);
  EXPECT_EQ(r.samples.back().replicas[0], 19);

  // Without `behavior`, Kubernetes' default rules let it double (or add 4) on every sync: it
  // reaches 20 within the first 1.5 minutes.
  const SimResult plain = MustRun(MustParse(ConfScenario(2, 5, SteepLoadWithBehavior(""))));
  EXPECT_EQ(plain.summary.hpa_scale_ups, 4);
  ASSERT_FALSE(plain.events.empty());
  EXPECT_LE(plain.events[3].t, 90);
  EXPECT_EQ(plain.samples.back().replicas[0], 20);
}

TEST(SimulationTest, HpaScaleDownDisabledNeverScalesDown) {
  // The load drops from 20 replicas' worth to 2 after 30 minutes; with scaleDown disabled the
  // replicas stay, without it they fall after the 5-minute stabilization window.
  auto scenario = [](const std::string& behavior) {
    return MustParse(ConfScenario(
        2, 5,
        "  - name: web\n"
        "    requests: {cpu: 500m, memory: 128Mi}\n"
        "    hpa:\n"
        "      minReplicas: 1\n"
        "      maxReplicas: 30\n"
        "      targetCPUUtilizationPercentage: 50\n" +
            behavior +
            "    load:\n"
            "      cpuPerRequest: 10m\n"
            "      points: [{at: 0s, rps: 500}, {at: 30m, rps: 500}, {at: 31m, rps: 50}]\n"));
  };
  const SimResult disabled =
      MustRun(scenario("      behavior: {scaleDown: {selectPolicy: Disabled}}\n"));
  EXPECT_EQ(disabled.summary.hpa_scale_downs, 0);
  EXPECT_EQ(disabled.samples.back().replicas[0], 20);
  const SimResult enabled = MustRun(scenario(""));
  EXPECT_GT(enabled.summary.hpa_scale_downs, 0);
  EXPECT_EQ(enabled.samples.back().replicas[0], 2);
}

TEST(SimulationTest, SameScenarioAndSeedGiveIdenticalBytes) {
  Scenario s = MustParse(std::string(DefaultScenarioText()));
  s.duration_s = 12 * 3600;  // the batch wave and the morning ramp, in less test time
  for (WorkloadScenario& w : s.workloads) w.arrival_random = w.kind == WorkloadKind::kJob;
  auto render = [&](uint64_t seed) {
    std::vector<SimResult> results{MustRun(s, seed, "a")};
    ReportInfo info{s.name, s.description, "test", seed, s.duration_s};
    return SummaryTable(results) + TimelineCsv(results) + EventsCsv(results) +
           HtmlReport(info, results);
  };
  const std::string a = render(7);
  const std::string b = render(7);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, render(8));  // random arrivals and durations depend on the seed
}

TEST(SimulationTest, ReportStructure) {
  Scenario s = MustParse(std::string(DefaultScenarioText()));
  s.duration_s = 6 * 3600;
  std::vector<SimResult> results;
  for (const char* v : {"scoring=binpack", "scoring=spread"}) {
    Result<Scenario> sv = ApplyVariant(s, *ParseVariant(v));
    ASSERT_TRUE(sv.ok());
    results.push_back(MustRun(*sv, 1, v));
  }
  ReportInfo info{s.name, s.description, "built-in default", 1, s.duration_s};
  const std::string html = HtmlReport(info, results);
  size_t svgs = 0;
  for (size_t pos = html.find("<svg"); pos != std::string::npos; pos = html.find("<svg", pos + 1))
    ++svgs;
  EXPECT_EQ(svgs, ChartTitles().size() * results.size());
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);  // nothing loaded from elsewhere
  EXPECT_EQ(html.find("href="), std::string::npos);
  EXPECT_EQ(html.find("@import"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  for (const std::string& title : ChartTitles()) EXPECT_NE(html.find(title), std::string::npos);

  const std::string csv = TimelineCsv(results);
  EXPECT_EQ(csv.rfind("variant,time_s,clock,pending_pods,nodes_general,nodes_confidential,", 0),
            0u);
  size_t lines = 0;
  for (char c : csv) lines += c == '\n' ? 1 : 0;
  const size_t per_variant = static_cast<size_t>(s.duration_s / s.sample_interval_s) + 1;
  EXPECT_EQ(lines, 1 + 2 * per_variant);  // header + one row per simulated minute per variant
  EXPECT_NE(csv.find("\nscoring=spread,21600,06:00,"), std::string::npos);
}

TEST(ScenarioTest, DefaultAndExamplesParse) {
  EXPECT_TRUE(ParseScenario(DefaultScenarioText(), "default").ok());
  const std::filesystem::path dir = std::filesystem::path(EPC_SOURCE_DIR) / "examples/scenarios";
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    Result<Scenario> s = LoadScenarioFile(entry.path().string());
    EXPECT_TRUE(s.ok()) << entry.path() << ": " << (s.ok() ? "" : s.error());
    ++files;
  }
  EXPECT_GE(files, 1);
}

std::string ParseError(const std::string& text) {
  Result<Scenario> s = ParseScenario(text, "bad.yaml");
  EXPECT_FALSE(s.ok());
  return s.ok() ? "" : s.error();
}

TEST(ScenarioTest, UnknownKeyNamesKeyAndLine) {
  const std::string e = ParseError(ConfScenario(0, 1,
                                                "  - name: x\n"
                                                "    replicas: 1\n"
                                                "    requets: {cpu: 1}\n"));
  EXPECT_NE(e.find("bad.yaml:18:5: workloads[0].requets: unknown key"), std::string::npos) << e;
}

TEST(ScenarioTest, WrongTypeNamesKeyAndLine) {
  const std::string e = ParseError(ConfScenario(0, 1,
                                                "  - name: x\n"
                                                "    replicas: many\n"
                                                "    requests: {cpu: 1}\n"));
  EXPECT_NE(e.find("bad.yaml:17:15: workloads[0].replicas: expected an integer, got \"many\""),
            std::string::npos)
      << e;
}

TEST(ScenarioTest, BadQuantityNamesKeyAndLine) {
  const std::string e = ParseError(ConfScenario(0, 1,
                                                "  - name: x\n"
                                                "    requests:\n"
                                                "      cpu: 12Qi\n"));
  EXPECT_NE(e.find("bad.yaml:18:12: workloads[0].requests[\"cpu\"]: "), std::string::npos) << e;
  EXPECT_NE(e.find("12Qi"), std::string::npos) << e;
}

TEST(ScenarioTest, OtherErrors) {
  EXPECT_NE(ParseError("name: x\n").find("nodeGroups: is required"), std::string::npos);
  EXPECT_NE(
      ParseError(ConfScenario(0, 1, "  - name: x\n    requests: {cpu: 1}\n    duration: 5m\n"))
          .find("only jobs have this key"),
      std::string::npos);
  EXPECT_NE(ParseError("duration: 5 min\nnodeGroups: []\n").find("duration: expected a duration"),
            std::string::npos);
  EXPECT_NE(ParseError("scheduling: {scoringStrategy: tight}\nnodeGroups: []\n")
                .find("\"tight\" is not one of binpack, spread"),
            std::string::npos);
}

TEST(ScenarioTest, BadHpaBehaviorNamesKeyAndLine) {
  const std::string unknown = ParseError(ConfScenario(
      0, 1,
      SteepLoadWithBehavior("      behavior:\n"
                            "        scaleUp:\n"
                            "          polices: [{type: Pods, value: 1, periodSeconds: 60}]\n")));
  EXPECT_NE(unknown.find("bad.yaml:24:11: workloads[0].hpa.behavior.scaleUp.polices: unknown key"),
            std::string::npos)
      << unknown;
  const std::string bad_value = ParseError(ConfScenario(
      0, 1, SteepLoadWithBehavior("      behavior: {scaleDown: {selectPolicy: Sometimes}}\n")));
  EXPECT_NE(bad_value.find("bad.yaml:22:44: "), std::string::npos) << bad_value;
  EXPECT_NE(bad_value.find("workloads[0].hpa.behavior.scaleDown.selectPolicy"), std::string::npos)
      << bad_value;
  EXPECT_NE(bad_value.find("Sometimes"), std::string::npos) << bad_value;
  const std::string bad_period = ParseError(
      ConfScenario(0, 1,
                   SteepLoadWithBehavior(
                       "      behavior:\n"
                       "        scaleUp:\n"
                       "          policies: [{type: Pods, value: 1, periodSeconds: 7200}]\n")));
  EXPECT_NE(bad_period.find("bad.yaml:24:60: "), std::string::npos) << bad_period;
  EXPECT_NE(bad_period.find("workloads[0].hpa.behavior.scaleUp.policies[0].periodSeconds"),
            std::string::npos)
      << bad_period;
}

TEST(ScenarioTest, Durations) {
  EXPECT_EQ(*ParseDuration("90"), 90);
  EXPECT_EQ(*ParseDuration("90s"), 90);
  EXPECT_EQ(*ParseDuration("1h30m"), 5400);
  EXPECT_EQ(*ParseDuration("12:30"), 45000);
  EXPECT_EQ(*ParseDuration("1d"), 86400);
  EXPECT_FALSE(ParseDuration("5 min").ok());
  EXPECT_FALSE(ParseDuration("10m5").ok());
}

TEST(ScenarioTest, Variants) {
  Result<std::vector<Variant>> v =
      ParseVariants({"scoring=spread+expander=most-pods,autoscaler=off"});
  ASSERT_TRUE(v.ok());
  ASSERT_EQ(v->size(), 2u);
  EXPECT_EQ((*v)[0].label, "scoring=spread+expander=most-pods");
  const Scenario base = MustParse(ConfScenario(0, 1, kFiveEnclavePods));
  Result<Scenario> s = ApplyVariant(base, (*v)[0]);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->scheduling.strategy, ScoringStrategy::kSpread);
  EXPECT_EQ(s->autoscaler.expander, "most-pods");
  EXPECT_FALSE(ApplyVariant(base, *ParseVariant("scoring=tight")).ok());
  EXPECT_FALSE(ApplyVariant(base, *ParseVariant("color=red")).ok());
  EXPECT_FALSE(ParseVariant("scoring").ok());
}

}  // namespace
}  // namespace epc::sim
