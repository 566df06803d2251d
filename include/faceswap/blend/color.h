#pragma once
// Colour matching of a generated face to the frame it goes into.

#include <opencv2/core.hpp>
#include <string>

namespace faceswap::blend {

enum class ColorMethod { kNone, kRct, kHist };
ColorMethod ParseColorMethod(const std::string& name);  // "none" | "rct" | "hist"; UsageError otherwise

// Reinhard et al., "Color Transfer between Images" (IEEE CG&A 2001): per channel in Lab,
// x' = (x - mean_src) * std_ref / std_src + mean_ref, statistics inside `mask` (> 0.5)
// only. `face` and `reference` are same-size 8-bit BGR; `face` is changed in place.
void TransferRct(cv::Mat& face, const cv::Mat& reference, const cv::Mat& mask);

// Histogram matching per Lab channel inside the mask (cumulative distributions).
void TransferHistogram(cv::Mat& face, const cv::Mat& reference, const cv::Mat& mask);

void TransferColor(ColorMethod method, cv::Mat& face, const cv::Mat& reference, const cv::Mat& mask);

}  // namespace faceswap::blend
