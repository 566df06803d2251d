#include "faceswap/eval/report.h"

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <cstdio>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"

namespace faceswap::eval {
namespace {

std::string Number(double value, const char* format) {
  if (!std::isfinite(value)) return "-";
  char text[32];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

nlohmann::json JsonNumber(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

// Finest band first.
nlohmann::json DetailBandsJson(const DirectionReport& d) {
  nlohmann::json bands = nlohmann::json::array();
  for (double b : d.detail_bands) bands.push_back(JsonNumber(b));
  return bands;
}

struct Metric {
  const char* name;
  double DirectionReport::*value;
  double best;   // the ideal value, drawn as a line
  double scale;  // the panel's full height
};

}  // namespace

std::string FormatTable(const EvalReport& report) {
  std::string out;
  char line[320];
  std::snprintf(line, sizeof line, "%-16s %5s %7s %6s %6s %7s %7s %11s %7s %6s %9s %7s %8s %6s %6s %6s %6s\n",
                "direction", "faces", "PSNR dB", "SSIM", "detail", "ID->tgt", "->src", "dist t / s", "real id", "pose",
                "landmarks", "lm p90", "temporal", "seam", "sharp", "occ IoU", "occ dB");
  out += line;
  for (const DirectionReport& d : report.directions) {
    const std::string direction = d.source + " -> " + d.target;
    const std::string distances = Number(d.target_distance, "%.3f") + " / " + Number(d.source_distance, "%.3f");
    std::snprintf(line, sizeof line, "%-16s %5d %7s %6s %6s %7s %7s %11s %7s %6s %9s %7s %8s %6s %6s %6s %6s\n",
                  direction.c_str(), d.faces, Number(d.psnr, "%.2f").c_str(), Number(d.ssim, "%.3f").c_str(),
                  Number(d.detail, "%.3f").c_str(), Number(d.target_share, "%.2f").c_str(),
                  Number(d.source_share, "%.2f").c_str(), distances.c_str(), Number(d.real_accuracy, "%.2f").c_str(),
                  Number(d.pose_error, "%.2f").c_str(), Number(d.landmark_error, "%.4f").c_str(),
                  Number(d.landmark_error_p90, "%.4f").c_str(), Number(d.temporal_ratio, "%.3f").c_str(),
                  Number(d.seam, "%.3f").c_str(), Number(d.sharpness, "%.3f").c_str(),
                  Number(d.occlusion_iou, "%.3f").c_str(), Number(d.occluder_psnr, "%.1f").c_str());
    out += line;
  }
  out +=
      "PSNR/SSIM: source redrawn by its own decoder (higher is better); detail: its fine detail against the real\n"
      "crop at full size (1: the real detail, 0.5: none, lower: detail that is not there, such as noise). ID->tgt / ->src: share of swapped faces whose\n"
      "nearest real face is the target's (higher is better) / the source's (lower is better), judged by dlib's\n"
      "face-recognition network, which did not train the model; dist t / s: their mean descriptor distance to the\n"
      "target's / source's real faces (same person below 0.6); real id: the judge's retrieval of real faces.\n"
      "pose: head pose change in degrees (mean of pitch, yaw, roll); landmarks: mean landmark error / outer-eye\n"
      "distance, swapped vs original frame (0 is best). temporal: frame-to-frame change of the face, swapped /\n"
      "original (1.0: no added flicker). seam: gradient on the blend border, swapped / original (1.0: no edge).\n"
      "sharp: variance of the Laplacian inside the face, swapped / original (1.0: as sharp as the source).\n"
      "occ IoU / occ dB: held-out faces with synthetic occluders: the model's mask's IoU with the visible face\n"
      "(1 is best; - with --mask landmarks), and the PSNR of the occluder's pixels after the swap (high: kept).\n";
  std::string hull_line;
  for (const DirectionReport& d : report.directions) {
    if (std::isnan(d.occlusion_iou)) continue;
    hull_line += (hull_line.empty() ? "" : ", ") + d.source + " -> " + d.target + " " + Number(d.occlusion_hull_iou, "%.3f");
  }
  if (!hull_line.empty()) out += "The landmark hull alone, without the model's mask, scores occ IoU " + hull_line + ".\n";
  return out;
}

nlohmann::json ReportJson(const EvalReport& report, const ReportContext& context) {
  nlohmann::json directions = nlohmann::json::array();
  for (const DirectionReport& d : report.directions) {
    directions.push_back({
        {"source", d.source},
        {"target", d.target},
        {"faces", d.faces},
        {"reconstruction",
         {{"psnr_db", JsonNumber(d.psnr)},
          {"ssim", JsonNumber(d.ssim)},
          {"detail_fidelity", JsonNumber(d.detail)},
          {"detail_fidelity_bands", DetailBandsJson(d)}}},
        {"identity",
         {{"target_share", JsonNumber(d.target_share)},
          {"source_share", JsonNumber(d.source_share)},
          {"distance_to_target", JsonNumber(d.target_distance)},
          {"distance_to_source", JsonNumber(d.source_distance)},
          {"judge_accuracy_on_real_faces", JsonNumber(d.real_accuracy)}}},
        {"pose",
         {{"frames", d.frames},
          {"mean_error_degrees", JsonNumber(d.pose_error)},
          {"pitch_error_degrees", JsonNumber(d.pitch_error)},
          {"yaw_error_degrees", JsonNumber(d.yaw_error)},
          {"roll_error_degrees", JsonNumber(d.roll_error)}}},
        {"landmarks", {{"frames", d.frames}, {"mean_error", JsonNumber(d.landmark_error)},
                       {"p90_error", JsonNumber(d.landmark_error_p90)}}},
        {"temporal", {{"pairs", d.pairs}, {"ratio", JsonNumber(d.temporal_ratio)}}},
        {"seam", JsonNumber(d.seam)},
        {"sharpness", JsonNumber(d.sharpness)},
        {"occlusion",
         {{"mask_iou", JsonNumber(d.occlusion_iou)},
          {"hull_iou", JsonNumber(d.occlusion_hull_iou)},
          {"occluder_psnr_db", JsonNumber(d.occluder_psnr)}}},
    });
  }
  return {
      {"model", context.model},
      {"preset", context.preset},
      {"iteration", context.iteration},
      {"faces_from", context.faces_from},
      {"detail", context.detail},
      {"judge", std::string("dlib_face_recognition_resnet_model_v1 (ID retrieval by nearest real face, the probe's "
                            "own run left out); ") +
                    (context.judge_trained_model
                         ? "WARNING: the model was trained with this network as its identity loss, so the identity "
                           "columns favour it; judge its swaps by the other columns and by eye"
                         : "not used in training")},
      {"directions", directions},
      {"seconds", report.seconds},
  };
}

void WriteChart(const EvalReport& report, const std::filesystem::path& png) {
  const Metric metrics[] = {
      {"SSIM", &DirectionReport::ssim, 1.0, 1.0},
      {"detail fidelity", &DirectionReport::detail, 1.0, 1.0},
      {"ID -> target", &DirectionReport::target_share, 1.0, 1.0},
      {"dist. to target", &DirectionReport::target_distance, 0.0, 1.0},
      {"pose error (deg)", &DirectionReport::pose_error, 0.0, 10.0},
      {"landmark error", &DirectionReport::landmark_error, 0.0, 0.2},
      {"temporal", &DirectionReport::temporal_ratio, 1.0, 2.0},
      {"seam", &DirectionReport::seam, 1.0, 2.0},
      {"sharpness", &DirectionReport::sharpness, 1.0, 2.0},
      {"occlusion IoU", &DirectionReport::occlusion_iou, 1.0, 1.0},
  };
  const cv::Scalar colours[] = {{200, 120, 40}, {40, 140, 230}, {60, 170, 60}, {160, 60, 160}};
  const int panel_w = 130, panel_h = 170, top = 34, bottom = 40;
  const int n = static_cast<int>(std::size(metrics));
  cv::Mat chart(top + panel_h + bottom + 24, n * panel_w + 20, CV_8UC3, cv::Scalar(255, 255, 255));
  const auto font = cv::FONT_HERSHEY_SIMPLEX;
  for (int m = 0; m < n; ++m) {
    const Metric& metric = metrics[m];
    const int x0 = 10 + m * panel_w;
    const int y_base = top + panel_h;
    cv::putText(chart, metric.name, {x0 + 6, top - 12}, font, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
    cv::line(chart, {x0 + 4, y_base}, {x0 + panel_w - 8, y_base}, {0, 0, 0}, 1);
    const int bars = static_cast<int>(report.directions.size());
    const int bar_w = std::max(8, (panel_w - 24) / std::max(1, bars));
    for (int b = 0; b < bars; ++b) {
      const double v = report.directions[b].*metric.value;
      const int x = x0 + 10 + b * bar_w;
      if (std::isfinite(v)) {
        const int h = static_cast<int>(std::lround(std::clamp(v / metric.scale, 0.0, 1.0) * panel_h));
        cv::rectangle(chart, {x, y_base - h}, {x + bar_w - 4, y_base}, colours[b % 4], cv::FILLED);
        cv::putText(chart, Number(v, "%.2f"), {x, y_base - h - 3}, font, 0.35, {0, 0, 0}, 1, cv::LINE_AA);
      }
    }
    const int best_y = y_base - static_cast<int>(std::lround(std::clamp(metric.best / metric.scale, 0.0, 1.0) * panel_h));
    cv::line(chart, {x0 + 4, best_y}, {x0 + panel_w - 8, best_y}, {0, 0, 200}, 1, cv::LINE_AA);
  }
  for (size_t b = 0; b < report.directions.size(); ++b) {
    const int x = 14 + static_cast<int>(b) * 160;
    const int y = top + panel_h + bottom;
    cv::rectangle(chart, {x, y - 10}, {x + 12, y}, colours[b % 4], cv::FILLED);
    cv::putText(chart, report.directions[b].source + " -> " + report.directions[b].target, {x + 18, y}, font, 0.45,
                {0, 0, 0}, 1, cv::LINE_AA);
  }
  cv::putText(chart, "red line: ideal", {chart.cols - 130, top + panel_h + bottom}, font, 0.4, {0, 0, 200}, 1,
              cv::LINE_AA);
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", chart, bytes)) throw OutputError(png, "cannot encode the chart");
  core::WriteFileAtomically(png, std::string(bytes.begin(), bytes.end()));
}

void WriteOcclusionSheet(const EvalReport& report, const std::filesystem::path& png) {
  std::vector<cv::Mat> parts;
  for (const DirectionReport& d : report.directions) {
    if (d.occlusion_sheet.empty()) continue;
    cv::Mat title(28, d.occlusion_sheet.cols, CV_8UC3, cv::Scalar(255, 255, 255));
    cv::putText(title, d.source + " -> " + d.target + ": occluded, mask, swapped", {6, 19}, cv::FONT_HERSHEY_SIMPLEX,
                0.5, {0, 0, 0}, 1, cv::LINE_AA);
    parts.push_back(title);
    parts.push_back(d.occlusion_sheet);
  }
  if (parts.empty()) return;
  cv::Mat sheet;
  cv::vconcat(parts, sheet);
  std::vector<uchar> bytes;
  if (!cv::imencode(".png", sheet, bytes)) throw OutputError(png, "cannot encode the occlusion sheet");
  core::WriteFileAtomically(png, std::string(bytes.begin(), bytes.end()));
}

}  // namespace faceswap::eval
