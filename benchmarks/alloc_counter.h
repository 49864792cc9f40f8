// Counts heap allocations made through operator new (replaced in alloc_counter.cc, which only
// the benchmark binaries link). The count is per thread.
#pragma once

#include <cstdint>

namespace epc::bench {

uint64_t AllocationCount();

}  // namespace epc::bench
