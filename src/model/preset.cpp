#include "faceswap/model/preset.h"

#include "faceswap/core/error.h"

namespace faceswap::model {

const std::vector<Preset>& AllPresets() {
  static const std::vector<Preset> presets = [] {
    Preset original;
    original.name = "original";
    original.resolution = 64;
    original.default_batch = 16;
    original.default_learning_rate = 5e-5;
    original.summary = "classic 64 px autoencoder (4 strided 5x5 convs 128-1024, dense 1024)";

    Preset lite;
    lite.name = "lite";
    lite.resolution = 64;
    lite.default_batch = 16;
    // 4e-4 rather than 2e-4: chosen by scripts/bench_quality.sh --time 20m on a 2-core
    // AVX2 CPU (fp32), where it raised ID retrieval of the target from 0.00 / 0.73 to
    // 0.11 / 0.98 and cut the landmark error by 11-20% at the same sharpness (README,
    // "Measuring quality").
    lite.default_learning_rate = 4e-4;
    lite.summary = "small 64 px model that learns a face on a laptop CPU in minutes";

    Preset lite128 = lite;
    lite128.name = "lite128";
    lite128.resolution = 128;
    lite128.summary = "the lite model at 128 px: sharper faces, a quarter of lite's speed";

    // lite's encoder and decoder on 64 px faces, and a detail stage per identity that
    // enlarges the decoder's face to 256 px. Identity and expression need little resolution
    // and keep lite's cost; the detail is local, and each stage learns it from its own
    // person's real crops (shrunk to 64 px, against the 256 px crop), as a small
    // super-resolution network does (autoencoder.cpp; bench/detail_stage_go_no_go.py
    // measured the idea before it was built, README "Measuring quality").
    Preset sharp = lite;
    sharp.name = "sharp";
    sharp.input_resolution = 64;
    sharp.detail_stage = true;
    sharp.resolution = 256;
    sharp.summary = "lite's 64 px model and a detail stage per identity that draws 256 px faces";

    Preset hd;
    hd.name = "hd";
    hd.resolution = 128;
    hd.has_mask = true;
    hd.progressive = true;
    hd.start_resolution = 32;
    hd.default_batch = 8;
    hd.default_learning_rate = 1e-4;
    hd.summary = "128 px, residual blocks, learned mask, grown 32->64->128 px with fade-in";
    return std::vector<Preset>{original, lite, lite128, sharp, hd};
  }();
  return presets;
}

std::string PresetNames() {
  std::string names;
  for (const auto& p : AllPresets()) names += (names.empty() ? "" : ", ") + p.name;
  return names;
}

const Preset& GetPreset(const std::string& name) {
  for (const auto& p : AllPresets()) {
    if (p.name == name) return p;
  }
  throw UsageError("unknown preset '" + name + "' (choose one of: " + PresetNames() + ")");
}

}  // namespace faceswap::model
