// Decoders from Kubernetes JSON into the model, on simdjson's on-demand API.
//
// Every object is walked once, field by field, in document order. Keys are matched against
// lowercase literals straight on the raw JSON bytes (ASCII case folding, as Go's encoding/json
// does); only a key with an escape in it is unescaped. Values the model does not keep are never
// touched: the on-demand iterator skips them when the loop moves to the next field.
//
// Errors: a wrong type or a bad quantity is recorded (the first one wins) and decoding goes on,
// so a node that fails still gets its name; a JSON syntax error stops decoding. No exceptions:
// only simdjson's error-code API is used.
#include "common/k8s/decode.h"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epc {
namespace {

namespace od = simdjson::ondemand;
using simdjson::error_code;

// A position in the document for error messages, kept on the stack as a linked list and only
// turned into text when an error is reported.
struct Path {
  enum class Kind : uint8_t { kRoot, kField, kIndex, kKey };
  const Path* parent = nullptr;
  Kind kind = Kind::kRoot;
  std::string_view name;
  size_t index = 0;

  Path Field(std::string_view field) const { return {this, Kind::kField, field, 0}; }
  Path Index(size_t i) const { return {this, Kind::kIndex, {}, i}; }
  Path Key(std::string_view key) const { return {this, Kind::kKey, key, 0}; }

  void AppendTo(std::string& out) const {
    if (parent != nullptr) parent->AppendTo(out);
    switch (kind) {
      case Kind::kRoot:
        break;
      case Kind::kField:
        if (!out.empty()) out += '.';
        out += name;
        break;
      case Kind::kIndex:
        out += '[';
        out += std::to_string(index);
        out += ']';
        break;
      case Kind::kKey:
        out += "[\"";
        out += name;
        out += "\"]";
        break;
    }
  }
  std::string ToString() const {
    std::string out;
    AppendTo(out);
    return out;
  }
};

// The first error of a decode, and whether the JSON itself is broken (then nothing more can be
// read).
struct Ctx {
  std::string error;
  bool fatal = false;

  bool failed() const { return !error.empty(); }

  void Fail(const Path& path, std::string_view message) {
    if (!error.empty()) return;
    path.AppendTo(error);
    if (!error.empty()) error += ": ";
    error += message;
  }
  void JsonError(const Path& path, error_code code) {
    Fail(path, std::string("invalid JSON: ") + simdjson::error_message(code));
    fatal = true;
  }
};

const char* TypeName(od::json_type type) {
  switch (type) {
    case od::json_type::array:
      return "array";
    case od::json_type::object:
      return "object";
    case od::json_type::number:
      return "number";
    case od::json_type::string:
      return "string";
    case od::json_type::boolean:
      return "boolean";
    case od::json_type::null:
      return "null";
  }
  return "unknown";
}

const char* TypeName(od::value& v) {
  od::json_type type;
  if (v.type().get(type) != simdjson::SUCCESS) return "invalid JSON";
  return TypeName(type);
}

// After a getter failed. Returns true when the value is null (the caller leaves its field
// unset); otherwise records the error and returns false.
bool NullOrFail(od::value& v, error_code code, Ctx& ctx, const Path& path, const char* want) {
  if (code == simdjson::INCORRECT_TYPE) {
    bool is_null = false;
    if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) return true;
    ctx.Fail(path, std::string("expected ") + want + ", got " + TypeName(v));
    return false;
  }
  ctx.JsonError(path, code);
  return false;
}

// An object key, matched against lowercase ASCII literals without unescaping it. Only when the
// first mismatch is an escape sequence is the key unescaped (once) and compared again.
class Key {
 public:
  explicit Key(od::field& field) : field_(field), raw_(field.key().raw()) {}

  // `lower` holds lowercase ASCII letters only, so `c | 0x20` folds exactly A-Z onto a-z.
  bool Is(std::string_view lower) {
    for (size_t i = 0; i < lower.size(); ++i) {
      const char c = raw_[i];
      if (static_cast<char>(c | 0x20) != lower[i]) return c == '\\' && SlowIs(lower);
    }
    return raw_[lower.size()] == '"';
  }

 private:
  bool SlowIs(std::string_view lower) {
    if (!unescaped_) {
      unescaped_ = true;
      if (field_.unescaped_key().get(text_) != simdjson::SUCCESS) text_ = {};
    }
    if (text_.size() != lower.size()) return false;
    for (size_t i = 0; i < lower.size(); ++i) {
      const char c = text_[i];
      const char folded = (c >= 'A' && c <= 'Z') ? static_cast<char>(c | 0x20) : c;
      if (folded != lower[i]) return false;
    }
    return true;
  }

  od::field& field_;
  const char* raw_;
  bool unescaped_ = false;
  std::string_view text_;
};

// Calls fn(Key&, od::value&) for every field of an object. null: no fields. Stops at a JSON
// error.
template <typename Fn>
void ForEachField(od::value& v, Ctx& ctx, const Path& path, Fn&& fn) {
  od::object object;
  if (auto code = v.get_object().get(object); code != simdjson::SUCCESS) {
    NullOrFail(v, code, ctx, path, "an object");
    return;
  }
  for (auto item : object) {
    od::field field;
    if (auto code = std::move(item).get(field); code != simdjson::SUCCESS) {
      ctx.JsonError(path, code);
      return;
    }
    Key key(field);
    fn(key, field.value());
    if (ctx.fatal) return;
  }
}

// Calls fn(size_t index, od::value&) for every element of an array. null: no elements.
template <typename Fn>
void ForEachElement(od::value& v, Ctx& ctx, const Path& path, Fn&& fn) {
  od::array array;
  if (auto code = v.get_array().get(array); code != simdjson::SUCCESS) {
    NullOrFail(v, code, ctx, path, "an array");
    return;
  }
  size_t index = 0;
  for (auto item : array) {
    od::value element;
    if (auto code = std::move(item).get(element); code != simdjson::SUCCESS) {
      ctx.JsonError(path.Index(index), code);
      return;
    }
    fn(index, element);
    if (ctx.fatal) return;
    ++index;
  }
}

// Calls fn(std::string_view key, od::value&, const Path&) for every entry of a JSON object used
// as a map (labels, resource lists): keys are unescaped data here.
template <typename Fn>
void ForEachEntry(od::value& v, Ctx& ctx, const Path& path, Fn&& fn) {
  od::object object;
  if (auto code = v.get_object().get(object); code != simdjson::SUCCESS) {
    NullOrFail(v, code, ctx, path, "an object");
    return;
  }
  for (auto item : object) {
    od::field field;
    std::string_view key;
    if (auto code = std::move(item).get(field); code != simdjson::SUCCESS) {
      ctx.JsonError(path, code);
      return;
    }
    if (auto code = field.unescaped_key().get(key); code != simdjson::SUCCESS) {
      ctx.JsonError(path, code);
      return;
    }
    fn(key, field.value(), path.Key(key));
    if (ctx.fatal) return;
  }
}

// Scalars. null leaves the target as it is (Go's encoding/json does the same).
void ReadString(od::value& v, Ctx& ctx, const Path& path, std::string& out) {
  std::string_view s;
  if (auto code = v.get_string().get(s); code != simdjson::SUCCESS) {
    NullOrFail(v, code, ctx, path, "a string");
    return;
  }
  out.assign(s.data(), s.size());
}

// For values only compared, never kept: the view points into the parser's string buffer and
// stays valid for the rest of the document.
void ReadStringView(od::value& v, Ctx& ctx, const Path& path, std::string_view& out) {
  std::string_view s;
  if (auto code = v.get_string().get(s); code != simdjson::SUCCESS) {
    NullOrFail(v, code, ctx, path, "a string");
    return;
  }
  out = s;
}

void ReadBool(od::value& v, Ctx& ctx, const Path& path, bool& out) {
  bool b = false;
  if (auto code = v.get_bool().get(b); code != simdjson::SUCCESS) {
    NullOrFail(v, code, ctx, path, "a boolean");
    return;
  }
  out = b;
}

// Returns false when null (target untouched) or on error (recorded).
bool ReadInt64(od::value& v, Ctx& ctx, const Path& path, int64_t& out) {
  int64_t n = 0;
  auto code = v.get_int64().get(n);
  if (code == simdjson::SUCCESS) {
    out = n;
    return true;
  }
  if (code == simdjson::NUMBER_ERROR || code == simdjson::NUMBER_OUT_OF_RANGE) {
    // A number, but not an int64: 1.5, 1e3, 99999999999999999999.
    ctx.Fail(path,
             "expected an integer, got " + std::string(TrimJsonSpaceRight(v.raw_json_token())));
    return false;
  }
  if (code == simdjson::INCORRECT_TYPE) {
    od::json_type type;
    if (v.type().get(type) == simdjson::SUCCESS && type == od::json_type::number) {
      ctx.Fail(path,
               "expected an integer, got " + std::string(TrimJsonSpaceRight(v.raw_json_token())));
      return false;
    }
  }
  NullOrFail(v, code, ctx, path, "an integer");
  return false;
}

void ReadInt32(od::value& v, Ctx& ctx, const Path& path, int32_t& out) {
  int64_t n = 0;
  if (!ReadInt64(v, ctx, path, n)) return;
  if (n < std::numeric_limits<int32_t>::min() || n > std::numeric_limits<int32_t>::max()) {
    ctx.Fail(path, "integer " + std::to_string(n) + " is out of the int32 range");
    return;
  }
  out = static_cast<int32_t>(n);
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digit = [&](size_t at) { return at < s.size() && s[at] >= '0' && s[at] <= '9'; };
  if (i < s.size() && s[i] == '-') ++i;
  if (!digit(i)) return false;
  if (s[i] == '0') {
    ++i;
  } else {
    while (digit(i)) ++i;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digit(i)) return false;
    while (digit(i)) ++i;
  }
  return i == s.size();
}

// A resource list: {"cpu": "7820m", "pods": 110}. A quantity is a string or, as Kubernetes also
// accepts, a bare JSON number. A null quantity is zero (Kubernetes' Quantity.UnmarshalJSON).
// Whether a projection keeps `key`: `keys` null keeps every key. The lists are a handful of
// names (pool selector keys, EPC resource names), so a linear scan is the fastest lookup.
bool Keeps(const std::vector<std::string>* keys, std::string_view key) {
  if (keys == nullptr) return true;
  for (const std::string& k : *keys) {
    if (k == key) return true;
  }
  return false;
}

// `keys` (null: all) chooses the entries stored; the others are parsed and checked all the same,
// so a bad quantity fails the decode whether or not it is kept.
void ReadQuantities(od::value& v, Ctx& ctx, const Path& path, ResourceQuantities& out,
                    const std::vector<std::string>* keys = nullptr) {
  bool is_null = false;
  if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) {
    out.clear();
    return;
  }
  ForEachEntry(v, ctx, path, [&](std::string_view key, od::value& qv, const Path& qpath) {
    std::string_view text;
    auto code = qv.get_string().get(text);
    if (code == simdjson::INCORRECT_TYPE) {
      od::json_type type;
      if (auto tcode = qv.type().get(type); tcode != simdjson::SUCCESS) {
        ctx.JsonError(qpath, tcode);
        return;
      }
      if (type == od::json_type::null) {
        if (Keeps(keys, key)) out.insert_or_assign(out.end(), std::string(key), Quantity());
        return;
      }
      if (type != od::json_type::number) {
        ctx.Fail(qpath, std::string("expected a quantity (string or number), got ") + TypeName(qv));
        return;
      }
      text = TrimJsonSpaceRight(qv.raw_json_token());
      if (!IsJsonNumber(text)) {
        ctx.JsonError(qpath, simdjson::NUMBER_ERROR);
        return;
      }
    } else if (code != simdjson::SUCCESS) {
      ctx.JsonError(qpath, code);
      return;
    }
    Result<Quantity> q = Quantity::Parse(text);
    if (!q.ok()) {
      ctx.Fail(qpath, q.error());
      return;
    }
    if (Keeps(keys, key)) out.insert_or_assign(out.end(), std::string(key), *q);
  });
}

// A map[string]string (labels, annotations, nodeSelector). `out` null stores nothing and
// `keys` (null: all) chooses the entries stored; every value is checked all the same.
void ReadStringMap(od::value& v, Ctx& ctx, const Path& path, Labels* out,
                   const std::vector<std::string>* keys = nullptr) {
  bool is_null = false;
  if (v.is_null().get(is_null) == simdjson::SUCCESS && is_null) {
    if (out != nullptr) out->clear();
    return;
  }
  ForEachEntry(v, ctx, path, [&](std::string_view key, od::value& sv, const Path& spath) {
    if (out == nullptr || !Keeps(keys, key)) {
      std::string_view unused;
      ReadStringView(sv, ctx, spath, unused);
      return;
    }
    std::string value;
    ReadString(sv, ctx, spath, value);
    out->insert_or_assign(out->end(), std::string(key), std::move(value));
  });
}

void ReadStringMap(od::value& v, Ctx& ctx, const Path& path, Labels& out) {
  ReadStringMap(v, ctx, path, &out);
}

// A string stored in `out`, or only checked when `out` is null.
void ReadStringTo(od::value& v, Ctx& ctx, const Path& path, std::string* out) {
  if (out != nullptr) {
    ReadString(v, ctx, path, *out);
    return;
  }
  std::string_view unused;
  ReadStringView(v, ctx, path, unused);
}

// Decodes a JSON array of objects into `out` (cleared first, as Go resets a slice).
template <typename T, typename Fn>
void ReadList(od::value& v, Ctx& ctx, const Path& path, std::vector<T>& out, Fn&& decode_one) {
  out.clear();
  ForEachElement(v, ctx, path, [&](size_t index, od::value& element) {
    decode_one(element, path.Index(index), out.emplace_back());
  });
}

void ReadStringList(od::value& v, Ctx& ctx, const Path& path, std::vector<std::string>& out) {
  ReadList(v, ctx, path, out, [&](od::value& element, const Path& epath, std::string& s) {
    ReadString(element, ctx, epath, s);
  });
}

// ---- metadata ----

// Where ObjectMeta fields go. A kind without namespace, owners or deletion (a node) leaves
// those null and they are not read; uid, resourceVersion, labels and annotations left null are
// read and checked but not stored (a node projection).
struct MetaOut {
  std::string* name = nullptr;
  std::string* namespace_name = nullptr;
  std::string* uid = nullptr;
  std::string* resource_version = nullptr;
  Labels* labels = nullptr;
  Labels* annotations = nullptr;
  std::vector<OwnerReference>* owners = nullptr;
  bool* deleting = nullptr;
  const std::vector<std::string>* label_keys = nullptr;  // labels stored; null: all
};

void DecodeOwnerReference(od::value& v, Ctx& ctx, const Path& path, OwnerReference& out) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("apiversion")) {
      ReadString(fv, ctx, path.Field("apiVersion"), out.api_version);
    } else if (k.Is("kind")) {
      ReadString(fv, ctx, path.Field("kind"), out.kind);
    } else if (k.Is("name")) {
      ReadString(fv, ctx, path.Field("name"), out.name);
    } else if (k.Is("uid")) {
      ReadString(fv, ctx, path.Field("uid"), out.uid);
    } else if (k.Is("controller")) {
      ReadBool(fv, ctx, path.Field("controller"), out.controller);
    }
  });
}

void DecodeMeta(od::value& v, Ctx& ctx, const Path& path, const MetaOut& out) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("name")) {
      ReadString(fv, ctx, path.Field("name"), *out.name);
    } else if (out.namespace_name != nullptr && k.Is("namespace")) {
      ReadString(fv, ctx, path.Field("namespace"), *out.namespace_name);
    } else if (k.Is("uid")) {
      ReadStringTo(fv, ctx, path.Field("uid"), out.uid);
    } else if (k.Is("resourceversion")) {
      ReadStringTo(fv, ctx, path.Field("resourceVersion"), out.resource_version);
    } else if (k.Is("labels")) {
      ReadStringMap(fv, ctx, path.Field("labels"), out.labels, out.label_keys);
    } else if (k.Is("annotations")) {
      ReadStringMap(fv, ctx, path.Field("annotations"), out.annotations);
    } else if (out.owners != nullptr && k.Is("ownerreferences")) {
      const Path opath = path.Field("ownerReferences");
      ReadList(fv, ctx, opath, *out.owners, [&](od::value& e, const Path& p, OwnerReference& o) {
        DecodeOwnerReference(e, ctx, p, o);
      });
    } else if (out.deleting != nullptr && k.Is("deletiontimestamp")) {
      std::string_view timestamp;
      if (auto code = fv.get_string().get(timestamp); code == simdjson::SUCCESS) {
        *out.deleting = true;
      } else if (NullOrFail(fv, code, ctx, path.Field("deletionTimestamp"), "a string")) {
        *out.deleting = false;
      }
    }
  });
}

// ---- Node ----

void DecodeTaint(od::value& v, Ctx& ctx, const Path& path, Taint& out) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("key")) {
      ReadString(fv, ctx, path.Field("key"), out.key);
    } else if (k.Is("value")) {
      ReadString(fv, ctx, path.Field("value"), out.value);
    } else if (k.Is("effect")) {
      ReadString(fv, ctx, path.Field("effect"), out.effect);
    }
  });
}

void DecodeNodeSpec(od::value& v, Ctx& ctx, const Path& path, Node& node) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("taints")) {
      ReadList(fv, ctx, path.Field("taints"), node.taints,
               [&](od::value& e, const Path& p, Taint& t) { DecodeTaint(e, ctx, p, t); });
    } else if (k.Is("unschedulable")) {
      ReadBool(fv, ctx, path.Field("unschedulable"), node.unschedulable);
    }
  });
}

// A condition's type, status and reason, whatever their order in the object.
struct ConditionView {
  std::string_view type;
  std::string_view status;
  std::string_view reason;
};

template <typename Fn>
void ForEachCondition(od::value& v, Ctx& ctx, const Path& path, Fn&& fn) {
  ForEachElement(v, ctx, path, [&](size_t index, od::value& element) {
    const Path cpath = path.Index(index);
    ConditionView c;
    ForEachField(element, ctx, cpath, [&](Key& k, od::value& fv) {
      if (k.Is("type")) {
        ReadStringView(fv, ctx, cpath.Field("type"), c.type);
      } else if (k.Is("status")) {
        ReadStringView(fv, ctx, cpath.Field("status"), c.status);
      } else if (k.Is("reason")) {
        ReadStringView(fv, ctx, cpath.Field("reason"), c.reason);
      }
    });
    fn(c);
  });
}

void DecodeNodeStatus(od::value& v, Ctx& ctx, const Path& path, Node& node,
                      const NodeProjection& projection) {
  const std::vector<std::string>* keys =
      projection.all_resources ? nullptr : &projection.resource_names;
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("allocatable")) {
      ReadQuantities(fv, ctx, path.Field("allocatable"), node.allocatable, keys);
    } else if (k.Is("capacity")) {
      ReadQuantities(fv, ctx, path.Field("capacity"), node.capacity, keys);
    } else if (k.Is("conditions") && projection.conditions) {
      node.ready = true;
      ForEachCondition(fv, ctx, path.Field("conditions"), [&](const ConditionView& c) {
        if (c.type == "Ready") node.ready = c.status == "True";
      });
    }
  });
}

void DecodeNodeInto(od::value& v, Ctx& ctx, Node& node, const NodeProjection& projection) {
  const Path root;
  const MetaOut meta{
      .name = &node.name,
      .uid = projection.uid_and_version ? &node.uid : nullptr,
      .resource_version = projection.uid_and_version ? &node.resource_version : nullptr,
      .labels = &node.labels,
      .annotations = projection.annotations ? &node.annotations : nullptr,
      .label_keys = projection.all_labels ? nullptr : &projection.label_keys};
  ForEachField(v, ctx, root, [&](Key& k, od::value& fv) {
    if (k.Is("metadata")) {
      DecodeMeta(fv, ctx, root.Field("metadata"), meta);
    } else if (k.Is("spec") && projection.taints_and_unschedulable) {
      DecodeNodeSpec(fv, ctx, root.Field("spec"), node);
    } else if (k.Is("status")) {
      DecodeNodeStatus(fv, ctx, root.Field("status"), node, projection);
    }
  });
}

// ---- Pod ----

void DecodeRequirement(od::value& v, Ctx& ctx, const Path& path, SelectorRequirement& out) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("key")) {
      ReadString(fv, ctx, path.Field("key"), out.key);
    } else if (k.Is("operator")) {
      ReadString(fv, ctx, path.Field("operator"), out.op);
    } else if (k.Is("values")) {
      ReadStringList(fv, ctx, path.Field("values"), out.values);
    }
  });
}

void DecodeRequirements(od::value& v, Ctx& ctx, const Path& path,
                        std::vector<SelectorRequirement>& out) {
  ReadList(v, ctx, path, out, [&](od::value& e, const Path& p, SelectorRequirement& r) {
    DecodeRequirement(e, ctx, p, r);
  });
}

void DecodeNodeSelectorTerm(od::value& v, Ctx& ctx, const Path& path, NodeSelectorTerm& out) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("matchexpressions")) {
      DecodeRequirements(fv, ctx, path.Field("matchExpressions"), out.match_expressions);
    } else if (k.Is("matchfields")) {
      DecodeRequirements(fv, ctx, path.Field("matchFields"), out.match_fields);
    }
  });
}

void DecodeAffinity(od::value& v, Ctx& ctx, const Path& path, Pod& pod) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (!k.Is("nodeaffinity")) return;
    const Path napath = path.Field("nodeAffinity");
    ForEachField(fv, ctx, napath, [&](Key& nk, od::value& nv) {
      if (!nk.Is("requiredduringschedulingignoredduringexecution")) return;
      const Path rpath = napath.Field("requiredDuringSchedulingIgnoredDuringExecution");
      ForEachField(nv, ctx, rpath, [&](Key& rk, od::value& rv) {
        if (!rk.Is("nodeselectorterms")) return;
        ReadList(rv, ctx, rpath.Field("nodeSelectorTerms"), pod.required_node_affinity,
                 [&](od::value& e, const Path& p, NodeSelectorTerm& t) {
                   DecodeNodeSelectorTerm(e, ctx, p, t);
                 });
      });
    });
  });
}

void DecodeToleration(od::value& v, Ctx& ctx, const Path& path, Toleration& out) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("key")) {
      ReadString(fv, ctx, path.Field("key"), out.key);
    } else if (k.Is("operator")) {
      ReadString(fv, ctx, path.Field("operator"), out.op);
    } else if (k.Is("value")) {
      ReadString(fv, ctx, path.Field("value"), out.value);
    } else if (k.Is("effect")) {
      ReadString(fv, ctx, path.Field("effect"), out.effect);
    } else if (k.Is("tolerationseconds")) {
      int64_t seconds = 0;
      out.toleration_seconds.reset();
      if (ReadInt64(fv, ctx, path.Field("tolerationSeconds"), seconds)) {
        out.toleration_seconds = seconds;
      }
    }
  });
}

void DecodeContainer(od::value& v, Ctx& ctx, const Path& path, bool init, Container& out) {
  const bool failed_before = ctx.failed();
  std::string_view restart_policy;
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("name")) {
      ReadString(fv, ctx, path.Field("name"), out.name);
    } else if (k.Is("resources")) {
      const Path rpath = path.Field("resources");
      ForEachField(fv, ctx, rpath, [&](Key& rk, od::value& rv) {
        if (rk.Is("requests")) {
          ReadQuantities(rv, ctx, rpath.Field("requests"), out.requests);
        } else if (rk.Is("limits")) {
          ReadQuantities(rv, ctx, rpath.Field("limits"), out.limits);
        }
      });
    } else if (init && k.Is("restartpolicy")) {
      ReadStringView(fv, ctx, path.Field("restartPolicy"), restart_policy);
    }
  });
  out.restartable_init = init && restart_policy == "Always";
  // Name the container in its first error: the name may come after the bad field.
  if (!failed_before && ctx.failed() && !out.name.empty()) {
    ctx.error.insert(0, "container \"" + out.name + "\": ");
  }
}

// emptyDir (unless medium is Memory) and hostPath use the node's local storage.
void DecodeVolume(od::value& v, Ctx& ctx, const Path& path, Pod& pod) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("emptydir")) {
      const Path epath = path.Field("emptyDir");
      bool is_null = false;
      if (fv.is_null().get(is_null) == simdjson::SUCCESS && is_null) return;
      const bool failed_before = ctx.failed();
      std::string_view medium;
      ForEachField(fv, ctx, epath, [&](Key& ek, od::value& ev) {
        if (ek.Is("medium")) ReadStringView(ev, ctx, epath.Field("medium"), medium);
      });
      if (ctx.failed() == failed_before && medium != "Memory") pod.uses_local_storage = true;
    } else if (k.Is("hostpath")) {
      od::json_type type;
      if (auto code = fv.type().get(type); code != simdjson::SUCCESS) {
        ctx.JsonError(path.Field("hostPath"), code);
      } else if (type == od::json_type::object) {
        pod.uses_local_storage = true;
      } else if (type != od::json_type::null) {
        ctx.Fail(path.Field("hostPath"), std::string("expected an object, got ") + TypeName(fv));
      }
    }
  });
}

void DecodePodSpec(od::value& v, Ctx& ctx, const Path& path, Pod& pod) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("containers")) {
      ReadList(fv, ctx, path.Field("containers"), pod.containers,
               [&](od::value& e, const Path& p, Container& c) {
                 DecodeContainer(e, ctx, p, /*init=*/false, c);
               });
    } else if (k.Is("initcontainers")) {
      ReadList(fv, ctx, path.Field("initContainers"), pod.init_containers,
               [&](od::value& e, const Path& p, Container& c) {
                 DecodeContainer(e, ctx, p, /*init=*/true, c);
               });
    } else if (k.Is("nodename")) {
      ReadString(fv, ctx, path.Field("nodeName"), pod.node_name);
    } else if (k.Is("schedulername")) {
      ReadString(fv, ctx, path.Field("schedulerName"), pod.scheduler_name);
    } else if (k.Is("tolerations")) {
      ReadList(fv, ctx, path.Field("tolerations"), pod.tolerations,
               [&](od::value& e, const Path& p, Toleration& t) { DecodeToleration(e, ctx, p, t); });
    } else if (k.Is("nodeselector")) {
      ReadStringMap(fv, ctx, path.Field("nodeSelector"), pod.node_selector);
    } else if (k.Is("affinity")) {
      DecodeAffinity(fv, ctx, path.Field("affinity"), pod);
    } else if (k.Is("priority")) {
      pod.priority = 0;
      ReadInt32(fv, ctx, path.Field("priority"), pod.priority);
    } else if (k.Is("overhead")) {
      ReadQuantities(fv, ctx, path.Field("overhead"), pod.overhead);
    } else if (k.Is("volumes")) {
      const Path vpath = path.Field("volumes");
      ForEachElement(fv, ctx, vpath, [&](size_t index, od::value& e) {
        DecodeVolume(e, ctx, vpath.Index(index), pod);
      });
    }
  });
}

void DecodePodStatus(od::value& v, Ctx& ctx, const Path& path, Pod& pod) {
  ForEachField(v, ctx, path, [&](Key& k, od::value& fv) {
    if (k.Is("phase")) {
      ReadString(fv, ctx, path.Field("phase"), pod.phase);
    } else if (k.Is("starttime")) {
      ReadString(fv, ctx, path.Field("startTime"), pod.start_time);
    } else if (k.Is("conditions")) {
      pod.ready = false;
      pod.unschedulable = false;
      ForEachCondition(fv, ctx, path.Field("conditions"), [&](const ConditionView& c) {
        if (c.type == "Ready") {
          pod.ready = c.status == "True";
        } else if (c.type == "PodScheduled") {
          pod.unschedulable = c.status == "False" && c.reason == "Unschedulable";
        }
      });
    }
  });
}

void DecodePodInto(od::value& v, Ctx& ctx, Pod& pod) {
  const Path root;
  const MetaOut meta{.name = &pod.name,
                     .namespace_name = &pod.namespace_name,
                     .uid = &pod.uid,
                     .resource_version = &pod.resource_version,
                     .labels = &pod.labels,
                     .annotations = &pod.annotations,
                     .owners = &pod.owners,
                     .deleting = &pod.deleting};
  ForEachField(v, ctx, root, [&](Key& k, od::value& fv) {
    if (k.Is("metadata")) {
      DecodeMeta(fv, ctx, root.Field("metadata"), meta);
    } else if (k.Is("spec")) {
      DecodePodSpec(fv, ctx, root.Field("spec"), pod);
    } else if (k.Is("status")) {
      DecodePodStatus(fv, ctx, root.Field("status"), pod);
    }
  });
}

// The top-level value must be an object: null is not a node.
bool RequireObject(od::value& v, Ctx& ctx) {
  od::json_type type;
  if (auto code = v.type().get(type); code != simdjson::SUCCESS) {
    ctx.JsonError(Path(), code);
    return false;
  }
  if (type != od::json_type::object) {
    ctx.Fail(Path(), std::string("expected a JSON object, got ") + TypeName(v));
    return false;
  }
  return true;
}

simdjson::ondemand::parser& ThreadParser() {
  thread_local simdjson::ondemand::parser parser;
  return parser;
}

// Parses a whole document, checks it is one JSON object and hands its value to `decode`.
template <typename Fn>
void ParseDocument(std::string_view json, Ctx& ctx, Fn&& decode) {
  const simdjson::padded_string padded(json);
  od::document doc;
  if (auto code = ThreadParser().iterate(padded).get(doc); code != simdjson::SUCCESS) {
    if (code == simdjson::EMPTY) {
      ctx.Fail(Path(), "empty JSON document");
    } else {
      ctx.JsonError(Path(), code);
    }
    return;
  }
  od::json_type type;
  if (auto code = doc.type().get(type); code != simdjson::SUCCESS) {
    ctx.JsonError(Path(), code);
    return;
  }
  if (type != od::json_type::object) {
    ctx.Fail(Path(), std::string("expected a JSON object, got ") + TypeName(type));
    return;
  }
  od::value value;
  if (auto code = doc.get_value().get(value); code != simdjson::SUCCESS) {
    ctx.JsonError(Path(), code);
    return;
  }
  decode(value);
  if (ctx.fatal) return;
  // Nothing may follow the object.
  const char* rest = nullptr;
  if (doc.current_location().get(rest) == simdjson::SUCCESS) {
    ctx.JsonError(Path(), simdjson::TRAILING_CONTENT);
  }
}

}  // namespace

NodeDecodeResult DecodeNode(simdjson::ondemand::value value) {
  return DecodeNode(value, NodeProjection());
}

NodeDecodeResult DecodeNode(simdjson::ondemand::value value, const NodeProjection& projection) {
  NodeDecodeResult result;
  Ctx ctx;
  if (RequireObject(value, ctx)) DecodeNodeInto(value, ctx, result.node, projection);
  result.error = std::move(ctx.error);
  return result;
}

Result<Pod> DecodePod(simdjson::ondemand::value value) {
  Pod pod;
  Ctx ctx;
  if (RequireObject(value, ctx)) DecodePodInto(value, ctx, pod);
  if (ctx.failed()) return Error{std::move(ctx.error)};
  return pod;
}

NodeDecodeResult ParseNodeJson(std::string_view json) {
  NodeDecodeResult result;
  Ctx ctx;
  ParseDocument(json, ctx,
                [&](od::value& v) { DecodeNodeInto(v, ctx, result.node, NodeProjection()); });
  result.error = std::move(ctx.error);
  return result;
}

Result<Pod> ParsePodJson(std::string_view json) {
  Pod pod;
  Ctx ctx;
  ParseDocument(json, ctx, [&](od::value& v) { DecodePodInto(v, ctx, pod); });
  if (ctx.failed()) return Error{std::move(ctx.error)};
  return pod;
}

}  // namespace epc
