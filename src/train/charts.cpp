#include "faceswap/train/charts.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>

#include "faceswap/core/csv_log.h"
#include "faceswap/face/identity.h"
#include "faceswap/train/quality_watch.h"

namespace faceswap::train {
namespace {

const cv::Scalar kColours[] = {{200, 80, 30}, {30, 120, 220}, {60, 170, 60}, {150, 50, 150}};
constexpr int kMargin = 30;

// x in [x0, x1] and y in [y0, y1] to the panel's plotting area.
struct Axes {
  double x0, x1, y0, y1;
  int width, height;
  cv::Point At(double x, double y) const {
    const double fx = x1 > x0 ? (x - x0) / (x1 - x0) : 0.0;
    const double fy = y1 > y0 ? (std::clamp(y, y0, y1) - y0) / (y1 - y0) : 0.0;
    return {cvRound(kMargin + fx * (width - 2 * kMargin)), cvRound(height - kMargin - fy * (height - 2 * kMargin))};
  }
};

void Frame(cv::Mat& panel, const std::string& title, const Axes& axes) {
  cv::rectangle(panel, cv::Point(kMargin, kMargin), cv::Point(panel.cols - kMargin, panel.rows - kMargin),
                cv::Scalar(0, 0, 0));
  cv::putText(panel, title, cv::Point(kMargin, 18), cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  char low[32], high[32];
  std::snprintf(low, sizeof low, "%.2f", axes.y0);
  std::snprintf(high, sizeof high, "%.2f", axes.y1);
  cv::putText(panel, high, cv::Point(2, kMargin + 4), cv::FONT_HERSHEY_SIMPLEX, 0.3, cv::Scalar(0, 0, 0), 1);
  cv::putText(panel, low, cv::Point(2, panel.rows - kMargin), cv::FONT_HERSHEY_SIMPLEX, 0.3, cv::Scalar(0, 0, 0), 1);
}

void Dashed(cv::Mat& panel, const Axes& axes, double y) {
  const cv::Point a = axes.At(axes.x0, y), b = axes.At(axes.x1, y);
  for (int x = a.x; x < b.x; x += 8) cv::line(panel, {x, a.y}, {std::min(x + 4, b.x), a.y}, cv::Scalar(0, 0, 200), 1);
}

}  // namespace

std::vector<std::vector<double>> ReadLossHistory(const std::filesystem::path& csv, size_t identities) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    // iteration, one loss per identity, samples per second; a line cut off by a kill is skipped
    const auto cells = core::ParseCsvNumbers(line);
    if (!cells || cells->size() < identities + 1) continue;
    rows.emplace_back(cells->begin() + 1, cells->begin() + 1 + static_cast<std::ptrdiff_t>(identities));
  }
  return rows;
}

cv::Mat LossChart(const std::vector<std::vector<double>>& history, const std::vector<std::string>& names) {
  cv::Mat plot(320, 640, CV_8UC3, cv::Scalar(255, 255, 255));
  double top = 0;
  for (const auto& row : history) {
    for (double v : row) top = std::max(top, v);
  }
  const Axes axes{0.0, static_cast<double>(std::max<size_t>(1, history.size() - (history.empty() ? 0 : 1))), 0.0,
                  std::max(top, 1e-9), plot.cols, plot.rows};
  Frame(plot, "loss per step", axes);
  for (size_t id = 0; id < names.size(); ++id) {
    std::vector<cv::Point> line;
    for (size_t i = 0; i < history.size(); ++i) line.push_back(axes.At(static_cast<double>(i), history[i][id]));
    cv::polylines(plot, line, false, kColours[id % 4], 1, cv::LINE_AA);
    cv::putText(plot, names[id], cv::Point(kMargin + 140 + 80 * static_cast<int>(id), 18), cv::FONT_HERSHEY_SIMPLEX,
                0.45, kColours[id % 4], 1, cv::LINE_AA);
  }
  return plot;
}

cv::Mat QualityChart(const std::vector<QualityPoint>& history, const std::vector<std::string>& directions) {
  cv::Mat distance(240, 320, CV_8UC3, cv::Scalar(255, 255, 255)), sharpness = distance.clone();
  const double first = history.empty() ? 0.0 : static_cast<double>(history.front().iteration);
  const double last = history.empty() ? 1.0 : static_cast<double>(history.back().iteration);
  double top = 1.2;
  for (const QualityPoint& p : history) {
    for (double s : p.sharpness) top = std::max(top, s);
  }
  const Axes distance_axes{first, last, 0.0, 1.0, distance.cols, distance.rows};
  const Axes sharpness_axes{first, last, 0.0, top, sharpness.cols, sharpness.rows};
  Frame(distance, "held-out swaps: distance to target", distance_axes);
  Frame(sharpness, "held-out swaps: sharpness / input", sharpness_axes);
  Dashed(distance, distance_axes, face::kSameAsMeanDistance);
  Dashed(sharpness, sharpness_axes, 1.0);
  for (size_t d = 0; d < directions.size(); ++d) {
    std::vector<cv::Point> a, b;
    for (const QualityPoint& p : history) {
      if (d >= p.distance.size()) continue;
      a.push_back(distance_axes.At(static_cast<double>(p.iteration), p.distance[d]));
      b.push_back(sharpness_axes.At(static_cast<double>(p.iteration), p.sharpness[d]));
    }
    for (auto* panel : {&distance, &sharpness}) {
      const auto& line = panel == &distance ? a : b;
      if (line.size() == 1) cv::circle(*panel, line.front(), 2, kColours[d % 4], cv::FILLED);
      cv::polylines(*panel, line, false, kColours[d % 4], 1, cv::LINE_AA);
      cv::putText(*panel, directions[d], cv::Point(kMargin + 4, kMargin + 16 + 16 * static_cast<int>(d)),
                  cv::FONT_HERSHEY_SIMPLEX, 0.4, kColours[d % 4], 1, cv::LINE_AA);
    }
  }
  cv::Mat both;
  cv::hconcat(distance, sharpness, both);
  return both;
}

}  // namespace faceswap::train
