#include "common/util/file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace epc {

Result<std::string> ReadWholeFile(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return Error{std::strerror(errno)};
  std::string text;
  char buffer[65536];
  size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof(buffer), file)) > 0) text.append(buffer, n);
  const bool failed = std::ferror(file) != 0;
  const int error = errno;
  std::fclose(file);
  if (failed) return Error{std::strerror(error)};
  return text;
}

}  // namespace epc
