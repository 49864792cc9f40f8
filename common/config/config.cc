// Config parsing: yaml-cpp builds the node tree, then each section is one function that walks its
// map with Value::Map(), which rejects unknown and duplicate keys with their positions. A new
// section is a new ParseX(const Value&, X&) function plus one line in ParseRoot().
//
// yaml-cpp reports errors by throwing; so do the walkers here (ConfigError). Both are caught in
// ParseConfig() and returned as an Error; nothing throws out of this file.
#include "common/config/config.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "common/model/quantity.h"
#include "common/model/selectors.h"

namespace epc {
namespace {

struct ConfigError {
  std::string message;
};

std::string Position(std::string_view source, const YAML::Mark& mark) {
  const int line = mark.is_null() ? 1 : mark.line + 1;
  const int column = mark.is_null() ? 1 : mark.column + 1;
  return std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// What a node is, for "expected X, got Y".
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar());
    case YAML::NodeType::Null:
      return "null";
    case YAML::NodeType::Undefined:
      break;
  }
  return "nothing";
}

class Value;
using FieldParser = std::function<void(const Value&)>;

// One known key of a map: the parser runs when the key is present with a non-null value.
struct Field {
  std::string_view key;
  FieldParser parse;
  bool required = false;
};

// A YAML node with its key path and position, so every error can name both.
class Value {
 public:
  Value(const YAML::Node& node, std::string path, std::string_view source,
        const YAML::Mark& fallback)
      : node_(node), path_(std::move(path)), source_(source) {
    const YAML::Mark mark = node.Mark();
    // A null value (`key:` with nothing after it) is positioned at its key.
    mark_ = (node.IsNull() || mark.is_null()) ? fallback : mark;
  }

  const YAML::Node& node() const { return node_; }
  const std::string& path() const { return path_; }
  const YAML::Mark& mark() const { return mark_; }
  bool IsNull() const { return !node_.IsDefined() || node_.IsNull(); }

  [[noreturn]] void Fail(std::string_view message) const { FailAt(mark_, path_, message); }
  [[noreturn]] void FailAt(const YAML::Mark& mark, std::string_view path,
                           std::string_view message) const {
    std::string text = Position(source_, mark) + ": ";
    if (!path.empty()) {
      text += path;
      text += ": ";
    }
    text += message;
    throw ConfigError{std::move(text)};
  }

  // Any scalar is a string (`port: 80` read as a string is "80").
  std::string String() const {
    if (!node_.IsScalar()) Fail("expected a string, got " + Describe(node_));
    return node_.Scalar();
  }

  std::string NonEmptyString() const {
    std::string s = String();
    if (s.empty()) Fail("must not be empty");
    return s;
  }

  // Only the plain scalars true and false: YAML 1.1's yes/no/on/off are not booleans here.
  bool Bool() const {
    if (IsPlainScalar("tag:yaml.org,2002:bool")) {
      if (node_.Scalar() == "true") return true;
      if (node_.Scalar() == "false") return false;
    }
    Fail("expected true or false, got " + Describe(node_));
  }

  // A plain decimal integer within [min, max].
  int64_t Int(int64_t min, int64_t max) const {
    if (!IsPlainScalar("tag:yaml.org,2002:int"))
      Fail("expected an integer, got " + Describe(node_));
    const std::string& text = node_.Scalar();
    std::string_view digits = text;
    if (!digits.empty() && digits[0] == '+') digits.remove_prefix(1);
    int64_t n = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
    if (digits.empty() || end != digits.data() + digits.size() ||
        ec == std::errc::invalid_argument) {
      Fail("expected an integer, got " + Describe(node_));
    }
    if (ec == std::errc::result_out_of_range || n < min || n > max) {
      Fail(text + " is out of range " + std::to_string(min) + ".." + std::to_string(max));
    }
    return n;
  }

  template <typename E>
  E Enum(std::initializer_list<std::pair<std::string_view, E>> choices) const {
    const std::string s = String();
    std::string names;
    for (const auto& [name, value] : choices) {
      if (s == name) return value;
      if (!names.empty()) names += ", ";
      names += name;
    }
    Fail(Quote(s) + " is not one of " + names);
  }

  // Walks a map of known keys. Unknown, duplicate and non-string keys are errors; a null map
  // has no keys. Required keys that are absent or null are errors.
  void Map(std::initializer_list<Field> fields) const {
    if (!IsNull() && !node_.IsMap()) Fail("expected a map, got " + Describe(node_));
    std::vector<std::optional<YAML::Mark>> seen(fields.size());
    if (!IsNull()) {
      for (auto it = node_.begin(); it != node_.end(); ++it) {
        const YAML::Node key_node = it->first;  // a copy: `it->first` lives in a temporary
        const YAML::Mark key_mark = key_node.Mark().is_null() ? mark_ : key_node.Mark();
        if (!key_node.IsScalar())
          FailAt(key_mark, path_, "expected a string key, got " + Describe(key_node));
        const std::string& key = key_node.Scalar();
        const std::string child_path = Child(key);
        size_t index = 0;
        const Field* field = nullptr;
        for (const Field& f : fields) {
          if (f.key == key) {
            field = &f;
            break;
          }
          ++index;
        }
        if (field == nullptr) FailAt(key_mark, child_path, "unknown key" + KnownKeys(fields));
        if (seen[index]) {
          FailAt(key_mark, child_path,
                 "duplicate key (first at line " + std::to_string(seen[index]->line + 1) + ")");
        }
        seen[index] = key_mark;
        const Value child(it->second, child_path, source_, key_mark);
        if (child.IsNull()) {
          if (field->required) child.Fail("is required");
          continue;
        }
        field->parse(child);
      }
    }
    size_t index = 0;
    for (const Field& f : fields) {
      if (f.required && !seen[index]) FailAt(mark_, Child(f.key), "is required");
      ++index;
    }
  }

  // Walks a map whose keys are data (matchLabels): fn(key, value).
  void Entries(const std::function<void(const std::string&, const Value&)>& fn) const {
    if (IsNull()) return;
    if (!node_.IsMap()) Fail("expected a map, got " + Describe(node_));
    std::map<std::string, int, std::less<>> seen;
    for (auto it = node_.begin(); it != node_.end(); ++it) {
      const YAML::Node key_node = it->first;  // a copy: `it->first` lives in a temporary
      const YAML::Mark key_mark = key_node.Mark().is_null() ? mark_ : key_node.Mark();
      if (!key_node.IsScalar())
        FailAt(key_mark, path_, "expected a string key, got " + Describe(key_node));
      const std::string& key = key_node.Scalar();
      const std::string child_path = path_ + "[" + Quote(key) + "]";
      if (auto [pos, inserted] = seen.emplace(key, key_mark.line); !inserted) {
        FailAt(key_mark, child_path,
               "duplicate key (first at line " + std::to_string(pos->second + 1) + ")");
      }
      fn(key, Value(it->second, child_path, source_, key_mark));
    }
  }

  // Walks a list: fn(element) with path `name[i]`. Null is an empty list.
  void List(const std::function<void(const Value&)>& fn) const {
    if (IsNull()) return;
    if (!node_.IsSequence()) Fail("expected a list, got " + Describe(node_));
    size_t index = 0;
    for (auto it = node_.begin(); it != node_.end(); ++it, ++index) {
      fn(Value(*it, path_ + "[" + std::to_string(index) + "]", source_, mark_));
    }
  }

  std::vector<std::string> StringList() const {
    std::vector<std::string> out;
    List([&](const Value& v) {
      if (v.IsNull()) v.Fail("expected a string, got null");
      out.push_back(v.String());
    });
    return out;
  }

 private:
  std::string Child(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  static std::string KnownKeys(std::initializer_list<Field> fields) {
    std::string out = "; known keys: ";
    bool first = true;
    for (const Field& f : fields) {
      if (!first) out += ", ";
      out += f.key;
      first = false;
    }
    return out;
  }

  // A plain (unquoted) scalar, or one tagged explicitly with `core_tag` (!!int, !!bool).
  bool IsPlainScalar(std::string_view core_tag) const {
    return node_.IsScalar() && (node_.Tag() == "?" || node_.Tag() == core_tag);
  }

  YAML::Node node_;
  std::string path_;
  std::string_view source_;
  YAML::Mark mark_;
};

// Counts the YAML documents in `text` (0 or 1; a second one is an error), and rejects input on
// which yaml-cpp 0.7 makes no progress: its LoadAll() then loops forever allocating null
// documents (a lone "," does it; jbeder/yaml-cpp#1040, fixed upstream in #1319), and Load()
// silently returns null.
class DocumentCounter : public YAML::EventHandler {
 public:
  std::vector<YAML::Mark> starts;
  void OnDocumentStart(const YAML::Mark& mark) override { starts.push_back(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
};

int CountDocuments(const std::string& text, std::string_view source) {
  std::istringstream stream(text);
  YAML::Parser parser(stream);
  DocumentCounter counter;
  while (parser.HandleNextDocument(counter)) {
    const std::vector<YAML::Mark>& starts = counter.starts;
    if (starts.size() < 2) continue;
    const YAML::Mark& mark = starts[1];
    if (mark.pos == starts[0].pos) {
      const size_t at = static_cast<size_t>(mark.pos);
      const std::string found = at < text.size() ? Quote(text.substr(at, 1)) : "end of input";
      throw ConfigError{Position(source, mark) + ": invalid YAML: unexpected " + found};
    }
    throw ConfigError{Position(source, mark) +
                      ": expected one YAML document, found a second one here"};
  }
  return static_cast<int>(counter.starts.size());
}

// ---- Sections ----

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
  struct Member {
    HpaMetricTargetType type;
    std::string_view type_name;
    std::string_view key;
    const std::optional<Value>& field;
  };
  const Member members[] = {
      {HpaMetricTargetType::kUtilization, "Utilization", "averageUtilization", utilization},
      {HpaMetricTargetType::kAverageValue, "AverageValue", "averageValue", average_value},
      {HpaMetricTargetType::kValue, "Value", "value", value},
  };
  std::string_view type_name;
  for (const Member& m : members) {
    if (m.type == out.type) type_name = m.type_name;
  }
  for (const Member& m : members) {
    if (m.type != out.type && m.field) {
      m.field->Fail("must not be set when type is " + std::string(type_name));
    }
  }
  for (const Member& m : members) {
    if (m.type == out.type && !m.field) {
      v.FailAt(v.mark(), v.path() + "." + std::string(m.key),
               "is required when type is " + std::string(type_name));
    }
  }
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
  struct Member {
    HpaMetricSourceType type;
    std::string_view type_name;
    std::string_view key;
    const std::optional<Value>& field;
  };
  const Member members[] = {
      {HpaMetricSourceType::kResource, "Resource", "resource", resource},
      {HpaMetricSourceType::kPods, "Pods", "pods", pods},
      {HpaMetricSourceType::kObject, "Object", "object", object},
      {HpaMetricSourceType::kExternal, "External", "external", external},
  };
  std::string_view type_name;
  for (const Member& m : members) {
    if (m.type == out.type) type_name = m.type_name;
  }
  for (const Member& m : members) {
    if (m.type != out.type && m.field) {
      m.field->Fail("must not be set when type is " + std::string(type_name));
    }
  }
  for (const Member& m : members) {
    if (m.type == out.type && !m.field) {
      v.FailAt(v.mark(), v.path() + "." + std::string(m.key),
               "is required when type is " + std::string(type_name));
    }
  }
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

void ParseBehavior(const Value& v, HpaBehavior& out) {
  v.Map({
      {"scaleUp", [&](const Value& f) { ParseScalingRules(f, out.scale_up); }},
      {"scaleDown", [&](const Value& f) { ParseScalingRules(f, out.scale_down); }},
  });
}

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
      {"behavior", [&](const Value& f) { ParseBehavior(f, out.behavior.emplace()); }},
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

void ParseAutoscaler(const Value& v, AutoscalerConfig& out) {
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
  });
  if (prometheus_metric && out.prometheus.url.empty()) {
    prometheus_metric->Fail(
        "Pods, Object and External metrics are read from Prometheus: set "
        "autoscaler.prometheus.url");
  }
}

void ParseRoot(const Value& v, Config& out) {
  v.Map({
      {"epcResources", [&](const Value& f) { ParseEpcResources(f, out.epc_resources); }},
      {"pools", [&](const Value& f) { ParsePools(f, out.pools); }},
      {"scheduling", [&](const Value& f) { ParseScheduling(f, out.scheduling); }},
      {"extender", [&](const Value& f) { ParseExtender(f, out.extender); }},
      {"autoscaler", [&](const Value& f) { ParseAutoscaler(f, out.autoscaler); }},
  });
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
  } catch (const ConfigError& e) {
    return Error{e.message};
  } catch (const YAML::Exception& e) {
    return Error{Position(source, e.mark) + ": invalid YAML: " + e.msg};
  } catch (const std::exception& e) {
    return Error{std::string(source) + ": " + e.what()};
  }
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Error{"cannot read config file " + path + ": " + std::strerror(errno)};
  }
  std::string text;
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) return Error{"cannot read config file " + path + ": " + std::strerror(error)};
  return ParseConfig(text, path);
}

}  // namespace epc
