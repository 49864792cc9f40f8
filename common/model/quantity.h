// Quantity: a Kubernetes resource quantity ("128Mi", "0.5Gi", "1e9", "100M", "500m").
//
// Parses the whole grammar of k8s.io/apimachinery/pkg/api/resource: an optional sign, a decimal
// number with optional fraction, then a binary suffix (Ki Mi Gi Ti Pi Ei), a decimal suffix
// (n u m "" k M G T P E) or a decimal exponent (e3, E-2). The value is kept exactly, as an
// integer count of nano-units; anything finer than 1n rounds up to 1n, as Kubernetes does.
// Value() rounds a fraction up to the next integer (Kubernetes' Value()), MilliValue() likewise
// to the next milli-unit.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/util/result.h"

namespace epc {

class Quantity {
 public:
  Quantity() = default;

  // Errors quote the input: `quantity "12Qi": unknown suffix "Qi"`.
  static Result<Quantity> Parse(std::string_view text);

  static Quantity FromValue(int64_t units) { return Quantity(static_cast<__int128>(units) * kNano); }
  static Quantity FromMilli(int64_t milli) { return Quantity(static_cast<__int128>(milli) * 1'000'000); }

  // Rounded up to an integer / to thousandths, saturating at the int64 range.
  int64_t Value() const;
  int64_t MilliValue() const;

  bool IsZero() const { return nano_ == 0; }
  bool IsNegative() const { return nano_ < 0; }

  Quantity operator+(const Quantity& o) const { return Quantity(nano_ + o.nano_); }
  Quantity operator-(const Quantity& o) const { return Quantity(nano_ - o.nano_); }
  auto operator<=>(const Quantity& o) const = default;

  // A canonical string that Parse() reads back to the same value ("1500m", "128Mi" is printed
  // as "134217728").
  std::string ToString() const;

 private:
  static constexpr __int128 kNano = 1'000'000'000;
  explicit Quantity(__int128 nano) : nano_(nano) {}
  __int128 nano_ = 0;
};

}  // namespace epc
