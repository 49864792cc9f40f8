#include <string>

#include <gtest/gtest.h>

#include "autoscaler/app/autoscaler_metrics.h"
#include "autoscaler/app/probe_server.h"

namespace epc {
namespace {

TEST(BindAddress, Parses) {
  auto a = ParseBindAddress("0.0.0.0:8080");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->host, "0.0.0.0");
  EXPECT_EQ(a->port, 8080);
  auto any = ParseBindAddress(":9090");
  ASSERT_TRUE(any.ok());
  EXPECT_EQ(any->host, "0.0.0.0");
  auto v6 = ParseBindAddress("[::1]:0");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 0);
  for (const char* bad : {"8080", "host:", "host:x", "host:70000", "host:-1"}) {
    SCOPED_TRACE(bad);
    EXPECT_FALSE(ParseBindAddress(bad).ok());
  }
}

bool Contains(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(AutoscalerMetrics, RendersTheDocumentedNames) {
  AutoscalerMetrics m;
  std::string initial = m.Render();
  EXPECT_TRUE(Contains(initial, "epc_autoscaler_is_leader 0\n")) << initial;
  EXPECT_TRUE(Contains(initial, "epc_autoscaler_errors_total{kind=\"metrics_unavailable\"} 0\n"));
  EXPECT_TRUE(Contains(initial,
                       "epc_autoscaler_reconcile_duration_seconds_count{loop=\"horizontal\"} 0\n"));

  m.SetLeader(true);
  m.SetReplicas("default", "Deployment/web", 2, 4, 1, 10);
  m.SetMetric("default", "Deployment/web", "cpu", 90, 50);
  m.CountScale("default", "Deployment/web", "up");
  m.ObserveReconcile("horizontal", 0.02, 1714000000);
  m.CountError("metrics_unavailable");
  const std::string text = m.Render();
  for (const char* line : {
           "epc_autoscaler_is_leader 1\n",
           "epc_autoscaler_hpa_current_replicas{namespace=\"default\",target=\"Deployment/web\"} "
           "2\n",
           "epc_autoscaler_hpa_desired_replicas{namespace=\"default\",target=\"Deployment/web\"} "
           "4\n",
           "epc_autoscaler_hpa_min_replicas{namespace=\"default\",target=\"Deployment/web\"} 1\n",
           "epc_autoscaler_hpa_max_replicas{namespace=\"default\",target=\"Deployment/web\"} 10\n",
           "epc_autoscaler_hpa_metric_value{metric=\"cpu\",namespace=\"default\",target="
           "\"Deployment/web\"} 90\n",
           "epc_autoscaler_hpa_metric_target{metric=\"cpu\",namespace=\"default\",target="
           "\"Deployment/web\"} 50\n",
           "epc_autoscaler_hpa_scale_events_total{direction=\"up\",namespace=\"default\",target="
           "\"Deployment/web\"} 1\n",
           "epc_autoscaler_reconcile_duration_seconds_count{loop=\"horizontal\"} 1\n",
           "epc_autoscaler_last_reconcile_timestamp_seconds{loop=\"horizontal\"} 1714000000\n",
           "epc_autoscaler_errors_total{kind=\"metrics_unavailable\"} 1\n",
       }) {
    EXPECT_TRUE(Contains(text, line)) << line << "\n" << text;
  }
  // The node-group metrics belong to the cluster autoscaler, not exported here.
  EXPECT_FALSE(Contains(text, "node_group"));

  // A metric that could not be read loses its value series but keeps its target.
  m.SetMetric("default", "Deployment/web", "cpu", std::nullopt, 50);
  const std::string after = m.Render();
  EXPECT_FALSE(Contains(after, "epc_autoscaler_hpa_metric_value{"));
  EXPECT_TRUE(Contains(after, "epc_autoscaler_hpa_metric_target{metric=\"cpu\""));
}

}  // namespace
}  // namespace epc
