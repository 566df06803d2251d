#include "faceswap/eval/evaluate.h"

#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "faceswap/blend/blend.h"
#include "faceswap/core/error.h"
#include "faceswap/core/progress.h"
#include "faceswap/core/sharpness.h"
#include "faceswap/eval/identity_judge.h"
#include "faceswap/eval/metrics.h"
#include "faceswap/eval/occlusion.h"
#include "faceswap/face/identity.h"
#include "faceswap/video/reader.h"

namespace fs = std::filesystem;

namespace faceswap::eval {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double Mean(const std::vector<double>& values) {
  if (values.empty()) return kNaN;
  double sum = 0;
  for (double v : values) sum += v;
  return sum / static_cast<double>(values.size());
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return kNaN;
  std::sort(values.begin(), values.end());
  const size_t i = std::min(values.size() - 1, static_cast<size_t>(std::floor(p * static_cast<double>(values.size() - 1) + 0.5)));
  return values[i];
}

face::Face AsFace(const face::FaceRecord& record) {
  face::Face f;
  f.box = record.box;
  f.points = record.points;
  f.track_id = record.track_id;
  f.score = record.score;
  return f;
}


// PSNR and SSIM of the faces redrawn by their own identity's decoder, at its resolution,
// and their detail fidelity inside the face at the crop's full size.
void MeasureReconstruction(const IdentityFaces& identity, int index, const FaceRenderer& render, DirectionReport& row) {
  std::vector<cv::Mat> crops;
  for (const EvalFace& f : identity.faces) crops.push_back(f.crop);
  const std::vector<model::SwapOutput> out = render(crops, index);
  std::vector<double> psnr, ssim, detail;
  std::array<std::vector<double>, kDetailBands> bands;
  for (size_t i = 0; i < crops.size(); ++i) {
    cv::Mat reference;
    cv::resize(crops[i], reference, out[i].face.size(), 0, 0, cv::INTER_AREA);
    psnr.push_back(Psnr(reference, out[i].face));
    ssim.push_back(Ssim(reference, out[i].face));
    const DetailFidelity fidelity =
        MeasureDetailFidelity(crops[i], out[i].face, FaceHullMask(identity.faces[i].crop_points, crops[i].size()));
    detail.push_back(fidelity.score);
    for (int b = 0; b < kDetailBands; ++b) bands[b].push_back(fidelity.bands[b]);
  }
  row.psnr = Mean(psnr);
  row.ssim = Mean(ssim);
  row.detail = Mean(detail);
  for (int b = 0; b < kDetailBands; ++b) row.detail_bands[b] = Mean(bands[b]);
}

// Swapped faces and the frame measurements of one direction.
class DirectionRun {
 public:
  DirectionRun(const IdentityFaces& source, int target, const FaceRenderer& render, const EvalOptions& options,
               face::Detector* detector)
      : source_(source), target_(target), render_(render), options_(options), detector_(detector),
        chips_(source.faces.size()) {}

  void Run(core::Progress& progress) {
    std::map<fs::path, std::vector<size_t>> by_source;
    for (size_t i = 0; i < source_.faces.size(); ++i) by_source[source_.faces[i].source].push_back(i);
    for (const auto& [path, indices] : by_source) {
      std::error_code ec;
      if (!options_.frames || !fs::exists(path, ec)) {
        if (options_.frames) spdlog::warn("{}: source clip not found; its faces are judged on their crops only", path.string());
        for (size_t i : indices) ProbeFromCrop(i);
        progress.Advance(static_cast<int64_t>(indices.size()));
        continue;
      }
      SwapFramesOf(path, indices, progress);
    }
  }

  // The identity network's chips of the swapped faces, cut as the real faces' chips are.
  const std::vector<cv::Mat>& chips() const { return chips_; }

  void Fill(DirectionReport& row) const {
    row.frames = frames_;
    row.pitch_error = Mean(pitch_errors_);
    row.yaw_error = Mean(yaw_errors_);
    row.roll_error = Mean(roll_errors_);
    row.pose_error = (row.pitch_error + row.yaw_error + row.roll_error) / 3.0;
    row.landmark_error = Mean(landmark_errors_);
    row.landmark_error_p90 = Percentile(landmark_errors_, 0.9);
    row.pairs = pairs_;
    row.temporal_ratio = pairs_ > 0 && source_change_ > 0 ? swapped_change_ / source_change_ : kNaN;
    row.seam = Mean(seams_);
    row.sharpness = Mean(sharpness_);
  }

 private:
  struct Previous {
    int64_t frame = -1;
    int64_t run = -1;
    face::Landmarks points{};
    cv::Mat original, swapped;
  };

  // No frame to put it in: the face is composited into its own saved crop instead.
  void ProbeFromCrop(size_t i) {
    const EvalFace& f = source_.faces[i];
    face::Face in_crop;
    in_crop.points = f.crop_points;
    in_crop.box = face::LandmarkBounds(f.crop_points);
    const face::AlignedFace aligned = face::Align(f.crop, f.crop_points, options_.align);
    cv::Mat canvas = f.crop.clone();
    pipeline::CompositeFace(canvas, in_crop, aligned, render_({aligned.crop}, target_).at(0), options_.composite);
    chips_[i] = face::IdentityChip(canvas, f.crop_points);
  }

  void SwapFramesOf(const fs::path& path, const std::vector<size_t>& indices, core::Progress& progress) {
    std::map<int64_t, std::vector<size_t>> by_frame;
    for (size_t i : indices) by_frame[source_.faces[i].record.frame].push_back(i);
    video::Reader reader(path);
    video::Frame frame;
    std::map<int, Previous> previous;  // by track
    while (!by_frame.empty() && reader.Next(frame)) {
      if (frame.index < by_frame.begin()->first) continue;
      while (!by_frame.empty() && by_frame.begin()->first < frame.index) {  // frames the reader skipped
        for (size_t i : by_frame.begin()->second) ProbeFromCrop(i);
        by_frame.erase(by_frame.begin());
      }
      if (by_frame.empty() || by_frame.begin()->first != frame.index) continue;
      const std::vector<size_t> here = by_frame.begin()->second;
      by_frame.erase(by_frame.begin());
      SwapFrame(frame.bgr, here, previous);
      progress.Advance(static_cast<int64_t>(here.size()));
    }
    for (const auto& [index, rest] : by_frame) {
      for (size_t i : rest) ProbeFromCrop(i);
      progress.Advance(static_cast<int64_t>(rest.size()));
    }
  }

  void SwapFrame(const cv::Mat& original, const std::vector<size_t>& here, std::map<int, Previous>& previous) {
    std::vector<face::AlignedFace> aligned;
    std::vector<cv::Mat> crops;
    for (size_t i : here) {
      aligned.push_back(face::Align(original, source_.faces[i].record.points, options_.align));
      crops.push_back(aligned.back().crop);
    }
    const std::vector<model::SwapOutput> drawn = render_(crops, target_);
    cv::Mat swapped = original.clone();
    std::vector<pipeline::CompositeRegion> regions;
    for (size_t k = 0; k < here.size(); ++k) {
      regions.push_back(pipeline::CompositeFace(swapped, AsFace(source_.faces[here[k]].record), aligned[k], drawn[k],
                                                options_.composite));
    }
    ++frames_;
    for (size_t k = 0; k < here.size(); ++k) {
      const EvalFace& f = source_.faces[here[k]];
      // What the judge sees: the swapped frame cut out as extract cut the original.
      cv::Mat crop;
      cv::warpAffine(swapped, crop, f.record.to_crop, f.crop.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
      chips_[here[k]] = face::IdentityChip(crop, f.crop_points);

      if (detector_) {
        const face::Face before = detector_->FitLandmarks(original, f.record.box);
        const face::Face after = detector_->FitLandmarks(swapped, f.record.box);
        landmark_errors_.push_back(LandmarkError(before.points, after.points));
        const HeadPose pose_before = EstimateHeadPose(before.points, original.size());
        const HeadPose pose_after = EstimateHeadPose(after.points, original.size());
        pitch_errors_.push_back(std::abs(pose_after.pitch - pose_before.pitch));
        yaw_errors_.push_back(std::abs(pose_after.yaw - pose_before.yaw));
        roll_errors_.push_back(std::abs(pose_after.roll - pose_before.roll));
      }
      const pipeline::CompositeRegion& region = regions[k];
      if (!region.mask.empty()) {
        seams_.push_back(blend::SeamScore(swapped(region.roi), original(region.roi), region.mask));
        // Sharpness where the face is fully the model's (mask ~1), not on the feathered rim.
        cv::Mat inside;
        cv::compare(region.mask, 0.95, inside, cv::CMP_GT);
        const double reference = core::LaplacianVariance(original(region.roi), inside);
        if (reference > 0) sharpness_.push_back(core::LaplacianVariance(swapped(region.roi), inside) / reference);
      }

      Previous& prev = previous[f.record.track_id];
      if (prev.frame >= 0 && prev.run == f.run && prev.frame < f.record.frame) {
        // The face region of both frames: the hull of both sets of landmarks.
        std::vector<cv::Point2f> points(prev.points.begin(), prev.points.end());
        points.insert(points.end(), f.record.points.begin(), f.record.points.end());
        std::vector<cv::Point> hull;
        std::vector<cv::Point> integer_points;
        for (const auto& p : points) integer_points.emplace_back(cvRound(p.x), cvRound(p.y));
        cv::convexHull(integer_points, hull);
        // Only the hull's box is looked at: no frame-sized mask per pair.
        const cv::Rect box = cv::boundingRect(hull) & cv::Rect(0, 0, original.cols, original.rows);
        if (!box.empty()) {
          for (cv::Point& p : hull) p -= box.tl();
          cv::Mat mask = cv::Mat::zeros(box.size(), CV_8UC1);
          cv::fillConvexPoly(mask, hull, cv::Scalar(255));
          source_change_ += MeanChange(prev.original(box), original(box), mask);
          swapped_change_ += MeanChange(prev.swapped(box), swapped(box), mask);
          ++pairs_;
        }
      }
      prev.frame = f.record.frame;
      prev.run = f.run;
      prev.points = f.record.points;
      prev.original = original.clone();  // the reader reuses its frame buffer
      prev.swapped = swapped;
    }
  }

  const IdentityFaces& source_;
  int target_;
  const FaceRenderer& render_;
  const EvalOptions& options_;
  face::Detector* detector_;
  std::vector<cv::Mat> chips_;
  int frames_ = 0;
  int pairs_ = 0;
  double source_change_ = 0, swapped_change_ = 0;
  std::vector<double> landmark_errors_, seams_, sharpness_, pitch_errors_, yaw_errors_, roll_errors_;
};

}  // namespace

void EvalOptions::Check() const {
  composite.Check();
  align.Check();
}

EvalReport Evaluate(const std::vector<IdentityFaces>& faces, const FaceRenderer& render, const EvalOptions& options) {
  options.Check();
  const auto start = std::chrono::steady_clock::now();
  if (faces.size() < 2) throw UsageError("eval needs faces of at least two identities");
  for (const IdentityFaces& identity : faces) {
    if (identity.faces.empty()) throw UsageError("eval has no faces of identity '" + identity.name + "'");
  }

  // The judge's gallery: every real face, labelled with its identity and run.
  face::IdentityEncoder encoder(options.recognition_model);
  std::vector<JudgedFace> real;
  {
    std::vector<cv::Mat> chips;
    for (size_t id = 0; id < faces.size(); ++id) {
      for (const EvalFace& f : faces[id].faces) {
        chips.push_back(face::IdentityChip(f.crop, f.crop_points));
        real.push_back({{}, static_cast<int>(id), f.run});
      }
    }
    const std::vector<face::Descriptor> descriptors = encoder.EncodeChips(chips);
    for (size_t i = 0; i < real.size(); ++i) real[i].descriptor = descriptors[i];
  }
  const int identities = static_cast<int>(faces.size());
  EvalReport report;

  std::optional<face::Detector> detector;
  if (options.frames) detector.emplace(options.detector);

  int64_t total = 0;
  for (const IdentityFaces& identity : faces) total += static_cast<int64_t>(identity.faces.size() * (faces.size() - 1));
  core::Progress progress("eval", total, "faces");
  size_t real_offset = 0;
  for (size_t s = 0; s < faces.size(); ++s) {
    const IdentityFaces& source = faces[s];
    DirectionReport reconstruction;
    MeasureReconstruction(source, static_cast<int>(s), render, reconstruction);
    // The judge's own accuracy: each real face of the source against the others.
    int real_right = 0;
    for (size_t i = 0; i < source.faces.size(); ++i) {
      const JudgedFace& f = real[real_offset + i];
      real_right += Retrieve(f.descriptor, f.identity, f.group, real, identities).nearest_identity == f.identity ? 1 : 0;
    }
    real_offset += source.faces.size();

    for (size_t t = 0; t < faces.size(); ++t) {
      if (t == s) continue;
      DirectionReport row = reconstruction;
      row.source = source.name;
      row.target = faces[t].name;
      row.faces = static_cast<int>(source.faces.size());
      row.real_accuracy = static_cast<double>(real_right) / static_cast<double>(source.faces.size());

      DirectionRun run(source, static_cast<int>(t), render, options, detector ? &*detector : nullptr);
      run.Run(progress);
      run.Fill(row);
      const OcclusionFigures occlusion = MeasureOcclusion(source, static_cast<int>(t), faces[t], render, options);
      row.occlusion_iou = occlusion.iou;
      row.occlusion_hull_iou = occlusion.hull_iou;
      row.occluder_psnr = occlusion.psnr;
      row.occlusion_sheet = occlusion.sheet;

      const std::vector<face::Descriptor> probes = encoder.EncodeChips(run.chips());
      int as_target = 0, as_source = 0;
      std::vector<double> to_target, to_source;
      for (size_t i = 0; i < probes.size(); ++i) {
        const Retrieval r = Retrieve(probes[i], static_cast<int>(s), source.faces[i].run, real, identities);
        as_target += r.nearest_identity == static_cast<int>(t) ? 1 : 0;
        as_source += r.nearest_identity == static_cast<int>(s) ? 1 : 0;
        to_target.push_back(r.mean_distance[t]);
        to_source.push_back(r.mean_distance[s]);
      }
      row.target_share = static_cast<double>(as_target) / static_cast<double>(probes.size());
      row.source_share = static_cast<double>(as_source) / static_cast<double>(probes.size());
      row.target_distance = Mean(to_target);
      row.source_distance = Mean(to_source);
      report.directions.push_back(row);
    }
  }
  progress.Finish();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace faceswap::eval
