// The strict YAML map-walker every parser of our YAML files uses (the config file, simulator
// scenarios): a yaml-cpp node with its key path and position, so every error names both
// (`config.yaml:12:5: scheduling.scoringStrategy: "tightest" is not one of binpack, spread`).
// Value::Map() rejects unknown and duplicate keys; typed getters reject wrong types and ranges.
//
// Errors are thrown as YamlError; a parser catches them (and YAML::Exception) at its entry point
// and returns an Error, so nothing throws out of a parser. CountDocuments() is a first pass that
// also guards against yaml-cpp 0.7 looping forever on some malformed input.
#pragma once

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace epc::yaml {

struct YamlError {
  std::string message;
};

inline std::string Position(std::string_view source, const YAML::Mark& mark) {
  const int line = mark.is_null() ? 1 : mark.line + 1;
  const int column = mark.is_null() ? 1 : mark.column + 1;
  return std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(column);
}

inline std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

// What a node is, for "expected X, got Y".
inline std::string Describe(const YAML::Node& node) {
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
    throw YamlError{std::move(text)};
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

inline int CountDocuments(const std::string& text, std::string_view source) {
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
      throw YamlError{Position(source, mark) + ": invalid YAML: unexpected " + found};
    }
    throw YamlError{Position(source, mark) +
                    ": expected one YAML document, found a second one here"};
  }
  return static_cast<int>(counter.starts.size());
}

}  // namespace epc::yaml
