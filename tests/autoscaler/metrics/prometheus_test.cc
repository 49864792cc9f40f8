#include "autoscaler/metrics/prometheus.h"

#include <cmath>
#include <limits>
#include <string>

#include <gtest/gtest.h>

#include "autoscaler/horizontal/replica_calculator.h"

namespace epc {
namespace {

PromQueryResult MustParse(const std::string& body, int status = 200) {
  Result<PromQueryResult> r = ParsePrometheusResponse(status, body);
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : PromQueryResult{};
}

std::string ParseError(const std::string& body, int status = 200) {
  Result<PromQueryResult> r = ParsePrometheusResponse(status, body);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? std::string() : r.error();
}

// ---- ParsePrometheusResponse ----

TEST(PrometheusResponse, Vector) {
  PromQueryResult r = MustParse(R"({"status":"success","data":{"resultType":"vector","result":[
    {"metric":{"__name__":"app_requests_per_second","namespace":"default","pod":"web-0"},
     "value":[1714000000.5,"50"]},
    {"metric":{"namespace":"default","pod":"web-1"},"value":[1714000000.5,"12.25"]}]}})");
  EXPECT_EQ(r.result_type, "vector");
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_EQ(r.samples[0].labels.at("pod"), "web-0");
  EXPECT_EQ(r.samples[0].labels.at("__name__"), "app_requests_per_second");
  EXPECT_DOUBLE_EQ(r.samples[0].value, 50);
  EXPECT_DOUBLE_EQ(r.samples[0].timestamp, 1714000000.5);
  EXPECT_DOUBLE_EQ(r.samples[1].value, 12.25);
}

TEST(PrometheusResponse, Scalar) {
  PromQueryResult r =
      MustParse(R"({"status":"success","data":{"resultType":"scalar","result":[1714000000,"7"]}})");
  EXPECT_EQ(r.result_type, "scalar");
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_TRUE(r.samples[0].labels.empty());
  EXPECT_DOUBLE_EQ(r.samples[0].value, 7);
}

TEST(PrometheusResponse, EmptyVectorIsValidAndEmpty) {
  PromQueryResult r =
      MustParse(R"({"status":"success","data":{"resultType":"vector","result":[]}})");
  EXPECT_EQ(r.result_type, "vector");
  EXPECT_TRUE(r.samples.empty());
}

TEST(PrometheusResponse, SpecialValues) {
  PromQueryResult r = MustParse(R"({"status":"success","data":{"resultType":"vector","result":[
    {"metric":{"pod":"a"},"value":[1,"NaN"]},{"metric":{"pod":"b"},"value":[1,"+Inf"]},
    {"metric":{"pod":"c"},"value":[1,"-Inf"]},{"metric":{"pod":"d"},"value":[1,"1e3"]}]}})");
  ASSERT_EQ(r.samples.size(), 4u);
  EXPECT_TRUE(std::isnan(r.samples[0].value));
  EXPECT_TRUE(std::isinf(r.samples[1].value));
  EXPECT_TRUE(std::isinf(r.samples[2].value));
  EXPECT_DOUBLE_EQ(r.samples[3].value, 1000);
}

TEST(PrometheusResponse, WarningsAreIgnored) {
  PromQueryResult r = MustParse(
      R"({"status":"success","warnings":["careful"],"data":{"resultType":"vector","result":[]}})");
  EXPECT_TRUE(r.samples.empty());
}

TEST(PrometheusResponse, ErrorStatus) {
  // What Prometheus answers for a bad query: 400 with status "error".
  std::string e = ParseError(
      R"({"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"})",
      400);
  EXPECT_EQ(e, "query failed (bad_data): invalid parameter \"query\": 1:5: parse error");
  EXPECT_EQ(
      ParseError(R"({"status":"error","errorType":"timeout","error":"query timed out"})", 503),
      "query failed (timeout): query timed out");
}

TEST(PrometheusResponse, HttpErrorWithoutJson) {
  EXPECT_EQ(ParseError("502 Bad Gateway", 502), "HTTP 502: 502 Bad Gateway");
}

TEST(PrometheusResponse, Malformed) {
  for (
      const char* body : {
          "",
          "not json",
          "[]",
          R"({"data":{}})",
          R"({"status":"success"})",
          R"({"status":"success","data":{"result":[]}})",
          R"({"status":"success","data":{"resultType":"vector"}})",
          R"({"status":"success","data":{"resultType":"vector","result":{}}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{}}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1]}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,2]}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":["1","2"]}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"value":[1,"x"]}]}})",
          R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":1},"value":[1,"2"]}]}})",
          R"({"status":"success","data":{"resultType":"scalar","result":[]}})",
      }) {
    SCOPED_TRACE(body);
    ParseError(body);
  }
}

TEST(PrometheusResponse, MatrixAndStringAreRejected) {
  EXPECT_NE(ParseError(R"({"status":"success","data":{"resultType":"matrix","result":[]}})")
                .find("\"matrix\" is not supported"),
            std::string::npos);
  EXPECT_NE(ParseError(R"({"status":"success","data":{"resultType":"string","result":[1,"a"]}})")
                .find("\"string\" is not supported"),
            std::string::npos);
}

TEST(PrometheusResponse, SuccessWithErrorHttpStatusIsAnError) {
  EXPECT_EQ(ParseError(R"({"status":"success","data":{"resultType":"vector","result":[]}})", 500)
                .substr(0, 9),
            "HTTP 500:");
}

// ---- Values ----

TEST(PrometheusValues, MilliUnitsTruncate) {
  EXPECT_EQ(SampleMilli(50), 50000);
  EXPECT_EQ(SampleMilli(0.0015), 1);  // truncated, as prometheus-adapter
  EXPECT_EQ(SampleMilli(-1.5), -1500);
  EXPECT_EQ(SampleMilli(1e300), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(SampleMilli(-1e300), std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(SampleMilli(std::nan("")));
  EXPECT_FALSE(SampleMilli(std::numeric_limits<double>::infinity()));
}

// ---- Per-pod matching ----

PromQueryResult Vector(std::initializer_list<std::pair<Labels, double>> samples) {
  PromQueryResult r;
  r.result_type = "vector";
  for (const auto& [labels, value] : samples) r.samples.push_back({labels, value, 1714000000});
  return r;
}

TEST(MatchPodSamples, MatchesByPodAndNamespace) {
  const hpa::PodNameSet pods{"web-0", "web-1", "web-2"};
  auto m = MatchPodSamples(Vector({{{{"namespace", "default"}, {"pod", "web-0"}}, 50},
                                   {{{"namespace", "default"}, {"pod", "web-1"}}, 30},
                                   {{{"namespace", "other"}, {"pod", "web-2"}}, 1000},
                                   {{{"namespace", "default"}, {"pod", "db-0"}}, 1000},
                                   {{{"instance", "x"}}, 1000}}),
                           "default", pods);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ(m->at("web-0").value, 50000);
  EXPECT_EQ(m->at("web-1").value, 30000);
  EXPECT_FALSE(m->contains("web-2"));  // another namespace's pod of the same name
  // The sample's timestamp is kept.
  EXPECT_EQ(m->at("web-0").timestamp,
            std::chrono::system_clock::time_point(std::chrono::seconds(1714000000)));
}

TEST(MatchPodSamples, WithoutNamespaceLabelMatchesByPodOnly) {
  auto m = MatchPodSamples(Vector({{{{"pod", "web-0"}}, 5}}), "default", {"web-0"});
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->at("web-0").value, 5000);
}

TEST(MatchPodSamples, SeveralSeriesOfOnePodAreSummed) {
  auto m = MatchPodSamples(Vector({{{{"pod", "web-0"}, {"container", "a"}}, 5},
                                   {{{"pod", "web-0"}, {"container", "b"}}, 7}}),
                           "default", {"web-0"});
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->at("web-0").value, 12000);
}

TEST(MatchPodSamples, NaNIsMissingNotZero) {
  auto m = MatchPodSamples(Vector({{{{"pod", "web-0"}}, std::nan("")}, {{{"pod", "web-1"}}, 4}}),
                           "default", {"web-0", "web-1"});
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_FALSE(m->contains("web-0"));
  EXPECT_EQ(m->at("web-1").value, 4000);
}

TEST(MatchPodSamples, NothingMatchingIsAnError) {
  auto empty = MatchPodSamples(Vector({}), "default", {"web-0"});
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("no sample for any of the 1 pods"), std::string::npos);
  auto others =
      MatchPodSamples(Vector({{{{"pod", "db-0"}}, 1}, {{{"job", "x"}}, 1}}), "default", {"web-0"});
  ASSERT_FALSE(others.ok());
  EXPECT_NE(others.error().find("1 without a pod label, 1 of other pods"), std::string::npos);
  auto nan = MatchPodSamples(Vector({{{{"pod", "web-0"}}, std::nan("")}}), "default", {"web-0"});
  ASSERT_FALSE(nan.ok());
  EXPECT_NE(nan.error().find("1 NaN or infinite"), std::string::npos);
}

TEST(MatchPodSamples, ScalarIsAnError) {
  PromQueryResult r;
  r.result_type = "scalar";
  r.samples.push_back({{}, 1, 1});
  auto m = MatchPodSamples(r, "default", {"web-0"});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("needs a vector"), std::string::npos);
}

// The HPA's Pods metric averages the matched samples over the pods that have one (the calculator
// does it; this pins down that matched samples feed it as the custom metrics API would).
TEST(MatchPodSamples, AveragedAsThePodsMetric) {
  auto m = MatchPodSamples(Vector({{{{"pod", "web-0"}}, 50},
                                   {{{"pod", "web-1"}}, 30},
                                   {{{"pod", "web-2"}}, 10},
                                   {{{"pod", "other"}}, 1000}}),
                           "default", {"web-0", "web-1", "web-2", "web-3"});
  ASSERT_TRUE(m.ok()) << m.error();
  hpa::MetricUsage usage = hpa::GetMetricUsageRatio(*m, /*target_usage=*/10000);
  EXPECT_EQ(usage.usage, 30000);  // (50 + 30 + 10) / 3, web-3 has no sample
  EXPECT_DOUBLE_EQ(usage.ratio, 3.0);
}

// ---- Object and External values ----

TEST(SingleSampleValue, OneSampleOrScalar) {
  EXPECT_EQ(*SingleSampleValue(Vector({{{{"job", "x"}}, 2.5}})), 2500);
  PromQueryResult scalar;
  scalar.result_type = "scalar";
  scalar.samples.push_back({{}, 7, 1});
  EXPECT_EQ(*SingleSampleValue(scalar), 7000);
}

TEST(SingleSampleValue, Errors) {
  EXPECT_EQ(SingleSampleValue(Vector({})).error(), "the query returned no data");
  EXPECT_NE(SingleSampleValue(Vector({{{{"a", "1"}}, 1}, {{{"a", "2"}}, 2}}))
                .error()
                .find("returned 2 samples"),
            std::string::npos);
  EXPECT_FALSE(SingleSampleValue(Vector({{{}, std::nan("")}})).ok());
}

TEST(AllSampleValues, EverySample) {
  auto v =
      AllSampleValues(Vector({{{{"a", "1"}}, 1}, {{{"a", "2"}}, 2}, {{{"a", "3"}}, std::nan("")}}));
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(*v, (std::vector<int64_t>{1000, 2000}));
  EXPECT_EQ(AllSampleValues(Vector({})).error(), "the query returned no data");
  EXPECT_FALSE(AllSampleValues(Vector({{{}, std::nan("")}})).ok());
}

// ---- The HTTP client, against nothing ----

TEST(PrometheusClient, DownIsAnErrorNamingTheUrl) {
  // Port 1 on loopback: nothing listens there.
  PrometheusClient client("http://127.0.0.1:1", std::chrono::seconds(1));
  auto r = client.Query("up");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "prometheus http://127.0.0.1:1: cannot connect");
}

}  // namespace
}  // namespace epc
