#pragma once
// What the watermark tests share: the payload they mark with, and `faceswap verify` run
// on files with its report parsed.

#include <filesystem>
#include <regex>
#include <string>

#include "faceswap/watermark/payload.h"
#include "test_support.h"
#include "video_test_util.h"

namespace faceswap::watermark::test {

inline Payload SamplePayload() {
  Payload p;
  p.version_major = 0;
  p.version_minor = 1;
  p.version_patch = 0;
  p.days = DaysSince2020(2025, 6, 1);
  p.model = 0x5eed42;
  return p;
}

// One file's line of `faceswap verify`.
struct VerifyReport {
  int exit_code = -1;
  bool marked = false;
  int decoded = 0, sampled = 0;
  std::string output;
  double share() const { return sampled > 0 ? static_cast<double>(decoded) / sampled : 0.0; }
};

inline VerifyReport Verify(const std::filesystem::path& file, int frames) {
  VerifyReport r;
  const auto run = faceswap::test::RunCommand(faceswap::test::Quoted(faceswap::test::FaceswapBinary()) +
                                              " verify --frames " + std::to_string(frames) + " " +
                                              faceswap::test::Quoted(file));
  r.exit_code = run.exit_code;
  r.output = run.output;
  std::smatch m;
  if (std::regex_search(run.output, m, std::regex(R"(: marked: .*decodes in (\d+) of (\d+) sampled frames)"))) {
    r.marked = true;
    r.decoded = std::stoi(m[1]);
    r.sampled = std::stoi(m[2]);
  } else if (std::regex_search(run.output, m, std::regex(R"(no faceswap watermark found in (\d+) sampled frames)"))) {
    r.sampled = std::stoi(m[1]);
  }
  return r;
}

}  // namespace faceswap::watermark::test
