#pragma once
// An invisible watermark in the pixels of every swapped frame, and its detector.
//
//   watermark::Embedder marker(watermark::PayloadForThisBuild(info.weights_hash), options);
//   marker.Embed(frame.bgr);                       // in place, a few ms per 1080p frame
//   watermark::Detection d = watermark::Detect(frame.bgr);
//   if (d.found) std::cout << d.payload.Describe();
//
// The mark is a smooth pseudo-random luma pattern (see src/watermark/pattern.h), tiled over
// the whole frame with a side of half the frame's shorter side, and scaled by the
// picture's local brightness (fainter near black and white, where it would clip). It
// survives H.264 re-encoding, resizing, cropping and the loss of all metadata: the detector
// folds the frame's tiles onto one, searches the tile size that a crop changed, finds the
// tile's position by correlation, and decodes the payload with its error-correcting code
// and checks; when that fails it reads the picture flipped left to right as well, so a
// mirrored copy (selfie video, re-uploads) is found too. Several frames of one clip can
// vote (Detector::Add, then Vote).
//
// Only OpenCV core/imgproc; no video knowledge (callers bring BGR frames).

#include <opencv2/core.hpp>

#include <memory>
#include <vector>

#include "faceswap/watermark/payload.h"

namespace faceswap::watermark {

inline constexpr double kMaxStrength = 4.0;  // grey levels: PSNR 36 dB

struct EmbedOptions {
  bool enabled = true;  // convert: --no-watermark (needs an explicit acknowledgement)
  // RMS change of the luma in 8-bit grey levels (--watermark-strength), the same on every
  // frame and everywhere in it except near black or white (down to 0.3 times): the PSNR
  // against the unmarked frame is about 20 log10(255 / strength), 43 dB at the default
  // 1.8, and more after rounding to whole grey levels (44-46 dB on the shared media).
  // The default is what the tests on the shared photos need; the clips' robustness tests
  // pass with 1.2 (README, "The invisible watermark").
  double strength = 1.8;
  void Check() const;   // UsageError unless 0 < strength <= kMaxStrength
};

// Marks frames of one payload. Precomputes the pattern once per frame size; Embed is one
// pass over the frame plus a cheap texture estimate. Not thread-safe: one per thread.
class Embedder {
 public:
  Embedder(const Payload& payload, const EmbedOptions& options = {});
  ~Embedder();
  Embedder(Embedder&&) noexcept;
  Embedder& operator=(Embedder&&) noexcept;

  // Adds the mark to an 8-bit BGR frame in place. Returns false (frame untouched) when the
  // frame is too small to carry it (shorter side under 128 pixels).
  bool Embed(cv::Mat& bgr);
  // The same mark for a frame that is encoded from its limited-range 4:2:0 picture
  // (video::Frame::yuv420): measured on `bgr` as Embed measures it, and added to `luma`
  // (that picture's Y plane, CV_8UC1 of bgr's size) as the change Embed would make to the
  // frame's luma. `bgr` is not changed.
  bool EmbedInLuma(const cv::Mat& bgr, cv::Mat& luma);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Marks one frame (builds the pattern each call: use an Embedder for video).
bool Embed(cv::Mat& bgr, const Payload& payload, const EmbedOptions& options = {});

struct DetectOptions {
  // Range of tile sizes searched, relative to the size the embedder uses for a frame of the
  // given size: 1 for an uncropped (possibly resized) frame, 1.25 after cropping 10% off
  // each side. The defaults cover crops of up to 20% per side and small borders added.
  double min_relative_tile = 0.85;
  double max_relative_tile = 1.7;
  void Check() const;  // UsageError unless 0.25 <= min < max <= 4
};

struct Detection {
  bool found = false;       // the payload decoded and its signature and CRC match
  Payload payload;          // valid when found
  // Share of the 288 code bits read from the picture that agree with the decoded payload's
  // code word: near 1 for a clean mark, about 0.77 for unmarked pictures (the decoder picks
  // the nearest code word). Reported for found marks; for the best failed attempt otherwise.
  double confidence = 0;
  double sync_score = 0;    // pilot correlation peak over the correlation's spread (noise: ~4-5)
  double relative_tile = 0; // tile size found, relative to the embedder's for this frame size
  int frames = 0;           // frames the decision rests on
  bool mirrored = false;    // found in the picture flipped left to right: a mirror image of a marked one
};

// Reads the mark from frames of one size: Detect for one frame, Add + Vote to decide on the
// evidence of several frames together (the mark is the same in all frames of a clip, so
// their whitened pictures add up; the scene's own texture does not, as it moves).
class Detector {
 public:
  explicit Detector(const DetectOptions& options = {});
  ~Detector();
  Detector(Detector&&) noexcept;
  Detector& operator=(Detector&&) noexcept;

  // What this frame alone says.
  Detection Detect(const cv::Mat& bgr);
  // The same, and adds the frame to the vote. Frames of another size than the first are
  // refused (std::invalid_argument).
  Detection Add(const cv::Mat& bgr);
  Detection Vote() const;  // on the frames added so far (not found when none)
  int frames() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

Detection Detect(const cv::Mat& bgr, const DetectOptions& options = {});

}  // namespace faceswap::watermark
