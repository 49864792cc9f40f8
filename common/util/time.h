// Time helpers for Kubernetes and Prometheus wire formats: RFC 3339 timestamps (metav1.Time,
// MicroTime), Go duration strings ("15s", "1m30.5s", as metrics.k8s.io writes `window`) and Unix
// seconds as floats (Prometheus sample timestamps).
//
// Pure functions over values; nothing here reads the clock. Shared by every daemon that decodes
// API objects, so each parses times one way.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "common/util/result.h"

namespace epc {

using WallClockTime = std::chrono::system_clock::time_point;

// "2025-04-23T10:00:00Z", "2025-04-23T10:00:00.123456Z", "2025-04-23T12:00:00+02:00". The
// fraction keeps up to nanoseconds. Errors quote the text.
Result<WallClockTime> ParseRfc3339(std::string_view text);

// "2025-04-23T10:00:00Z" (seconds precision, UTC), as metav1.Time serializes.
std::string FormatRfc3339(WallClockTime t);

// Go's time.ParseDuration: a sequence of decimal numbers with units ns, us (or µs), ms, s, m, h,
// with an optional sign ("1h2m3.5s", "-15s", "0").
Result<std::chrono::nanoseconds> ParseGoDuration(std::string_view text);

// Unix seconds with a fraction (Prometheus' sample timestamps) to a wall-clock time.
WallClockTime FromUnixSeconds(double seconds);

// A wall-clock time as Unix seconds with a fraction.
double ToUnixSeconds(WallClockTime t);

}  // namespace epc
