#include "autoscaler/version.h"

#ifndef EPC_VERSION
#define EPC_VERSION "0.0.0-unknown"
#endif

namespace epc {

std::string_view AutoscalerVersion() { return EPC_VERSION; }

}  // namespace epc
