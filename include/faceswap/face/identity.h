#pragma once
// Who a face is. dlib's face-recognition ResNet (dlib_face_recognition_resnet_model_v1.dat,
// CC0; see model_files.h) maps a 150x150 face chip aligned to dlib's mean face to a 128-D
// descriptor. Two faces of one person lie closer than kSamePersonDistance (dlib's
// threshold; 99.38% right on LFW by dlib's own report); different people typically lie
// 0.7-1.0 apart.
//
//   face::IdentityEncoder encoder;                       // loads the 22 MB network
//   face::Descriptor d = encoder.Encode(frame_bgr, face.points);
//   bool same = face::Distance(d, other) < face::kSamePersonDistance;
//
// An encoder is not thread-safe (the network keeps its activations); keep one per thread.
// No LibTorch here: this runs on dlib's own CPU code (BLAS).

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "faceswap/face/face.h"

namespace faceswap::face {

inline constexpr int kDescriptorSize = 128;
inline constexpr int kIdentityChipSize = 150;
// Two single faces: dlib's threshold.
inline constexpr double kSamePersonDistance = 0.6;
// One face against the mean descriptor of a person's faces (what model.json records), which
// sits nearer that person's faces than any one face does. Measured on the shared clips:
// faces lie 0.14-0.33 from their own person's mean and 0.37-0.51 from the other woman's;
// the drawn face in person_b's game advertisement lies 0.56-0.65 from both, and the two
// photographed men 0.85 and more.
inline constexpr double kSameAsMeanDistance = 0.5;
// The mean of a tracked face's few descriptors against a person's mean: tighter, since
// averaging takes out a single face's blink or turn. Measured with convert's tracks on the
// shared clips and a model of each clip's main person: the main people's tracks lie
// 0.09-0.31 from their own mean, the two other women of person_a.mp4's split screen
// 0.41-0.51 (which 0.5 swapped as person_a), the drawn face of person_b.mp4's ad 0.54.
inline constexpr double kTrackSameAsMeanDistance = 0.4;

using Descriptor = std::array<float, kDescriptorSize>;

// Euclidean distance.
double Distance(const Descriptor& a, const Descriptor& b);
// Element-wise mean (the centre of one person's faces); zeros for an empty list.
Descriptor MeanDescriptor(const std::vector<Descriptor>& descriptors);

// Which of `people` (mean descriptors) a face is: the nearest, if it lies within
// `threshold` of it; -1 for nobody. `distance` (optional) gets the nearest distance.
int MatchPerson(const Descriptor& face, const std::vector<Descriptor>& people, double* distance = nullptr,
                double threshold = kSameAsMeanDistance);

// Groups faces into people. Each input group is known to be one person: the sampled faces
// of one track, or the face of one photo. Groups are merged by average linkage (UPGMA: the
// mean distance over all pairs of their faces) while the closest two are nearer than
// `threshold`. Returns a person per group, 0..k-1, 0 the person with the most faces (ties:
// the one seen first). Deterministic.
//
// The default is tighter than the pair threshold of 0.6 because dlib's descriptor puts some
// people closer than others. Measured here: dlib's johns (5 men) average 0.28-0.39 within a
// person and 0.73-1.04 between people; the shared clips' two women average 0.25 and 0.27
// within and 0.48 between each other (single pairs 0.36-0.62, so the pair threshold alone
// calls them one person).
inline constexpr double kSamePersonGroupDistance = 0.45;
std::vector<int> ClusterPeople(const std::vector<std::vector<Descriptor>>& groups,
                               double threshold = kSamePersonGroupDistance);

// The chip the network reads, as dlib cuts it (get_face_chip_details with padding 0.25 on
// the 68 landmarks, extract_image_chip with its anti-aliasing pyramid): BGR,
// kIdentityChipSize square. `image` is BGR, BGRA or grey 8-bit.
cv::Mat IdentityChip(const cv::Mat& image, const Landmarks& points);

class IdentityEncoder {
 public:
  // Loads the network found by ResolveModelFile (or `model`); InputError when missing or
  // not this network.
  explicit IdentityEncoder(const std::optional<std::filesystem::path>& model = {});
  ~IdentityEncoder();
  IdentityEncoder(IdentityEncoder&&) noexcept;
  IdentityEncoder& operator=(IdentityEncoder&&) noexcept;

  // The descriptor of the face with these landmarks in `image`.
  Descriptor Encode(const cv::Mat& image, const Landmarks& points);
  // Descriptors of chips made by IdentityChip (or dlib's own 150x150 chips), batched.
  std::vector<Descriptor> EncodeChips(const std::vector<cv::Mat>& chips);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The same network as plain numbers, for re-declaring it where dlib cannot go: LibTorch's
// train::IdentityNet runs it so that an identity loss can pass gradients back into a
// generated face, which dlib's own forward pass cannot do for a non-dlib model.
//
// Only the layers that hold parameters are listed, input to output. The rest of the
// topology (relu, pooling, the residual adds) holds no numbers; it is fixed by the file,
// whose layer types dlib checks on reading, and the re-declaration states it again (its
// tests compare descriptors, so a wrong one shows).
enum class IdentityLayerKind {
  kConvolution,     // dlib's con_: cross-correlation plus a bias per filter
  kAffine,          // dlib's affine_ (batch norm folded for inference): scale * x + shift per channel
  kFullyConnected,  // dlib's fc_ without bias: x * W with x a row vector
};

struct IdentityNetLayer {
  IdentityLayerKind kind = IdentityLayerKind::kConvolution;
  // kConvolution: {filters, channels, rows, cols}; kAffine: {channels}; kFullyConnected:
  // {inputs, outputs}. `weights` holds prod(shape) numbers, row-major in this shape (dlib's
  // own order: for filters that is LibTorch's OIHW; for the fully connected layer it is the
  // transpose of torch::nn::Linear's weight).
  std::vector<int64_t> shape;
  std::vector<float> weights;  // filters, per-channel scale, or the fc matrix
  std::vector<float> biases;   // one per filter, per-channel shift; empty for the fc layer
  int stride = 1;              // kConvolution only (the same along rows and columns)
  int padding = 0;             // kConvolution only: zeros on every side
};

struct IdentityNetwork {
  // dlib's input_rgb_image_sized feeds the network (pixel - mean) / 256 per channel, with
  // pixels 0..255 in R, G, B order; these are the file's means.
  std::array<float, 3> rgb_mean{};
  std::vector<IdentityNetLayer> layers;
};

// Reads the network file (ResolveModelFile, or `model`) and copies out its parameters;
// InputError when missing or not this network.
IdentityNetwork ExportIdentityNetwork(const std::optional<std::filesystem::path>& model = {});

}  // namespace faceswap::face
