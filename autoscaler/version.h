// epc-autoscaler's version: the CMake project version, set as a compile definition on
// version.cc by autoscaler/CMakeLists.txt.
#pragma once

#include <string_view>

namespace epc {

std::string_view AutoscalerVersion();

}  // namespace epc
