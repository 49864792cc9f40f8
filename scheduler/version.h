// The extender's version: the CMake project version, set as a compile definition.
#pragma once

#include <string_view>

namespace epc {

std::string_view ExtenderVersion();

}  // namespace epc
