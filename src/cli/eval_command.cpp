// `faceswap eval`: how good a trained model's swaps are, measured on faces it did not
// train on (eval/evaluate.h lists the metrics).

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "composite_arguments.h"
#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/eval/eval_faces.h"
#include "faceswap/eval/report.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/model/swapper.h"
#include "faceswap/pipeline/exemplars.h"
#include "faceswap/train/face_cache.h"
#include "precision_argument.h"

namespace faceswap::cli {
namespace {

struct EvalArguments {
  eval::EvalFacesOptions faces;
  std::vector<std::filesystem::path> a, b;
  std::vector<std::string> identities;  // NAME=PATH
  std::optional<std::filesystem::path> out, chart;
  bool no_frames = false;
  int batch_size = 16;
  CompositeArguments composite;
  PrecisionArgument precision;  // as convert draws
};

void RunEval(EvalArguments& args, const GlobalOptions& global) {
  eval::EvalFacesOptions& faces_options = args.faces;
  for (const auto& p : args.a) faces_options.inputs["a"].push_back(p);
  for (const auto& p : args.b) faces_options.inputs["b"].push_back(p);
  for (const auto& text : args.identities) {
    const auto [name, path] = train::ParseIdentityArgument(text);
    faces_options.inputs[name].push_back(path);
  }
  faces_options.threads = global.threads;
  if (args.batch_size < 1) throw UsageError("--batch must be >= 1");
  const std::filesystem::path out = args.out.value_or(faces_options.model_dir / "eval.json");
  const std::filesystem::path chart = args.chart.value_or(faces_options.model_dir / "eval.png");

  const model::DeviceKind device = model::ParseDeviceKind(global.device);
  model::Swapper swapper(faces_options.model_dir, device, args.precision.Resolve(device));
  const model::ModelInfo& info = swapper.info();
  if (info.alignment_template != face::AlignmentsFile{}.template_name) {
    throw ModelError(faces_options.model_dir / model::kModelInfoFile,
                     "model was trained on faces aligned with '" + info.alignment_template +
                         "', which this build does not know");
  }
  std::string faces_from;
  const std::vector<eval::IdentityFaces> faces = eval::LoadEvalFaces(info, faces_options, &faces_from);
  for (const auto& identity : faces) spdlog::info("identity {}: {} faces to evaluate on", identity.name, identity.faces.size());

  eval::EvalOptions options;
  options.composite = args.composite.Options();
  swapper.set_masks(options.composite.mask != pipeline::MaskSource::kLandmarks);
  bool exemplars = false;
  {
    // The faces measured and their neighbouring frames lend no detail (exemplars.h).
    pipeline::AvoidedFrames avoid;
    for (const auto& identity : faces) {
      for (const eval::EvalFace& f : identity.faces) avoid[f.source].insert(f.record.frame);
    }
    exemplars = pipeline::UseDetail(swapper, pipeline::ParseDetailMode(args.composite.detail), avoid);
  }
  options.align.size = swapper.resolution();
  options.align.coverage = info.coverage;
  options.detector.landmark_model = faces_options.landmark_model;
  options.frames = !args.no_frames;
  const eval::FaceRenderer render = [&](const std::vector<cv::Mat>& crops, int identity) {
    return swapper.Swap(crops, identity, args.batch_size);
  };
  const eval::EvalReport report = eval::Evaluate(faces, render, options);

  eval::ReportContext context{faces_options.model_dir.string(), info.preset, info.iteration, faces_from};
  const std::string identity_weight = info.RecipeValue("identity_weight");
  context.judge_trained_model = !identity_weight.empty() && std::stod(identity_weight) > 0;
  context.detail = exemplars ? "exemplars" : "none";
  core::WriteFileAtomically(out, eval::ReportJson(report, context).dump(2) + "\n");
  eval::WriteChart(report, chart);
  const std::filesystem::path sheet = chart.parent_path() / (chart.stem().string() + "-occlusion.png");
  eval::WriteOcclusionSheet(report, sheet);
  std::printf("%s at iteration %lld (%s, detail: %s); %s\n%s", faces_options.model_dir.string().c_str(),
              static_cast<long long>(info.iteration), info.preset.c_str(), context.detail.c_str(), faces_from.c_str(),
              eval::FormatTable(report).c_str());
  if (context.judge_trained_model) {
    std::printf("note: this model was trained with the identity loss (--identity-weight %s), whose network is also "
                "eval's judge: the ID columns favour it.\n",
                identity_weight.c_str());
  }
  std::fflush(stdout);
  spdlog::info("report: {}, chart: {}, occluded faces: {} ({:.1f} s)", out.string(), chart.string(), sheet.string(),
               report.seconds);
}

}  // namespace

Command AddEvalCommand(CLI::App& app, const GlobalOptions& global) {
  auto args = std::make_shared<EvalArguments>();
  CLI::App* sub = app.add_subcommand("eval", "Measure how good a trained model's swaps are, on faces it did not train on");
  sub->footer(
      "Without --a/--b, the faces train held out (runs of 4 faces, 1 run in 10) of the folders\n"
      "recorded in MODEL/model.json are used. Named inputs the model trained on give their\n"
      "held-out faces; other inputs give all their faces (clips are extracted into\n"
      "MODEL/eval-cache first). Faces are swapped into their frames as convert does them, with\n"
      "the same compositing options. Writes a table to stdout, JSON (--out) and a chart (--chart).");
  sub->add_option("-m,--model", args->faces.model_dir, "Trained model folder")->required();
  sub->add_option("--a", args->a, "Clips, images, folders or extract folders of person A")->check(CLI::ExistingPath);
  sub->add_option("--b", args->b, "Clips, images, folders or extract folders of person B")->check(CLI::ExistingPath);
  sub->add_option("--identity", args->identities, "NAME=PATH, repeatable: inputs of other identities");
  sub->add_option("--out", args->out, "JSON report (default: MODEL/eval.json)");
  sub->add_option("--chart", args->chart, "PNG chart (default: MODEL/eval.png)");
  sub->add_option("--max-faces", args->faces.max_faces, "Faces per identity at most, as whole runs (0: all)")
      ->capture_default_str();
  sub->add_option("--face-select", args->faces.face_select, "Faces taken from inputs extracted here: all | largest | ref:IMAGE")
      ->capture_default_str();
  sub->add_option("--landmarks", args->faces.landmark_model, "68-point landmark model");
  sub->add_flag("--no-frames", args->no_frames,
                "Skip the metrics that re-read the source clips (landmarks, temporal, seam)");
  sub->add_option("--batch", args->batch_size, "Faces per network call")->capture_default_str();
  args->composite.AddTo(sub);
  args->precision.AddTo(sub);
  return {sub, [args, &global] { RunEval(*args, global); }};
}

}  // namespace faceswap::cli
