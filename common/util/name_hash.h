// Hashing and equality for node names (~30 bytes): the keys of the tables that answer thousands
// of lookups per extender request (NodeNameIndex, NodeNameSet). Inline, so that a lookup loop
// compiles to a few loads and multiplies per name instead of calls into the library's generic
// hash and memcmp.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/util/unaligned.h"

namespace epc {

namespace name_hash_internal {

inline uint64_t Mix(uint64_t x, uint64_t k) {
  x *= k;
  return x ^ (x >> 32);
}

}  // namespace name_hash_internal

// 64 bits, both halves well mixed: a table takes its slot from the low bits and a tag from the
// high ones. Two lanes of 8-byte words multiplied independently, so the CPU overlaps them; the
// tail is read as whole words that overlap bytes already mixed in (the length is mixed in too,
// so names still hash apart): a variable-length copy into a word would stall on store forwarding.
inline uint64_t HashName(std::string_view name) {
  using name_hash_internal::Mix;
  constexpr uint64_t k0 = 0x9E3779B97F4A7C15ULL;
  constexpr uint64_t k1 = 0xC2B2AE3D27D4EB4FULL;
  constexpr uint64_t k2 = 0x165667B19E3779F9ULL;
  const char* p = name.data();
  const size_t n = name.size();
  uint64_t a = k2 ^ n;
  uint64_t b = k1 + n;
  if (n >= 16) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
      a = Mix(a ^ LoadU64(p + i), k0);
      b = Mix(b ^ LoadU64(p + i + 8), k1);
    }
    if (i < n) {
      a = Mix(a ^ LoadU64(p + n - 16), k1);
      b = Mix(b ^ LoadU64(p + n - 8), k0);
    }
  } else if (n >= 8) {
    a = Mix(a ^ LoadU64(p), k0);
    b = Mix(b ^ LoadU64(p + n - 8), k1);
  } else if (n >= 4) {
    a = Mix(a ^ ((uint64_t{LoadU32(p)} << 32) | LoadU32(p + n - 4)), k0);
  } else if (n > 0) {
    const auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<uint8_t>(p[i])); };
    a = Mix(a ^ ((byte(0) << 16) | (byte(n / 2) << 8) | byte(n - 1)), k0);
  }
  const uint64_t h = (a ^ ((b << 31) | (b >> 33))) * k2;
  return h ^ (h >> 29);
}

// a == b, word by word (the tail as one overlapping word).
inline bool SameName(std::string_view a, std::string_view b) {
  const size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  if (n >= 8) {
    for (size_t i = 0; i + 8 <= n; i += 8) {
      if (LoadU64(x + i) != LoadU64(y + i)) return false;
    }
    return LoadU64(x + n - 8) == LoadU64(y + n - 8);
  }
  if (n >= 4) return LoadU32(x) == LoadU32(y) && LoadU32(x + n - 4) == LoadU32(y + n - 4);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return false;
  }
  return true;
}

// HashName of each name: a request's names, hashed once for every table they are looked up in.
inline std::vector<uint64_t> HashNames(std::span<const std::string_view> names) {
  std::vector<uint64_t> hashes(names.size());
  for (size_t i = 0; i < names.size(); ++i) hashes[i] = HashName(names[i]);
  return hashes;
}

}  // namespace epc
