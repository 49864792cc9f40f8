// Report rendering. Numbers are printed with snprintf and fixed formats so that equal results
// give equal bytes.
#include "simulator/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace epc::sim {
namespace {

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), format, v);
  return buf;
}

std::string Mib(int64_t bytes) { return Fmt("%.0f", static_cast<double>(bytes) / 1048576.0); }

std::string Clock(int64_t t) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%02lld:%02lld", static_cast<long long>(t / 3600),
                static_cast<long long>((t / 60) % 60));
  return buf;
}

std::string Seconds(int64_t s) {
  if (s < 120) return std::to_string(s) + "s";
  if (s < 7200) return Fmt("%.1fm", static_cast<double>(s) / 60.0);
  return Fmt("%.1fh", static_cast<double>(s) / 3600.0);
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string CsvField(std::string_view s) {
  if (s.find_first_of(",\"\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

// Rows of the summary: a label and one cell per result.
using Row = std::pair<std::string, std::vector<std::string>>;

std::vector<Row> SummaryRows(const std::vector<SimResult>& results) {
  std::vector<Row> rows;
  auto add = [&](std::string label, auto cell) {
    Row r{std::move(label), {}};
    for (const SimResult& res : results) r.second.push_back(cell(res));
    rows.push_back(std::move(r));
  };
  add("pods created", [](const SimResult& r) { return std::to_string(r.summary.pods_created); });
  add("pods placed", [](const SimResult& r) { return std::to_string(r.summary.pods_placed); });
  add("pending time p50", [](const SimResult& r) { return Seconds(r.summary.pending_p50_s); });
  add("pending time p95", [](const SimResult& r) { return Seconds(r.summary.pending_p95_s); });
  add("pending time max", [](const SimResult& r) { return Seconds(r.summary.pending_max_s); });
  add("pods never placed",
      [](const SimResult& r) { return std::to_string(r.summary.never_placed); });
  add("jobs completed",
      [](const SimResult& r) { return std::to_string(r.summary.jobs_completed); });
  add("pods evicted", [](const SimResult& r) { return std::to_string(r.summary.pods_evicted); });
  if (!results.empty()) {
    for (size_t p = 0; p < results.front().pools.size(); ++p) {
      const std::string& pool = results.front().pools[p];
      add("node-hours " + pool,
          [p](const SimResult& r) { return Fmt("%.1f", r.summary.pools[p].node_hours); });
      add("peak nodes " + pool,
          [p](const SimResult& r) { return std::to_string(r.summary.pools[p].peak_nodes); });
      bool has_epc = false;
      for (const SimResult& r : results) {
        for (const Sample& s : r.samples) has_epc = has_epc || s.epc_capacity[p] > 0;
      }
      if (!has_epc) continue;
      add("EPC mean " + pool, [p](const SimResult& r) {
        const PoolSummary& ps = r.summary.pools[p];
        return Fmt("%.0f MiB", ps.epc_mean_bytes / 1048576.0) +
               Fmt(" (%.0f%%)", ps.epc_mean_share * 100.0);
      });
      add("EPC peak " + pool, [p](const SimResult& r) {
        const PoolSummary& ps = r.summary.pools[p];
        return Mib(ps.epc_peak_bytes) + " MiB" + Fmt(" (%.0f%%)", ps.epc_peak_share * 100.0);
      });
    }
  }
  add("HPA scale-ups / downs", [](const SimResult& r) {
    return std::to_string(r.summary.hpa_scale_ups) + " / " +
           std::to_string(r.summary.hpa_scale_downs);
  });
  add("CA scale-ups (nodes)", [](const SimResult& r) {
    return std::to_string(r.summary.ca_scale_ups) + " (" + std::to_string(r.summary.nodes_added) +
           ")";
  });
  add("CA nodes removed",
      [](const SimResult& r) { return std::to_string(r.summary.nodes_removed); });
  add("node failures", [](const SimResult& r) { return std::to_string(r.summary.node_failures); });
  return rows;
}

struct Series {
  std::string label;
  std::string color;
  bool dashed = false;
  std::vector<double> y;  // one per sample
};

const char* const kPalette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};

// The axis maximum: four ticks of a round step (1, 2, 2.5 or 5 x 10^k) covering v.
double NiceCeil(double v) {
  if (v <= 0) return 4;
  const double raw = v / 4;
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10 * p;
  for (double m : {1.0, 2.0, 2.5, 5.0}) {
    if (raw <= m * p + 1e-9) {
      step = m * p;
      break;
    }
  }
  return std::max(1.0, step) * 4;
}

// One chart panel as an <svg>. `times` are the sample times in seconds.
std::string Svg(const std::string& title, const std::vector<int64_t>& times,
                const std::vector<Series>& series, double y_max, int64_t duration_s) {
  constexpr int kW = 640, kH = 250, kLeft = 56, kRight = 24, kTop = 28, kBottom = 34;
  const int plot_w = kW - kLeft - kRight;
  const int plot_h = kH - kTop - kBottom;
  const int legend_rows = static_cast<int>((series.size() + 2) / 3);
  const int total_h = kH + legend_rows * 16 + 6;
  y_max = NiceCeil(y_max);
  const double x_span = static_cast<double>(std::max<int64_t>(1, duration_s));
  auto X = [&](double t) { return kLeft + t / x_span * plot_w; };
  auto Y = [&](double v) { return kTop + plot_h - v / y_max * plot_h; };
  std::string o;
  o += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + std::to_string(kW) + "\" height=\"" +
       std::to_string(total_h) + "\" viewBox=\"0 0 " + std::to_string(kW) + " " +
       std::to_string(total_h) + "\" role=\"img\" aria-label=\"" + Escape(title) + "\">\n";
  o += "<rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\n";
  o += "<text x=\"" + std::to_string(kLeft) + "\" y=\"18\" class=\"t\">" + Escape(title) +
       "</text>\n";
  // Grid and y ticks.
  for (int i = 0; i <= 4; ++i) {
    const double v = y_max * i / 4;
    const std::string y = Fmt("%.1f", Y(v));
    o += "<line x1=\"" + std::to_string(kLeft) + "\" x2=\"" + std::to_string(kLeft + plot_w) +
         "\" y1=\"" + y + "\" y2=\"" + y + "\" stroke=\"#e5e5e5\"/>\n";
    o += "<text x=\"" + std::to_string(kLeft - 6) + "\" y=\"" + Fmt("%.1f", Y(v) + 4) +
         "\" text-anchor=\"end\">" + (y_max >= 10 ? Fmt("%.0f", v) : Fmt("%.2g", v)) + "</text>\n";
  }
  // x ticks: hours.
  const int64_t step = duration_s > 12 * 3600 ? 3 * 3600 : (duration_s > 3 * 3600 ? 3600 : 900);
  for (int64_t t = 0; t <= duration_s; t += step) {
    const std::string x = Fmt("%.1f", X(static_cast<double>(t)));
    o += "<line x1=\"" + x + "\" x2=\"" + x + "\" y1=\"" + std::to_string(kTop + plot_h) +
         "\" y2=\"" + std::to_string(kTop + plot_h + 4) + "\" stroke=\"#888\"/>\n";
    o += "<text x=\"" + x + "\" y=\"" + std::to_string(kTop + plot_h + 16) +
         "\" text-anchor=\"middle\">" + Clock(t) + "</text>\n";
  }
  o += "<rect x=\"" + std::to_string(kLeft) + "\" y=\"" + std::to_string(kTop) + "\" width=\"" +
       std::to_string(plot_w) + "\" height=\"" + std::to_string(plot_h) +
       "\" fill=\"none\" stroke=\"#888\"/>\n";
  // Lines: a step function (the value holds until the next sample).
  for (const Series& s : series) {
    std::string d;
    for (size_t i = 0; i < s.y.size() && i < times.size(); ++i) {
      const std::string x = Fmt("%.1f", X(static_cast<double>(times[i])));
      const std::string y = Fmt("%.1f", Y(std::min(s.y[i], y_max)));
      if (i == 0) {
        d += "M" + x + " " + y;
      } else {
        d += "H" + x + "V" + y;
      }
    }
    o += "<path d=\"" + d + "\" fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"1.6\"" +
         (s.dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>\n";
  }
  // Legend.
  for (size_t i = 0; i < series.size(); ++i) {
    const int col = static_cast<int>(i % 3), row = static_cast<int>(i / 3);
    const int x = kLeft + col * 195;
    const int y = kH + row * 16;
    o += "<line x1=\"" + std::to_string(x) + "\" x2=\"" + std::to_string(x + 18) + "\" y1=\"" +
         std::to_string(y - 4) + "\" y2=\"" + std::to_string(y - 4) + "\" stroke=\"" +
         series[i].color + "\" stroke-width=\"2\"" +
         (series[i].dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>\n";
    o += "<text x=\"" + std::to_string(x + 22) + "\" y=\"" + std::to_string(y) + "\">" +
         Escape(series[i].label) + "</text>\n";
  }
  o += "</svg>\n";
  return o;
}

// The series of chart `chart` for one result.
std::vector<Series> ChartSeries(int chart, const SimResult& r) {
  std::vector<Series> out;
  const size_t pools = r.pools.size();
  auto color = [](size_t i) { return std::string(kPalette[i % std::size(kPalette)]); };
  switch (chart) {
    case 0:  // nodes per pool
      for (size_t p = 0; p < pools; ++p) {
        Series s{r.pools[p], color(p), false, {}};
        Series prov{r.pools[p] + " (provisioning)", color(p), true, {}};
        bool any_prov = false;
        for (const Sample& x : r.samples) {
          s.y.push_back(x.nodes[p]);
          prov.y.push_back(x.provisioning[p]);
          any_prov = any_prov || x.provisioning[p] > 0;
        }
        out.push_back(std::move(s));
        if (any_prov) out.push_back(std::move(prov));
      }
      break;
    case 1: {  // pending pods
      Series s{"pending pods", color(1), false, {}};
      for (const Sample& x : r.samples) s.y.push_back(x.pending_pods);
      out.push_back(std::move(s));
      break;
    }
    case 2:  // EPC
      for (size_t p = 0; p < pools; ++p) {
        bool has = false;
        for (const Sample& x : r.samples) has = has || x.epc_capacity[p] > 0;
        if (!has) continue;
        Series req{r.pools[p] + " requested", color(p), false, {}};
        Series cap{r.pools[p] + " capacity", color(p), true, {}};
        for (const Sample& x : r.samples) {
          req.y.push_back(static_cast<double>(x.epc_requested[p]) / 1048576.0);
          cap.y.push_back(static_cast<double>(x.epc_capacity[p]) / 1048576.0);
        }
        out.push_back(std::move(req));
        out.push_back(std::move(cap));
      }
      break;
    default:  // replicas per workload
      for (size_t w = 0; w < r.workloads.size(); ++w) {
        Series s{r.workloads[w], color(w + 3), false, {}};
        for (const Sample& x : r.samples) s.y.push_back(x.replicas[w]);
        out.push_back(std::move(s));
      }
      break;
  }
  return out;
}

}  // namespace

std::vector<std::string> ChartTitles() {
  return {"Ready nodes per pool", "Pending pods", "EPC requested / capacity per pool (MiB)",
          "Replicas per workload (jobs: running pods)"};
}

std::string SummaryTable(const std::vector<SimResult>& results) {
  const std::vector<Row> rows = SummaryRows(results);
  size_t label_w = 6;
  for (const Row& r : rows) label_w = std::max(label_w, r.first.size());
  std::vector<size_t> col_w;
  for (const SimResult& r : results) col_w.push_back(r.label.size());
  for (const Row& r : rows) {
    for (size_t i = 0; i < r.second.size(); ++i) col_w[i] = std::max(col_w[i], r.second[i].size());
  }
  std::string out;
  auto line = [&](const std::string& label, const std::vector<std::string>& cells) {
    std::string l = label + std::string(label_w - label.size(), ' ');
    for (size_t i = 0; i < cells.size(); ++i) {
      l += "  " + std::string(col_w[i] - cells[i].size(), ' ') + cells[i];
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    out += l + "\n";
  };
  std::vector<std::string> header;
  for (const SimResult& r : results) header.push_back(r.label);
  line("metric", header);
  size_t total = label_w;
  for (size_t w : col_w) total += 2 + w;
  out += std::string(total, '-') + "\n";
  for (const Row& r : rows) line(r.first, r.second);
  for (const SimResult& r : results) {
    for (const NeverPlaced& np : r.summary.never_placed_by_workload) {
      out += "never placed [" + r.label + "] " + np.workload + " x" + std::to_string(np.count) +
             ": " + np.reason + "\n";
    }
  }
  return out;
}

std::string TimelineCsv(const std::vector<SimResult>& results) {
  std::string out = "variant,time_s,clock,pending_pods";
  if (results.empty()) return out + "\n";
  const SimResult& first = results.front();
  for (const std::string& p : first.pools) out += ",nodes_" + CsvField(p);
  for (const std::string& p : first.pools) out += ",provisioning_" + CsvField(p);
  for (const std::string& p : first.pools) out += ",epc_requested_mib_" + CsvField(p);
  for (const std::string& p : first.pools) out += ",epc_capacity_mib_" + CsvField(p);
  for (const std::string& w : first.workloads) out += ",replicas_" + CsvField(w);
  out += "\n";
  for (const SimResult& r : results) {
    for (const Sample& s : r.samples) {
      out += CsvField(r.label) + "," + std::to_string(s.t) + "," + Clock(s.t) + "," +
             std::to_string(s.pending_pods);
      for (int n : s.nodes) out += "," + std::to_string(n);
      for (int n : s.provisioning) out += "," + std::to_string(n);
      for (int64_t b : s.epc_requested) out += "," + Mib(b);
      for (int64_t b : s.epc_capacity) out += "," + Mib(b);
      for (int n : s.replicas) out += "," + std::to_string(n);
      out += "\n";
    }
  }
  return out;
}

std::string EventsCsv(const std::vector<SimResult>& results) {
  std::string out = "variant,time_s,clock,kind,subject,detail\n";
  for (const SimResult& r : results) {
    for (const EventRecord& e : r.events) {
      out += CsvField(r.label) + "," + std::to_string(e.t) + "," + Clock(e.t) + "," + e.kind + "," +
             CsvField(e.subject) + "," + CsvField(e.detail) + "\n";
    }
  }
  return out;
}

std::string HtmlReport(const ReportInfo& info, const std::vector<SimResult>& results) {
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<title>epc-sim: " + Escape(info.scenario) + "</title>\n";
  o += "<style>\n"
       "body{font-family:system-ui,-apple-system,'Segoe UI',Helvetica,Arial,sans-serif;"
       "margin:24px;color:#222;background:#fafafa}\n"
       "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}\n"
       ".meta{color:#555;font-size:13px;margin-bottom:16px}\n"
       "table{border-collapse:collapse;background:#fff;font-size:13px}\n"
       "th,td{border:1px solid #ddd;padding:4px 10px;text-align:right}\n"
       "th:first-child,td:first-child{text-align:left}\n"
       "thead th{background:#f0f0f0}\n"
       ".panels{display:flex;flex-wrap:wrap;gap:12px}\n"
       ".panel{background:#fff;border:1px solid #ddd}\n"
       ".panel h3{font-size:13px;margin:6px 10px 0;color:#333}\n"
       "svg{display:block;font-size:11px;fill:#444}svg "
       ".t{font-size:13px;font-weight:600;fill:#222}\n"
       "ul{font-size:13px}\n"
       "</style>\n</head>\n<body>\n";
  o += "<h1>epc-sim report: " + Escape(info.scenario) + "</h1>\n";
  o += "<div class=\"meta\">" + Escape(info.description) +
       (info.description.empty() ? "" : "<br>") + "Scenario: " + Escape(info.source) +
       " &middot; seed " + std::to_string(info.seed) + " &middot; simulated " +
       Seconds(info.duration_s) + " &middot; " + std::to_string(results.size()) + " variant" +
       (results.size() == 1 ? "" : "s") + "</div>\n";
  o += "<h2>Summary</h2>\n<table>\n<thead><tr><th>metric</th>";
  for (const SimResult& r : results) o += "<th>" + Escape(r.label) + "</th>";
  o += "</tr></thead>\n<tbody>\n";
  for (const Row& row : SummaryRows(results)) {
    o += "<tr><td>" + Escape(row.first) + "</td>";
    for (const std::string& c : row.second) o += "<td>" + Escape(c) + "</td>";
    o += "</tr>\n";
  }
  o += "</tbody>\n</table>\n";
  bool any_never = false;
  for (const SimResult& r : results)
    any_never = any_never || !r.summary.never_placed_by_workload.empty();
  if (any_never) {
    o += "<h2>Pods never placed</h2>\n<ul>\n";
    for (const SimResult& r : results) {
      for (const NeverPlaced& np : r.summary.never_placed_by_workload) {
        o += "<li><b>" + Escape(r.label) + "</b>: " + Escape(np.workload) + " &times; " +
             std::to_string(np.count) + ": " + Escape(np.reason) + "</li>\n";
      }
    }
    o += "</ul>\n";
  }
  const std::vector<std::string> titles = ChartTitles();
  for (size_t c = 0; c < titles.size(); ++c) {
    o += "<h2>" + Escape(titles[c]) + "</h2>\n<div class=\"panels\">\n";
    std::vector<std::vector<Series>> per;
    double y_max = 0;
    for (const SimResult& r : results) {
      per.push_back(ChartSeries(static_cast<int>(c), r));
      for (const Series& s : per.back()) {
        for (double v : s.y) y_max = std::max(y_max, v);
      }
    }
    for (size_t i = 0; i < results.size(); ++i) {
      std::vector<int64_t> times;
      for (const Sample& s : results[i].samples) times.push_back(s.t);
      o += "<div class=\"panel\">\n";
      o += Svg(results.size() == 1 ? titles[c] : results[i].label, times, per[i], y_max,
               info.duration_s);
      o += "</div>\n";
    }
    o += "</div>\n";
  }
  o += "<p class=\"meta\">Generated by epc-sim from the scenario and seed above; the same inputs "
       "give the same report. Timeline: timeline.csv, scale events: events.csv.</p>\n";
  o += "</body>\n</html>\n";
  return o;
}

}  // namespace epc::sim
