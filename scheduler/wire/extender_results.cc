#include "scheduler/wire/extender_results.h"

#include <cstdint>
#include <cstring>

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

void AppendStringMap(std::string& out,
                     const std::vector<std::pair<std::string_view, std::string_view>>& map) {
  out += '{';
  bool first = true;
  for (const auto& [key, value] : map) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, key);
    out += ':';
    AppendJsonString(out, value);
  }
  out += '}';
}

// Bytes that go into a JSON string as they are: printable ASCII other than '"' and '\\'.
constexpr bool IsPlain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// Whether any of the 8 bytes in `w` is not plain, eight bytes at a time (the bit tricks of
// "Bit Twiddling Hacks": a byte below n sets its high bit in (w - n * k01) & ~w & k80).
constexpr bool AnyNotPlain(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ULL;
  constexpr uint64_t k80 = 0x8080808080808080ULL;
  const uint64_t quote = w ^ (k01 * '"');
  const uint64_t backslash = w ^ (k01 * '\\');
  const uint64_t below_space = (w - k01 * 0x20) & ~w;
  const uint64_t is_quote = (quote - k01) & ~quote;
  const uint64_t is_backslash = (backslash - k01) & ~backslash;
  return ((w | below_space | is_quote | is_backslash) & k80) != 0;
}

// The end of the run of plain bytes from s[i].
size_t PlainRunEnd(std::string_view s, size_t i) {
  while (i + 8 <= s.size()) {
    uint64_t w;
    std::memcpy(&w, s.data() + i, 8);
    if (AnyNotPlain(w)) break;
    i += 8;
  }
  while (i < s.size() && IsPlain(static_cast<unsigned char>(s[i]))) ++i;
  return i;
}

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
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
  size_t reserve = 128;
  for (std::string_view node : answer.passing_nodes_json) reserve += node.size() + 1;
  for (const auto& name : answer.passing_node_names) reserve += name.size() + 3;
  for (const auto& [name, reason] : answer.failed) reserve += name.size() + reason.size() + 6;
  for (const auto& [name, reason] : answer.unresolvable) reserve += name.size() + reason.size() + 6;
  out.reserve(reserve);

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
  out += ",\"NodeNames\":";
  if (answer.names_mode) {
    out += '[';
    bool first = true;
    for (const auto& name : answer.passing_node_names) {
      if (!first) out += ',';
      first = false;
      AppendJsonString(out, name);
    }
    out += ']';
  } else {
    out += "null";
  }
  out += ",\"FailedNodes\":";
  AppendStringMap(out, answer.failed);
  out += ",\"FailedAndUnresolvableNodes\":";
  AppendStringMap(out, answer.unresolvable);
  out += ",\"Error\":";
  AppendJsonString(out, answer.error);
  out += '}';
  return out;
}

std::string EncodePriorities(const std::vector<HostPriority>& priorities) {
  std::string out;
  out.reserve(2 + priorities.size() * 48);
  out += '[';
  bool first = true;
  for (const auto& p : priorities) {
    if (!first) out += ',';
    first = false;
    out += "{\"Host\":";
    AppendJsonString(out, p.host);
    out += ",\"Score\":";
    out += std::to_string(p.score);
    out += '}';
  }
  out += ']';
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
