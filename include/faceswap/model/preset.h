#pragma once
// Named network presets. LibTorch-free: the CLI lists them, model.json records them.

#include <string>
#include <vector>

namespace faceswap::model {

struct Preset {
  std::string name;
  int resolution = 64;         // face crop side the network sees and draws, in pixels
  bool has_mask = false;       // decoder draws a 4th channel: the face mask
  bool progressive = false;    // trained from low to high resolution, new layers faded in
  int start_resolution = 0;    // progressive only: first stage's resolution
  int default_batch = 16;
  double default_learning_rate = 5e-5;
  std::string summary;         // one line for --help and info
};

// "original" | "lite" | "hd"; UsageError listing the valid names otherwise.
const Preset& GetPreset(const std::string& name);
const std::vector<Preset>& AllPresets();

// "original, lite, hd" for help texts.
std::string PresetNames();

}  // namespace faceswap::model
