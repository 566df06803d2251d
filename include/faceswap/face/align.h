#pragma once
// Alignment: a least-squares similarity transform (rotation, uniform scale, translation)
// that maps a face's landmarks onto a canonical mean face, the aligned crop it gives, and
// the way back into the frame (convert pastes swapped faces with it).

#include <opencv2/core.hpp>

#include <array>

#include "faceswap/face/face.h"

namespace faceswap::face {

struct AlignOptions {
  int size = 256;  // crop side in pixels
  // How much around the face the crop shows: the crop side as a multiple of the mean-face
  // template's unit square (brows to lower lip, outer eye corners apart ~0.85 of it).
  // 1.0 crops to the inner face; the default 1.5 leaves a quarter of the square on every
  // side, which shows the chin, cheeks and forehead (the padding dlib's and
  // faceswap-GAN's aligners call 0.25).
  double coverage = 1.5;
  void Check() const;  // throws UsageError
};

// The mean face: landmarks 17..67 of the iBUG markup in the unit square. Index i holds
// landmark 17 + i. Only points with kTemplateUsed[i] take part in the fit.
constexpr int kTemplateFirst = 17;
constexpr int kTemplatePoints = 68 - kTemplateFirst;
const std::array<cv::Point2d, kTemplatePoints>& MeanFaceTemplate();
// Whether landmark 17 + i is used for the fit: brows and lower lip are left out because
// they move with expression (raised brows, open mouth) and would shift the crop.
const std::array<bool, kTemplatePoints>& TemplateUsed();

// Where landmark `index` (17..67) of the mean face lands in a crop made with `options`.
cv::Point2d TemplatePointInCrop(int index, const AlignOptions& options);
// The template's eye centres (means of landmarks 36-41 and 42-47) in crop pixels.
cv::Point2d TemplateRightEyeInCrop(const AlignOptions& options);
cv::Point2d TemplateLeftEyeInCrop(const AlignOptions& options);

// Least-squares similarity (Umeyama, "Least-squares estimation of transformation
// parameters between two point patterns", IEEE TPAMI 13(4), 1991) from `from` to `to`,
// as a 2x3 matrix. Needs at least 2 distinct points.
cv::Matx23d UmeyamaSimilarity(const std::vector<cv::Point2d>& from, const std::vector<cv::Point2d>& to);

// Frame pixels -> crop pixels for these landmarks.
cv::Matx23d AlignmentTransform(const Landmarks& points, const AlignOptions& options);

// The inverse of a 2x3 similarity/affine transform.
cv::Matx23d InvertTransform(const cv::Matx23d& m);
cv::Point2f ApplyTransform(const cv::Matx23d& m, const cv::Point2f& p);

struct AlignedFace {
  cv::Mat crop;              // options.size x options.size, same type as the frame
  cv::Matx23d to_crop;       // frame pixels -> crop pixels
  cv::Matx23d to_frame;      // crop pixels -> frame pixels
  Landmarks crop_points{};   // the landmarks in crop pixels
};

// Warps the face into its aligned crop (bilinear, border replicated so faces cut by the
// image edge give no black wedge that a model would learn).
AlignedFace Align(const cv::Mat& frame, const Landmarks& points, const AlignOptions& options);
// The same into caller-owned buffers: per-frame loops reuse `out.crop`.
void Align(const cv::Mat& frame, const Landmarks& points, const AlignOptions& options, AlignedFace& out);

// The aligned face at another side: the crop resized (area average when shrinking), the
// transforms and points moved to match (pixel centres kept: x' = (x + 0.5) f - 0.5, as
// cv::resize samples). Into `out`, whose buffers are reused.
void ResizeAligned(const AlignedFace& face, int side, AlignedFace& out);

// Warps `crop` back into frame coordinates with aligned.to_frame: `frame_out` (frame size,
// crop's type) gets the warped crop and `mask_out` (CV_32F, frame size) the warped `mask`
// (crop size, CV_8U or CV_32F, 1 = face; an empty mask means the whole crop). Pixels
// outside the crop get mask 0. Only the bounding box of the face is touched when the
// outputs already have the right size; callers blend frame = mask*frame_out + (1-mask)*frame.
void WarpToFrame(const cv::Mat& crop, const cv::Mat& mask, const cv::Matx23d& to_frame, cv::Size frame_size,
                 cv::Mat& frame_out, cv::Mat& mask_out);

}  // namespace faceswap::face
