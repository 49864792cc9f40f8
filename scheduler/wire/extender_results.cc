#include "scheduler/wire/extender_results.h"

#include <charconv>
#include <cstdint>
#include <cstring>
#include <iterator>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// The JSON text of the last few distinct values, by where their text lies: a filter answer
// rejects thousands of nodes with a handful of messages, each one string the answer shares
// between nodes (FilterAnswer::texts), so each is escaped once instead of once per node.
class EncodedValues {
 public:
  void Append(std::string& out, std::string_view value) {
    for (const Slot& slot : slots_) {
      if (slot.data == value.data() && slot.size == value.size() && slot.data != nullptr) {
        out += slot.json;
        return;
      }
    }
    Slot& slot = slots_[next_];
    next_ = (next_ + 1) % kSlots;
    slot.data = value.data();
    slot.size = value.size();
    slot.json.clear();
    AppendJsonString(slot.json, value);
    out += slot.json;
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

void AppendStringMap(std::string& out,
                     const std::vector<std::pair<std::string_view, std::string_view>>& map) {
  out += '{';
  bool first = true;
  EncodedValues values;
  for (const auto& [key, value] : map) {
    if (!first) out += ',';
    first = false;
    AppendJsonString(out, key);
    out += ':';
    values.Append(out, value);
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

uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

#if defined(__SSE2__)
// Whether any of the 16 bytes at `p` is not plain: a signed compare with 0x20 catches the
// control characters and every byte from 0x80 (negative as signed) at once.
bool AnyNotPlain16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i special = _mm_or_si128(
      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return _mm_movemask_epi8(special) != 0;
}
#endif

// Whether every byte of `s` is plain: the usual case for node names and messages, which then
// go out as they are, copied at once. Tails are read as a last whole block that overlaps bytes
// already checked.
bool AllPlain(std::string_view s) {
  const size_t n = s.size();
#if defined(__SSE2__)
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      if (AnyNotPlain16(s.data() + i)) return false;
    }
    return i == n || !AnyNotPlain16(s.data() + n - 16);
  }
#endif
  if (n < 8) {
    for (char c : s) {
      if (!IsPlain(static_cast<unsigned char>(c))) return false;
    }
    return true;
  }
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    if (AnyNotPlain(Load64(s.data() + i))) return false;
  }
  return i == n || !AnyNotPlain(Load64(s.data() + n - 8));
}

// Writes `text` at `at` and returns the position after it.
char* Put(char* at, std::string_view text) {
  std::memcpy(at, text.data(), text.size());
  return at + text.size();
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
    if (AllPlain(p.host)) {
      // The whole element written at once: `,{"Host":"name","Score":n}`.
      constexpr std::string_view kHost = "{\"Host\":\"";
      constexpr std::string_view kScore = "\",\"Score\":";
      constexpr size_t kDigits = 20;  // int64_t
      const size_t at = out.size();
      out.resize(at + 1 + kHost.size() + p.host.size() + kScore.size() + kDigits + 1);
      char* w = out.data() + at;
      if (!first) *w++ = ',';
      first = false;
      w = Put(w, kHost);
      w = Put(w, p.host);
      w = Put(w, kScore);
      w = std::to_chars(w, w + kDigits, p.score).ptr;
      *w++ = '}';
      out.resize(static_cast<size_t>(w - out.data()));
      continue;
    }
    if (!first) out += ',';
    first = false;
    out += "{\"Host\":";
    AppendJsonString(out, p.host);
    out += ",\"Score\":";
    char digits[24];
    out.append(digits, std::to_chars(std::begin(digits), std::end(digits), p.score).ptr);
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
