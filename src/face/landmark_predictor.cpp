#include "landmark_predictor.h"

#include <dlib/image_processing/shape_predictor.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <stdexcept>
#include <string>

namespace faceswap::face {
namespace {

constexpr size_t kCacheLine = 64;
// Leaves prefetched ahead of the one being added: 4 to 16 measured alike (1.30-1.33 ms a
// fit), none 1.90 ms.
constexpr size_t kPrefetchAhead = 8;

[[noreturn]] void Malformed(const std::string& what) { throw std::runtime_error("malformed shape predictor: " + what); }

// Checks of the whole model, a few thousand: the message is built only when one fails.
void Require(bool ok, const char* what) {
  if (!ok) Malformed(what);
}

// dlib's binary serialization (dlib/serialize.h, as dlib 19.24 writes it), read from a buffer of the
// file rather than through std::istream: an integer is a control byte (its low four bits
// the count of bytes that follow, little-endian; bit 7 the sign of a signed one) then its
// bytes; a float is dlib::float_details, a signed 64-bit mantissa and a signed 16-bit
// exponent (mantissa * 2^exponent, with exponents 32000-32002 for +inf, -inf and NaN); a
// dlib::matrix its row and column counts (negated in the current format) then its
// elements. dlib's own reader took 0.8 s of a convert's start-up on the 68-point model.
class DlibReader {
 public:
  explicit DlibReader(const std::filesystem::path& path) : in_(path, std::ios::binary), buffer_(kBuffer) {
    if (!in_) throw std::runtime_error("cannot open the file");
  }

  uint64_t Unsigned() {
    const uint8_t control = Byte();
    const unsigned size = control & 0x8F;  // dlib ignores bits 4-6
    if (size < 1 || size > 8) Malformed("an unsigned integer of " + std::to_string(size) + " bytes");
    return Bytes(size);
  }

  int64_t Signed(size_t max_bytes) {
    const uint8_t control = Byte();
    const unsigned size = control & 0x0F;
    if (size < 1 || size > max_bytes) Malformed("a signed integer of " + std::to_string(size) + " bytes");
    const auto magnitude = static_cast<int64_t>(Bytes(size));
    return control & 0x80 ? -magnitude : magnitude;
  }

  float Float() {
    Fill(1);
    // The older text format starts with an ASCII digit or sign (bits 0x70 set).
    if (static_cast<uint8_t>(buffer_[at_]) & 0x70) Malformed("a float in dlib's old text format");
    const int64_t mantissa = Signed(8);
    const auto exponent = static_cast<int16_t>(Signed(2));
    if (exponent < 32000) return std::ldexp(static_cast<float>(mantissa), exponent);  // as float_details
    if (exponent == 32000) return std::numeric_limits<float>::infinity();
    if (exponent == 32001) return -std::numeric_limits<float>::infinity();
    return std::numeric_limits<float>::quiet_NaN();
  }

  // A dlib::matrix<float> appended to `out`; returns its element count.
  size_t FloatMatrixInto(std::vector<float>& out) {
    const int64_t rows = std::abs(Signed(8)), cols = std::abs(Signed(8));
    if (rows > (1 << 20) || cols > (1 << 20) || rows * cols > (1 << 24)) {
      Malformed("a matrix of " + std::to_string(rows) + " x " + std::to_string(cols));
    }
    const auto count = static_cast<size_t>(rows * cols);
    for (size_t i = 0; i < count; ++i) out.push_back(Float());
    return count;
  }

  std::vector<float> FloatMatrix() {
    std::vector<float> out;
    FloatMatrixInto(out);
    return out;
  }

 private:
  static constexpr size_t kBuffer = size_t{1} << 20;

  uint8_t Byte() {
    Fill(1);
    return static_cast<uint8_t>(buffer_[at_++]);
  }

  uint64_t Bytes(unsigned size) {
    Fill(size);
    uint64_t value = 0;
    for (unsigned i = size; i-- > 0;) value = (value << 8) | static_cast<uint8_t>(buffer_[at_ + i]);
    at_ += size;
    return value;
  }

  // Makes `need` bytes available at at_ (a serialized value is at most 9 bytes).
  void Fill(size_t need) {
    if (end_ - at_ >= need) return;
    std::copy(buffer_.begin() + static_cast<std::ptrdiff_t>(at_), buffer_.begin() + static_cast<std::ptrdiff_t>(end_),
              buffer_.begin());
    end_ -= at_;
    at_ = 0;
    in_.read(buffer_.data() + end_, static_cast<std::streamsize>(buffer_.size() - end_));
    end_ += static_cast<size_t>(in_.gcount());
    if (end_ < need) Malformed("the file ends early");
  }

  std::ifstream in_;
  std::vector<char> buffer_;
  size_t at_ = 0, end_ = 0;
};

}  // namespace

LandmarkPredictor::LandmarkPredictor() = default;
LandmarkPredictor::~LandmarkPredictor() = default;
LandmarkPredictor::LandmarkPredictor(LandmarkPredictor&&) noexcept = default;
LandmarkPredictor& LandmarkPredictor::operator=(LandmarkPredictor&&) noexcept = default;

void LandmarkPredictor::Load(const std::filesystem::path& path) {
  DlibReader in(path);
  // dlib's layout (dlib/image_processing/shape_predictor.h, serialize): an int version (1),
  // the mean shape, the forests (a vector of cascades, each a vector of trees, each its
  // splits then its leaves), then each cascade's feature-pixel anchors and offsets. A
  // std::vector is its size as an unsigned long, then its items; a split is two unsigned
  // longs and a float; a dlib::vector<float, 2> its x and y.
  const int64_t version = in.Signed(sizeof(int));
  if (version != 1) Malformed("version " + std::to_string(version) + ", expected 1");
  const std::vector<float> mean_shape = in.FloatMatrix();
  const size_t dim = mean_shape.size();
  if (dim == 0 || dim % 2 != 0) Malformed("mean shape of " + std::to_string(dim) + " values");
  initial_shape_.set_size(static_cast<long>(dim));
  std::copy(mean_shape.begin(), mean_shape.end(), initial_shape_.begin());

  const uint64_t cascades = in.Unsigned();
  if (cascades == 0 || cascades >= 1000) Malformed(std::to_string(cascades) + " cascades");
  cascade_tree_begin_.clear();
  tree_split_begin_.clear();
  tree_leaf_begin_.clear();
  splits_.clear();
  leaves_.clear();
  for (uint64_t c = 0; c < cascades; ++c) {
    cascade_tree_begin_.push_back(static_cast<uint32_t>(tree_split_begin_.size()));
    const uint64_t trees = in.Unsigned();
    if (trees >= 100000) Malformed(std::to_string(trees) + " trees in a cascade");
    for (uint64_t t = 0; t < trees; ++t) {
      tree_split_begin_.push_back(static_cast<uint32_t>(splits_.size()));
      tree_leaf_begin_.push_back(static_cast<uint32_t>(leaves_.size() / dim));
      const uint64_t splits = in.Unsigned();
      if (splits >= (1u << 20)) Malformed(std::to_string(splits) + " splits in a tree");
      for (uint64_t k = 0; k < splits; ++k) {
        const uint64_t idx1 = in.Unsigned(), idx2 = in.Unsigned();
        Require(idx1 <= UINT32_MAX && idx2 <= UINT32_MAX, "a split on a feature pixel past the cascade's");
        splits_.push_back({static_cast<uint32_t>(idx1), static_cast<uint32_t>(idx2), in.Float()});
      }
      const uint64_t leaves = in.Unsigned();
      Require(leaves == splits + 1, "a tree whose leaves are not its splits + 1");
      if (leaves_.empty()) {
        // The first tree tells the size of them all (every tree of dlib's trainer has the
        // same depth): 64 MB for the 68-point model, reserved once rather than regrown.
        leaves_.reserve(std::min<uint64_t>(cascades * trees * leaves * dim, uint64_t{1} << 27));
      }
      for (uint64_t k = 0; k < leaves; ++k) {
        Require(in.FloatMatrixInto(leaves_) == dim, "a leaf of another size than the shape");
      }
    }
  }
  cascade_tree_begin_.push_back(static_cast<uint32_t>(tree_split_begin_.size()));
  tree_split_begin_.push_back(static_cast<uint32_t>(splits_.size()));
  tree_leaf_begin_.push_back(static_cast<uint32_t>(leaves_.size() / dim));

  // Counts are checked before anything is sized by them: a damaged file gets its one-line
  // reason, not an allocation failure.
  const auto count_of = [&in](uint64_t at_most, const char* what) {
    const uint64_t count = in.Unsigned();
    Require(count <= at_most, what);
    return static_cast<size_t>(count);
  };
  constexpr uint64_t kMaxFeaturePixels = 1 << 20;
  Require(in.Unsigned() == cascades, "feature pixels for another number of cascades");
  anchor_idx_.assign(cascades, {});
  for (auto& anchors : anchor_idx_) {
    anchors.resize(count_of(kMaxFeaturePixels, "too many feature pixels in a cascade"));
    for (unsigned long& a : anchors) a = in.Unsigned();
  }
  Require(in.Unsigned() == cascades, "feature pixels for another number of cascades");
  deltas_.assign(cascades, {});
  for (auto& offsets : deltas_) {
    offsets.resize(count_of(kMaxFeaturePixels, "too many feature pixels in a cascade"));
    for (auto& d : offsets) {
      d.x() = in.Float();
      d.y() = in.Float();
    }
  }
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
