#pragma once
// Named network presets. LibTorch-free: the CLI lists them, model.json records them.

#include <string>
#include <vector>

namespace faceswap::model {

struct Preset {
  std::string name;
  int resolution = 64;         // face crop side the network draws, in pixels
  // Side the encoder sees when it is smaller than `resolution` (0: the same): presets with
  // a detail stage, whose decoder draws its face at this side and whose detail stage (one
  // small network per identity) enlarges it four times, so resolution = 4 x input_resolution
  // (see autoencoder.cpp).
  int input_resolution = 0;
  bool detail_stage = false;
  bool has_mask = false;       // decoder draws a 4th channel: the face mask
  bool progressive = false;    // trained from low to high resolution, new layers faded in
  int start_resolution = 0;    // progressive only: first stage's resolution
  int default_batch = 16;
  double default_learning_rate = 5e-5;
  std::string summary;         // one line for --help and info

  // The side the encoder takes at a stage of `stage_resolution` output pixels.
  int EncoderSide(int stage_resolution) const { return input_resolution > 0 ? input_resolution : stage_resolution; }
};

// "original" | "lite" | "lite128" | "sharp" | "hd"; UsageError listing the valid names otherwise.
const Preset& GetPreset(const std::string& name);
const std::vector<Preset>& AllPresets();

// "original, lite, hd" for help texts.
std::string PresetNames();

}  // namespace faceswap::model
