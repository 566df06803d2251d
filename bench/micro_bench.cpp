// Microbenchmarks of the per-frame hot spots of extract and convert, each next to a
// reference: a plain library call doing work of the same size, measured in the same run.
// Inputs are real: the first frame of the shared clip person_a.mp4 where a face is found.
//
// Usage: micro_bench [--markdown FILE] [Google Benchmark flags]
//   micro_bench --benchmark_filter='Blend|Color' --benchmark_min_time=0.2
//   micro_bench --markdown bench.md   also writes | benchmark | time | reference | ratio |
//     (with --benchmark_repetitions=N, each time is the median of the N repetitions)
// Sample media: $FACESWAP_SAMPLES, else ../shared/data beside the source tree; without it
// micro_bench says so and exits 1. LibTorch runs on all cores (model::SetCpuThreads(0)).
// scripts/bench.sh runs it with a short --benchmark_min_time.

#include <benchmark/benchmark.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <unistd.h>
#include <utility>
#include <vector>

#include "faceswap/blend/blend.h"
#include "faceswap/blend/color.h"
#include "faceswap/blend/mask.h"
#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/log.h"
#include "faceswap/face/align.h"
#include "faceswap/face/detector.h"
#include "faceswap/face/model_files.h"
#include "faceswap/model/device.h"
#include "faceswap/pipeline/composite.h"
#include "faceswap/video/reader.h"
#include "model_bench.h"
#include "plain_dlib.h"
#include "reference_table.h"

namespace fs = std::filesystem;
using namespace faceswap;

namespace {

constexpr const char* kClip = "clips/person_a.mp4";
constexpr int kFramesToSearch = 60;

// The shared sample clip, or InputError saying where it was looked for.
fs::path FindClip() {
  const char* env = std::getenv("FACESWAP_SAMPLES");
  const fs::path samples = env && *env ? fs::path(env) : fs::path(FACESWAP_SOURCE_DIR) / ".." / "shared" / "data";
  const fs::path clip = samples / kClip;
  if (!fs::exists(clip)) {
    throw InputError("sample clip not found: " + clip.lexically_normal().string() +
                     " (set FACESWAP_SAMPLES to the shared sample media folder)");
  }
  return clip;
}

struct Sample {
  cv::Mat frame;
  int64_t index = 0;
  face::Face face;  // the largest face, with landmarks
};

Sample FirstFrameWithFace(const fs::path& clip, face::Detector& detector) {
  video::Reader reader(clip);
  video::Frame frame;
  while (frame.index + 1 < kFramesToSearch && reader.Next(frame)) {
    const std::vector<face::Face> faces = detector.Detect(frame.bgr);
    if (!faces.empty()) return {frame.bgr.clone(), frame.index, faces.front()};
  }
  throw InputError(clip, "no face found in the first " + std::to_string(kFramesToSearch) + " frames");
}

std::vector<cv::Point2f> Shifted(const face::Landmarks& points, cv::Point2f origin) {
  std::vector<cv::Point2f> out;
  for (const cv::Point2f& p : points) out.push_back(p - origin);
  return out;
}

// A stand-in for a generated face: the crop with its colours shifted, so colour transfer
// and blending have a real difference to remove.
cv::Mat Recoloured(const cv::Mat& crop) {
  cv::Mat out;
  crop.convertTo(out, -1, 0.85, 25.0);
  return out;
}

// Registers `body` as a benchmark timed on wall clock (LibTorch and OpenCV use threads).
// One untimed call first: with a short --benchmark_min_time a slow benchmark runs only
// once or twice, and first-call costs (buffers, OpenCV's thread pool) are not per frame.
template <typename Body>
void Add(const std::string& name, Body body) {
  benchmark::RegisterBenchmark(name.c_str(), [body, warmed = false](benchmark::State& state) mutable {
    if (!warmed) body();
    warmed = true;
    for (auto _ : state) body();
  })->UseRealTime()->Unit(benchmark::kMicrosecond);
}

// Everything the benchmarks read; built once in main, alive while they run.
struct Inputs {
  Sample sample;
  face::AlignedFace aligned256;
  cv::Mat crop_mask256;  // landmark hull in the 256 crop (colour statistics region)
  cv::Mat generated256;  // Recoloured(aligned256.crop)
  // Blending, on the face-sized region CompositeFace would rewrite.
  cv::Rect roi;
  cv::Mat frame_roi, face_roi, mask_roi, inverse_mask_roi;
  std::vector<cv::Point2f> roi_points;
  blend::MaskOptions mask_options;
  int levels = 1;
};

Inputs MakeInputs(Sample sample) {
  Inputs in;
  in.sample = std::move(sample);
  const cv::Mat& frame = in.sample.frame;
  const face::Landmarks& points = in.sample.face.points;
  in.aligned256 = face::Align(frame, points, face::AlignOptions{});
  const std::vector<cv::Point2f> crop_points(in.aligned256.crop_points.begin(), in.aligned256.crop_points.end());
  in.crop_mask256 = blend::HullMask(crop_points, in.aligned256.crop.size(), {});
  in.generated256 = Recoloured(in.aligned256.crop);

  // The region, mask and levels as pipeline::CompositeFace picks them with its defaults.
  const pipeline::CompositeOptions defaults;
  const cv::Rect2f hull = face::LandmarkBounds(points);
  const int face_width = std::max(8, static_cast<int>(hull.width));
  in.levels = blend::LevelsForFaceSize(face_width);
  const int reach = (1 << (in.levels + 1)) + static_cast<int>(std::ceil(defaults.mask_feather * face_width)) + 2;
  in.roi = cv::Rect(static_cast<int>(hull.x) - reach, static_cast<int>(hull.y) - reach,
                    static_cast<int>(hull.width) + 2 * reach, static_cast<int>(hull.height) + 2 * reach) &
           cv::Rect(0, 0, frame.cols, frame.rows);
  in.frame_roi = frame(in.roi).clone();
  cv::Matx23d to_roi = in.aligned256.to_frame;
  to_roi(0, 2) -= in.roi.x;
  to_roi(1, 2) -= in.roi.y;
  cv::warpAffine(in.generated256, in.face_roi, to_roi, in.roi.size(), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
  in.roi_points = Shifted(points, cv::Point2f(static_cast<float>(in.roi.x), static_cast<float>(in.roi.y)));
  in.mask_options.erode = static_cast<int>(std::lround(defaults.mask_erode * face_width));
  in.mask_options.feather = static_cast<int>(std::lround(defaults.mask_feather * face_width));
  in.mask_roi = blend::HullMask(in.roi_points, in.roi.size(), in.mask_options);
  in.inverse_mask_roi = 1.0 - in.mask_roi;
  return in;
}

void RegisterFaceBenchmarks(Inputs& in, face::Detector& detector, bench::PlainDlib& dlib, bench::ReferenceTable& table) {
  const cv::Mat& frame = in.sample.frame;
  const cv::Rect2f box = in.sample.face.box;
  const int max_side = detector.options().max_side;
  Add("Detector/DetectBoxes", [&] { benchmark::DoNotOptimize(detector.DetectBoxes(frame)); });
  Add("Reference/dlib_hog", [&, max_side] { benchmark::DoNotOptimize(dlib.Boxes(frame, max_side)); });
  Add("Detector/Detect", [&] { benchmark::DoNotOptimize(detector.Detect(frame)); });
  Add("Reference/dlib_hog_and_shape", [&, max_side] { benchmark::DoNotOptimize(dlib.BoxesAndLandmarks(frame, max_side)); });
  Add("Detector/FitLandmarks", [&, box] { benchmark::DoNotOptimize(detector.FitLandmarks(frame, box)); });
  Add("Reference/dlib_shape", [&, box] { benchmark::DoNotOptimize(dlib.Landmarks(frame, box)); });
  table.Pair("Detector/DetectBoxes", "Reference/dlib_hog");
  table.Pair("Detector/Detect", "Reference/dlib_hog_and_shape");
  table.Pair("Detector/FitLandmarks", "Reference/dlib_shape");

  for (const int size : {256, 64}) {
    face::AlignOptions options;
    options.size = size;
    const std::string name = "Align/" + std::to_string(size);
    const std::string reference = "Reference/warpAffine_" + std::to_string(size);
    const cv::Mat to_crop(face::AlignmentTransform(in.sample.face.points, options));
    Add(name, [&, options, out = face::AlignedFace{}]() mutable {
      face::Align(frame, in.sample.face.points, options, out);
      benchmark::DoNotOptimize(out.crop.data);
    });
    Add(reference, [&, to_crop, size, out = cv::Mat()]() mutable {
      cv::warpAffine(frame, out, to_crop, cv::Size(size, size), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
      benchmark::DoNotOptimize(out.data);
    });
    table.Pair(name, reference);
  }
}

void RegisterBlendBenchmarks(Inputs& in, bench::ReferenceTable& table) {
  Add("Blend/HullMask", [&] { benchmark::DoNotOptimize(blend::HullMask(in.roi_points, in.roi.size(), in.mask_options)); });
  Add("Reference/fillConvexPoly", [&, hull = std::vector<cv::Point>(), mask = cv::Mat()]() mutable {
    std::vector<cv::Point> points(in.roi_points.begin(), in.roi_points.end());
    cv::convexHull(points, hull);
    mask.create(in.roi.size(), CV_32FC1);
    mask.setTo(0.0);
    cv::fillConvexPoly(mask, hull, cv::Scalar(1.0), cv::LINE_AA);
    benchmark::DoNotOptimize(mask.data);
  });
  table.Pair("Blend/HullMask", "Reference/fillConvexPoly");

  Add("Blend/MultiBand", [&] { benchmark::DoNotOptimize(blend::MultiBandBlend(in.face_roi, in.frame_roi, in.mask_roi, in.levels)); });
  Add("Blend/Poisson", [&] { benchmark::DoNotOptimize(blend::PoissonBlend(in.face_roi, in.frame_roi, in.mask_roi)); });
  Add("Blend/Alpha", [&] { benchmark::DoNotOptimize(blend::AlphaBlend(in.face_roi, in.frame_roi, in.mask_roi)); });
  Add("Reference/blendLinear", [&, out = cv::Mat()]() mutable {
    cv::blendLinear(in.face_roi, in.frame_roi, in.mask_roi, in.inverse_mask_roi, out);
    benchmark::DoNotOptimize(out.data);
  });
  for (const char* name : {"Blend/MultiBand", "Blend/Poisson", "Blend/Alpha"}) table.Pair(name, "Reference/blendLinear");

  // The whole per-face paste of convert (colour match, mask, multi-band blend) for a lite
  // model's 64 px output; its reference is the naive paste: warp back and alpha-blend.
  face::AlignOptions align64;
  align64.size = 64;
  const face::AlignedFace aligned64 = face::Align(in.sample.frame, in.sample.face.points, align64);
  model::SwapOutput swapped;
  swapped.face = Recoloured(aligned64.crop);
  // One compositor for all passes, as convert's blend stage keeps one (its buffers are
  // reused; a fresh one per pass measured the allocator's fresh pages, 5-40 ms by the heap's
  // state). Each pass blends into the previous pass's result: the same work every time.
  Add("Composite/CompositeFace", [&, aligned64, swapped, frame = in.sample.frame.clone(),
                                  compositor = pipeline::FaceCompositor({})]() mutable {
    benchmark::DoNotOptimize(compositor.Composite(frame, in.sample.face, aligned64, swapped).roi);
  });
  cv::Matx23d to_roi = aligned64.to_frame;
  to_roi(0, 2) -= in.roi.x;
  to_roi(1, 2) -= in.roi.y;
  Add("Reference/warp_and_blendLinear", [&, to_roi, swapped, warped = cv::Mat(), out = cv::Mat()]() mutable {
    cv::warpAffine(swapped.face, warped, to_roi, in.roi.size(), cv::INTER_CUBIC, cv::BORDER_REPLICATE);
    cv::blendLinear(warped, in.frame_roi, in.mask_roi, in.inverse_mask_roi, out);
    benchmark::DoNotOptimize(out.data);
  });
  table.Pair("Composite/CompositeFace", "Reference/warp_and_blendLinear");

  // The same paste with a mask of what covers the face (a lite model's, 64 px, 1 everywhere
  // but a patch over one cheek), for the 64 px face and for the 256 px face of --detail
  // exemplars.
  for (const int side : {64, 256}) {
    face::AlignOptions align;
    align.size = side;
    const face::AlignedFace aligned = face::Align(in.sample.frame, in.sample.face.points, align);
    model::SwapOutput masked;
    masked.face = Recoloured(aligned.crop);
    masked.mask = cv::Mat(64, 64, CV_32FC1, cv::Scalar(1.0));
    masked.mask(cv::Rect(8, 32, 16, 16)).setTo(0.0);
    Add("Composite/CompositeFace/masked" + std::to_string(side),
        [&, aligned, masked, frame = in.sample.frame.clone(), compositor = pipeline::FaceCompositor({})]() mutable {
          benchmark::DoNotOptimize(compositor.Composite(frame, in.sample.face, aligned, masked).roi);
        });
  }
  table.Pair("Composite/CompositeFace/masked256", "Composite/CompositeFace/masked64");
}

void RegisterColorBenchmarks(Inputs& in, bench::ReferenceTable& table) {
  for (const auto& [name, method] : {std::pair{"Color/rct", blend::ColorMethod::kRct},
                                     std::pair{"Color/hist", blend::ColorMethod::kHist}}) {
    // The generated face is copied back each time (TransferColor works in place); the copy
    // of 256x256 pixels costs a few microseconds.
    Add(name, [&, method = method, face = cv::Mat()]() mutable {
      in.generated256.copyTo(face);
      blend::TransferColor(method, face, in.aligned256.crop, in.crop_mask256);
      benchmark::DoNotOptimize(face.data);
    });
    table.Pair(name, "Reference/cvtColor_Lab");
  }
  Add("Reference/cvtColor_Lab", [&, lab = cv::Mat()]() mutable {
    cv::cvtColor(in.generated256, lab, cv::COLOR_BGR2Lab);
    benchmark::DoNotOptimize(lab.data);
  });
}

// Removes "--markdown FILE" (or --markdown=FILE) from argv; Google Benchmark rejects flags
// it does not know.
std::optional<fs::path> TakeMarkdownOption(int& argc, char** argv) {
  std::optional<fs::path> file;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--markdown" && i + 1 < argc) {
      file = argv[++i];
    } else if (arg.rfind("--markdown=", 0) == 0) {
      file = arg.substr(11);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return file;
}

}  // namespace

int main(int argc, char** argv) {
  const std::optional<fs::path> markdown = TakeMarkdownOption(argc, argv);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  core::SetupLogging(core::Verbosity::kQuiet, std::nullopt);
  const fs::path work_dir = fs::temp_directory_path() / ("faceswap-micro-bench-" + std::to_string(getpid()));
  try {
    const fs::path clip = FindClip();
    const int threads = model::SetCpuThreads(0);
    face::Detector detector{face::DetectorOptions{}};
    bench::PlainDlib dlib(face::ResolveModelFile(face::ModelFile::kLandmarks68));
    Inputs inputs = MakeInputs(FirstFrameWithFace(clip, detector));

    bench::ReferenceTable table;
    RegisterFaceBenchmarks(inputs, detector, dlib, table);
    bench::RegisterModelBenchmarks(inputs.sample.frame, inputs.sample.face.points, work_dir, table);
    RegisterBlendBenchmarks(inputs, table);
    RegisterColorBenchmarks(inputs, table);

    bench::TimingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    std::error_code ignored;
    core::RemoveTree(work_dir, ignored);

    if (markdown) {
      std::ofstream out(*markdown);
      table.WriteMarkdown(out, reporter.seconds());
      out << "\n(" << clip.filename().string() << " frame " << inputs.sample.index << ", " << inputs.sample.frame.cols
          << "x" << inputs.sample.frame.rows << ", face " << static_cast<int>(inputs.sample.face.box.width)
          << " px wide, blend region " << inputs.roi.width << "x" << inputs.roi.height << "; " << threads
          << " LibTorch threads; ratio = time / reference time)\n";
      if (!out) throw OutputError(*markdown, "could not write the Markdown table");
    }
    return 0;
  } catch (const std::exception& error) {
    std::error_code ignored;
    core::RemoveTree(work_dir, ignored);
    std::fprintf(stderr, "micro_bench: %s\n", error.what());
    return 1;
  }
}
