// Config-file test helpers: parse YAML text named "config.yaml" in errors, expecting success
// (MustParse) or failure (ParseError). Failures are reported through gtest at the caller.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "common/config/config.h"

namespace epc::testing {

inline Config MustParse(const std::string& yaml) {
  Result<Config> c = ParseConfig(yaml, "config.yaml");
  EXPECT_TRUE(c.ok()) << c.error();
  return c.ok() ? *c : Config();
}

inline std::string ParseError(const std::string& yaml) {
  Result<Config> c = ParseConfig(yaml, "config.yaml");
  EXPECT_FALSE(c.ok()) << yaml;
  return c.ok() ? std::string() : c.error();
}

}  // namespace epc::testing
