#pragma once
// Training that watches its own quality: at every save, the few held-out faces of each
// identity (FaceSet::watched, never trained on) are swapped into the next identity, and
//   distance  their mean face-recognition distance to that identity's mean descriptor
//             (below ~0.5: the network sees that person; falling: the swap learns who)
//   target    the share of them nearest that identity's mean (face::MatchPerson)
//   sharpness the variance of the Laplacian of the swapped face over the original face's,
//             both at the model's resolution (1.0: as sharp as the input)
// go to MODEL/quality.csv and under the loss curve in loss.png, so that a user can see
// when more training stops helping. Needs the face-recognition network and the
// identities' descriptors; without them it does nothing. Includes LibTorch.

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/face/identity.h"
#include "faceswap/model/autoencoder.h"
#include "faceswap/train/face_set.h"

namespace faceswap::train {

struct QualityPoint {
  int64_t iteration = 0;
  // Per direction: identity i drawn as identity (i + 1) % n.
  std::vector<double> distance, target, sharpness;
};

class QualityWatch {
 public:
  // `faces` must outlive the watch. `csv`: MODEL/quality.csv (appended to, header when new).
  QualityWatch(const std::vector<FaceSet>& faces, const std::filesystem::path& csv);
  bool enabled() const { return encoder_.has_value(); }

  // Measures `net` (in eval mode for the duration) and appends the row to the CSV.
  QualityPoint Measure(model::FaceAutoencoder& net, int64_t iteration);

  // Every row of the CSV, for the chart.
  std::vector<QualityPoint> History() const;
  // Direction names, "a->b".
  const std::vector<std::string>& directions() const { return directions_; }

 private:
  const std::vector<FaceSet>& faces_;
  std::filesystem::path csv_;
  std::optional<face::IdentityEncoder> encoder_;
  std::vector<face::Descriptor> means_;
  std::vector<std::string> directions_;
};

}  // namespace faceswap::train
