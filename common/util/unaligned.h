// Reads of 4 and 8 bytes at any address, for code that scans strings a word at a time (node-name
// hashing and comparing, JSON text checks). memcpy is how C++ spells an unaligned load; the
// compiler emits one mov.
#pragma once

#include <cstdint>
#include <cstring>

namespace epc {

inline uint64_t LoadU64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

inline uint32_t LoadU32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

}  // namespace epc
