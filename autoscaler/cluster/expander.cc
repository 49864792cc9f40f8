#include "autoscaler/cluster/expander.h"

#include <cmath>
#include <cstddef>
#include <utility>

namespace epc::cluster {
namespace {

constexpr double kEpsilon = 1e-9;

// A negative value when a is better than b, positive when worse, 0 when equal, by least waste,
// then fewer nodes, then name.
int CompareByWaste(const ExpansionOption& a, double waste_a, const ExpansionOption& b,
                   double waste_b) {
  if (std::fabs(waste_a - waste_b) > kEpsilon) return waste_a < waste_b ? -1 : 1;
  if (a.node_count != b.node_count) return a.node_count < b.node_count ? -1 : 1;
  return a.group.compare(b.group);
}

std::vector<double> Wastes(std::span<const ExpansionOption> options) {
  std::vector<double> w;
  w.reserve(options.size());
  for (const ExpansionOption& o : options) w.push_back(WasteScore(o));
  return w;
}

// The best option: highest `primary` (when given), then least waste, fewer nodes, name.
int Best(std::span<const ExpansionOption> options, const std::vector<double>& wastes,
         const std::vector<double>* primary) {
  int best = -1;
  for (size_t i = 0; i < options.size(); ++i) {
    if (best < 0) {
      best = static_cast<int>(i);
      continue;
    }
    const size_t b = static_cast<size_t>(best);
    if (primary != nullptr && std::fabs((*primary)[i] - (*primary)[b]) > kEpsilon) {
      if ((*primary)[i] > (*primary)[b]) best = static_cast<int>(i);
      continue;
    }
    if (CompareByWaste(options[i], wastes[i], options[b], wastes[b]) < 0) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

double WastedFraction(int64_t allocatable, int node_count, int64_t requested) {
  const long double avail = static_cast<long double>(allocatable) * node_count;
  return static_cast<double>((avail - static_cast<long double>(requested)) / avail);
}

}  // namespace

double WasteScore(const ExpansionOption& option) {
  if (option.node_template == nullptr || option.node_count <= 0) return 1.0;
  const Resources& alloc = option.node_template->allocatable;
  const Resources& req = option.pods_requested;
  double sum = 0;
  int n = 0;
  if (alloc.milli_cpu > 0) {
    sum += WastedFraction(alloc.milli_cpu, option.node_count, req.milli_cpu);
    ++n;
  }
  if (alloc.memory > 0) {
    sum += WastedFraction(alloc.memory, option.node_count, req.memory);
    ++n;
  }
  if (alloc.epc_bytes > 0) {
    sum += WastedFraction(alloc.epc_bytes, option.node_count, req.epc_bytes);
    ++n;
  }
  return n == 0 ? 1.0 : sum / n;
}

ExpanderChoice LeastWasteExpander::Choose(std::span<const ExpansionOption> options) {
  ExpanderChoice c;
  c.scores = Wastes(options);
  c.chosen = Best(options, c.scores, nullptr);
  return c;
}

ExpanderChoice MostPodsExpander::Choose(std::span<const ExpansionOption> options) {
  ExpanderChoice c;
  c.scores.reserve(options.size());
  for (const ExpansionOption& o : options) c.scores.push_back(static_cast<double>(o.pods.size()));
  c.chosen = Best(options, Wastes(options), &c.scores);
  return c;
}

Result<std::unique_ptr<PriorityExpander>> PriorityExpander::Create(
    std::vector<std::string> patterns) {
  std::vector<std::regex> compiled;
  compiled.reserve(patterns.size());
  for (const std::string& p : patterns) {
    try {
      compiled.emplace_back(p, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Error{"priority expander: invalid group-name pattern \"" + p + "\": " + e.what()};
    }
  }
  return std::make_unique<PriorityExpander>(std::move(compiled));
}

int PriorityExpander::PriorityOf(std::string_view group) const {
  for (size_t i = 0; i < patterns_.size(); ++i) {
    if (std::regex_search(group.begin(), group.end(), patterns_[i])) {
      return static_cast<int>(patterns_.size() - i);
    }
  }
  return 0;
}

ExpanderChoice PriorityExpander::Choose(std::span<const ExpansionOption> options) {
  ExpanderChoice c;
  c.scores.reserve(options.size());
  for (const ExpansionOption& o : options) c.scores.push_back(PriorityOf(o.group));
  c.chosen = Best(options, Wastes(options), &c.scores);
  return c;
}

ExpanderChoice RandomExpander::Choose(std::span<const ExpansionOption> options) {
  ExpanderChoice c;
  c.scores.assign(options.size(), 0.0);
  if (!options.empty()) c.chosen = static_cast<int>(rng_() % options.size());
  return c;
}

Result<std::unique_ptr<Expander>> MakeExpander(const ExpanderConfig& config) {
  if (config.name == "least-waste")
    return std::unique_ptr<Expander>(std::make_unique<LeastWasteExpander>());
  if (config.name == "most-pods")
    return std::unique_ptr<Expander>(std::make_unique<MostPodsExpander>());
  if (config.name == "random") {
    return std::unique_ptr<Expander>(
        std::make_unique<RandomExpander>(std::mt19937(config.random_seed)));
  }
  if (config.name == "priority") {
    auto p = PriorityExpander::Create(config.priorities);
    if (!p.ok()) return Error{p.error()};
    return std::unique_ptr<Expander>(std::move(p).value());
  }
  return Error{"unknown expander \"" + config.name +
               "\" (known: least-waste, most-pods, priority, random)"};
}

}  // namespace epc::cluster
