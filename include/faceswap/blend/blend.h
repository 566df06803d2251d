#pragma once
// Putting a generated face into a frame. All images are same-size 8-bit BGR; the mask is
// CV_32FC1 in [0, 1] (1: face).

#include <opencv2/core.hpp>
#include <string>

namespace faceswap::blend {

enum class BlendMethod { kMultiBand, kPoisson, kAlpha };
BlendMethod ParseBlendMethod(const std::string& name);  // "multiband" | "poisson" | "alpha"

// Pyramid depth for a face `face_size` pixels across: about log2(size) - 1, as OpenCV's
// stitching blender picks ceil(log2(blend width)) - 1 bands, clamped to [1, 8].
int LevelsForFaceSize(int face_size);

// out = mask * face + (1 - mask) * frame
cv::Mat AlphaBlend(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask);

// Burt & Adelson, "A Multiresolution Spline with Application to Image Mosaics" (ACM TOG
// 1983): Laplacian pyramids of face and frame joined level by level with the Gaussian
// pyramid of the mask, then collapsed. Low frequencies blend over a wide band (no colour
// step), fine detail over a narrow one (no ghosting). `frame_low_levels` coarsest levels
// are taken from the frame alone (Naruniec et al., EGSR 2020: the plate's lighting).
cv::Mat MultiBandBlend(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask, int levels,
                       int frame_low_levels = 0);

// Poisson image editing (Perez et al., SIGGRAPH 2003) through OpenCV's seamlessClone.
cv::Mat PoissonBlend(const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask);

cv::Mat Blend(BlendMethod method, const cv::Mat& face, const cv::Mat& frame, const cv::Mat& mask, int levels);

// Seam visibility: mean gradient magnitude of `image` on a thin ring along the mask's 0.5
// contour, divided by the mean gradient magnitude of `reference` on the same ring. 1.0:
// the border is as smooth as the reference there; higher: a visible edge was added.
double SeamScore(const cv::Mat& image, const cv::Mat& reference, const cv::Mat& mask);

}  // namespace faceswap::blend
