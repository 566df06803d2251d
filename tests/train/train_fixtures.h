#pragma once
// Shared inputs of the slow training tests: the fixture clips' extracted faces as training
// sets, and lite-preset options for a model folder. Call only after FACESWAP_REQUIRE_SAMPLE.

#include <filesystem>
#include <vector>

#include "e2e_fixtures.h"
#include "faceswap/train/face_cache.h"
#include "faceswap/train/trainer.h"

namespace faceswap::train::test_fixtures {

// person_a's and person_b's extracted faces (test::ExtractedFaces) as identities a and b.
inline std::vector<FaceSet> LoadRealFaces() {
  FaceCacheOptions cache;
  return LoadTrainingFaces({{"a", {test::ExtractedFaces("a")}}, {"b", {test::ExtractedFaces("b")}}}, cache);
}

// A lite model on the CPU in `dir`, `batch` faces per identity, no previews.
inline TrainOptions LiteOptions(const std::filesystem::path& dir, const std::vector<FaceSet>& faces, int batch) {
  TrainOptions o;
  o.model_dir = dir;
  o.preset = "lite";
  o.batch_size = batch;
  o.device = model::DeviceKind::kCpu;
  o.preview_every = 0;
  o.alignment_template = faces[0].alignment_template;
  o.coverage = faces[0].coverage;
  return o;
}

}  // namespace faceswap::train::test_fixtures
