#include "autoscaler/cluster/controller/report_json.h"

#include <nlohmann/json.hpp>

namespace epc::cluster {
namespace {

using json = nlohmann::ordered_json;

json RemovalJson(const RemovalReport& r) {
  return {{"node", r.node}, {"cause", r.cause}, {"outcome", r.outcome}, {"message", r.message}};
}

}  // namespace

std::vector<std::string> ClusterReportJsonLines(const ClusterReconcileReport& report) {
  std::vector<std::string> lines;
  const std::optional<ScaleUpDecision>& up = report.scale_up;
  for (const GroupReport& g : report.groups) {
    json line = {{"kind", "NodeGroup"},
                 {"group", g.group},
                 {"pool", g.pool},
                 {"dryRun", report.dry_run},
                 {"minSize", g.min_size},
                 {"maxSize", g.max_size},
                 {"currentSize", g.target_size},
                 {"targetSize", g.target_size},
                 {"nodes", g.nodes},
                 {"readyNodes", g.ready},
                 {"inBackoff", g.in_backoff},
                 {"templateFrom", g.has_template ? "provider" : "existing_node"},
                 {"decision", "none"}};
    if (up && up->scale_up && up->group == g.group) {
      line["decision"] = "scale_up";
      line["targetSize"] = up->target_size;
      line["pods"] = up->pods;
      line["expander"] = up->expander;
      line["score"] = {{up->score_name, up->score}};
      line["message"] = up->message;
    } else if (up) {
      for (const RejectedGroup& r : up->rejected) {
        if (r.group != g.group) continue;
        json not_chosen = {{"reason", r.reason}, {"message", r.message}};
        if (r.node_count > 0) {
          not_chosen["nodes"] = r.node_count;
          not_chosen["pods"] = r.pod_count;
          not_chosen["score"] = {{up->score_name, r.score}};
        }
        line["notChosen"] = std::move(not_chosen);
      }
    }
    json removals = json::array();
    int removed = 0;
    for (const RemovalReport& r : report.removals) {
      if (r.group != g.group) continue;
      removals.push_back(RemovalJson(r));
      if (r.outcome == "deleted" || r.outcome == "dry_run") ++removed;
    }
    if (!removals.empty()) {
      if (line["decision"] == "none") line["decision"] = "scale_down";
      // A group that grows and sheds a broken node in one loop keeps its scale-up target.
      if (line["decision"] == "scale_down") line["targetSize"] = g.target_size - removed;
      line["removals"] = std::move(removals);
    }
    for (const WithdrawalReport& w : report.withdrawals) {
      if (w.group != g.group) continue;
      line["withdrawn"] = {{"instances", w.instances},
                           {"outcome", w.outcome},
                           {"targetSize", w.target_size},
                           {"message", w.message}};
    }
    if (report.scale_down) {
      json unneeded = json::array();
      for (const NodeScaleDownStatus& n : report.scale_down->nodes) {
        if (n.group == g.group && n.unneeded_seconds >= 0) {
          unneeded.push_back({{"node", n.node},
                              {"unneededSeconds", n.unneeded_seconds},
                              {"share", n.share},
                              {"status", n.status}});
        }
      }
      line["unneededNodes"] = std::move(unneeded);
    }
    lines.push_back(line.dump());
  }

  json summary = {{"kind", "ClusterAutoscaler"},
                  {"dryRun", report.dry_run},
                  {"pendingPods", report.pending_pods}};
  if (up) {
    summary["podsFitExisting"] = up->pods_fit_existing;
    summary["podsFitUpcoming"] = up->pods_fit_upcoming;
    summary["podsUnhelped"] = up->pods_unhelped;
    summary["scaleUp"] = up->scale_up ? json(up->group) : json(nullptr);
    summary["message"] = up->message;
  }
  if (!report.scale_up_skipped.empty()) summary["scaleUpSkipped"] = report.scale_up_skipped;
  json timeouts = json::array();
  for (const ProvisioningTimeout& t : report.timeouts) {
    timeouts.push_back({{"group", t.group}, {"message", t.message}});
  }
  summary["provisioningTimeouts"] = std::move(timeouts);
  summary["errors"] = report.errors;
  lines.push_back(summary.dump());
  return lines;
}

}  // namespace epc::cluster
