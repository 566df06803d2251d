#pragma once
// face::LandmarkPredictor runs a dlib shape-predictor model (an ensemble of regression trees,
// Kazemi and Sullivan, "One Millisecond Face Alignment with an Ensemble of Regression
// Trees", CVPR 2014) with the same arithmetic as dlib::shape_predictor, so its landmarks
// are identical to dlib's, but with the model laid out for the machine:
//   * dlib keeps every leaf (a 136-float shape update for the 68-point model) in a heap
//     block of its own, 120,000 of them over 64 MB: each of the 7,500 trees a fit walks
//     reads one, and almost every read misses both the cache and the TLB (convert's
//     tracker spent half its time there, 11% of convert's CPU on person_a);
//   * here the leaves lie in one array, the trees of a cascade are walked first (their
//     splits are 1.4 MB and stay in cache), and each leaf is prefetched a few trees before
//     it is added. (2 MB pages for that array, tried too, changed nothing measurable.)
// Measured on a 2-core EPYC with a 64 MB buffer stirred between fits (as the encoder does
// in convert): 1.3 ms a fit against dlib's 2.5-5.2 ms, every point equal.
//
// Internal to the face module (detector.cpp); tests/face/landmark_predictor_test.cpp checks
// it against dlib::shape_predictor.

#include <dlib/geometry/rectangle.h>
#include <dlib/image_processing/full_object_detection.h>
#include <dlib/matrix.h>
#include <dlib/opencv/cv_image.h>

#include <cstdint>
#include <filesystem>
#include <vector>

namespace faceswap::face {

class LandmarkPredictor {
 public:
  LandmarkPredictor();
  ~LandmarkPredictor();
  LandmarkPredictor(LandmarkPredictor&&) noexcept;
  LandmarkPredictor& operator=(LandmarkPredictor&&) noexcept;

  // Reads a model file written by dlib::serialize(shape_predictor), floats in dlib's binary
  // float_details form (its older text form is refused). Throws std::runtime_error when
  // the file is not such a model.
  void Load(const std::filesystem::path& path);

  unsigned long num_parts() const { return static_cast<unsigned long>(initial_shape_.size() / 2); }

  // The shape in `rect` of `image`, as dlib::shape_predictor::operator() returns it.
  dlib::full_object_detection operator()(const dlib::cv_image<unsigned char>& image, const dlib::rectangle& rect) const;

 private:
  struct Split {
    uint32_t idx1, idx2;  // feature pixels compared
    float thresh;
  };

  dlib::matrix<float, 0, 1> initial_shape_;
  std::vector<std::vector<unsigned long>> anchor_idx_;             // per cascade
  std::vector<std::vector<dlib::vector<float, 2>>> deltas_;        // per cascade
  std::vector<uint32_t> cascade_tree_begin_;  // first tree of each cascade, then the total
  std::vector<uint32_t> tree_split_begin_;    // first split of each tree, then the total
  std::vector<uint32_t> tree_leaf_begin_;     // first leaf of each tree, then the total
  std::vector<Split> splits_;
  std::vector<float> leaves_;  // leaf after leaf, initial_shape_.size() floats each
  // Scratch: a fit is not thread-safe, like the Detector that owns the predictor.
  mutable std::vector<float> features_;
  mutable std::vector<const float*> chosen_;
};

}  // namespace faceswap::face
