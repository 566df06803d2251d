#pragma once
// What covers a tracked face, told by how that face looked a moment ago. The model's mask
// (how differently it redraws the face) misses what looks like skin: its encoder sees a
// hand and its decoder draws it back as skin. The face's own earlier crops never saw the
// hand. Each track keeps a running picture of its aligned face where it was visible; the
// aligned crop follows the face, so the face stays in place in it while what passes in
// front moves (the picture is registered onto each new crop first, as the landmarks that
// place the crop jitter). Where the new crop differs from that picture far more than the
// rest of the face does, and the change joins a cover the model found (a sleeve, a dark
// patch, the hand's shadowed edge) or a large part that the model doubts, the cover reaches
// that far, and a little further where the change is fainter (the fingers beside a sleeve):
// the memory grows covers, it does not start them on its own, so a blink, a smile or a turn
// of the head (which change the face too) cannot cut holes in a face that nothing covers.
// The picture does not learn next to a cover, which moves onto what it learnt. OpenCV only.

#include <opencv2/core.hpp>

#include <unordered_map>
#include <vector>

namespace faceswap::blend {

class FaceMemory {
 public:
  // `visible`: the model's mask of `crop` (CV_32FC1 in [0, 1], 1 = visible face, the crop's
  // size), lowered in place; `crop`: CV_8UC3, the aligned face of track `track` at
  // `seconds` into the clip; `region`: CV_8UC1, non-zero where the face is (the landmark
  // hull), where a cover the model found may start a grown one. Calls come in time order
  // for each track. A track's first crop, or its first after more than a second unseen,
  // only starts its memory.
  void Apply(int track, double seconds, const cv::Mat& crop, const cv::Mat& region, cv::Mat& visible);

 private:
  struct Track {
    cv::Mat picture;  // CV_32FC3: the face where it was visible, blurred like the crops
    double seconds = 0;
  };
  void Forget(double seconds);
  double MeasureChange(const cv::Mat& picture, const cv::Mat& visible, const cv::Mat& region);
  // Moves `picture` (the memory) onto the current crop (`blurred_`); false if it stays.
  bool RegisterPicture(cv::Mat& picture, const cv::Mat& visible, const cv::Mat& region, double scale);
  // `changed` (CV_8UC1) keeps only the parts connected to a sizable cover of the model's
  // inside `region`, or to a larger part of `changed` that the model doubts;
  // `model_visible`: the model's mask.
  void KeepGrownFromCovers(cv::Mat& changed, const cv::Mat& model_visible, const cv::Mat& region);
  void ReachFaintChange(double scale);
  void DropSmallParts(cv::Mat& mask, int min_area);  // zeroes 8-connected parts under min_area pixels

  std::unordered_map<int, Track> tracks_;
  cv::Mat blurred_, difference_, change_, memory_visible_, model_visible_, changed_, seeds_, labels_, stats_,
      centroids_, fast_, slow_, unchanged_, joined_,
      picture_grey_, crop_grey_, register_mask_, registered_, faint_, reached_, grown_, near_cover_, doubtful_,
      near_kernel_;
  std::vector<float> values_;
  std::vector<char> keep_;
};

}  // namespace faceswap::blend
