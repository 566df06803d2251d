#include "faceswap/face/identity.h"

#include <dlib/dnn.h>
#include <dlib/image_transforms.h>
#include <dlib/opencv.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <map>

#include "faceswap/core/error.h"
#include "faceswap/face/model_files.h"

namespace faceswap::face {
namespace {

// The network stored in dlib_face_recognition_resnet_model_v1.dat, declared layer for
// layer as the file holds it (dlib checks every layer's type when deserialising, so a
// mismatch is an error, not a silent misreading). A ResNet-34-like stack at half width:
// a 7x7/2 stem of 32 filters and 3x3/2 max pooling, then residual units of two 3x3
// convolutions each (affine = batch norm folded for inference), 32 -> 64 -> 128 -> 256
// filters with a strided unit (2x2 average pooling on the shortcut) at each step down,
// global average pooling and a 128-wide fully connected layer without bias.
template <int K, template <typename> class Norm, int Stride, typename In>
using TwoConvs = Norm<dlib::con<K, 3, 3, 1, 1, dlib::relu<Norm<dlib::con<K, 3, 3, Stride, Stride, In>>>>>;

template <int K, typename In>
using Unit = dlib::relu<dlib::add_prev1<TwoConvs<K, dlib::affine, 1, dlib::tag1<In>>>>;

template <int K, typename In>
using UnitDown = dlib::relu<dlib::add_prev2<
    dlib::avg_pool<2, 2, 2, 2, dlib::skip1<dlib::tag2<TwoConvs<K, dlib::affine, 2, dlib::tag1<In>>>>>>>;

template <typename In> using Width32 = Unit<32, Unit<32, Unit<32, In>>>;
template <typename In> using Width64 = Unit<64, Unit<64, Unit<64, UnitDown<64, In>>>>;
template <typename In> using Width128 = Unit<128, Unit<128, UnitDown<128, In>>>;
template <typename In> using Width256 = Unit<256, Unit<256, UnitDown<256, In>>>;
template <typename In> using Last256 = UnitDown<256, In>;

using RecognitionNet = dlib::loss_metric<dlib::fc_no_bias<
    kDescriptorSize,
    dlib::avg_pool_everything<Last256<Width256<Width128<Width64<Width32<dlib::max_pool<
        3, 3, 2, 2,
        dlib::relu<dlib::affine<dlib::con<32, 7, 7, 2, 2, dlib::input_rgb_image_sized<kIdentityChipSize>>>>>>>>>>>>>;

// dlib's padding around the mean face for the network's chips (its face-recognition
// example and training used 0.25), i.e. our AlignOptions coverage 1.5.
constexpr double kChipPadding = 0.25;

dlib::full_object_detection AsShape(const Landmarks& points) {
  std::vector<dlib::point> parts;
  parts.reserve(points.size());
  for (const cv::Point2f& p : points) parts.emplace_back(std::lround(p.x), std::lround(p.y));
  const cv::Rect2f box = LandmarkBounds(points);
  return dlib::full_object_detection(
      dlib::rectangle(std::lround(box.x), std::lround(box.y), std::lround(box.br().x), std::lround(box.br().y)), parts);
}

cv::Mat AsBgr(const cv::Mat& image) {
  if (image.depth() != CV_8U) throw InputError("identity: image must be 8-bit");
  cv::Mat bgr;
  switch (image.channels()) {
    case 3: return image;
    case 4: cv::cvtColor(image, bgr, cv::COLOR_BGRA2BGR); return bgr;
    case 1: cv::cvtColor(image, bgr, cv::COLOR_GRAY2BGR); return bgr;
    default: throw InputError("identity: unsupported image with " + std::to_string(image.channels()) + " channels");
  }
}

dlib::matrix<dlib::rgb_pixel> AsRgbChip(const cv::Mat& chip) {
  cv::Mat bgr = AsBgr(chip);
  if (bgr.rows != kIdentityChipSize || bgr.cols != kIdentityChipSize) {
    cv::resize(bgr, bgr, cv::Size(kIdentityChipSize, kIdentityChipSize), 0, 0, cv::INTER_AREA);
  }
  dlib::matrix<dlib::rgb_pixel> rgb;
  dlib::assign_image(rgb, dlib::cv_image<dlib::bgr_pixel>(bgr));
  return rgb;
}

// Returns the file it read.
std::filesystem::path LoadNetwork(const std::optional<std::filesystem::path>& model, RecognitionNet& net) {
  const std::filesystem::path path = ResolveModelFile(ModelFile::kFaceRecognition, model);
  try {
    dlib::deserialize(path.string()) >> net;
  } catch (const std::exception& e) {
    throw InputError(path, std::string("not dlib's face recognition ResNet (") + e.what() + ")");
  }
  return path;
}

std::vector<float> Copy(const float* begin, size_t count) { return std::vector<float>(begin, begin + count); }

// A visitor for dlib::visit_computational_layers that appends the layers with parameters.
// dlib's parameter tensors (layers.h) are flat: con_ holds its filters (num_filters x k x
// nr x nc) then, unless disabled, one bias per filter; fc_ holds a num_inputs x
// num_outputs matrix (plus a bias row unless FC_NO_BIAS). affine_ is the exception: its
// get_layer_params() is always empty (so that solvers leave the frozen batch norm alone),
// and gamma and beta, one per channel in CONV_MODE, are read with get_gamma/get_beta.
class ParameterExporter {
 public:
  ParameterExporter(const std::filesystem::path& file, std::vector<IdentityNetLayer>& layers)
      : file_(file), layers_(layers) {}

  template <long kFilters, long kRows, long kCols, int kStrideY, int kStrideX, int kPadY, int kPadX>
  void operator()(const dlib::con_<kFilters, kRows, kCols, kStrideY, kStrideX, kPadY, kPadX>& con) const {
    const dlib::tensor& params = con.get_layer_params();
    const long filters = con.num_filters();
    const long biases = con.bias_is_disabled() ? 0 : filters;
    const long per_channel = filters * con.nr() * con.nc();
    if (con.stride_y() != con.stride_x() || con.padding_y() != con.padding_x() ||
        (static_cast<long>(params.size()) - biases) % per_channel != 0) {
      throw InputError(file_, "unexpected convolution layout");
    }
    IdentityNetLayer layer;
    layer.kind = IdentityLayerKind::kConvolution;
    layer.shape = {filters, (static_cast<long>(params.size()) - biases) / per_channel, con.nr(), con.nc()};
    layer.weights = Copy(params.host(), params.size() - biases);
    layer.biases = Copy(params.host() + layer.weights.size(), biases);
    layer.stride = static_cast<int>(con.stride_y());
    layer.padding = static_cast<int>(con.padding_y());
    layers_.push_back(std::move(layer));
  }

  void operator()(const dlib::affine_& affine) const {
    // A disabled affine_ (fused into its convolution by dlib::fuse_layers) holds nothing;
    // the shipped file has none.
    if (affine.is_disabled() || affine.get_mode() != dlib::CONV_MODE) {
      throw InputError(file_, "affine layer is disabled or not per channel");
    }
    // Copies of dlib's alias handles; get() is a view into the layer's own storage.
    const auto gamma_alias = affine.get_gamma();
    const auto beta_alias = affine.get_beta();
    const dlib::tensor& gamma = gamma_alias.get();
    const dlib::tensor& beta = beta_alias.get();
    if (gamma.size() == 0 || beta.size() != gamma.size()) throw InputError(file_, "affine layer without parameters");
    IdentityNetLayer layer;
    layer.kind = IdentityLayerKind::kAffine;
    layer.shape = {static_cast<int64_t>(gamma.size())};
    layer.weights = Copy(gamma.host(), gamma.size());
    layer.biases = Copy(beta.host(), beta.size());
    layers_.push_back(std::move(layer));
  }

  template <unsigned long kOutputs, dlib::fc_bias_mode kBias>
  void operator()(const dlib::fc_<kOutputs, kBias>& fc) const {
    if (!fc.bias_is_disabled() && kBias == dlib::FC_HAS_BIAS) throw InputError(file_, "fc layer with bias");
    const dlib::tensor& params = fc.get_layer_params();
    const auto outputs = static_cast<int64_t>(fc.get_num_outputs());
    IdentityNetLayer layer;
    layer.kind = IdentityLayerKind::kFullyConnected;
    layer.shape = {static_cast<int64_t>(params.size()) / outputs, outputs};
    layer.weights = Copy(params.host(), params.size());
    layers_.push_back(std::move(layer));
  }

  // relu_, max_pool_, avg_pool_, add_prev_: no parameters. Anything else with parameters
  // would be silently lost, so it is refused.
  template <typename Layer>
  void operator()(const Layer& layer) const {
    if (layer.get_layer_params().size() != 0) throw InputError(file_, "a layer with parameters of an unknown kind");
  }

 private:
  const std::filesystem::path& file_;
  std::vector<IdentityNetLayer>& layers_;
};

Descriptor AsDescriptor(const dlib::matrix<float, 0, 1>& m) {
  Descriptor d{};
  for (int i = 0; i < kDescriptorSize; ++i) d[i] = m(i);
  return d;
}

}  // namespace

double Distance(const Descriptor& a, const Descriptor& b) {
  double sum = 0;
  for (int i = 0; i < kDescriptorSize; ++i) {
    const double d = static_cast<double>(a[i]) - b[i];
    sum += d * d;
  }
  return std::sqrt(sum);
}

Descriptor MeanDescriptor(const std::vector<Descriptor>& descriptors) {
  Descriptor mean{};
  if (descriptors.empty()) return mean;
  std::array<double, kDescriptorSize> sum{};
  for (const Descriptor& d : descriptors) {
    for (int i = 0; i < kDescriptorSize; ++i) sum[i] += d[i];
  }
  for (int i = 0; i < kDescriptorSize; ++i) mean[i] = static_cast<float>(sum[i] / static_cast<double>(descriptors.size()));
  return mean;
}

int MatchPerson(const Descriptor& face, const std::vector<Descriptor>& people, double* distance, double threshold) {
  int best = -1;
  double best_distance = 1e9;
  for (size_t i = 0; i < people.size(); ++i) {
    const double d = Distance(face, people[i]);
    if (d < best_distance) {
      best_distance = d;
      best = static_cast<int>(i);
    }
  }
  if (distance) *distance = best_distance;
  return best_distance < threshold ? best : -1;
}

std::vector<int> ClusterPeople(const std::vector<std::vector<Descriptor>>& groups, double threshold) {
  const size_t n = groups.size();
  // Mean pairwise distance between groups i and j, and the faces each cluster holds.
  std::vector<std::vector<double>> mean(n, std::vector<double>(n, 0.0));
  std::vector<double> faces(n);
  for (size_t i = 0; i < n; ++i) {
    faces[i] = static_cast<double>(std::max<size_t>(1, groups[i].size()));
    for (size_t j = i + 1; j < n; ++j) {
      double sum = 0;
      for (const Descriptor& a : groups[i]) {
        for (const Descriptor& b : groups[j]) sum += Distance(a, b);
      }
      const size_t pairs = groups[i].size() * groups[j].size();
      mean[i][j] = mean[j][i] = pairs > 0 ? sum / static_cast<double>(pairs) : 1e9;
    }
  }
  std::vector<int> cluster(n);
  for (size_t i = 0; i < n; ++i) cluster[i] = static_cast<int>(i);
  std::vector<bool> alive(n, true);
  while (true) {
    size_t best_i = 0, best_j = 0;
    double best = threshold;
    for (size_t i = 0; i < n; ++i) {
      if (!alive[i]) continue;
      for (size_t j = i + 1; j < n; ++j) {
        if (alive[j] && mean[i][j] < best) {
          best = mean[i][j];
          best_i = i;
          best_j = j;
        }
      }
    }
    if (best >= threshold) break;
    // Merge j into i; the mean distance to any k is the face-weighted mean of both
    // (Lance and Williams' update for average linkage).
    const double wi = faces[best_i], wj = faces[best_j];
    for (size_t k = 0; k < n; ++k) {
      if (!alive[k] || k == best_i || k == best_j) continue;
      mean[best_i][k] = mean[k][best_i] = (wi * mean[best_i][k] + wj * mean[best_j][k]) / (wi + wj);
    }
    faces[best_i] += wj;
    alive[best_j] = false;
    for (int& c : cluster) {
      if (c == static_cast<int>(best_j)) c = static_cast<int>(best_i);
    }
  }
  // Renumber: most faces first, ties by first appearance.
  std::map<int, std::pair<double, size_t>> size_first;  // root -> (faces, first group)
  for (size_t i = 0; i < n; ++i) {
    auto [it, added] = size_first.try_emplace(cluster[i], 0.0, i);
    it->second.first += static_cast<double>(groups[i].size());
  }
  std::vector<std::pair<int, std::pair<double, size_t>>> order(size_first.begin(), size_first.end());
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second.first != b.second.first ? a.second.first > b.second.first : a.second.second < b.second.second;
  });
  std::map<int, int> rank;
  for (size_t k = 0; k < order.size(); ++k) rank[order[k].first] = static_cast<int>(k);
  std::vector<int> people(n);
  for (size_t i = 0; i < n; ++i) people[i] = rank[cluster[i]];
  return people;
}

cv::Mat IdentityChip(const cv::Mat& image, const Landmarks& points) {
  const cv::Mat bgr = AsBgr(image);
  const dlib::chip_details details = dlib::get_face_chip_details(AsShape(points), kIdentityChipSize, kChipPadding);
  dlib::matrix<dlib::bgr_pixel> chip;
  dlib::extract_image_chip(dlib::cv_image<dlib::bgr_pixel>(bgr), details, chip);
  return dlib::toMat(chip).clone();
}

struct IdentityEncoder::Impl {
  RecognitionNet net;
};

IdentityEncoder::IdentityEncoder(const std::optional<std::filesystem::path>& model) : impl_(std::make_unique<Impl>()) {
  LoadNetwork(model, impl_->net);
}

IdentityEncoder::~IdentityEncoder() = default;
IdentityEncoder::IdentityEncoder(IdentityEncoder&&) noexcept = default;
IdentityEncoder& IdentityEncoder::operator=(IdentityEncoder&&) noexcept = default;

Descriptor IdentityEncoder::Encode(const cv::Mat& image, const Landmarks& points) {
  return EncodeChips({IdentityChip(image, points)}).front();
}

std::vector<Descriptor> IdentityEncoder::EncodeChips(const std::vector<cv::Mat>& chips) {
  std::vector<dlib::matrix<dlib::rgb_pixel>> batch;
  batch.reserve(chips.size());
  for (const cv::Mat& chip : chips) batch.push_back(AsRgbChip(chip));
  std::vector<Descriptor> out;
  out.reserve(chips.size());
  if (batch.empty()) return out;
  for (const auto& m : impl_->net(batch, 16)) out.push_back(AsDescriptor(m));
  return out;
}

IdentityNetwork ExportIdentityNetwork(const std::optional<std::filesystem::path>& model) {
  auto net = std::make_unique<RecognitionNet>();
  const std::filesystem::path path = LoadNetwork(model, *net);
  const auto& input = dlib::input_layer(*net);
  IdentityNetwork network;
  network.rgb_mean = {input.get_avg_red(), input.get_avg_green(), input.get_avg_blue()};
  // dlib visits from the output (layer 0) down to the input.
  dlib::visit_computational_layers(*net, ParameterExporter(path, network.layers));
  std::reverse(network.layers.begin(), network.layers.end());
  return network;
}

}  // namespace faceswap::face
