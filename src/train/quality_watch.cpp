#include "faceswap/train/quality_watch.h"

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <fstream>

#include "faceswap/core/csv_log.h"
#include "faceswap/core/error.h"
#include "faceswap/core/sharpness.h"
#include "faceswap/face/model_files.h"
#include "faceswap/model/tensor_image.h"

namespace fs = std::filesystem;

namespace faceswap::train {

QualityWatch::QualityWatch(const std::vector<FaceSet>& faces, const fs::path& csv) : faces_(faces), csv_(csv) {
  for (size_t i = 0; i < faces.size(); ++i) {
    directions_.push_back(faces[i].identity + "->" + faces[(i + 1) % faces.size()].identity);
  }
  for (const FaceSet& set : faces) {
    if (!set.descriptor || set.watched.empty()) return;  // nothing to watch with
    means_.push_back(*set.descriptor);
  }
  const face::ModelFileStatus network = face::CheckModelFile(face::ModelFile::kFaceRecognition);
  if (!network.problem.empty()) return;
  encoder_.emplace(network.path);
  core::TrimPartialLine(csv_);  // a run killed while appending
  if (!fs::exists(csv_)) {
    std::ofstream out(csv_);
    if (!out) throw OutputError(csv_, "cannot write the quality history");
    out << "iteration";
    for (const std::string& d : directions_) out << ",distance_" << d << ",target_" << d << ",sharpness_" << d;
    out << "\n";
  }
}

QualityPoint QualityWatch::Measure(model::FaceAutoencoder& net, int64_t iteration) {
  QualityPoint point;
  point.iteration = iteration;
  if (!enabled()) return point;
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const int side = net->current_resolution();
  const auto device = net->parameters().front().device();
  for (size_t i = 0; i < faces_.size(); ++i) {
    const int target = static_cast<int>((i + 1) % faces_.size());
    const std::vector<FaceSample>& watched = faces_[i].watched;
    std::vector<cv::Mat> crops;
    for (const FaceSample& f : watched) crops.push_back(f.crop);
    const torch::Tensor drawn = net->Forward(model::ImagesToTensor(crops, net->input_resolution()).to(device), target).rgb.to(torch::kCPU);
    std::vector<cv::Mat> chips;
    double sharpness = 0;
    for (size_t k = 0; k < watched.size(); ++k) {
      const cv::Mat swapped = model::TensorToImage(drawn, static_cast<int>(k));
      cv::Mat original;
      cv::resize(watched[k].crop, original, swapped.size(), 0, 0, cv::INTER_AREA);
      sharpness += core::LaplacianVariance(swapped) / std::max(1e-9, core::LaplacianVariance(original));
      // The landmarks in the swapped face's pixels: it is the crop, redrawn at `side`.
      face::Landmarks points = watched[k].points;
      const float scale = static_cast<float>(side) / static_cast<float>(watched[k].crop.cols);
      for (cv::Point2f& p : points) p *= scale;
      chips.push_back(face::IdentityChip(swapped, points));
    }
    double distance = 0, as_target = 0;
    for (const face::Descriptor& d : encoder_->EncodeChips(chips)) {
      distance += face::Distance(d, means_[static_cast<size_t>(target)]);
      as_target += face::MatchPerson(d, means_) == target ? 1 : 0;
    }
    const double n = static_cast<double>(watched.size());
    point.distance.push_back(distance / n);
    point.target.push_back(as_target / n);
    point.sharpness.push_back(sharpness / n);
  }
  if (was_training) net->train();

  std::ofstream out(csv_, std::ios::app);
  out << iteration;
  for (size_t d = 0; d < point.distance.size(); ++d) {
    out << "," << point.distance[d] << "," << point.target[d] << "," << point.sharpness[d];
  }
  out << "\n";
  if (!out) throw OutputError(csv_, "cannot write the quality history");
  std::string line;
  for (size_t d = 0; d < directions_.size(); ++d) {
    line += fmt::format("{}{} distance {:.3f}, as target {:.2f}, sharpness {:.2f}", d ? "; " : "", directions_[d],
                        point.distance[d], point.target[d], point.sharpness[d]);
  }
  spdlog::debug("iteration {} held-out swaps: {}", iteration, line);
  return point;
}

std::vector<QualityPoint> QualityWatch::History() const {
  std::vector<QualityPoint> rows;
  std::ifstream in(csv_);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    const auto cells = core::ParseCsvNumbers(line);  // a line cut off by a kill is skipped
    if (!cells || cells->size() != 1 + 3 * directions_.size()) continue;
    QualityPoint p;
    p.iteration = static_cast<int64_t>((*cells)[0]);
    const std::vector<double> values(cells->begin() + 1, cells->end());
    for (size_t d = 0; d < directions_.size(); ++d) {
      p.distance.push_back(values[3 * d]);
      p.target.push_back(values[3 * d + 1]);
      p.sharpness.push_back(values[3 * d + 2]);
    }
    rows.push_back(std::move(p));
  }
  return rows;
}

}  // namespace faceswap::train
