#pragma once
// The pictures of a training run's history: loss.png shows the loss per identity (loss.csv)
// and, under it, the held-out swaps' distance to the target person and their sharpness
// (quality.csv, quality_watch.h). LibTorch-free.

#include <opencv2/core.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace faceswap::train {

struct QualityPoint;

// Rows of loss.csv: one loss per identity per step.
std::vector<std::vector<double>> ReadLossHistory(const std::filesystem::path& csv, size_t identities);

// One line per identity, newest step at the right.
cv::Mat LossChart(const std::vector<std::vector<double>>& history, const std::vector<std::string>& names);

// Two panels, one line per direction over the iterations: distance to the target person
// (a dashed line at face::kSameAsMeanDistance) and sharpness (a dashed line at 1.0).
cv::Mat QualityChart(const std::vector<QualityPoint>& history, const std::vector<std::string>& directions);

}  // namespace faceswap::train
