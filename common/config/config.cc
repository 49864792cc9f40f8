// Config parsing: yaml-cpp builds the node tree, then each section is one function that walks its
// map with Value::Map(), which rejects unknown and duplicate keys with their positions. A new
// section is a new ParseX(const Value&, X&) function plus one line in ParseRoot().
//
// yaml-cpp reports errors by throwing; so do the walkers here (YamlError). Both are caught in
// ParseConfig() and returned as an Error; nothing throws out of this file.
#include "common/config/config.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <regex>
#include <sstream>
#include <string>
#include <utility>

#include "common/config/config_sections.h"
#include "common/config/yaml_walker.h"
#include "common/model/quantity.h"
#include "common/model/resources.h"
#include "common/model/selectors.h"
#include "common/util/file.h"

namespace epc {
namespace {

using namespace ::epc::yaml;  // NOLINT(google-build-using-namespace)

}  // namespace

// ---- Sections other YAML files share (common/config/config_sections.h) ----

void ParseEpcResources(const Value& v, EpcResources& out) {
  std::vector<EpcResource> resources;
  std::map<std::string, std::string, std::less<>> names;  // name -> path of its first use
  v.List([&](const Value& item) {
    EpcResource r;
    std::optional<Value> name_value;
    item.Map({
        {"name",
         [&](const Value& f) {
           r.name = f.NonEmptyString();
           name_value = f;
         },
         /*required=*/true},
        {"unit",
         [&](const Value& f) {
           r.unit = f.Enum<EpcUnit>({{"bytes", EpcUnit::kBytes}, {"MiB", EpcUnit::kMiB}});
         }},
    });
    // Kubernetes' own resources are counted as themselves (ToResources), never as EPC.
    if (IsStandardResource(r.name)) {
      name_value->Fail(Quote(r.name) +
                       " is a standard Kubernetes resource, not one an SGX device plugin "
                       "advertises (e.g. sgx.intel.com/epc)");
    }
    if (auto [pos, inserted] = names.emplace(r.name, name_value->path()); !inserted) {
      name_value->Fail("duplicate resource name " + Quote(r.name) + " (also " + pos->second + ")");
    }
    resources.push_back(std::move(r));
  });
  if (resources.empty()) v.Fail("must list at least one resource");
  out = EpcResources(std::move(resources));
}

void ParseRequirement(const Value& v, SelectorRequirement& out) {
  v.Map({
      {"key", [&](const Value& f) { out.key = f.String(); }},
      {"operator", [&](const Value& f) { out.op = f.String(); }},
      {"values", [&](const Value& f) { out.values = f.StringList(); }},
  });
  Result<bool> valid = ValidateRequirement(out, /*node_selector=*/false);
  if (!valid.ok()) v.Fail(valid.error());
}

void ParseLabelSelector(const Value& v, LabelSelector& out) {
  v.Map({
      {"matchLabels",
       [&](const Value& f) {
         f.Entries([&](const std::string& key, const Value& value) {
           out.match_labels.insert_or_assign(key, value.IsNull() ? std::string() : value.String());
         });
       }},
      {"matchExpressions",
       [&](const Value& f) {
         f.List([&](const Value& item) {
           if (item.IsNull()) item.Fail("expected a map, got null");
           ParseRequirement(item, out.match_expressions.emplace_back());
         });
       }},
  });
}

void ParsePools(const Value& v, std::vector<PoolSpec>& out) {
  std::map<std::string, std::string, std::less<>> names;  // name -> path of its first use
  v.List([&](const Value& item) {
    if (item.IsNull()) item.Fail("expected a map, got null");
    PoolSpec pool;
    item.Map({
        {"name",
         [&](const Value& f) {
           pool.name = f.NonEmptyString();
           if (auto [pos, inserted] = names.emplace(pool.name, f.path()); !inserted) {
             f.Fail("duplicate pool name " + Quote(pool.name) + " (also " + pos->second + ")");
           }
         },
         /*required=*/true},
        {"confidential", [&](const Value& f) { pool.confidential = f.Bool(); }},
        {"nodeSelector", [&](const Value& f) { ParseLabelSelector(f, pool.node_selector); }},
    });
    out.push_back(std::move(pool));
  });
}

void ParseScheduling(const Value& v, SchedulingPolicy& out) {
  v.Map({
      {"generalPodsOnConfidentialNodes",
       [&](const Value& f) {
         out.general_pods_on_confidential =
             f.Enum<GeneralPodPolicy>({{"deny", GeneralPodPolicy::kDeny},
                                       {"penalize", GeneralPodPolicy::kPenalize},
                                       {"allow", GeneralPodPolicy::kAllow}});
       }},
      {"scoringStrategy",
       [&](const Value& f) {
         out.strategy = f.Enum<ScoringStrategy>(
             {{"binpack", ScoringStrategy::kBinpack}, {"spread", ScoringStrategy::kSpread}});
       }},
  });
}

Quantity ParseNonNegativeQuantity(const Value& v) {
  const std::string text = v.String();
  Result<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) v.Fail(q.error());
  if (q->IsNegative()) v.Fail(Quote(text) + " must not be negative");
  return *q;
}

void ParseResourceList(const Value& v, ResourceQuantities& out) {
  v.Entries([&](const std::string& key, const Value& value) {
    if (value.IsNull()) value.Fail("expected a quantity, got null");
    out.insert_or_assign(key, ParseNonNegativeQuantity(value));
  });
}

void ParseLabels(const Value& v, Labels& out) {
  v.Entries([&](const std::string& key, const Value& value) {
    out.insert_or_assign(key, value.IsNull() ? std::string() : value.String());
  });
}

void ParseTaints(const Value& v, std::vector<Taint>& out) {
  v.List([&](const Value& item) {
    if (item.IsNull()) item.Fail("expected a map, got null");
    Taint t;
    item.Map({
        {"key", [&](const Value& f) { t.key = f.NonEmptyString(); }, /*required=*/true},
        {"value", [&](const Value& f) { t.value = f.String(); }},
        {"effect",
         [&](const Value& f) {
           t.effect = f.Enum<std::string>({{"NoSchedule", "NoSchedule"},
                                           {"PreferNoSchedule", "PreferNoSchedule"},
                                           {"NoExecute", "NoExecute"}});
         },
         /*required=*/true},
    });
    out.push_back(std::move(t));
  });
}

void ParseTolerations(const Value& v, std::vector<Toleration>& out) {
  v.List([&](const Value& item) {
    if (item.IsNull()) item.Fail("expected a map, got null");
    Toleration t;
    item.Map({
        {"key", [&](const Value& f) { t.key = f.String(); }},
        {"operator",
         [&](const Value& f) {
           t.op = f.Enum<std::string>({{"Equal", "Equal"}, {"Exists", "Exists"}});
         }},
        {"value", [&](const Value& f) { t.value = f.String(); }},
        {"effect", [&](const Value& f) { t.effect = f.String(); }},
    });
    out.push_back(std::move(t));
  });
}

void ParseNodeTemplate(const Value& v, Node& out) {
  v.Map({
      {"labels", [&](const Value& f) { ParseLabels(f, out.labels); }},
      {"taints", [&](const Value& f) { ParseTaints(f, out.taints); }},
      {"capacity", [&](const Value& f) { ParseResourceList(f, out.capacity); }},
      {"allocatable", [&](const Value& f) { ParseResourceList(f, out.allocatable); },
       /*required=*/true},
  });
}

std::string ParseExpanderName(const Value& v) {
  return v.Enum<std::string>({{"least-waste", "least-waste"},
                              {"most-pods", "most-pods"},
                              {"priority", "priority"},
                              {"random", "random"}});
}

void CompleteNodeTemplate(Node& node, std::string name) {
  if (node.capacity.empty()) node.capacity = node.allocatable;
  if (!node.allocatable.contains("pods"))
    node.allocatable.emplace("pods", Quantity::FromValue(110));
  if (!node.capacity.contains("pods")) node.capacity.emplace("pods", node.allocatable.at("pods"));
  node.ready = true;
  node.name = std::move(name);
}

namespace {

// ---- Sections ----

// A positive whole number of bytes: an integer or a quantity string ("256Mi").
int64_t ParseByteSize(const Value& v) {
  const std::string text = v.String();
  Result<Quantity> q = Quantity::Parse(text);
  if (!q.ok())
    v.Fail("expected a positive integer or a quantity like \"256Mi\", got " + Quote(text));
  if (q->IsNegative() || q->IsZero()) v.Fail(Quote(text) + " must be greater than 0");
  if (*q > Quantity::FromValue(std::numeric_limits<int64_t>::max()))
    v.Fail(Quote(text) + " is too large");
  if (Quantity::FromValue(q->Value()) != *q)
    v.Fail(Quote(text) + " is not a whole number of bytes");
  return q->Value();
}

void ParseTls(const Value& v, TlsConfig& out) {
  std::optional<Value> cert, key, client_ca;
  v.Map({
      {"certFile",
       [&](const Value& f) {
         out.cert_file = f.String();
         cert = f;
       }},
      {"keyFile",
       [&](const Value& f) {
         out.key_file = f.String();
         key = f;
       }},
      {"clientCAFile",
       [&](const Value& f) {
         out.client_ca_file = f.String();
         client_ca = f;
       }},
  });
  if (!out.key_file.empty() && out.cert_file.empty())
    key->Fail("keyFile is set but certFile is not");
  if (!out.cert_file.empty() && out.key_file.empty())
    cert->Fail("certFile is set but keyFile is not");
  if (!out.client_ca_file.empty() && out.cert_file.empty()) {
    client_ca->Fail("clientCAFile needs certFile and keyFile (client certificates need TLS)");
  }
}

void ParseExtender(const Value& v, ExtenderConfig& out) {
  v.Map({
      {"bindAddress", [&](const Value& f) { out.bind_address = f.NonEmptyString(); }},
      {"port", [&](const Value& f) { out.port = static_cast<int>(f.Int(1, 65535)); }},
      {"urlPrefix",
       [&](const Value& f) {
         std::string prefix = f.String();
         if (!prefix.empty() && prefix.front() != '/')
           f.Fail(Quote(prefix) + " must be empty or start with \"/\"");
         if (!prefix.empty() && prefix.back() == '/')
           f.Fail(Quote(prefix) + " must not end with \"/\"");
         out.url_prefix = std::move(prefix);
       }},
      {"maxRequestBodyBytes",
       [&](const Value& f) { out.max_request_body_bytes = ParseByteSize(f); }},
      {"enableBind", [&](const Value& f) { out.enable_bind = f.Bool(); }},
      {"workerThreads",
       [&](const Value& f) { out.worker_threads = static_cast<int>(f.Int(1, 256)); }},
      {"tls", [&](const Value& f) { ParseTls(f, out.tls); }},
  });
}

// ---- autoscaler ----

// A Kubernetes quantity ("500m", "10", 2.5) as int64 milli-units, as the HPA reads targets.
// One member of a Kubernetes discriminated union (a `type` field naming which of several keys
// is set), and where that key was found, if it was.
template <typename Type>
struct UnionMember {
  Type type;
  std::string_view type_name;
  std::string_view key;
  const std::optional<Value>& field;
};

// Exactly the member `type` names is set: others fail at their key, a missing one at its path.
template <typename Type, size_t N>
void CheckUnionMembers(const Value& v, Type type, const UnionMember<Type> (&members)[N]) {
  std::string_view type_name;
  for (const UnionMember<Type>& m : members) {
    if (m.type == type) type_name = m.type_name;
  }
  for (const UnionMember<Type>& m : members) {
    if (m.type != type && m.field) {
      m.field->Fail("must not be set when type is " + std::string(type_name));
    }
  }
  for (const UnionMember<Type>& m : members) {
    if (m.type == type && !m.field) {
      v.FailAt(v.mark(), v.path() + "." + std::string(m.key),
               "is required when type is " + std::string(type_name));
    }
  }
}

int64_t ParseMilliQuantity(const Value& v, bool allow_zero) {
  if (!v.node().IsScalar())
    v.Fail("expected a quantity like \"500m\" or \"10\", got " + Describe(v.node()));
  const std::string text = v.node().Scalar();
  Result<Quantity> q = Quantity::Parse(text);
  if (!q.ok()) v.Fail("expected a quantity like \"500m\" or \"10\", got " + Quote(text));
  if (q->IsNegative()) v.Fail(Quote(text) + " must not be negative");
  if (!allow_zero && q->IsZero()) v.Fail(Quote(text) + " must be greater than 0");
  if (*q > Quantity::FromMilli(std::numeric_limits<int64_t>::max()))
    v.Fail(Quote(text) + " is too large");
  return q->MilliValue();
}

int32_t ParseInt32(const Value& v, int32_t min) {
  return static_cast<int32_t>(v.Int(min, std::numeric_limits<int32_t>::max()));
}

// A `target` (MetricTarget) whose type is one of `allowed`; the field that `type` names must be
// set and the others must not.
void ParseMetricTarget(
    const Value& v, HpaMetricTarget& out,
    std::initializer_list<std::pair<std::string_view, HpaMetricTargetType>> allowed) {
  std::optional<Value> utilization, average_value, value;
  v.Map({
      {"type", [&](const Value& f) { out.type = f.Enum<HpaMetricTargetType>(allowed); },
       /*required=*/true},
      {"averageUtilization",
       [&](const Value& f) {
         out.average_utilization = ParseInt32(f, 1);
         utilization = f;
       }},
      {"averageValue",
       [&](const Value& f) {
         out.average_value_milli = ParseMilliQuantity(f, /*allow_zero=*/false);
         average_value = f;
       }},
      {"value",
       [&](const Value& f) {
         out.value_milli = ParseMilliQuantity(f, /*allow_zero=*/false);
         value = f;
       }},
  });
  const UnionMember<HpaMetricTargetType> members[] = {
      {HpaMetricTargetType::kUtilization, "Utilization", "averageUtilization", utilization},
      {HpaMetricTargetType::kAverageValue, "AverageValue", "averageValue", average_value},
      {HpaMetricTargetType::kValue, "Value", "value", value},
  };
  CheckUnionMembers(v, out.type, members);
}

// metric (MetricIdentifier): the name; selectors are replaced by the PromQL `query`.
void ParseMetricIdentifier(const Value& v, std::string& name) {
  v.Map({
      {"name", [&](const Value& f) { name = f.NonEmptyString(); }, /*required=*/true},
      {"selector",
       [&](const Value& f) {
         f.Fail("is not supported: put the label matchers into the metric's `query`");
       }},
  });
}

void ParseCrossVersionObjectReference(const Value& v, CrossVersionObjectReference& out) {
  v.Map({
      {"apiVersion", [&](const Value& f) { out.api_version = f.NonEmptyString(); }},
      {"kind", [&](const Value& f) { out.kind = f.NonEmptyString(); }, /*required=*/true},
      {"name", [&](const Value& f) { out.name = f.NonEmptyString(); }, /*required=*/true},
  });
}

// scaleTargetRef: apiVersion may be left out for the kinds whose group the autoscaler knows.
void ParseScaleTargetRef(const Value& v, CrossVersionObjectReference& out) {
  ParseCrossVersionObjectReference(v, out);
  if (!out.api_version.empty()) return;
  static const std::pair<std::string_view, std::string_view> kDefaults[] = {
      {"Deployment", "apps/v1"},
      {"StatefulSet", "apps/v1"},
      {"ReplicaSet", "apps/v1"},
      {"ReplicationController", "v1"},
      {"MachineDeployment", "cluster.x-k8s.io/v1beta1"},
      {"MachineSet", "cluster.x-k8s.io/v1beta1"},
  };
  for (const auto& [kind, api_version] : kDefaults) {
    if (out.kind == kind) {
      out.api_version = api_version;
      return;
    }
  }
  v.FailAt(v.mark(), v.path() + ".apiVersion",
           "is required for kind " + Quote(out.kind) +
               " (known without it: Deployment, StatefulSet, ReplicaSet, ReplicationController, "
               "MachineDeployment, MachineSet)");
}

// A metric's resource / pods / object / external member.
void ParseResourceSource(const Value& v, HpaResourceMetricSource& r) {
  v.Map({
      {"name", [&](const Value& g) { r.name = g.NonEmptyString(); }, /*required=*/true},
      {"target",
       [&](const Value& g) {
         ParseMetricTarget(g, r.target,
                           {{"Utilization", HpaMetricTargetType::kUtilization},
                            {"AverageValue", HpaMetricTargetType::kAverageValue}});
       },
       /*required=*/true},
  });
}

void ParsePodsSource(const Value& v, HpaPodsMetricSource& p) {
  v.Map({
      {"metric", [&](const Value& g) { ParseMetricIdentifier(g, p.metric_name); },
       /*required=*/true},
      {"query", [&](const Value& g) { p.query = g.NonEmptyString(); }, /*required=*/true},
      {"target",
       [&](const Value& g) {
         ParseMetricTarget(g, p.target, {{"AverageValue", HpaMetricTargetType::kAverageValue}});
       },
       /*required=*/true},
  });
}

void ParseObjectSource(const Value& v, HpaObjectMetricSource& o) {
  v.Map({
      {"describedObject",
       [&](const Value& g) { ParseCrossVersionObjectReference(g, o.described_object); },
       /*required=*/true},
      {"metric", [&](const Value& g) { ParseMetricIdentifier(g, o.metric_name); },
       /*required=*/true},
      {"query", [&](const Value& g) { o.query = g.NonEmptyString(); }, /*required=*/true},
      {"target",
       [&](const Value& g) {
         ParseMetricTarget(g, o.target,
                           {{"Value", HpaMetricTargetType::kValue},
                            {"AverageValue", HpaMetricTargetType::kAverageValue}});
       },
       /*required=*/true},
  });
}

void ParseExternalSource(const Value& v, HpaExternalMetricSource& e) {
  v.Map({
      {"metric", [&](const Value& g) { ParseMetricIdentifier(g, e.metric_name); },
       /*required=*/true},
      {"query", [&](const Value& g) { e.query = g.NonEmptyString(); }, /*required=*/true},
      {"target",
       [&](const Value& g) {
         ParseMetricTarget(g, e.target,
                           {{"Value", HpaMetricTargetType::kValue},
                            {"AverageValue", HpaMetricTargetType::kAverageValue}});
       },
       /*required=*/true},
  });
}

// One metrics[] entry: `type` says which member must be set (and the others must not), then
// that member is parsed. `prometheus_metric` remembers the first metric that reads Prometheus.
void ParseMetricSpec(const Value& v, HpaMetricSpec& out, std::optional<Value>& prometheus_metric) {
  std::optional<Value> resource, pods, object, external;
  v.Map({
      {"type",
       [&](const Value& f) {
         out.type = f.Enum<HpaMetricSourceType>({{"Resource", HpaMetricSourceType::kResource},
                                                 {"Pods", HpaMetricSourceType::kPods},
                                                 {"Object", HpaMetricSourceType::kObject},
                                                 {"External", HpaMetricSourceType::kExternal}});
       },
       /*required=*/true},
      {"resource", [&](const Value& f) { resource = f; }},
      {"pods", [&](const Value& f) { pods = f; }},
      {"object", [&](const Value& f) { object = f; }},
      {"external", [&](const Value& f) { external = f; }},
      {"containerResource",
       [&](const Value& f) {
         f.Fail("ContainerResource metrics are not supported; use a Resource metric");
       }},
  });
  const UnionMember<HpaMetricSourceType> members[] = {
      {HpaMetricSourceType::kResource, "Resource", "resource", resource},
      {HpaMetricSourceType::kPods, "Pods", "pods", pods},
      {HpaMetricSourceType::kObject, "Object", "object", object},
      {HpaMetricSourceType::kExternal, "External", "external", external},
  };
  CheckUnionMembers(v, out.type, members);
  switch (out.type) {
    case HpaMetricSourceType::kResource:
      ParseResourceSource(*resource, out.resource.emplace());
      break;
    case HpaMetricSourceType::kPods:
      ParsePodsSource(*pods, out.pods.emplace());
      break;
    case HpaMetricSourceType::kObject:
      ParseObjectSource(*object, out.object.emplace());
      break;
    case HpaMetricSourceType::kExternal:
      ParseExternalSource(*external, out.external.emplace());
      break;
  }
  if (out.type != HpaMetricSourceType::kResource && !prometheus_metric) prometheus_metric = v;
}

void ParseScalingRules(const Value& v, HpaScalingRules& out) {
  v.Map({
      {"stabilizationWindowSeconds",
       [&](const Value& f) {
         out.stabilization_window_seconds = static_cast<int32_t>(f.Int(0, 3600));
       }},
      {"selectPolicy",
       [&](const Value& f) {
         out.select_policy = f.Enum<HpaSelectPolicy>({{"Max", HpaSelectPolicy::kMax},
                                                      {"Min", HpaSelectPolicy::kMin},
                                                      {"Disabled", HpaSelectPolicy::kDisabled}});
       }},
      {"policies",
       [&](const Value& f) {
         out.policies.clear();  // a given list replaces the defaults
         f.List([&](const Value& item) {
           if (item.IsNull()) item.Fail("expected a map, got null");
           HpaScalingPolicy& p = out.policies.emplace_back();
           item.Map({
               {"type",
                [&](const Value& g) {
                  p.type =
                      g.Enum<HpaScalingPolicyType>({{"Pods", HpaScalingPolicyType::kPods},
                                                    {"Percent", HpaScalingPolicyType::kPercent}});
                },
                /*required=*/true},
               {"value", [&](const Value& g) { p.value = ParseInt32(g, 1); }, /*required=*/true},
               {"periodSeconds",
                [&](const Value& g) { p.period_seconds = static_cast<int32_t>(g.Int(1, 1800)); },
                /*required=*/true},
           });
         });
         if (out.policies.empty()) f.Fail("must list at least one policy");
       }},
      {"tolerance",
       [&](const Value& f) { out.tolerance_milli = ParseMilliQuantity(f, /*allow_zero=*/true); }},
  });
}

}  // namespace

void ParseHpaBehavior(const Value& v, HpaBehavior& out) {
  v.Map({
      {"scaleUp", [&](const Value& f) { ParseScalingRules(f, out.scale_up); }},
      {"scaleDown", [&](const Value& f) { ParseScalingRules(f, out.scale_down); }},
  });
}

namespace {

void ParseHpaSpec(const Value& v, HpaSpec& out, std::optional<Value>& prometheus_metric) {
  std::optional<Value> max_value;
  v.Map({
      {"scaleTargetRef", [&](const Value& f) { ParseScaleTargetRef(f, out.scale_target_ref); },
       /*required=*/true},
      {"minReplicas",
       [&](const Value& f) {
         out.min_replicas = ParseInt32(f, 0);
         if (out.min_replicas == 0)
           f.Fail("0 (scale to zero, Kubernetes' HPAScaleToZero gate) is not supported");
       }},
      {"maxReplicas",
       [&](const Value& f) {
         out.max_replicas = ParseInt32(f, 1);
         max_value = f;
       },
       /*required=*/true},
      {"metrics",
       [&](const Value& f) {
         f.List([&](const Value& item) {
           if (item.IsNull()) item.Fail("expected a map, got null");
           ParseMetricSpec(item, out.metrics.emplace_back(), prometheus_metric);
         });
       }},
      {"behavior", [&](const Value& f) { ParseHpaBehavior(f, out.behavior.emplace()); }},
  });
  if (max_value && out.max_replicas < out.min_replicas) {
    max_value->Fail("must be greater than or equal to minReplicas (" +
                    std::to_string(out.min_replicas) + ")");
  }
  // autoscaling/v2 defaulting: no metrics means 80% average CPU utilization.
  if (out.metrics.empty()) {
    HpaMetricSpec& cpu = out.metrics.emplace_back();
    cpu.type = HpaMetricSourceType::kResource;
    cpu.resource = HpaResourceMetricSource{
        "cpu", {.type = HpaMetricTargetType::kUtilization, .average_utilization = 80}};
  }
}

void ParseHorizontalTargets(const Value& v, std::vector<HorizontalTargetConfig>& out,
                            std::optional<Value>& prometheus_metric) {
  std::map<std::string, std::string, std::less<>> names;    // ns/name -> path of first use
  std::map<std::string, std::string, std::less<>> targets;  // ns/Kind/name -> path
  v.List([&](const Value& item) {
    if (item.IsNull()) item.Fail("expected a map, got null");
    HorizontalTargetConfig target;
    target.spec.namespace_name = "default";
    std::optional<Value> name_value, spec_value;
    item.Map({
        {"apiVersion",
         [&](const Value& f) {
           if (f.String() != "autoscaling/v2") f.Fail(Quote(f.String()) + " is not autoscaling/v2");
         }},
        {"kind",
         [&](const Value& f) {
           if (f.String() != "HorizontalPodAutoscaler")
             f.Fail(Quote(f.String()) + " is not HorizontalPodAutoscaler");
         }},
        {"metadata",
         [&](const Value& f) {
           f.Map({
               {"name",
                [&](const Value& g) {
                  target.name = g.NonEmptyString();
                  name_value = g;
                },
                /*required=*/true},
               {"namespace",
                [&](const Value& g) { target.spec.namespace_name = g.NonEmptyString(); }},
               // Accepted so that an HPA copies over as it is; the autoscaler ignores them.
               {"labels", [&](const Value& g) { g.Entries([](auto&, auto&) {}); }},
               {"annotations", [&](const Value& g) { g.Entries([](auto&, auto&) {}); }},
           });
         },
         /*required=*/true},
        {"spec",
         [&](const Value& f) {
           spec_value = f;
           ParseHpaSpec(f, target.spec, prometheus_metric);
         },
         /*required=*/true},
    });
    const std::string key = target.spec.namespace_name + "/" + target.name;
    if (auto [pos, inserted] = names.emplace(key, item.path()); !inserted) {
      name_value->Fail("duplicate HorizontalPodAutoscaler " + key + " (also " + pos->second + ")");
    }
    const CrossVersionObjectReference& ref = target.spec.scale_target_ref;
    const std::string target_key = target.spec.namespace_name + "/" + ref.kind + "/" + ref.name;
    if (auto [pos, inserted] = targets.emplace(target_key, item.path()); !inserted) {
      spec_value->FailAt(spec_value->mark(), spec_value->path() + ".scaleTargetRef",
                         ref.kind + "/" + ref.name + " in namespace " + target.spec.namespace_name +
                             " is already autoscaled by " + pos->second);
    }
    out.push_back(std::move(target));
  });
}

void ParsePrometheus(const Value& v, PrometheusConfig& out) {
  v.Map({
      {"url",
       [&](const Value& f) {
         std::string url = f.String();
         if (!url.empty()) {
           const size_t scheme_end = url.find("://");
           const std::string scheme =
               scheme_end == std::string::npos ? "" : url.substr(0, scheme_end);
           if ((scheme != "http" && scheme != "https") || url.size() == scheme_end + 3 ||
               url[scheme_end + 3] == '/') {
             f.Fail(Quote(url) + " is not an http:// or https:// URL with a host");
           }
           while (url.back() == '/') url.pop_back();
         }
         out.url = std::move(url);
       }},
      {"timeoutSeconds",
       [&](const Value& f) { out.timeout_seconds = static_cast<int>(f.Int(1, 300)); }},
  });
}

void ParseAutoscalerLeaderElection(const Value& v, AutoscalerLeaderElectionConfig& out) {
  std::optional<Value> renew;
  v.Map({
      {"leaseName", [&](const Value& f) { out.lease_name = f.NonEmptyString(); }},
      {"leaseNamespace", [&](const Value& f) { out.lease_namespace = f.NonEmptyString(); }},
      {"leaseDurationSeconds",
       [&](const Value& f) { out.lease_duration_seconds = static_cast<int>(f.Int(1, 3600)); }},
      {"renewDeadlineSeconds",
       [&](const Value& f) {
         out.renew_deadline_seconds = static_cast<int>(f.Int(1, 3600));
         renew = f;
       }},
      {"retryPeriodSeconds",
       [&](const Value& f) { out.retry_period_seconds = static_cast<int>(f.Int(1, 3600)); }},
  });
  // client-go's checks: leaseDuration > renewDeadline > 1.2 x retryPeriod (its jitter factor).
  const Value& at = renew ? *renew : v;
  if (out.lease_duration_seconds <= out.renew_deadline_seconds) {
    at.Fail("leaseDurationSeconds (" + std::to_string(out.lease_duration_seconds) +
            ") must be greater than renewDeadlineSeconds (" +
            std::to_string(out.renew_deadline_seconds) + ")");
  }
  if (out.renew_deadline_seconds * 10 <= out.retry_period_seconds * 12) {
    at.Fail("renewDeadlineSeconds (" + std::to_string(out.renew_deadline_seconds) +
            ") must be greater than 1.2 x retryPeriodSeconds (" +
            std::to_string(out.retry_period_seconds) + ")");
  }
}

// Where each node group names a pool; checked against `pools` once the whole file is read.
using PoolReferences = std::vector<std::pair<std::string, Value>>;

void ParseNodeGroups(const Value& v, NodeGroupProviderKind provider,
                     std::vector<NodeGroupConfig>& out, PoolReferences& pool_refs) {
  std::map<std::string, std::string, std::less<>> names;  // name -> path of its first use
  v.List([&](const Value& item) {
    if (item.IsNull()) item.Fail("expected a map, got null");
    NodeGroupConfig g;
    item.Map({
        {"name",
         [&](const Value& f) {
           g.name = f.NonEmptyString();
           if (provider == NodeGroupProviderKind::kClusterApi &&
               (g.name.find('/') == std::string::npos || g.name.front() == '/' ||
                g.name.back() == '/')) {
             f.Fail(Quote(g.name) +
                    " must be <namespace>/<MachineDeployment name> for the clusterapi provider");
           }
           if (auto [pos, inserted] = names.emplace(g.name, f.path()); !inserted) {
             f.Fail("duplicate node group " + Quote(g.name) + " (also " + pos->second + ")");
           }
         },
         /*required=*/true},
        {"pool",
         [&](const Value& f) {
           g.pool = f.NonEmptyString();
           pool_refs.emplace_back(g.pool, f);
         }},
        {"minSize", [&](const Value& f) { g.min_size = static_cast<int>(f.Int(0, 100000)); }},
        {"maxSize", [&](const Value& f) { g.max_size = static_cast<int>(f.Int(0, 100000)); }},
        {"template",
         [&](const Value& f) {
           Node t;
           ParseNodeTemplate(f, t);
           CompleteNodeTemplate(t, "template-" + g.name);
           g.template_node = std::move(t);
         }},
    });
    if (g.min_size && g.max_size && *g.max_size < *g.min_size) {
      item.Fail("maxSize (" + std::to_string(*g.max_size) + ") is smaller than minSize (" +
                std::to_string(*g.min_size) + ")");
    }
    if (provider == NodeGroupProviderKind::kKwok) {
      // kwok has nothing to discover: the configuration is the whole group.
      if (!g.max_size) item.Fail("maxSize is required for the kwok provider");
      if (!g.template_node) item.Fail("template is required for the kwok provider");
    }
    out.push_back(std::move(g));
  });
}

void ParseScaleDown(const Value& v, ScaleDownConfig& out) {
  v.Map({
      {"enabled", [&](const Value& f) { out.enabled = f.Bool(); }},
      {"utilizationThreshold",
       [&](const Value& f) {
         const int64_t milli = ParseMilliQuantity(f, /*allow_zero=*/true);
         if (milli > 1000) f.Fail("must be between 0 and 1");
         out.utilization_threshold = static_cast<double>(milli) / 1000.0;
       }},
      {"unneededTimeSeconds",
       [&](const Value& f) { out.unneeded_time_seconds = static_cast<int>(f.Int(0, 86400)); }},
      {"delayAfterAddSeconds",
       [&](const Value& f) { out.delay_after_add_seconds = static_cast<int>(f.Int(0, 86400)); }},
      {"maxEmptyBulkDelete",
       [&](const Value& f) { out.max_empty_bulk_delete = static_cast<int>(f.Int(1, 10000)); }},
      {"maxNodesPerPass",
       [&](const Value& f) { out.max_nodes_per_pass = static_cast<int>(f.Int(1, 10000)); }},
      {"unremovableNodeRecheckTimeoutSeconds",
       [&](const Value& f) {
         out.unremovable_node_recheck_timeout_seconds = static_cast<int>(f.Int(0, 86400));
       }},
      {"skipNodesWithLocalStorage",
       [&](const Value& f) { out.skip_nodes_with_local_storage = f.Bool(); }},
      {"skipNodesWithSystemPods",
       [&](const Value& f) { out.skip_nodes_with_system_pods = f.Bool(); }},
  });
}

void ParseClusterAutoscaling(const Value& v, ClusterAutoscalingConfig& out,
                             PoolReferences& pool_refs) {
  // nodeGroups' checks depend on the provider, which may come after them in the file.
  std::optional<Value> groups;
  std::optional<Value> priorities;
  v.Map({
      {"enabled", [&](const Value& f) { out.enabled = f.Bool(); }},
      {"provider",
       [&](const Value& f) {
         out.provider =
             f.Enum<NodeGroupProviderKind>({{"clusterapi", NodeGroupProviderKind::kClusterApi},
                                            {"kwok", NodeGroupProviderKind::kKwok}});
       }},
      {"clusterAPI",
       [&](const Value& f) {
         f.Map({{"namespace", [&](const Value& g) { out.cluster_api_namespace = g.String(); }}});
       }},
      {"scanIntervalSeconds",
       [&](const Value& f) { out.scan_interval_seconds = static_cast<int>(f.Int(1, 3600)); }},
      {"expander", [&](const Value& f) { out.expander = ParseExpanderName(f); }},
      {"expanderPriorities",
       [&](const Value& f) {
         out.expander_priorities = f.StringList();
         priorities = f;
         for (const std::string& pattern : out.expander_priorities) {
           try {
             std::regex compiled(pattern, std::regex::ECMAScript);
           } catch (const std::regex_error& e) {
             f.Fail("invalid group-name pattern " + Quote(pattern) + ": " + e.what());
           }
         }
       }},
      {"maxNodesTotal",
       [&](const Value& f) { out.max_nodes_total = static_cast<int>(f.Int(0, 1000000)); }},
      {"maxNodesPerScaleUp",
       [&](const Value& f) { out.max_nodes_per_scale_up = static_cast<int>(f.Int(1, 100000)); }},
      {"scaleUpCooldownSeconds",
       [&](const Value& f) { out.scale_up_cooldown_seconds = static_cast<int>(f.Int(0, 86400)); }},
      {"maxNodeProvisionTimeSeconds",
       [&](const Value& f) {
         out.max_node_provision_time_seconds = static_cast<int>(f.Int(1, 86400));
       }},
      {"initialBackoffSeconds",
       [&](const Value& f) { out.initial_backoff_seconds = static_cast<int>(f.Int(1, 86400)); }},
      {"maxBackoffSeconds",
       [&](const Value& f) { out.max_backoff_seconds = static_cast<int>(f.Int(1, 86400)); }},
      {"scaleDown", [&](const Value& f) { ParseScaleDown(f, out.scale_down); }},
      {"nodeGroups", [&](const Value& f) { groups = f; }},
  });
  if (groups) ParseNodeGroups(*groups, out.provider, out.node_groups, pool_refs);
  if (out.max_backoff_seconds < out.initial_backoff_seconds) {
    v.Fail("maxBackoffSeconds (" + std::to_string(out.max_backoff_seconds) +
           ") is smaller than initialBackoffSeconds (" +
           std::to_string(out.initial_backoff_seconds) + ")");
  }
  if (out.expander == "priority" && out.expander_priorities.empty()) {
    (priorities ? *priorities : v)
        .Fail(
            "the priority expander needs expanderPriorities (group-name patterns, highest "
            "priority first)");
  }
  if (out.enabled && out.provider == NodeGroupProviderKind::kKwok && out.node_groups.empty()) {
    v.Fail("the kwok provider needs nodeGroups: it has no other way to know the groups");
  }
}

void ParseAutoscaler(const Value& v, AutoscalerConfig& out, PoolReferences& pool_refs) {
  std::optional<Value> prometheus_metric;
  v.Map({
      {"syncPeriodSeconds",
       [&](const Value& f) { out.sync_period_seconds = static_cast<int>(f.Int(1, 3600)); }},
      {"prometheus", [&](const Value& f) { ParsePrometheus(f, out.prometheus); }},
      {"tolerance",
       [&](const Value& f) {
         out.tolerance = static_cast<double>(ParseMilliQuantity(f, /*allow_zero=*/true)) / 1000.0;
       }},
      {"cpuInitializationPeriodSeconds",
       [&](const Value& f) {
         out.cpu_initialization_period_seconds = static_cast<int>(f.Int(0, 86400));
       }},
      {"initialReadinessDelaySeconds",
       [&](const Value& f) {
         out.initial_readiness_delay_seconds = static_cast<int>(f.Int(0, 86400));
       }},
      {"downscaleStabilizationSeconds",
       [&](const Value& f) {
         out.downscale_stabilization_seconds = static_cast<int>(f.Int(0, 86400));
       }},
      {"leaderElection",
       [&](const Value& f) { ParseAutoscalerLeaderElection(f, out.leader_election); }},
      {"horizontal",
       [&](const Value& f) { ParseHorizontalTargets(f, out.horizontal, prometheus_metric); }},
      {"cluster", [&](const Value& f) { ParseClusterAutoscaling(f, out.cluster, pool_refs); }},
  });
  if (prometheus_metric && out.prometheus.url.empty()) {
    prometheus_metric->Fail(
        "Pods, Object and External metrics are read from Prometheus: set "
        "autoscaler.prometheus.url");
  }
}

void ParseRoot(const Value& v, Config& out) {
  PoolReferences pool_refs;
  v.Map({
      {"epcResources", [&](const Value& f) { ParseEpcResources(f, out.epc_resources); }},
      {"pools", [&](const Value& f) { ParsePools(f, out.pools); }},
      {"scheduling", [&](const Value& f) { ParseScheduling(f, out.scheduling); }},
      {"extender", [&](const Value& f) { ParseExtender(f, out.extender); }},
      {"autoscaler", [&](const Value& f) { ParseAutoscaler(f, out.autoscaler, pool_refs); }},
  });
  for (const auto& [pool, at] : pool_refs) {
    const bool known = std::any_of(out.pools.begin(), out.pools.end(),
                                   [&](const PoolSpec& p) { return p.name == pool; });
    if (!known) {
      std::string names;
      for (const PoolSpec& p : out.pools) names += (names.empty() ? "" : ", ") + p.name;
      at.Fail("pool " + Quote(pool) + " is not defined under pools" +
              (names.empty() ? std::string(" (none are)") : " (known: " + names + ")"));
    }
  }
}

}  // namespace

Result<Config> ParseConfig(std::string_view yaml_text, std::string_view source) {
  try {
    const std::string text(yaml_text);
    const int documents = CountDocuments(text, source);
    Config config;
    if (documents == 0) return config;  // empty, or only comments
    ParseRoot(Value(YAML::Load(text), "", source, YAML::Mark()), config);
    return config;
  } catch (const YamlError& e) {
    return Error{e.message};
  } catch (const YAML::Exception& e) {
    return Error{Position(source, e.mark) + ": invalid YAML: " + e.msg};
  } catch (const std::exception& e) {
    return Error{std::string(source) + ": " + e.what()};
  }
}

Result<Config> LoadConfigFile(const std::string& path) {
  Result<std::string> text = ReadWholeFile(path);
  if (!text) return Error{"cannot read config file " + path + ": " + text.error()};
  return ParseConfig(*text, path);
}

}  // namespace epc
