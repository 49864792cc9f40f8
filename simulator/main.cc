// epc-sim: runs a scenario (or the built-in default) through the production decision code on a
// virtual clock and writes summary.txt, timeline.csv, events.csv and report.html.
//
//   epc-sim [SCENARIO.yaml] [--out DIR] [--seed N] [--compare VARIANT[,VARIANT...]...]
//
// This file is the only one of the simulator that touches files and the terminal: the progress
// bar goes to stderr when stderr is a terminal, the summary to stdout.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "simulator/report.h"
#include "simulator/scenario.h"
#include "simulator/simulation.h"

namespace {

constexpr const char* kUsage =
    "usage: epc-sim [SCENARIO.yaml] [--out DIR] [--seed N] [--compare VARIANTS...]\n"
    "\n"
    "  SCENARIO.yaml  the scenario (default: the built-in one, examples/scenarios/default.yaml)\n"
    "  --out DIR      where summary.txt, timeline.csv, events.csv, report.html go (default "
    "out/sim)\n"
    "  --seed N       seed of the simulation's random numbers (default 1)\n"
    "  --compare V..  run variants side by side; a variant is key=value overrides joined by '+',\n"
    "                 variants separated by ',' or spaces, e.g.\n"
    "                   --compare scoring=binpack,scoring=spread\n"
    "                   --compare autoscaler=epc-aware autoscaler=epc-blind\n"
    "                 keys: scoring (binpack|spread), generalPods (deny|penalize|allow),\n"
    "                 autoscaler (on|off|epc-aware|epc-blind),\n"
    "                 expander (least-waste|most-pods|priority|random)\n";

bool WriteFile(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) {
    std::cerr << "epc-sim: cannot write " << path.string() << ": " << std::strerror(errno) << "\n";
    return false;
  }
  return true;
}

class ProgressBar {
 public:
  explicit ProgressBar(bool enabled) : enabled_(enabled) {}
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;
  ~ProgressBar() { Clear(); }

  void Show(const std::string& label, double fraction) {
    if (!enabled_) return;
    constexpr int kWidth = 40;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar += std::string(static_cast<size_t>(kWidth - filled), '.');
    std::fprintf(stderr, "\r[%s] %3d%% %s", bar.c_str(), static_cast<int>(fraction * 100),
                 label.c_str());
    std::fflush(stderr);
    shown_ = true;
  }
  void Clear() {
    if (enabled_ && shown_) std::fputs("\r\033[K", stderr);
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  using namespace epc::sim;
  std::string scenario_path;
  std::string out_dir = "out/sim";
  uint64_t seed = 1;
  std::vector<std::string> compare;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* flag) -> std::string {
      const std::string prefix = std::string(flag) + "=";
      if (arg.rfind(prefix, 0) == 0) return arg.substr(prefix.size());
      if (i + 1 >= argc) {
        std::cerr << "epc-sim: " << flag << " needs a value\n" << kUsage;
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "-h" || arg == "--help") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--out" || arg.rfind("--out=", 0) == 0) {
      out_dir = value("--out");
    } else if (arg == "--seed" || arg.rfind("--seed=", 0) == 0) {
      const std::string s = value("--seed");
      char* end = nullptr;
      errno = 0;
      const unsigned long long n = std::strtoull(s.c_str(), &end, 10);
      if (s.empty() || *end != '\0' || errno != 0 || s[0] == '-') {
        std::cerr << "epc-sim: --seed: expected a non-negative integer, got \"" << s << "\"\n";
        return 2;
      }
      seed = n;
    } else if (arg == "--compare" || arg.rfind("--compare=", 0) == 0) {
      compare.push_back(value("--compare"));
      // Further non-flag arguments containing '=' are variants too.
      while (i + 1 < argc && argv[i + 1][0] != '-' && std::strchr(argv[i + 1], '=') != nullptr) {
        compare.emplace_back(argv[++i]);
      }
    } else if (!arg.empty() && arg[0] == '-') {
      std::cerr << "epc-sim: unknown flag " << arg << "\n" << kUsage;
      return 2;
    } else if (scenario_path.empty()) {
      scenario_path = arg;
    } else {
      std::cerr << "epc-sim: more than one scenario file\n" << kUsage;
      return 2;
    }
  }

  epc::Result<Scenario> scenario =
      scenario_path.empty() ? ParseScenario(DefaultScenarioText(), "built-in default scenario")
                            : LoadScenarioFile(scenario_path);
  if (!scenario.ok()) {
    std::cerr << "epc-sim: " << scenario.error() << "\n";
    return 1;
  }
  std::vector<Variant> variants;
  if (!compare.empty()) {
    epc::Result<std::vector<Variant>> v = ParseVariants(compare);
    if (!v.ok()) {
      std::cerr << "epc-sim: --compare: " << v.error() << "\n";
      return 2;
    }
    variants = std::move(v).value();
  } else {
    variants.push_back(Variant{"baseline", {}});
  }

  ProgressBar bar(isatty(STDERR_FILENO) != 0);
  std::vector<SimResult> results;
  for (const Variant& variant : variants) {
    epc::Result<Scenario> s = ApplyVariant(*scenario, variant);
    if (!s.ok()) {
      std::cerr << "epc-sim: --compare: " << s.error() << "\n";
      return 2;
    }
    epc::Result<SimResult> r =
        RunSimulation(*s, seed, variant.label, [&](double f) { bar.Show(variant.label, f); });
    if (!r.ok()) {
      bar.Clear();
      std::cerr << "epc-sim: " << r.error() << "\n";
      return 1;
    }
    results.push_back(std::move(r).value());
  }
  bar.Clear();

  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) {
    std::cerr << "epc-sim: cannot create " << out_dir << ": " << ec.message() << "\n";
    return 1;
  }
  ReportInfo info;
  info.scenario = scenario->name;
  info.description = scenario->description;
  info.source = scenario_path.empty() ? "built-in default" : scenario_path;
  info.seed = seed;
  info.duration_s = scenario->duration_s;
  const std::string summary = SummaryTable(results);
  const std::filesystem::path dir(out_dir);
  if (!WriteFile(dir / "summary.txt", summary) ||
      !WriteFile(dir / "timeline.csv", TimelineCsv(results)) ||
      !WriteFile(dir / "events.csv", EventsCsv(results)) ||
      !WriteFile(dir / "report.html", HtmlReport(info, results))) {
    return 1;
  }
  std::cout << "epc-sim: scenario " << scenario->name << " (" << info.source << "), seed " << seed
            << "\n\n"
            << summary << "\nreport: " << (dir / "report.html").string()
            << "\ntimeline: " << (dir / "timeline.csv").string()
            << "\nevents: " << (dir / "events.csv").string() << "\n";
  return 0;
}
