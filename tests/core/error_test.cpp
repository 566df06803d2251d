#include "faceswap/core/error.h"

#include <gtest/gtest.h>

namespace faceswap {
namespace {

TEST(Error, MessageNamesFileThenProblem) {
  const InputError e(std::filesystem::path("clips/a.mp4"), "no video stream");
  EXPECT_STREQ(e.what(), "clips/a.mp4: no video stream");
  EXPECT_EQ(e.code(), ExitCode::kInput);
}

TEST(Error, EachKindHasItsOwnExitCode) {
  EXPECT_EQ(UsageError("x").code(), ExitCode::kUsage);
  EXPECT_EQ(OutputError("x").code(), ExitCode::kOutput);
  EXPECT_EQ(ModelError("x").code(), ExitCode::kModel);
  EXPECT_EQ(DeviceError("x").code(), ExitCode::kDevice);
  EXPECT_EQ(NotImplementedError("x").code(), ExitCode::kNotImplemented);
  // All are caught by one handler in main.
  try {
    throw ModelError(std::filesystem::path("m/model.json"), "preset mismatch");
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.code()), 5);
  }
}

}  // namespace
}  // namespace faceswap
