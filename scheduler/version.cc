#include "scheduler/version.h"

#ifndef EPC_VERSION
#define EPC_VERSION "0.0.0-unknown"
#endif

namespace epc {

std::string_view ExtenderVersion() { return EPC_VERSION; }

}  // namespace epc
