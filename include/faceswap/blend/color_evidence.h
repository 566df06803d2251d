#pragma once
// A visibility mask's doubtful pixels decided by colour. The model's mask (how differently
// it redraws each part of the face) is sure of most pixels but soft where its error is
// middling, and a soft mask over an occluder blends it half away. The pixels it is sure of
// tell what the face and what covers it look like here: a colour histogram of each, and
// each pixel's mask moved by how much likelier its colour is under one than the other
// (a GrabCut-like colour model, without the graph cut), strongly towards "covered" for a
// colour the cover has and the face lacks, weakly towards "face" (a cover can have the
// face's colours). A colour both share, such as a hand's skin, moves nothing. OpenCV only.

#include <opencv2/core.hpp>

#include <vector>

namespace faceswap::blend {

struct ColorScratch {
  std::vector<float> face, covered, log_odds;  // per colour bin
};

// `mask`: CV_32FC1 in [0, 1], 1 = visible face, changed in place inside `region` (CV_8UC1,
// non-zero where the face is); `image`: CV_8UC3 of the same size. Does nothing unless a
// part of the region is surely covered (there is then nothing to learn the cover's colours
// from, and nothing to decide).
void DecideByColor(cv::Mat& mask, const cv::Mat& image, const cv::Mat& region, ColorScratch& scratch);

}  // namespace faceswap::blend
