#pragma once
// Slow shared inputs of the end-to-end tests, made with the real faceswap binary on the
// shared clips and cached in the build tree (see CachedArtifact). Call only after
// FACESWAP_REQUIRE_SAMPLE has made sure the clips exist.

#include <cstdlib>
#include <filesystem>
#include <string>

#include "test_support.h"

namespace faceswap::test {

// `faceswap extract clips/person_<who>.mp4 --every 3 --face-select largest` output folder
// (person_a ends on a split screen of another woman: `largest` keeps one face per frame).
// Where $FACESWAP_TEST_FACES is set, its faces_<who> folder instead: faces extracted on
// another machine, for one without the landmark network (scripts/device_deps.sh packs them
// for the lent GPU machine).
inline std::filesystem::path ExtractedFaces(const std::string& who) {
  if (const char* given = std::getenv("FACESWAP_TEST_FACES"); given && *given) {
    return std::filesystem::path(given) / ("faces_" + who);
  }
  return CachedArtifact("faces_" + who, [&](const std::filesystem::path& dir) {
    const auto clip = *SampleFile("clips/person_" + who + ".mp4", nullptr);
    RunFaceswap("-q extract " + clip.string() + " -o " + dir.string() + " --every 3 --face-select largest");
  });
}

// A lite model trained 300 steps (batch 8) on person_a and person_b: crude faces, but a
// real trained model for convert's tests.
inline std::filesystem::path TrainedLiteModel() {
  const auto a = ExtractedFaces("a"), b = ExtractedFaces("b");
  return CachedArtifact("lite_model", [&](const std::filesystem::path& dir) {
    RunFaceswap("-q train --a " + a.string() + " --b " + b.string() + " -m " + dir.string() +
                " --preset lite --iterations 300 --batch 8 --preview-every 0 --save-every 300");
  });
}

}  // namespace faceswap::test
