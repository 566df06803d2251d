#pragma once
// A face in a frame: its detector box, the 68 dlib/iBUG-300W landmarks and a track id.
// All coordinates are frame pixels (x right, y down, origin at the top-left pixel's corner).

#include <opencv2/core.hpp>

#include <array>

namespace faceswap::face {

// The 68-point iBUG 300-W markup (Sagonas et al., 300 Faces in-the-Wild Challenge, 2013),
// as dlib's shape_predictor_68_face_landmarks.dat produces it: 0-16 jaw, 17-26 brows,
// 27-35 nose, 36-41 right eye (image left), 42-47 left eye, 48-67 mouth.
using Landmarks = std::array<cv::Point2f, 68>;

struct Face {
  cv::Rect2f box;       // detector-style box (dlib HOG convention), frame pixels
  Landmarks points{};   // frame pixels
  int track_id = -1;    // stable over a clip while the Tracker follows this face; -1: untracked
  float score = 0.0f;   // detector: HOG confidence; tracker: fit quality in [0, 1]
};

// Landmark index ranges [first, last] of the iBUG markup.
constexpr int kRightEyeFirst = 36, kRightEyeLast = 41;  // subject's right: image left
constexpr int kLeftEyeFirst = 42, kLeftEyeLast = 47;

cv::Point2f RightEyeCentre(const Landmarks& points);  // mean of points 36-41
cv::Point2f LeftEyeCentre(const Landmarks& points);   // mean of points 42-47
// Distance between the eye centres: the 300-W normalisation for landmark errors.
double InterOcularDistance(const Landmarks& points);
// Axis-aligned bounding box of the 68 points.
cv::Rect2f LandmarkBounds(const Landmarks& points);

}  // namespace faceswap::face
