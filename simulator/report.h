// Report rendering: simulation results as text. The summary table (stdout and summary.txt), the
// timeline CSV, the scale-event CSV and a self-contained HTML report with inline SVG charts
// (no scripts, fonts or stylesheets from elsewhere: it opens offline).
//
// Several results are variants of one scenario (--compare): the summary gets one column per
// variant, the CSVs a `variant` column, the HTML one chart panel per variant with shared axes.
// Pure string building: deterministic for equal inputs (fixed number formats, no clock); the
// caller writes the files.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "simulator/simulation.h"

namespace epc::sim {

struct ReportInfo {
  std::string scenario;
  std::string description;
  std::string source;  // the scenario file, or "built-in default"
  uint64_t seed = 0;
  int64_t duration_s = 0;
};

std::string SummaryTable(const std::vector<SimResult>& results);
std::string TimelineCsv(const std::vector<SimResult>& results);
std::string EventsCsv(const std::vector<SimResult>& results);
std::string HtmlReport(const ReportInfo& info, const std::vector<SimResult>& results);

// The titles of the charts every variant gets one <svg> of, in report order.
std::vector<std::string> ChartTitles();

}  // namespace epc::sim
