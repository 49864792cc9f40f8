#include "common/model/quantity.h"

#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace epc {
namespace {

using u128 = unsigned __int128;

constexpr u128 kMaxMagnitude = static_cast<u128>(std::numeric_limits<__int128>::max());
// 10^38 < 2^127 - 1 < 10^39: no value of more than 39 decimal digits fits.
constexpr int kMaxDigits = 39;

// The input as it appears in error messages: quoted, control characters escaped.
std::string Quote(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

Error Fail(std::string_view text, std::string_view reason) {
  return Error{"quantity " + Quote(text) + ": " + std::string(reason)};
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// a * b and a + b within kMaxMagnitude; false on overflow.
bool MulChecked(u128 a, u128 b, u128* out) {
  // Below 2^64 times below 2^63 is below 2^127: no overflow, and no 128-bit division (a call
  // to __udivti3, which parsing every node's quantities would pay up to ten times each).
  constexpr u128 k2to63 = static_cast<u128>(1) << 63;
  if ((a >> 64) == 0 && b < k2to63) {
    *out = a * b;
    return true;
  }
  if (a != 0 && b > kMaxMagnitude / a) return false;
  *out = a * b;
  return true;
}
bool AddChecked(u128 a, u128 b, u128* out) {
  if (a > kMaxMagnitude - b) return false;
  *out = a + b;
  return true;
}

// Digits (at most kMaxDigits of them) as an integer; false on overflow.
bool DigitsValue(std::string_view digits, u128* out) {
  u128 v = 0;
  for (char c : digits) {
    if (!MulChecked(v, 10, &v) || !AddChecked(v, static_cast<u128>(c - '0'), &v)) return false;
  }
  *out = v;
  return true;
}

struct Suffix {
  bool ok = false;
  int64_t exp10 = 0;     // value *= 10^exp10
  int binary_shift = 0;  // value *= 2^binary_shift
  bool exponent_out_of_range = false;
};

Suffix InterpretSuffix(std::string_view s) {
  Suffix r;
  r.ok = true;
  if (s.empty()) return r;
  if (s.size() == 1) {
    switch (s[0]) {
      case 'n':
        r.exp10 = -9;
        return r;
      case 'u':
        r.exp10 = -6;
        return r;
      case 'm':
        r.exp10 = -3;
        return r;
      case 'k':
        r.exp10 = 3;
        return r;
      case 'M':
        r.exp10 = 6;
        return r;
      case 'G':
        r.exp10 = 9;
        return r;
      case 'T':
        r.exp10 = 12;
        return r;
      case 'P':
        r.exp10 = 15;
        return r;
      case 'E':
        r.exp10 = 18;
        return r;
      default:
        break;
    }
  }
  if (s.size() == 2 && s[1] == 'i') {
    static constexpr std::string_view kBinary = "KMGTPE";
    auto pos = kBinary.find(s[0]);
    if (pos != std::string_view::npos) {
      r.binary_shift = 10 * static_cast<int>(pos + 1);
      return r;
    }
  }
  if (s.size() > 1 && (s[0] == 'e' || s[0] == 'E')) {
    std::string_view e = s.substr(1);
    bool negative = false;
    if (e[0] == '+' || e[0] == '-') {
      negative = e[0] == '-';
      e.remove_prefix(1);
    }
    if (!e.empty()) {
      bool all_digits = true;
      for (char c : e) all_digits = all_digits && IsDigit(c);
      if (all_digits) {
        // Accumulate as a negative number so that INT64_MIN is reachable, like strconv.ParseInt.
        int64_t v = 0;
        for (char c : e) {
          int d = c - '0';
          if (v < (std::numeric_limits<int64_t>::min() + d) / 10) {
            r.exponent_out_of_range = true;
            return r;
          }
          v = v * 10 - d;
        }
        if (!negative) {
          if (v == std::numeric_limits<int64_t>::min()) {
            r.exponent_out_of_range = true;
            return r;
          }
          v = -v;
        }
        r.exp10 = v;
        return r;
      }
    }
  }
  r.ok = false;
  return r;
}

void AppendU128(std::string* out, u128 v) {
  char buf[48];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v != 0);
  while (n > 0) *out += buf[--n];
}

int64_t Saturate(__int128 v) {
  if (v > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// nano / divisor, a remainder rounding away from zero (Kubernetes' Value()/MilliValue()).
int64_t ScaleAwayFromZero(__int128 nano, __int128 divisor) {
  __int128 q = nano / divisor;
  if (nano % divisor != 0) q += nano > 0 ? 1 : -1;
  return Saturate(q);
}

}  // namespace

namespace {

// The forms nodes and pods almost always carry ("168", "64Mi", "7820m", "129886128Ki"): up to
// 15 digits and no sign or fraction, with a suffix worth at most 10^9 or 2^40 and at least
// 10^-9 (so no rounding). Their value, D * 10^(9 + exp10) * 2^shift nano-units, stays under
// 2^50 * 10^18 * 2^40 < 2^127, so it needs no range checks. Anything else is nullopt, for the
// whole grammar.
std::optional<__int128> SimpleNano(std::string_view text) {
  size_t n = 0;
  uint64_t digits = 0;
  while (n < text.size() && n <= 15 && IsDigit(text[n])) {
    digits = digits * 10 + static_cast<uint64_t>(text[n] - '0');
    ++n;
  }
  if (n == 0 || n > 15) return std::nullopt;
  const Suffix suffix = InterpretSuffix(text.substr(n));
  if (!suffix.ok || suffix.exponent_out_of_range || suffix.exp10 < -9 || suffix.exp10 > 9 ||
      suffix.binary_shift > 40) {
    return std::nullopt;
  }
  // 10^0 .. 10^18.
  static constexpr std::array<uint64_t, 19> kPow10 = [] {
    std::array<uint64_t, 19> p{};
    p[0] = 1;
    for (size_t i = 1; i < p.size(); ++i) p[i] = p[i - 1] * 10;
    return p;
  }();
  const __int128 scale = static_cast<__int128>(kPow10[9 + suffix.exp10]) << suffix.binary_shift;
  return static_cast<__int128>(digits) * scale;
}

}  // namespace

Result<Quantity> Quantity::Parse(std::string_view text) {
  if (std::optional<__int128> nano = SimpleNano(text)) return Quantity(*nano);
  if (text.empty()) return Fail(text, "empty");
  for (char c : text) {
    // isspace in the C locale, without a call per character.
    if (c == ' ' || (c >= '\t' && c <= '\r')) return Fail(text, "contains whitespace");
  }

  size_t pos = 0;
  bool negative = false;
  if (text[0] == '+' || text[0] == '-') {
    negative = text[0] == '-';
    pos = 1;
  }
  size_t int_start = pos;
  while (pos < text.size() && IsDigit(text[pos])) ++pos;
  std::string_view int_digits = text.substr(int_start, pos - int_start);
  std::string_view frac_digits;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    size_t frac_start = pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    frac_digits = text.substr(frac_start, pos - frac_start);
  }
  if (int_digits.empty() && frac_digits.empty()) return Fail(text, "expected a number");

  std::string_view suffix_text = text.substr(pos);
  if (!suffix_text.empty() && suffix_text[0] == '.') {
    return Fail(text, "more than one decimal point");
  }
  Suffix suffix = InterpretSuffix(suffix_text);
  if (suffix.exponent_out_of_range) return Fail(text, "exponent out of range");
  if (!suffix.ok) return Fail(text, "unknown suffix " + Quote(suffix_text));

  // The mantissa as one digit string D with the value D * 10^exp10 * 2^binary_shift (in
  // nano-units).
  std::string digits;
  digits.reserve(int_digits.size() + frac_digits.size());
  digits.append(int_digits);
  digits.append(frac_digits);
  size_t first = digits.find_first_not_of('0');
  if (first == std::string::npos) return Quantity();  // zero, whatever the suffix says
  size_t last = digits.find_last_not_of('0');
  // Exponent of the last kept digit, in nano-units. Wide enough for any int64 exponent plus a
  // string length.
  __int128 exp10 = static_cast<__int128>(suffix.exp10) + 9 -
                   static_cast<__int128>(frac_digits.size()) +
                   static_cast<__int128>(digits.size() - 1 - last);
  std::string_view d = std::string_view(digits).substr(first, last - first + 1);
  const __int128 n = static_cast<__int128>(d.size());
  const u128 multiplier = static_cast<u128>(1) << suffix.binary_shift;

  u128 magnitude = 0;
  if (exp10 >= 0) {
    if (n + exp10 > kMaxDigits) return Fail(text, "value out of range");
    u128 v;
    if (!DigitsValue(d, &v)) return Fail(text, "value out of range");
    for (__int128 i = 0; i < exp10; ++i) {
      if (!MulChecked(v, 10, &v)) return Fail(text, "value out of range");
    }
    if (!MulChecked(v, multiplier, &v)) return Fail(text, "value out of range");
    magnitude = v;
  } else {
    // Integer part: the first n + exp10 digits. Fraction: the rest, after -exp10 - n implied
    // zeros when the whole mantissa lies below the decimal point. The fraction's last digit is
    // not zero, so it is never empty.
    __int128 int_len = n + exp10;
    if (int_len > kMaxDigits) return Fail(text, "value out of range");
    u128 int_part = 0;
    std::string_view frac = d;
    __int128 leading_zeros = 0;
    if (int_len > 0) {
      if (!DigitsValue(d.substr(0, static_cast<size_t>(int_len)), &int_part)) {
        return Fail(text, "value out of range");
      }
      frac = d.substr(static_cast<size_t>(int_len));
    } else {
      leading_zeros = -int_len;
    }
    // 0.frac * multiplier, digit by digit from the right, the implied zeros included: the carry
    // out of the first position is the integer part, any non-zero digit left behind is a
    // remainder that rounds up to one more nano-unit. multiplier <= 2^60, so every step fits in
    // 128 bits. Below 10^-19 the fraction times 2^60 is < 1: no carry, and a remainder.
    u128 carry = 0;
    bool remainder = false;
    if (leading_zeros < 20) {
      auto step = [&](u128 digit) {
        u128 v = digit * multiplier + carry;
        if (v % 10 != 0) remainder = true;
        carry = v / 10;
      };
      for (size_t i = frac.size(); i-- > 0;) step(static_cast<u128>(frac[i] - '0'));
      for (__int128 i = 0; i < leading_zeros; ++i) step(0);
    } else {
      remainder = true;
    }
    u128 v;
    if (!MulChecked(int_part, multiplier, &v) || !AddChecked(v, carry, &v) ||
        !AddChecked(v, remainder ? 1 : 0, &v)) {
      return Fail(text, "value out of range");
    }
    magnitude = v;
  }
  __int128 nano = static_cast<__int128>(magnitude);
  return Quantity(negative ? -nano : nano);
}

int64_t Quantity::Value() const { return ScaleAwayFromZero(nano_, kNano); }

int64_t Quantity::MilliValue() const { return ScaleAwayFromZero(nano_, 1'000'000); }

std::string Quantity::ToString() const {
  std::string out;
  if (nano_ < 0) out += '-';
  // |INT128_MIN| does not fit __int128; it does fit the unsigned type.
  u128 magnitude =
      nano_ < 0 ? static_cast<u128>(0) - static_cast<u128>(nano_) : static_cast<u128>(nano_);
  if (magnitude % kNano == 0) {
    AppendU128(&out, magnitude / kNano);
  } else if (magnitude % 1'000'000 == 0) {
    AppendU128(&out, magnitude / 1'000'000);
    out += 'm';
  } else {
    AppendU128(&out, magnitude);
    out += 'n';
  }
  return out;
}

}  // namespace epc
