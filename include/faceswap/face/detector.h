#pragma once
// Face detection (dlib's HOG frontal face detector, or dlib's CNN face detector for turned
// and partly hidden faces) and 68-point landmark fitting (dlib's shape predictor, the
// iBUG 300-W model from Debian's libdlib-data).
//
//   face::Detector detector(face::DetectorOptions{});
//   for (const face::Face& f : detector.Detect(frame_bgr)) { ... f.points ... }
//
// A Detector loads the ~100 MB predictor once; keep one per thread (it is not thread-safe:
// it owns scratch buffers reused from frame to frame).

#include <opencv2/core.hpp>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/face/face.h"

namespace faceswap::face {

enum class DetectorKind {
  kHog,   // dlib's HOG + linear SVM: fast (~60 ms a 960 px frame here), frontal faces
  kCnn,   // dlib's MMOD CNN: finds turned faces too, ~10x slower
  kAuto,  // HOG, and the CNN where HOG finds nothing (the tracker limits how often)
};
// "hog", "cnn" or "auto"; UsageError otherwise.
DetectorKind ParseDetectorKind(const std::string& text);
std::string ToString(DetectorKind kind);

// How far Detector::DetectBoxes goes when the plain HOG pass finds nothing.
enum class DetectEffort {
  kPlain,       // the plain HOG pass alone (~60 ms a 960 px frame here)
  kSmallFaces,  // then one pass upsampled once more, if upsample_when_empty (~4x the cost)
  kAll,         // then also the CNN, for kAuto (~0.85 s)
};

struct DetectorOptions {
  DetectorKind kind = DetectorKind::kAuto;
  // HOG pyramid upsampling: each step doubles the image side and finds faces half as
  // large (dlib's HOG window is 80x80 pixels), at about 4x the cost.
  int upsample = 0;
  // Frames whose longer side exceeds this are downscaled for detection (boxes are scaled
  // back); landmarks are always fitted at full resolution. 0 disables downscaling.
  int max_side = 960;
  // When a pass finds no face, try once more with one more upsampling level: small faces
  // (a group shot, a split screen) are found at the cost of a slower pass on empty frames.
  bool upsample_when_empty = true;
  // Faces whose box is narrower than this (frame pixels) are dropped.
  int min_face_size = 40;
  // The 68-point model; unset: face::ResolveModelFile's search (model_files.h).
  std::optional<std::filesystem::path> landmark_model;
  // The CNN runs on frames downscaled so that their longer side is at most this (about
  // 0.85 s a frame at 480 px on this project's 2-core machine, 4 s at 960 px).
  int cnn_max_side = 480;

  void Check() const;  // throws UsageError
};

class Detector {
 public:
  // Throws InputError naming libdlib-data when the landmark model is missing, and naming
  // the fetch script when kCnn is asked for without the CNN's file. kAuto without it
  // warns once and runs HOG alone.
  explicit Detector(const DetectorOptions& options);
  ~Detector();
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;

  // All faces in a BGR (or gray, or BGRA) image, largest first, with landmarks.
  std::vector<Face> Detect(const cv::Mat& image);

  // Only the boxes (frame pixels, in HOG's box convention whichever detector found them)
  // with their scores, largest first: for callers that fit landmarks themselves (the
  // tracker matches boxes to tracks before fitting). `effort` says how far to go when the
  // plain HOG pass finds nothing (kCnn always runs the CNN alone). `max_side`, when set,
  // replaces options().max_side for this call (a coarser pass that finds only larger faces).
  std::vector<Face> DetectBoxes(const cv::Mat& image, DetectEffort effort = DetectEffort::kAll, int max_side = 0);

  // The narrowest face (frame pixels) the plain HOG pass finds in a frame of `frame_size`:
  // dlib's 80-pixel window at the detection scale (max_side, upsample).
  float SmallestPlainFace(cv::Size frame_size) const;

  // The 68 landmarks for a face in `box` (frame pixels). Only a margin around the box is
  // converted to gray, so refitting a tracked face costs a fraction of a detection.
  // Points may fall outside the image for faces cut by the border.
  Face FitLandmarks(const cv::Mat& image, const cv::Rect2f& box);

  const DetectorOptions& options() const;
  // Whether the CNN can run (kCnn, or kAuto with its file present).
  bool has_cnn() const;
  int64_t cnn_runs() const;  // CNN passes so far

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace faceswap::face
