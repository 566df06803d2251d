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

// Head pose in degrees: rotations about the image's x axis (pitch, nodding), y axis (yaw,
// turning) and the viewing axis (roll, tilting); 0, 0, 0 faces the camera upright.
struct HeadPose {
  double pitch = 0, yaw = 0, roll = 0;
};
// The pose of the face with these landmarks, from cv::solvePnP of six stable points (nose
// tip, chin, outer eye corners, mouth corners) on a generic head model, with a pinhole
// camera of focal length = image width and the principal point at the image centre.
HeadPose EstimateHeadPose(const face::Landmarks& points, cv::Size image_size);
// The generic head model's six points seen from `pose`, for tests: landmarks 30, 8, 36,
// 45, 48, 54 are set, the rest are zero.
face::Landmarks ProjectHeadModel(const HeadPose& pose, cv::Size image_size, double distance);

// Mean absolute difference of two same-size 8-bit images over the pixels where `mask`
// (CV_8UC1) is non-zero, averaged over channels, in grey levels. 0 when the mask is empty.
double MeanChange(const cv::Mat& a, const cv::Mat& b, const cv::Mat& mask);

}  // namespace faceswap::eval
