#pragma once
// Skipping tests that need dlib's extra networks or test chips (scripts/fetch_models.sh
// fetches both; the test command runs it) with a message that says what is missing.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "faceswap/face/model_files.h"

namespace faceswap::test {

// dlib's examples/johns (55 aligned 150x150 chips of 5 people): $FACESWAP_TESTDATA/johns,
// else the folder fetch_models.sh fills (~/.cache/faceswap/testdata/johns).
inline std::filesystem::path JohnsDir() {
  if (const char* dir = std::getenv("FACESWAP_TESTDATA"); dir && *dir) return std::filesystem::path(dir) / "johns";
  std::filesystem::path cache = ".cache";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    cache = xdg;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    cache = std::filesystem::path(home) / ".cache";
  }
  return cache / "faceswap" / "testdata" / "johns";
}

}  // namespace faceswap::test

// Skips the current test unless the network file is usable.
#define FACESWAP_REQUIRE_NETWORK(file)                                                          \
  do {                                                                                          \
    const auto status_ = ::faceswap::face::CheckModelFile(file);                                \
    if (!status_.problem.empty()) GTEST_SKIP() << "network file missing: " << status_.problem; \
  } while (0)

// Skips the current test unless dlib's johns chips are there; assigns the folder to `var`.
#define FACESWAP_REQUIRE_JOHNS(var)                                                             \
  const std::filesystem::path var = ::faceswap::test::JohnsDir();                               \
  if (!std::filesystem::is_directory(var))                                                      \
  GTEST_SKIP() << "dlib's johns chips not found in " << var << " (run scripts/fetch_models.sh)"
