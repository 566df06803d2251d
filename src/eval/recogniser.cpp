#include "faceswap/eval/recogniser.h"

#include <opencv2/imgproc.hpp>
#if FACESWAP_HAVE_OPENCV_FACE
#include <opencv2/face.hpp>
#endif

#include <algorithm>
#include <map>

namespace faceswap::eval {

cv::Mat InnerFace(const cv::Mat& crop, const face::Landmarks& crop_points) {
  std::vector<cv::Point2f> inner(crop_points.begin() + 17, crop_points.end());
  cv::Rect box = cv::boundingRect(inner);
  const int dx = static_cast<int>(box.width * kInnerFaceMargin), dy = static_cast<int>(box.height * kInnerFaceMargin);
  box = cv::Rect(box.x + dx, box.y + dy, box.width - 2 * dx, box.height - 2 * dy) & cv::Rect(0, 0, crop.cols, crop.rows);
  cv::Mat grey, out;
  if (box.width < 4 || box.height < 4) return cv::Mat::zeros(kInnerFaceSide, kInnerFaceSide, CV_8UC1);
  cv::cvtColor(crop(box), grey, crop.channels() == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
  cv::resize(grey, out, cv::Size(kInnerFaceSide, kInnerFaceSide), 0, 0, cv::INTER_AREA);
  cv::equalizeHist(out, out);
  return out;
}

bool ClassifyLeavingGroupsOut(const std::vector<LabelledFace>& real, const std::vector<LabelledFace>& probes,
                              int folds, std::vector<int>& verdicts) {
  verdicts.assign(probes.size(), -1);
#if FACESWAP_HAVE_OPENCV_FACE
  folds = std::max(1, folds);
  // Groups are dealt to folds in their sorted order, so that every fold gets some whatever
  // the group numbers are (held-out runs are 1 in 10, so run % folds may be the same for all).
  std::map<int64_t, int> ordinal;
  for (const LabelledFace& f : real) ordinal.emplace(f.group, 0);
  for (const LabelledFace& f : probes) ordinal.emplace(f.group, 0);
  int next = 0;
  for (auto& [group, number] : ordinal) number = next++;
  auto fold_of = [&](int64_t group) { return ordinal.at(group) % folds; };
  for (int fold = 0; fold < folds; ++fold) {
    std::vector<size_t> mine;
    for (size_t i = 0; i < probes.size(); ++i) {
      if (fold_of(probes[i].group) == fold) mine.push_back(i);
    }
    if (mine.empty()) continue;
    std::vector<cv::Mat> images;
    std::vector<int> labels;
    for (const LabelledFace& f : real) {
      if (fold_of(f.group) == fold) continue;
      images.push_back(f.inner);
      labels.push_back(f.identity);
    }
    if (images.empty()) continue;
    // OpenCV's defaults: radius 1, 8 neighbours, an 8x8 grid of histograms.
    cv::Ptr<cv::face::LBPHFaceRecognizer> recogniser = cv::face::LBPHFaceRecognizer::create();
    recogniser->train(images, labels);
    for (size_t i : mine) verdicts[i] = recogniser->predict(probes[i].inner);
  }
  return true;
#else
  (void)real;
  (void)probes;
  (void)folds;
  return false;
#endif
}

}  // namespace faceswap::eval
