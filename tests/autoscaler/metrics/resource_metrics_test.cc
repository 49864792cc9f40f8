#include "autoscaler/metrics/resource_metrics.h"

#include <chrono>
#include <string>

#include <gtest/gtest.h>

namespace epc {
namespace {

TEST(PodMetricsList, SumsContainersPerPod) {
  auto m = ParsePodMetricsList(R"({"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1",
    "metadata":{},"items":[
      {"metadata":{"name":"web-0","namespace":"default"},"timestamp":"2025-04-23T10:00:00Z",
       "window":"15s","containers":[{"name":"a","usage":{"cpu":"250m","memory":"64Mi"}},
                                    {"name":"b","usage":{"cpu":"100m","memory":"1Mi"}}]},
      {"metadata":{"name":"web-1","namespace":"default"},"timestamp":"2025-04-23T10:00:01Z",
       "window":"1m0s","containers":[{"name":"a","usage":{"cpu":"1","memory":"64Mi"}}]}]})",
                               "cpu");
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->size(), 2u);
  EXPECT_EQ(m->at("web-0").value, 350);
  EXPECT_EQ(m->at("web-0").window, std::chrono::seconds(15));
  EXPECT_EQ(m->at("web-1").value, 1000);
  EXPECT_EQ(m->at("web-1").window, std::chrono::minutes(1));
  EXPECT_EQ(m->at("web-1").timestamp - m->at("web-0").timestamp, std::chrono::seconds(1));
}

TEST(PodMetricsList, MemoryInMilliUnits) {
  auto m = ParsePodMetricsList(R"({"items":[{"metadata":{"name":"p"},
      "containers":[{"name":"a","usage":{"cpu":"1m","memory":"1Ki"}}]}]})",
                               "memory");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->at("p").value, 1024000);
}

TEST(PodMetricsList, PodsMissingTheResourceAreLeftOut) {
  auto m = ParsePodMetricsList(R"({"items":[
      {"metadata":{"name":"no-containers"},"containers":[]},
      {"metadata":{"name":"partial"},"containers":[{"name":"a","usage":{"cpu":"1"}},
                                                   {"name":"b","usage":{"memory":"1"}}]},
      {"metadata":{"name":"ok"},"containers":[{"name":"a","usage":{"cpu":"2"}}]}]})",
                               "cpu");
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->size(), 1u);
  EXPECT_EQ(m->at("ok").value, 2000);
}

TEST(PodMetricsList, NoDataIsAnErrorNotZero) {
  EXPECT_EQ(ParsePodMetricsList(R"({"items":[]})", "cpu").error(),
            "no metrics returned from resource metrics API");
  auto none =
      ParsePodMetricsList(R"({"items":[{"metadata":{"name":"p"},"containers":[]}]})", "cpu");
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().rfind("no metrics returned from resource metrics API", 0), 0u);
}

TEST(PodMetricsList, Malformed) {
  for (const char* body : {
           "",
           "{",
           "{}",
           R"({"items":{}})",
           R"({"items":[1]})",
           R"({"items":[{"containers":[]}]})",
           R"({"items":[{"metadata":{"name":"p"},"timestamp":"yesterday","containers":[]}]})",
           R"({"items":[{"metadata":{"name":"p"},"window":"15 parsecs","containers":[]}]})",
           R"({"items":[{"metadata":{"name":"p"},"containers":[{"usage":{"cpu":"1x"}}]}]})",
       }) {
    SCOPED_TRACE(body);
    EXPECT_FALSE(ParsePodMetricsList(body, "cpu").ok());
  }
}

}  // namespace
}  // namespace epc
