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
  // No node group has been reported: no node-group series.
  EXPECT_FALSE(Contains(text, "epc_autoscaler_node_group_current_size{"));

  // A metric that could not be read loses its value series but keeps its target.
  m.SetMetric("default", "Deployment/web", "cpu", std::nullopt, 50);
  const std::string after = m.Render();
  EXPECT_FALSE(Contains(after, "epc_autoscaler_hpa_metric_value{"));
  EXPECT_TRUE(Contains(after, "epc_autoscaler_hpa_metric_target{metric=\"cpu\""));
}

TEST(AutoscalerMetrics, ClusterAutoscalerTotalsBecomeCounters) {
  AutoscalerMetrics m;
  EXPECT_TRUE(Contains(m.Render(), "epc_autoscaler_pending_pods{reason=\"no_group_fits\"} 0\n"));
  cluster::ClusterAutoscalerMetrics c;
  c.groups.push_back({"sgx", 2, 3, 0, 10, 1, 0, 0, 1});
  c.groups.push_back({"general", 4, 4, 1, 20, 0, 2, 1, 0});
  c.pending_pods["scale_up_triggered"] = 5;
  c.errors_total["provider_error"] = 2;
  m.UpdateCluster(c);
  m.ObserveReconcile("cluster", 0.01, 1714000000);
  std::string text = m.Render();
  for (const char* line : {
           "epc_autoscaler_node_group_current_size{group=\"sgx\"} 2\n",
           "epc_autoscaler_node_group_target_size{group=\"sgx\"} 3\n",
           "epc_autoscaler_node_group_min_size{group=\"general\"} 1\n",
           "epc_autoscaler_node_group_max_size{group=\"general\"} 20\n",
           "epc_autoscaler_node_group_scale_ups_total{group=\"sgx\"} 1\n",
           "epc_autoscaler_node_group_scale_downs_total{group=\"general\"} 2\n",
           "epc_autoscaler_node_group_backoffs_total{group=\"general\"} 1\n",
           "epc_autoscaler_unneeded_nodes{group=\"sgx\"} 1\n",
           "epc_autoscaler_pending_pods{reason=\"scale_up_triggered\"} 5\n",
           "epc_autoscaler_pending_pods{reason=\"no_group_fits\"} 0\n",
           "epc_autoscaler_errors_total{kind=\"provider_error\"} 2\n",
           "epc_autoscaler_reconcile_duration_seconds_count{loop=\"cluster\"} 1\n",
       }) {
    EXPECT_TRUE(Contains(text, line)) << line << "\n" << text;
  }
  // The controller reports totals; the counters follow them without double counting, and the
  // HPA loop's errors of the same kind add up.
  c.groups[0].scale_ups_total = 3;
  c.groups.pop_back();  // the general group is gone
  c.pending_pods.clear();
  m.UpdateCluster(c);
  m.UpdateCluster(c);
  m.CountError("provider_error");
  text = m.Render();
  EXPECT_TRUE(Contains(text, "epc_autoscaler_node_group_scale_ups_total{group=\"sgx\"} 3\n"));
  EXPECT_TRUE(Contains(text, "epc_autoscaler_errors_total{kind=\"provider_error\"} 3\n"));
  EXPECT_TRUE(Contains(text, "epc_autoscaler_pending_pods{reason=\"scale_up_triggered\"} 0\n"));
  EXPECT_FALSE(Contains(text, "epc_autoscaler_node_group_current_size{group=\"general\"}"));
}

}  // namespace
}  // namespace epc
