#include "face_filter.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include "faceswap/core/error.h"
#include "faceswap/face/detector.h"

namespace faceswap::pipeline {
namespace {

std::vector<face::Descriptor> IdentityMeans(const model::ModelInfo& info) {
  std::vector<face::Descriptor> means;
  for (const auto& mean : info.IdentityMeans()) {
    face::Descriptor d{};
    std::copy(mean.begin(), mean.end(), d.begin());
    means.push_back(d);
  }
  return means;
}

// Swapper masks off for a scope, as they were after it.
class MasksOff {
 public:
  explicit MasksOff(model::Swapper& swapper) : swapper_(swapper), were_on_(swapper.masks()) { swapper.set_masks(false); }
  ~MasksOff() { swapper_.set_masks(were_on_); }
  MasksOff(const MasksOff&) = delete;
  MasksOff& operator=(const MasksOff&) = delete;

 private:
  model::Swapper& swapper_;
  bool were_on_;
};

}  // namespace

FaceFilter::FaceFilter(const SwapOptions& o, model::Swapper& swapper, int target) : target_(target) {
  const model::ModelInfo& info = swapper.info();
  if (o.swap_all) {
    description_ = "every face (--swap-all)";
    return;
  }
  std::vector<face::Descriptor> people;
  if (o.only_reference) {
    face::Detector detector(o.detector);
    const cv::Mat image = cv::imread(o.only_reference->string(), cv::IMREAD_COLOR);
    if (image.empty()) throw InputError(*o.only_reference, "reference photo cannot be read");
    const std::vector<face::Face> faces = detector.Detect(image);
    if (faces.empty()) throw InputError(*o.only_reference, "no face found in the reference photo");
    if (faces.size() > 1) spdlog::warn("{}: {} faces; using the largest", o.only_reference->string(), faces.size());
    encoder_.emplace();
    reference_ = encoder_->Encode(image, faces.front().points);
    people.push_back(*reference_);
    description_ = "only the person in " + o.only_reference->filename().string();
  } else {
    people = IdentityMeans(info);
    if (people.empty()) {
      spdlog::warn("{}: the model records no identity descriptors (trained without the face-recognition network "
                   "or by an older faceswap): swapping every face; retrain, or choose with --only ref:IMAGE",
                   (o.model_dir / model::kModelInfoFile).string());
      description_ = "every face (the model has no identity descriptors)";
      return;
    }
    encoder_.emplace();
    description_ = "only faces of the model's source identity";
  }
  // The reference photo's person may be one of the model's identities: then it also
  // tells the direction (for models that record descriptors).
  if (reference_ && target_ < 0) {
    const int source = face::MatchPerson(*reference_, IdentityMeans(info));
    if (source >= 0) target_ = swapper.DefaultTarget(source);
  }
  who_.emplace(*encoder_, std::move(people));
}

bool FaceFilter::Swap(const cv::Mat& frame, int64_t frame_index, const face::Face& face, model::Swapper& swapper) {
  if (!who_) return true;
  const int person = who_->Identify(frame, frame_index, face);
  if (reference_) return person == 0;
  if (person < 0) return false;
  if (target_ < 0) {
    target_ = swapper.DefaultTarget(person);
    spdlog::info("faces of identity '{}' found: drawing them as '{}' (choose with --to)",
                 swapper.info().identities[person], swapper.info().identities[target_]);
  }
  return person != target_;
}

bool FaceFilter::Settled(const face::Face& face) const {
  return who_ && face.track_id >= 0 && who_->Settled(face.track_id);
}

int GuessSourceIdentity(model::Swapper& swapper, const std::vector<cv::Mat>& crops) {
  // Only the faces are compared: finding what covers them would redraw each face with every
  // decoder once more for each identity tried.
  const MasksOff masks_off(swapper);
  int best = 0;
  double best_error = 1e300;
  for (int id = 0; id < static_cast<int>(swapper.info().identities.size()); ++id) {
    const auto out = swapper.Swap(crops, id);
    double error = 0;
    for (size_t i = 0; i < crops.size(); ++i) {
      cv::Mat resized;
      cv::resize(crops[i], resized, out[i].face.size(), 0, 0, cv::INTER_AREA);
      error += cv::norm(resized, out[i].face, cv::NORM_L1);
    }
    if (error < best_error) {
      best_error = error;
      best = id;
    }
  }
  return best;
}

}  // namespace faceswap::pipeline
