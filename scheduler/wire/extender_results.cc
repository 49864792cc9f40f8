#include "scheduler/wire/extender_results.h"

#include <cstdio>

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
                     const std::vector<std::pair<std::string, std::string>>& map) {
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

}  // namespace

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  size_t i = 0;
  while (i < s.size()) {
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
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
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
