#pragma once
// What a training run writes besides its checkpoints, on rank 0 only: a line of loss.csv
// and of the progress display per step; at each save the quality watch's row
// (quality.csv); and when a preview is due, the preview image with loss.png (the loss and
// quality charts). Every rank keeps its first and last losses for the run's report.
// Includes LibTorch (through the quality watch): train only.

#include <opencv2/core.hpp>

#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/core/progress.h"
#include "faceswap/train/quality_watch.h"

namespace faceswap::train {

class RunRecorder {
 public:
  // `writer`: this rank writes the model folder's files. `run_total`: steps this run is to
  // take (0: until stopped), for the progress display. `faces` must outlive the recorder.
  RunRecorder(const std::filesystem::path& model_dir, const std::vector<FaceSet>& faces, bool writer,
              int64_t run_total);

  // One step's losses (one per identity) at `iteration`, and the run's speed so far.
  void Record(int64_t iteration, const std::vector<double>& losses, double faces_per_second);
  // After a save: the quality watch measures `drawing` (when the judge network is there).
  void MeasureQuality(model::FaceAutoencoder& drawing, int64_t iteration);
  // A preview grid of `iteration`: previews/preview-NNNNNNNN.png, preview.png, loss.png.
  void WritePreview(int64_t iteration, const cv::Mat& grid);
  // Ends the progress display; loss.csv is complete on disk.
  void Finish();

  const std::vector<double>& first_loss() const { return first_loss_; }
  // Per identity, the mean of the last kRecentSteps steps' losses (empty before a step).
  std::vector<double> RecentLoss() const;

 private:
  static constexpr size_t kRecentSteps = 20;

  std::filesystem::path model_dir_, csv_path_;
  std::vector<std::string> names_;
  bool writer_;
  std::ofstream csv_;
  std::optional<QualityWatch> watch_;
  core::Progress progress_;
  std::vector<double> first_loss_;
  std::deque<std::vector<double>> recent_;
};

}  // namespace faceswap::train
