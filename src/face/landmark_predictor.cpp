#include "landmark_predictor.h"

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/serialize.h>

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string>

namespace faceswap::face {
namespace {

constexpr size_t kCacheLine = 64;
// Leaves prefetched ahead of the one being added: 4 to 16 measured alike (1.30-1.33 ms a
// fit), none 1.90 ms.
constexpr size_t kPrefetchAhead = 8;

void Require(bool ok, const std::string& what) {
  if (!ok) throw std::runtime_error("malformed shape predictor: " + what);
}

}  // namespace

LandmarkPredictor::LandmarkPredictor() = default;
LandmarkPredictor::~LandmarkPredictor() = default;
LandmarkPredictor::LandmarkPredictor(LandmarkPredictor&&) noexcept = default;
LandmarkPredictor& LandmarkPredictor::operator=(LandmarkPredictor&&) noexcept = default;

void LandmarkPredictor::Load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open the file");
  // dlib's layout (dlib/image_processing/shape_predictor.h, serialize): an int version (1),
  // the mean shape, the forests (a vector of cascades, each a vector of trees, each its
  // splits then its leaves), then each cascade's feature-pixel anchors and offsets. A
  // std::vector is its size as an unsigned long, then its items.
  int version = 0;
  dlib::deserialize(version, in);
  Require(version == 1, "version " + std::to_string(version) + ", expected 1");
  dlib::deserialize(initial_shape_, in);
  const size_t dim = static_cast<size_t>(initial_shape_.size());
  Require(dim > 0 && dim % 2 == 0, "mean shape of " + std::to_string(dim) + " values");

  unsigned long cascades = 0;
  dlib::deserialize(cascades, in);
  Require(cascades > 0 && cascades < 1000, std::to_string(cascades) + " cascades");
  cascade_tree_begin_.clear();
  tree_split_begin_.clear();
  tree_leaf_begin_.clear();
  splits_.clear();
  // Read tree by tree (dlib's own tree type, then copied out), so at most one tree is held
  // twice.
  leaves_.clear();
  for (unsigned long c = 0; c < cascades; ++c) {
    cascade_tree_begin_.push_back(static_cast<uint32_t>(tree_split_begin_.size()));
    unsigned long trees = 0;
    dlib::deserialize(trees, in);
    Require(trees < 100000, std::to_string(trees) + " trees in a cascade");
    for (unsigned long t = 0; t < trees; ++t) {
      dlib::impl::regression_tree tree;
      deserialize(tree, in);  // the tree type's own (found by argument-dependent lookup)
      Require(tree.leaf_values.size() == tree.splits.size() + 1, "a tree whose leaves are not its splits + 1");
      tree_split_begin_.push_back(static_cast<uint32_t>(splits_.size()));
      tree_leaf_begin_.push_back(static_cast<uint32_t>(leaves_.size() / dim));
      for (const auto& s : tree.splits) splits_.push_back({static_cast<uint32_t>(s.idx1), static_cast<uint32_t>(s.idx2), s.thresh});
      for (const auto& leaf : tree.leaf_values) {
        Require(static_cast<size_t>(leaf.size()) == dim, "a leaf of another size than the shape");
        leaves_.insert(leaves_.end(), leaf.begin(), leaf.end());
      }
    }
  }
  cascade_tree_begin_.push_back(static_cast<uint32_t>(tree_split_begin_.size()));
  tree_split_begin_.push_back(static_cast<uint32_t>(splits_.size()));
  tree_leaf_begin_.push_back(static_cast<uint32_t>(leaves_.size() / dim));
  dlib::deserialize(anchor_idx_, in);
  dlib::deserialize(deltas_, in);
  Require(anchor_idx_.size() == cascades && deltas_.size() == cascades, "feature pixels for another number of cascades");
  for (unsigned long c = 0; c < cascades; ++c) {
    Require(anchor_idx_[c].size() == deltas_[c].size(), "feature anchors and offsets of different counts");
    for (unsigned long a : anchor_idx_[c]) Require(a < dim / 2, "a feature anchored to a point past the shape");
    for (uint32_t s = tree_split_begin_[cascade_tree_begin_[c]]; s < tree_split_begin_[cascade_tree_begin_[c + 1]]; ++s) {
      Require(splits_[s].idx1 < deltas_[c].size() && splits_[s].idx2 < deltas_[c].size(), "a split on a feature pixel past the cascade's");
    }
  }
}

dlib::full_object_detection LandmarkPredictor::operator()(const dlib::cv_image<unsigned char>& image,
                                                          const dlib::rectangle& rect) const {
  // dlib::shape_predictor::operator(), step for step: per cascade, the feature pixels
  // placed by the current shape, then every tree's leaf added to the shape in tree order
  // (the same float additions in the same order, so the same result to the bit).
  const size_t dim = static_cast<size_t>(initial_shape_.size());
  dlib::matrix<float, 0, 1> shape = initial_shape_;
  for (size_t c = 0; c + 1 < cascade_tree_begin_.size(); ++c) {
    dlib::impl::extract_feature_pixel_values(image, rect, shape, initial_shape_, anchor_idx_[c], deltas_[c], features_);
    const float* f = features_.data();
    const uint32_t first = cascade_tree_begin_[c], end = cascade_tree_begin_[c + 1];
    chosen_.resize(end - first);
    for (uint32_t t = first; t < end; ++t) {
      const Split* split = splits_.data() + tree_split_begin_[t];
      const uint32_t n = tree_split_begin_[t + 1] - tree_split_begin_[t];
      uint32_t i = 0;  // node i's children are 2i+1 (left: the difference above the threshold) and 2i+2
      while (i < n) i = f[split[i].idx1] - f[split[i].idx2] > split[i].thresh ? 2 * i + 1 : 2 * i + 2;
      chosen_[t - first] = leaves_.data() + static_cast<size_t>(tree_leaf_begin_[t] + (i - n)) * dim;
    }
    auto prefetch = [dim](const float* leaf) {
      for (size_t b = 0; b < dim * sizeof(float); b += kCacheLine) __builtin_prefetch(reinterpret_cast<const char*>(leaf) + b);
    };
    const size_t count = chosen_.size();
    for (size_t k = 0; k < std::min(kPrefetchAhead, count); ++k) prefetch(chosen_[k]);
    float* out = &shape(0);
    for (size_t k = 0; k < count; ++k) {
      if (k + kPrefetchAhead < count) prefetch(chosen_[k + kPrefetchAhead]);
      const float* leaf = chosen_[k];
      for (size_t j = 0; j < dim; ++j) out[j] += leaf[j];
    }
  }
  const dlib::point_transform_affine to_image = dlib::impl::unnormalizing_tform(rect);
  std::vector<dlib::point> parts(dim / 2);
  for (unsigned long i = 0; i < parts.size(); ++i) parts[i] = to_image(dlib::impl::location(shape, i));
  return dlib::full_object_detection(rect, parts);
}

}  // namespace faceswap::face
