// Reading a whole file, with the operating system's reason on failure. The one place the
// binaries read their input files (config, scenario, kubeconfig, state file); callers add what
// the file is to the message.
#pragma once

#include <string>

#include "common/util/result.h"

namespace epc {

// The file's bytes. Errors: strerror's text for the failed open or read, e.g. "No such file or
// directory", "Is a directory".
Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace epc
