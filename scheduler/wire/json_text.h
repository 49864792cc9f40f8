// Plain JSON string text: bytes that go into a JSON string as they are (printable ASCII other
// than '"' and '\\'). Node names and the extender's messages are plain, so the decoder takes a
// plain quoted name from the request as it is (nothing to unescape) and the encoder copies a
// plain string at once (nothing to escape). Checked 16 or 8 bytes at a time: a 5,000-node
// request checks every name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/util/unaligned.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace epc::json_text {

constexpr bool IsPlain(unsigned char c) { return c >= 0x20 && c < 0x80 && c != '"' && c != '\\'; }

// Whether any of the 8 bytes in `w` is not plain (the bit tricks of "Bit Twiddling Hacks": a
// byte below n sets its high bit in (w - n * k01) & ~w & k80).
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

#if defined(__SSE2__)
// Bit i set when byte i of the 16 at `p` is not plain: a signed compare with 0x20 catches the
// control characters and every byte from 0x80 (negative as signed) at once.
inline unsigned NotPlainMask16(const char* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i special = _mm_or_si128(
      _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));
  return static_cast<unsigned>(_mm_movemask_epi8(special));
}

// Whether any of the 16 bytes at `p` is not plain.
inline bool AnyNotPlain16(const char* p) { return NotPlainMask16(p) != 0; }
#endif

// How many bytes from `p` on are plain, up to `end`. Reads in 16-byte blocks: up to 15 bytes
// past `end` must be readable (a simdjson padded buffer's padding is).
inline size_t PlainPrefix(const char* p, const char* end) {
  const size_t n = static_cast<size_t>(end - p);
#if defined(__SSE2__)
  for (size_t i = 0; i < n; i += 16) {
    if (const unsigned mask = NotPlainMask16(p + i); mask != 0) {
      const size_t at = i + static_cast<size_t>(__builtin_ctz(mask));
      return at < n ? at : n;
    }
  }
  return n;
#else
  size_t i = 0;
  while (i < n && IsPlain(static_cast<unsigned char>(p[i]))) ++i;
  return i;
#endif
}

// Whether every byte of `s` is plain. Tails are read as a last whole block that overlaps bytes
// already checked.
inline bool AllPlain(std::string_view s) {
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
    if (AnyNotPlain(LoadU64(s.data() + i))) return false;
  }
  return i == n || !AnyNotPlain(LoadU64(s.data() + n - 8));
}

}  // namespace epc::json_text
