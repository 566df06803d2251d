#pragma once
// The eval report in three forms: a table for the terminal, JSON for scripts, and a small
// PNG bar chart.

#include <nlohmann/json_fwd.hpp>

#include <filesystem>
#include <string>

#include "faceswap/eval/evaluate.h"

namespace faceswap::eval {

// What the report is about, written beside the numbers.
struct ReportContext {
  std::string model;           // model folder
  std::string preset;
  int64_t iteration = 0;
  std::string faces_from;      // e.g. "held-out faces (runs of 4 faces, 1 run in 10)"
  bool judge_trained_model = false;  // the model was trained with the judge's network as a loss
  std::string detail = "none";       // how the drawn face reached the crop's side: "exemplars" or "none"
};

std::string FormatTable(const EvalReport& report);
nlohmann::json ReportJson(const EvalReport& report, const ReportContext& context);
// One panel per metric, one bar per direction. Written atomically; OutputError.
void WriteChart(const EvalReport& report, const std::filesystem::path& png);
// The directions' occlusion sheets one under the other, each under its "a -> b" title:
// occluded face, learned mask, swapped result.
void WriteOcclusionSheet(const EvalReport& report, const std::filesystem::path& png);

}  // namespace faceswap::eval
