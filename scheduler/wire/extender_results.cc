#include "scheduler/wire/extender_results.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "scheduler/wire/json_text.h"

namespace epc {

namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not valid.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  size_t len = 0;
  uint32_t cp = 0;
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3F);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return 0;
  }
  return len;
}

using json_text::AllPlain;
using json_text::AnyNotPlain;
using json_text::IsPlain;

// The end of the run of plain bytes from s[i].
size_t PlainRunEnd(std::string_view s, size_t i) {
  while (i + 8 <= s.size() && !AnyNotPlain(LoadU64(s.data() + i))) i += 8;
  while (i < s.size() && IsPlain(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

// Writes `text` at `at` and returns the position after it.
char* Put(char* at, std::string_view text) {
  std::memcpy(at, text.data(), text.size());
  return at + text.size();
}

// Writes an answer at a cursor into a string that is made larger in big steps: a 5,000-node
// answer is ~10,000 small pieces, and appending each (a capacity check, and for resize() a zero
// fill) cost more than the copying. The string is sized up front for what the caller expects
// to write (plain strings); Room() grows it if that was short.
class Writer {
 public:
  // Writes after what `out` holds; `expected` more bytes are made room for now.
  Writer(std::string& out, size_t expected) : out_(out), start_(out.size()), at_(start_) {
    out_.resize(at_ + expected);
  }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;
  // Cuts the string to what was written.
  ~Writer() { out_.resize(at_); }

  void Put(std::string_view text) {
    std::memcpy(Room(text.size()), text.data(), text.size());
    at_ += text.size();
  }
  void Put(char c) {
    *Room(1) = c;
    ++at_;
  }
  // `s` as a JSON string literal: copied at once when plain, else escaped by AppendJsonString.
  void String(std::string_view s) {
    if (!AllPlain(s)) {
      out_.resize(at_);
      AppendJsonString(out_, s);
      at_ = out_.size();
      return;
    }
    char* w = Room(s.size() + 2);
    *w++ = '"';
    std::memcpy(w, s.data(), s.size());
    w[s.size()] = '"';
    at_ += s.size() + 2;
  }
  void Int(int64_t v) {
    constexpr size_t kDigits = 20;  // int64_t with its sign
    char* w = Room(kDigits);
    at_ = static_cast<size_t>(std::to_chars(w, w + kDigits, v).ptr - out_.data());
  }

 private:
  // Short of room, doubles what this Writer has written (not the whole string: it may start
  // after a full-mode answer's tens of MB of nodes).
  char* Room(size_t n) {
    if (out_.size() - at_ < n) out_.resize(at_ + std::max(n, at_ - start_ + 64));
    return out_.data() + at_;
  }

  std::string& out_;
  const size_t start_;
  size_t at_;
};

// The JSON text of the last few distinct values, by where their text lies: a filter answer
// rejects thousands of nodes with a handful of messages, each one string the answer shares
// between nodes (FilterAnswer::texts), so each is escaped once instead of once per node.
class EncodedValues {
 public:
  void Append(Writer& out, std::string_view value) {
    for (const Slot& slot : slots_) {
      if (slot.data == value.data() && slot.size == value.size() && slot.data != nullptr) {
        out.Put(slot.json);
        return;
      }
    }
    Slot& slot = slots_[next_];
    next_ = (next_ + 1) % kSlots;
    slot.data = value.data();
    slot.size = value.size();
    slot.json.clear();
    AppendJsonString(slot.json, value);
    out.Put(slot.json);
  }

 private:
  static constexpr size_t kSlots = 8;
  struct Slot {
    const char* data = nullptr;
    size_t size = 0;
    std::string json;
  };
  Slot slots_[kSlots];
  size_t next_ = 0;
};

void AppendStringMap(Writer& out,
                     const std::vector<std::pair<std::string_view, std::string_view>>& map) {
  out.Put('{');
  bool first = true;
  EncodedValues values;
  for (const auto& [key, value] : map) {
    if (!first) out.Put(',');
    first = false;
    out.String(key);
    out.Put(':');
    values.Append(out, value);
  }
  out.Put('}');
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  if (AllPlain(s)) {
    const size_t at = out.size();
    out.resize(at + s.size() + 2);
    char* w = out.data() + at;
    *w++ = '"';
    w = Put(w, s);
    *w = '"';
    return;
  }
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
    // Runs of plain bytes (node names, messages: all of them, usually) are copied at once.
    const size_t run = PlainRunEnd(s, i);
    if (run > i) {
      out.append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(s, i);
      if (len == 0) {
        out += "\xEF\xBF\xBD";  // U+FFFD
        ++i;
      } else {
        out.append(s.data() + i, len);
        i += len;
      }
      continue;
    }
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default: {  // the other control characters
        static constexpr char kHex[] = "0123456789abcdef";
        const char escaped[] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
        out.append(escaped, sizeof escaped);
      }
    }
    ++i;
  }
  out += '"';
}

std::string EncodeFilterResult(const FilterAnswer& answer) {
  std::string out;
  size_t nodes_json = 64;  // with the text around them
  for (std::string_view node : answer.passing_nodes_json) nodes_json += node.size() + 1;
  size_t rest = 128;
  for (const auto& name : answer.passing_node_names) rest += name.size() + 3;
  for (const auto& [name, reason] : answer.failed) rest += name.size() + reason.size() + 6;
  for (const auto& [name, reason] : answer.unresolvable) rest += name.size() + reason.size() + 6;
  out.reserve(nodes_json + rest);

  // Full mode's nodes (tens of MB) are appended as they are, without the Writer's zero fill;
  // the Writer's room then lies within the capacity reserved here.
  out += "{\"Nodes\":";
  if (answer.names_mode) {
    out += "null";
  } else {
    out += "{\"metadata\":{},\"items\":[";
    bool first = true;
    for (std::string_view node : answer.passing_nodes_json) {
      if (!first) out += ',';
      first = false;
      out += node;
    }
    out += "]}";
  }
  {
    Writer w(out, rest);
    w.Put(",\"NodeNames\":");
    if (answer.names_mode) {
      w.Put('[');
      bool first = true;
      for (const auto& name : answer.passing_node_names) {
        if (!first) w.Put(',');
        first = false;
        w.String(name);
      }
      w.Put(']');
    } else {
      w.Put("null");
    }
    w.Put(",\"FailedNodes\":");
    AppendStringMap(w, answer.failed);
    w.Put(",\"FailedAndUnresolvableNodes\":");
    AppendStringMap(w, answer.unresolvable);
    w.Put(",\"Error\":");
    w.String(answer.error);
    w.Put('}');
  }  // the Writer cuts `out` to what it wrote
  return out;
}

std::string EncodePriorities(const std::vector<HostPriority>& priorities) {
  std::string out;
  constexpr size_t kElement = std::string_view(",{\"Host\":\"\",\"Score\":10}").size();
  size_t expected = 2 + 32;  // the brackets, and room for Int()'s widest number
  for (const auto& p : priorities) expected += p.host.size() + kElement;
  {
    Writer w(out, expected);
    w.Put('[');
    bool first = true;
    for (const auto& p : priorities) {
      w.Put(first ? "{\"Host\":" : ",{\"Host\":");
      first = false;
      w.String(p.host);
      w.Put(",\"Score\":");
      w.Int(p.score);
      w.Put('}');
    }
    w.Put(']');
  }  // the Writer cuts `out` to what it wrote
  return out;
}

std::string EncodePreemptionResult(const std::vector<MetaVictimsAnswer>& nodes) {
  std::string out = "{\"NodeNameToMetaVictims\":{";
  bool first = true;
  for (const auto& node : nodes) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, node.node_name);
    out += ":{\"Pods\":[";
    bool first_pod = true;
    for (const auto& uid : node.pod_uids) {
      if (!first_pod) out += ',';
      first_pod = false;
      out += "{\"UID\":";
      AppendJsonString(out, uid);
      out += '}';
    }
    out += "],\"NumPDBViolations\":";
    out += std::to_string(node.num_pdb_violations);
    out += '}';
  }
  out += "}}";
  return out;
}

std::string EncodeBindingResult(std::string_view error) {
  std::string out = "{\"Error\":";
  AppendJsonString(out, error);
  out += '}';
  return out;
}

std::string EncodeErrorBody(std::string_view message) {
  std::string out = "{\"error\":";
  AppendJsonString(out, message);
  out += '}';
  return out;
}

}  // namespace epc
