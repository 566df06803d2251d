// The libFuzzer entry point of every harness: FACESWAP_FUZZ_CHECK names the check from
// checks.h that this harness runs (fuzz/CMakeLists.txt sets it). A failed check aborts, so
// libFuzzer saves the input as a crash.

#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "checks.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  spdlog::set_level(spdlog::level::off);  // warnings about the broken inputs, millions of them
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string failure = FACESWAP_FUZZ_CHECK(std::string(reinterpret_cast<const char*>(data), size));
  if (failure.empty()) return 0;
  std::fprintf(stderr, "fuzz check failed: %s\n", failure.c_str());
  std::abort();
}
