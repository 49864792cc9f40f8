// Expanders: which node group to grow when several could help the pending pods. The strategies
// of cluster-autoscaler's expanders (least-waste, most-pods, priority, random), with EPC counted
// wherever cpu and memory are.
//
// An expander sees the estimator's result per group as ExpansionOptions and returns the index of
// the option to take plus a score per option, so a report can say why the others lost. Every
// strategy is deterministic for equal inputs except random, whose generator the caller seeds.
// The options and the NodeInfo templates they point to are owned by the caller.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <regex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/model/resources.h"
#include "common/policy/fit.h"
#include "common/util/result.h"

namespace epc::cluster {

struct ExpansionOption {
  std::string group;                        // node group name
  int node_count = 0;                       // new nodes the estimator asks for
  std::vector<int> pods;                    // the pods they would take (indices of the caller's)
  Resources pods_requested;                 // sum of those pods' requests
  const NodeInfo* node_template = nullptr;  // not owned
};

struct ExpanderChoice {
  int chosen = -1;             // index into the options; -1 when there are none
  std::vector<double> scores;  // one per option, see Expander::ScoreName()
};

class Expander {
 public:
  virtual ~Expander() = default;
  virtual std::string_view Name() const = 0;
  // What the scores mean, for reports: "waste" (lower wins), "pods", "priority" (higher wins).
  virtual std::string_view ScoreName() const = 0;
  virtual ExpanderChoice Choose(std::span<const ExpansionOption> options) = 0;
};

// The wasted fraction of the new nodes once the pods are on them: for cpu, memory and (when the
// template has EPC) EPC, (allocatable x node_count - requested) / (allocatable x node_count),
// averaged over those resources. Resources the template lacks are left out of the average.
double WasteScore(const ExpansionOption& option);

// The default. Least waste wins; ties (within 1e-9) go to fewer nodes, then to the group name.
// cluster-autoscaler sums cpu and memory waste of node capacity and breaks ties at random; this
// averages over allocatable (what pods can use) with EPC included, so a 168 MiB EPC group is not
// grown for pods a 112 MiB group holds as well.
class LeastWasteExpander final : public Expander {
 public:
  std::string_view Name() const override { return "least-waste"; }
  std::string_view ScoreName() const override { return "waste"; }
  ExpanderChoice Choose(std::span<const ExpansionOption> options) override;
};

// Most pods placed wins; ties are decided as least-waste decides.
class MostPodsExpander final : public Expander {
 public:
  std::string_view Name() const override { return "most-pods"; }
  std::string_view ScoreName() const override { return "pods"; }
  ExpanderChoice Choose(std::span<const ExpansionOption> options) override;
};

// Group-name regular expressions (ECMAScript, matched anywhere in the name as Go's
// regexp.MatchString does), highest priority first. A group's priority is that of the first
// pattern it matches: patterns.size() for the first, 1 for the last, 0 for no match. The highest
// priority wins; ties are decided as least-waste decides.
class PriorityExpander final : public Expander {
 public:
  // Errors name the pattern that does not compile.
  static Result<std::unique_ptr<PriorityExpander>> Create(std::vector<std::string> patterns);

  std::string_view Name() const override { return "priority"; }
  std::string_view ScoreName() const override { return "priority"; }
  ExpanderChoice Choose(std::span<const ExpansionOption> options) override;
  int PriorityOf(std::string_view group) const;

  // Compiled patterns, highest priority first (Create() compiles and checks them).
  explicit PriorityExpander(std::vector<std::regex> patterns) : patterns_(std::move(patterns)) {}

 private:
  std::vector<std::regex> patterns_;
};

// Uniformly at random: option rng() % n. The generator is owned by the expander; seed it to make
// decisions reproducible (std::mt19937's output sequence is fixed by the C++ standard).
class RandomExpander final : public Expander {
 public:
  explicit RandomExpander(std::mt19937 rng) : rng_(rng) {}
  std::string_view Name() const override { return "random"; }
  std::string_view ScoreName() const override { return "none"; }
  ExpanderChoice Choose(std::span<const ExpansionOption> options) override;

 private:
  std::mt19937 rng_;
};

struct ExpanderConfig {
  std::string name = "least-waste";     // least-waste, most-pods, priority, random
  std::vector<std::string> priorities;  // priority: patterns, highest first
  uint32_t random_seed = std::mt19937::default_seed;
};

// The expander `config.name` names; errors for an unknown name or a bad priority pattern.
Result<std::unique_ptr<Expander>> MakeExpander(const ExpanderConfig& config);

}  // namespace epc::cluster
