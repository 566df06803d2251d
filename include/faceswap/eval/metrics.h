#pragma once
// The measurements behind `faceswap eval`, each a plain function of images or landmarks.
// References are in ../shared/docs/RESEARCH.md ("Measuring quality without heavy networks").

#include <opencv2/core.hpp>

#include "faceswap/face/face.h"

namespace faceswap::eval {

// Peak signal-to-noise ratio of two same-size 8-bit images, in dB, over all channels;
// identical images give kPsnrIdentical.
inline constexpr double kPsnrIdentical = 100.0;
double Psnr(const cv::Mat& a, const cv::Mat& b);

// Structural similarity (Wang, Bovik, Sheikh & Simoncelli, IEEE TIP 13(4), 2004): 11x11
// Gaussian window with sigma 1.5, K1 = 0.01, K2 = 0.03, L = 255; the mean SSIM map,
// averaged over channels. 1 for identical images.
double Ssim(const cv::Mat& a, const cv::Mat& b);

// Mean distance between corresponding landmarks divided by the distance between the
// outer eye corners (points 36 and 45) of `reference`: the 300-W normalised mean error
// (Sagonas et al., 2013).
double LandmarkError(const face::Landmarks& reference, const face::Landmarks& other);

// Mean absolute difference of two same-size 8-bit images over the pixels where `mask`
// (CV_8UC1) is non-zero, averaged over channels, in grey levels. 0 when the mask is empty.
double MeanChange(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask);

}  // namespace faceswap::eval
