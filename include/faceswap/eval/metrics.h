#pragma once
// The measurements behind `faceswap eval`, each a plain function of images or landmarks.
// References are in ../shared/docs/RESEARCH.md ("Measuring quality without heavy networks").

#include <opencv2/core.hpp>

#include <array>

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

// Detail fidelity: how much of the real face's fine detail a redrawn face has, in the
// finest kDetailBands bands of a Laplacian pyramid (Burt & Adelson 1983) of the grey
// images at the reference's size (`drawn` is enlarged bicubically when smaller). Per band,
// R = energy of the reference's band and E = energy of the difference between the bands,
// both summed inside `mask` (CV_8UC1, non-zero: measured; empty: everywhere); the band's
// score is R / (R + E): 1 for the real detail, 0.5 for none at all (a flat band; a face
// enlarged from a smaller side scores a little above, as the bands overlap in frequency),
// below 0.5 for detail that is not the real one (noise, invented texture).
// Unlike the variance of the Laplacian it cannot be raised by adding noise.
inline constexpr int kDetailBands = 3;
struct DetailFidelity {
  double score = 0;                     // mean of the bands
  std::array<double, kDetailBands> bands{};  // finest first: 1/2-1/1, 1/4-1/2, 1/8-1/4 of the Nyquist rate
};
DetailFidelity MeasureDetailFidelity(const cv::Mat& reference, const cv::Mat& drawn, const cv::Mat& mask = cv::Mat());

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
