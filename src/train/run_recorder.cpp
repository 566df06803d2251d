#include "run_recorder.h"

#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>

#include "faceswap/core/csv_log.h"
#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/train/charts.h"

namespace fs = std::filesystem;

namespace faceswap::train {
namespace {

void WritePng(const fs::path& path, const cv::Mat& image) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw OutputError(path, "cannot encode PNG");
  core::WriteFileAtomically(path, std::string(png.begin(), png.end()));
}

}  // namespace

RunRecorder::RunRecorder(const fs::path& model_dir, const std::vector<FaceSet>& faces, bool writer,
                         int64_t run_total)
    : model_dir_(model_dir), csv_path_(model_dir / "loss.csv"), writer_(writer), progress_("train", run_total, "it") {
  for (const FaceSet& set : faces) names_.push_back(set.identity);
  if (!writer_) return;
  core::TrimPartialLine(csv_path_);  // a run killed while appending
  const bool new_csv = !fs::exists(csv_path_);
  csv_.open(csv_path_, std::ios::app);
  if (!csv_) throw OutputError(csv_path_, "cannot write loss history");
  if (new_csv) {
    csv_ << "iteration";
    for (const auto& n : names_) csv_ << ",loss_" << n;
    csv_ << ",samples_per_second\n";
  }
  core::EnsureDirectory(model_dir_ / "previews");
  watch_.emplace(faces, model_dir_ / "quality.csv");
}

void RunRecorder::Record(int64_t iteration, const std::vector<double>& losses, double faces_per_second) {
  if (first_loss_.empty()) first_loss_ = losses;
  recent_.push_back(losses);
  if (recent_.size() > kRecentSteps) recent_.pop_front();
  if (!writer_) return;
  csv_ << iteration;
  for (double l : losses) csv_ << "," << l;
  csv_ << "," << faces_per_second << "\n";
  csv_.flush();  // the history is readable while training runs (plots, scripts, tests)
  std::string status;
  for (size_t i = 0; i < losses.size(); ++i) status += fmt::format("{} {:.4f} ", names_[i], losses[i]);
  progress_.SetStatus(status + fmt::format("| {:.1f} faces/s", faces_per_second));
  progress_.Advance();
}

void RunRecorder::MeasureQuality(model::FaceAutoencoder& drawing, int64_t iteration) {
  if (writer_ && watch_->enabled()) watch_->Measure(drawing, iteration);
}

void RunRecorder::WritePreview(int64_t iteration, const cv::Mat& grid) {
  if (!writer_) return;
  char name[64];
  std::snprintf(name, sizeof name, "preview-%08lld.png", static_cast<long long>(iteration));
  WritePng(model_dir_ / "previews" / name, grid);
  WritePng(model_dir_ / "preview.png", grid);
  cv::Mat chart = LossChart(ReadLossHistory(csv_path_, names_.size()), names_);
  if (watch_->enabled()) cv::vconcat(chart, QualityChart(watch_->History(), watch_->directions()), chart);
  WritePng(model_dir_ / "loss.png", chart);
}

void RunRecorder::Finish() {
  progress_.Finish();
  if (writer_) csv_.flush();
}

std::vector<double> RunRecorder::RecentLoss() const {
  if (recent_.empty()) return {};
  std::vector<double> mean(recent_.front().size(), 0.0);
  for (const auto& row : recent_) {
    for (size_t i = 0; i < row.size(); ++i) mean[i] += row[i] / static_cast<double>(recent_.size());
  }
  return mean;
}

}  // namespace faceswap::train
