// Scenario parsing: each section is one ParseX(const Value&, X&) walking its map with
// Value::Map() (common/config/yaml_walker.h, shared with the config parser), which rejects unknown
// and duplicate keys with their positions, as common/config does for the shared configuration.
#include "simulator/scenario.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <set>

#include "common/config/config_sections.h"
#include "common/config/yaml_walker.h"
#include "common/model/quantity.h"
#include "common/model/selectors.h"
#include "common/util/file.h"

namespace epc::sim {
namespace {

using yaml::Quote;
using yaml::Value;

constexpr int64_t kMaxDuration = 366LL * 24 * 3600;

int64_t DurationOf(const Value& v) {
  Result<int64_t> d = ParseDuration(v.String());
  if (!d.ok()) v.Fail(d.error());
  return *d;
}

double NonNegativeDouble(const Value& v) {
  const std::string text = v.String();
  char* end = nullptr;
  errno = 0;
  const double d = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(d) ||
      d < 0) {
    v.Fail("expected a non-negative number, got " + Quote(text));
  }
  return d;
}

const char* const kExpanders[] = {"least-waste", "most-pods", "priority", "random"};

void ParseAutoscaler(const Value& v, AutoscalerScenario& out) {
  v.Map({
      {"enabled", [&](const Value& f) { out.enabled = f.Bool(); }},
      {"epcAware", [&](const Value& f) { out.epc_aware = f.Bool(); }},
      {"expander", [&](const Value& f) { out.expander = ParseExpanderName(f); }},
      {"priorities", [&](const Value& f) { out.priorities = f.StringList(); }},
      {"scanInterval",
       [&](const Value& f) {
         out.scan_interval_s = DurationOf(f);
         if (out.scan_interval_s < 1) f.Fail("must be at least 1s");
       }},
      {"scaleDownUtilizationThreshold",
       [&](const Value& f) {
         out.scale_down_utilization_threshold = NonNegativeDouble(f);
         if (out.scale_down_utilization_threshold > 1) f.Fail("must be between 0 and 1");
       }},
      {"scaleDownUnneededTime", [&](const Value& f) { out.scale_down_unneeded_s = DurationOf(f); }},
      {"scaleDownDelayAfterAdd",
       [&](const Value& f) { out.scale_down_delay_after_add_s = DurationOf(f); }},
      {"maxNodesTotal",
       [&](const Value& f) { out.max_nodes_total = static_cast<int>(f.Int(0, 1'000'000)); }},
  });
}

void ParseNodeGroups(const Value& v, std::vector<NodeGroupScenario>& out) {
  std::set<std::string, std::less<>> names;
  v.List([&](const Value& item) {
    if (item.IsNull()) item.Fail("expected a map, got null");
    NodeGroupScenario g;
    bool has_max = false;
    item.Map({
        {"name",
         [&](const Value& f) {
           g.name = f.NonEmptyString();
           if (!names.insert(g.name).second) f.Fail("duplicate node group " + Quote(g.name));
         },
         /*required=*/true},
        {"pool", [&](const Value& f) { g.pool = f.String(); }},
        {"minSize", [&](const Value& f) { g.min_size = static_cast<int>(f.Int(0, 100000)); }},
        {"maxSize",
         [&](const Value& f) {
           g.max_size = static_cast<int>(f.Int(0, 100000));
           has_max = true;
         }},
        {"initialSize",
         [&](const Value& f) { g.initial_size = static_cast<int>(f.Int(0, 100000)); }},
        {"provisioningDelay", [&](const Value& f) { g.provisioning_delay_s = DurationOf(f); }},
        {"labels", [&](const Value& f) { ParseLabels(f, g.template_node.labels); }},
        {"taints", [&](const Value& f) { ParseTaints(f, g.template_node.taints); }},
        {"capacity", [&](const Value& f) { ParseResourceList(f, g.template_node.capacity); }},
        {"allocatable", [&](const Value& f) { ParseResourceList(f, g.template_node.allocatable); },
         /*required=*/true},
    });
    if (!has_max) g.max_size = std::max(g.initial_size, g.min_size);
    if (g.max_size < g.min_size) item.Fail("maxSize is smaller than minSize");
    if (g.initial_size > g.max_size) item.Fail("initialSize is larger than maxSize");
    CompleteNodeTemplate(g.template_node, g.name + "-template");
    out.push_back(std::move(g));
  });
}

void ParseLoadPoints(const Value& v, std::vector<LoadPoint>& out) {
  v.List([&](const Value& item) {
    LoadPoint p;
    item.Map({
        {"at", [&](const Value& f) { p.at_s = DurationOf(f); }, /*required=*/true},
        {"rps", [&](const Value& f) { p.rps = NonNegativeDouble(f); }, /*required=*/true},
    });
    if (!out.empty() && p.at_s < out.back().at_s) item.Fail("points must be in time order");
    out.push_back(p);
  });
}

void ParseLoad(const Value& v, WorkloadScenario& w) {
  v.Map({
      {"cpuPerRequest",
       [&](const Value& f) { w.cpu_per_request_milli = ParseNonNegativeQuantity(f).MilliValue(); },
       /*required=*/true},
      {"points", [&](const Value& f) { ParseLoadPoints(f, w.load); }, /*required=*/true},
  });
}

void ParseHpa(const Value& v, HpaScenario& h) {
  v.Map({
      {"minReplicas",
       [&](const Value& f) { h.min_replicas = static_cast<int32_t>(f.Int(1, 100000)); }},
      {"maxReplicas",
       [&](const Value& f) { h.max_replicas = static_cast<int32_t>(f.Int(1, 100000)); },
       /*required=*/true},
      {"targetCPUUtilizationPercentage",
       [&](const Value& f) { h.target_cpu_utilization = static_cast<int32_t>(f.Int(1, 10000)); }},
      {"behavior", [&](const Value& f) { ParseHpaBehavior(f, h.behavior.emplace()); }},
  });
  if (h.max_replicas < h.min_replicas) v.Fail("maxReplicas is smaller than minReplicas");
}

void ParseArrival(const Value& v, WorkloadScenario& w) {
  v.Map({
      {"from", [&](const Value& f) { w.arrival_from_s = DurationOf(f); }},
      {"to", [&](const Value& f) { w.arrival_to_s = DurationOf(f); }},
      {"random", [&](const Value& f) { w.arrival_random = f.Bool(); }},
  });
  if (w.arrival_to_s < w.arrival_from_s) v.Fail("`to` is before `from`");
}

// The pod template of a workload: one container with the requests (limits equal requests for
// extended resources such as EPC, which can only be set that way), owned by a controller.
void FinishPodTemplate(WorkloadScenario& w, const ResourceQuantities& requests,
                       const EpcResources& epc) {
  Pod& pod = w.pod;
  pod.name = w.name;
  pod.namespace_name = "default";
  pod.uid = w.name;
  pod.phase = "Pending";
  pod.labels.insert_or_assign("app", w.name);
  Container c;
  c.name = "main";
  for (const auto& [name, q] : requests) {
    if (name == "cpu" || name == "memory" || name == "ephemeral-storage") {
      c.requests.insert_or_assign(name, q);
    } else {
      c.requests.insert_or_assign(name, q);
      c.limits.insert_or_assign(name, q);
    }
  }
  (void)epc;
  pod.containers = {std::move(c)};
  OwnerReference owner;
  owner.controller = true;
  if (w.kind == WorkloadKind::kJob) {
    owner.api_version = "batch/v1";
    owner.kind = "Job";
    owner.name = w.name;
  } else {
    owner.api_version = "apps/v1";
    owner.kind = "ReplicaSet";
    owner.name = w.name + "-rs";
  }
  owner.uid = owner.name;
  pod.owners = {std::move(owner)};
}

void ParseWorkloads(const Value& v, std::vector<WorkloadScenario>& out, const EpcResources& epc) {
  std::set<std::string, std::less<>> names;
  v.List([&](const Value& item) {
    if (item.IsNull()) item.Fail("expected a map, got null");
    WorkloadScenario w;
    ResourceQuantities requests;
    std::optional<Value> load_value, hpa_value, job_only, deploy_only;
    item.Map({
        {"name",
         [&](const Value& f) {
           w.name = f.NonEmptyString();
           if (!names.insert(w.name).second) f.Fail("duplicate workload " + Quote(w.name));
         },
         /*required=*/true},
        {"kind",
         [&](const Value& f) {
           w.kind = f.Enum<WorkloadKind>(
               {{"deployment", WorkloadKind::kDeployment}, {"job", WorkloadKind::kJob}});
         }},
        {"requests", [&](const Value& f) { ParseResourceList(f, requests); }, /*required=*/true},
        {"nodeSelector", [&](const Value& f) { ParseLabels(f, w.pod.node_selector); }},
        {"tolerations", [&](const Value& f) { ParseTolerations(f, w.pod.tolerations); }},
        {"priority",
         [&](const Value& f) {
           w.pod.priority = static_cast<int32_t>(f.Int(-2147483648LL, 1000000000));
         }},
        {"start",
         [&](const Value& f) {
           w.start_s = DurationOf(f);
           deploy_only = f;
         }},
        {"replicas",
         [&](const Value& f) {
           w.replicas = static_cast<int32_t>(f.Int(0, 100000));
           deploy_only = f;
         }},
        {"hpa",
         [&](const Value& f) {
           ParseHpa(f, w.hpa.emplace());
           hpa_value = f;
         }},
        {"load",
         [&](const Value& f) {
           ParseLoad(f, w);
           load_value = f;
         }},
        {"count",
         [&](const Value& f) {
           w.count = static_cast<int32_t>(f.Int(0, 10'000'000));
           job_only = f;
         }},
        {"arrival",
         [&](const Value& f) {
           ParseArrival(f, w);
           job_only = f;
         }},
        {"duration",
         [&](const Value& f) {
           w.duration_s = DurationOf(f);
           job_only = f;
         }},
        {"durationJitter",
         [&](const Value& f) {
           w.duration_jitter_s = DurationOf(f);
           job_only = f;
         }},
    });
    if (w.kind == WorkloadKind::kJob) {
      if (deploy_only) deploy_only->Fail("only deployments have this key");
      if (hpa_value) hpa_value->Fail("only deployments have this key");
      if (load_value) load_value->Fail("only deployments have this key");
    } else {
      if (job_only) job_only->Fail("only jobs have this key");
      if (hpa_value && !load_value) hpa_value->Fail("an hpa needs a `load` curve");
      if (w.hpa) w.replicas = w.hpa->min_replicas;
    }
    if (w.hpa && !requests.contains("cpu")) {
      item.Fail("an hpa on cpu utilization needs a cpu request");
    }
    FinishPodTemplate(w, requests, epc);
    out.push_back(std::move(w));
  });
}

void ParseFailures(const Value& v, std::vector<FailureScenario>& out) {
  v.List([&](const Value& item) {
    FailureScenario fs;
    item.Map({
        {"at", [&](const Value& f) { fs.at_s = DurationOf(f); }, /*required=*/true},
        {"node", [&](const Value& f) { fs.node = f.NonEmptyString(); }},
        {"group", [&](const Value& f) { fs.group = f.NonEmptyString(); }},
        {"count", [&](const Value& f) { fs.count = static_cast<int>(f.Int(1, 100000)); }},
    });
    if (fs.node.empty() == fs.group.empty()) item.Fail("set exactly one of `node` and `group`");
    out.push_back(std::move(fs));
  });
}

void ParseRoot(const Value& v, Scenario& out) {
  std::optional<Value> workloads, groups, failures;
  v.Map({
      {"name", [&](const Value& f) { out.name = f.NonEmptyString(); }},
      {"description", [&](const Value& f) { out.description = f.String(); }},
      {"duration",
       [&](const Value& f) {
         out.duration_s = DurationOf(f);
         if (out.duration_s < 60) f.Fail("must be at least 1m");
       }},
      {"sampleInterval",
       [&](const Value& f) {
         out.sample_interval_s = DurationOf(f);
         if (out.sample_interval_s < 1) f.Fail("must be at least 1s");
       }},
      {"podStartup", [&](const Value& f) { out.pod_startup_s = DurationOf(f); }},
      {"hpaSyncPeriod",
       [&](const Value& f) {
         out.hpa_sync_s = DurationOf(f);
         if (out.hpa_sync_s < 1) f.Fail("must be at least 1s");
       }},
      {"epcResources", [&](const Value& f) { ParseEpcResources(f, out.epc_resources); }},
      {"pools", [&](const Value& f) { ParsePools(f, out.pools); }},
      {"scheduling", [&](const Value& f) { ParseScheduling(f, out.scheduling); }},
      {"autoscaler", [&](const Value& f) { ParseAutoscaler(f, out.autoscaler); }},
      {"nodeGroups", [&](const Value& f) { groups = f; }, /*required=*/true},
      {"workloads", [&](const Value& f) { workloads = f; }},
      {"failures", [&](const Value& f) { failures = f; }},
  });
  // After epcResources, whatever the key order.
  ParseNodeGroups(*groups, out.groups);
  if (out.groups.empty()) groups->Fail("must list at least one node group");
  if (workloads) ParseWorkloads(*workloads, out.workloads, out.epc_resources);
  if (failures) {
    ParseFailures(*failures, out.failures);
    for (size_t i = 0; i < out.failures.size(); ++i) {
      const FailureScenario& fs = out.failures[i];
      if (fs.group.empty()) continue;
      bool found = false;
      for (const NodeGroupScenario& g : out.groups) found = found || g.name == fs.group;
      if (!found) {
        failures->Fail("[" + std::to_string(i) + "].group: no node group " + Quote(fs.group));
      }
    }
  }
}

}  // namespace

Result<int64_t> ParseDuration(std::string_view text) {
  const std::string quoted = Quote(text);
  if (text.empty()) return Error{"expected a duration like \"90s\", \"15m\" or \"2h\", got \"\""};
  // HH:MM
  if (text.size() == 5 && text[2] == ':') {
    int h = 0, m = 0;
    auto r1 = std::from_chars(text.data(), text.data() + 2, h);
    auto r2 = std::from_chars(text.data() + 3, text.data() + 5, m);
    if (r1.ec == std::errc() && r1.ptr == text.data() + 2 && r2.ec == std::errc() &&
        r2.ptr == text.data() + 5 && h <= 24 && m < 60) {
      return static_cast<int64_t>(h) * 3600 + m * 60;
    }
    return Error{"expected a time of day HH:MM, got " + quoted};
  }
  int64_t total = 0;
  size_t i = 0;
  bool any = false;
  while (i < text.size()) {
    int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), n);
    if (ec != std::errc() || end == text.data() + i) {
      return Error{"expected a duration like \"90s\", \"15m\" or \"2h\", got " + quoted};
    }
    i = static_cast<size_t>(end - text.data());
    int64_t unit = 1;
    if (i < text.size()) {
      switch (text[i]) {
        case 's':
          unit = 1;
          break;
        case 'm':
          unit = 60;
          break;
        case 'h':
          unit = 3600;
          break;
        case 'd':
          unit = 86400;
          break;
        default:
          return Error{"expected a duration like \"90s\", \"15m\" or \"2h\", got " + quoted};
      }
      ++i;
    } else if (any) {
      return Error{"expected a duration like \"90s\", \"15m\" or \"2h\", got " + quoted};
    }
    if (n < 0 || n > kMaxDuration / unit) return Error{"duration " + quoted + " is out of range"};
    total += n * unit;
    any = true;
    if (total > kMaxDuration) return Error{"duration " + quoted + " is out of range"};
  }
  return total;
}

Result<Scenario> ParseScenario(std::string_view yaml_text, std::string_view source) {
  try {
    const std::string text(yaml_text);
    if (yaml::CountDocuments(text, source) == 0) {
      return Error{std::string(source) + ":1:1: nodeGroups: is required"};
    }
    Scenario scenario;
    ParseRoot(Value(YAML::Load(text), "", source, YAML::Mark()), scenario);
    return scenario;
  } catch (const yaml::YamlError& e) {
    return Error{e.message};
  } catch (const YAML::Exception& e) {
    return Error{yaml::Position(source, e.mark) + ": invalid YAML: " + e.msg};
  } catch (const std::exception& e) {
    return Error{std::string(source) + ": " + e.what()};
  }
}

Result<Scenario> LoadScenarioFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text) return Error{"cannot read scenario file " + path + ": " + text.error()};
  return ParseScenario(*text, path);
}

Result<Variant> ParseVariant(std::string_view text) {
  Variant v;
  v.label = std::string(text);
  if (text.empty()) return Error{"empty variant"};
  size_t start = 0;
  while (start <= text.size()) {
    size_t plus = text.find('+', start);
    if (plus == std::string_view::npos) plus = text.size();
    const std::string_view part = text.substr(start, plus - start);
    const size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0 || eq + 1 == part.size()) {
      return Error{"variant " + Quote(text) + ": expected key=value, got " + Quote(part)};
    }
    v.overrides.emplace_back(std::string(part.substr(0, eq)), std::string(part.substr(eq + 1)));
    start = plus + 1;
  }
  return v;
}

Result<std::vector<Variant>> ParseVariants(const std::vector<std::string>& args) {
  std::vector<Variant> out;
  for (const std::string& arg : args) {
    size_t start = 0;
    while (start <= arg.size()) {
      size_t comma = arg.find(',', start);
      if (comma == std::string::npos) comma = arg.size();
      Result<Variant> v = ParseVariant(std::string_view(arg).substr(start, comma - start));
      if (!v.ok()) return Error{v.error()};
      out.push_back(std::move(v).value());
      start = comma + 1;
    }
  }
  return out;
}

Result<Scenario> ApplyVariant(const Scenario& base, const Variant& variant) {
  Scenario s = base;
  for (const auto& [key, value] : variant.overrides) {
    auto bad = [&](std::string_view choices) -> Error {
      return Error{"variant " + Quote(variant.label) + ": " + key + "=" + Quote(value) +
                   " is not one of " + std::string(choices)};
    };
    if (key == "scoring") {
      if (value == "binpack") {
        s.scheduling.strategy = ScoringStrategy::kBinpack;
      } else if (value == "spread") {
        s.scheduling.strategy = ScoringStrategy::kSpread;
      } else {
        return bad("binpack, spread");
      }
    } else if (key == "generalPods") {
      if (value == "deny") {
        s.scheduling.general_pods_on_confidential = GeneralPodPolicy::kDeny;
      } else if (value == "penalize") {
        s.scheduling.general_pods_on_confidential = GeneralPodPolicy::kPenalize;
      } else if (value == "allow") {
        s.scheduling.general_pods_on_confidential = GeneralPodPolicy::kAllow;
      } else {
        return bad("deny, penalize, allow");
      }
    } else if (key == "autoscaler") {
      if (value == "on") {
        s.autoscaler.enabled = true;
      } else if (value == "off") {
        s.autoscaler.enabled = false;
      } else if (value == "epc-aware") {
        s.autoscaler.enabled = true;
        s.autoscaler.epc_aware = true;
      } else if (value == "epc-blind") {
        s.autoscaler.enabled = true;
        s.autoscaler.epc_aware = false;
      } else {
        return bad("on, off, epc-aware, epc-blind");
      }
    } else if (key == "expander") {
      bool known = false;
      for (const char* e : kExpanders) known = known || value == e;
      if (!known) return bad("least-waste, most-pods, priority, random");
      s.autoscaler.expander = value;
    } else {
      return Error{"variant " + Quote(variant.label) + ": unknown key " + Quote(key) +
                   "; known keys: scoring, generalPods, autoscaler, expander"};
    }
  }
  return s;
}

}  // namespace epc::sim
