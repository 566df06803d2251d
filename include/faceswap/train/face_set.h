#pragma once
// The aligned faces of one identity, in memory, ready for augmentation.

#include <array>
#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/face/identity.h"

namespace faceswap::train {

struct FaceSample {
  cv::Mat crop;                            // BGR 8-bit, square aligned face
  std::array<cv::Point2f, 68> points{};    // the 68 landmarks in crop pixels
  std::string source;                      // where it came from (file and frame), for messages
};

struct FaceSet {
  std::string identity;
  std::vector<FaceSample> faces;
  // How the crops were aligned; convert must crop the same way (recorded in model.json).
  std::string alignment_template;
  double coverage = 0.0;
  std::vector<std::filesystem::path> folders;  // the extract folders read (absolute)
  std::string holdout_rule;                    // face::kHoldoutRule when faces were held out
  // Mean descriptor of the identity's main person (face-recognition network), and how many
  // described faces it averages; unset without the network.
  std::optional<face::Descriptor> descriptor;
  int64_t descriptor_faces = 0;
  // A few of the faces held out of training, spread over the inputs: train watches how
  // their swaps look while it runs (quality_watch.h). Not trained on.
  std::vector<FaceSample> watched;
};

}  // namespace faceswap::train
