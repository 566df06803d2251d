#pragma once
// What convert and live share: which model draws, whose faces change and how they are put
// back. ConvertOptions and LiveOptions add their own input and output to it.

#include <filesystem>
#include <optional>
#include <string>

#include "faceswap/face/tracker.h"
#include "faceswap/model/device.h"
#include "faceswap/model/precision.h"
#include "faceswap/pipeline/composite.h"
#include "faceswap/pipeline/exemplars.h"
#include "faceswap/watermark/watermark.h"

namespace faceswap::pipeline {

struct SwapOptions {
  std::filesystem::path model_dir;
  std::string to;                   // identity to draw; empty: the other of a two-identity model
  face::TrackerOptions tracker;     // tracking settings (selection stays kAll: whose is chosen below)
  face::DetectorOptions detector;   // --landmarks, detector settings
  CompositeOptions composite;       // --mask, --mask-erode, --mask-feather, --color, --blend
  watermark::EmbedOptions watermark;  // invisible mark in every frame with a swapped face
  bool swap_all = false;            // every face, whoever it is
  std::optional<std::filesystem::path> only_reference;  // only the person in this photo
  model::DeviceKind device = model::DeviceKind::kAuto;
  model::Precision precision = model::Precision::kFp32;  // the network's number format
  int threads = 0;                  // 0: all cores (split among the stages: thread_budget.h)
  int batch_size = 16;              // faces per network call (at most)
  DetailMode detail = DetailMode::kAuto;  // --detail: exemplar detail from the target's own crops (exemplars.h)
  void Check() const;               // UsageError
};

}  // namespace faceswap::pipeline
