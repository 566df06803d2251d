#pragma once
// eval::Evaluate: how good a swap is, measured on faces the model did not train on.
//
// For each ordered pair of identities (source -> target) it swaps the source's held-out
// faces into their own frames exactly as `faceswap convert` does (pipeline::CompositeFace)
// and measures:
//   reconstruction  PSNR / SSIM of the source's faces redrawn by the source's own decoder,
//                   and their detail fidelity against the real crop at its full size
//                   (metrics.h: 1 real detail, 0.5 none, lower: detail that is not there)
//   identity        ID retrieval by dlib's face-recognition network (identity_judge.h):
//                   share of swapped faces whose nearest real face is the target's
//                   (higher is better) or the source's (lower is better), and their mean
//                   descriptor distance to each person's real faces
//   pose            head pose (solvePnP) on the swapped vs the original frame, degrees
//   expression      68 landmarks refitted on the swapped frame vs on the original frame,
//                   mean error over the outer-eye-corner distance
//   temporal        frame-to-frame change inside the face in the swapped frames divided by
//                   the same change in the original frames (1.0: no added flicker)
//   seam            blend::SeamScore along the blend mask's border (1.0: no added edge)
//   sharpness       variance of the Laplacian inside the face, swapped / original (1.0: as
//                   sharp as the source)
//   occlusion       held-out faces with synthetic occluders (occlusion.h): the learned
//                   mask's IoU with the visible face, and the occluder's PSNR after the swap

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "faceswap/face/align.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/face/detector.h"
#include "faceswap/eval/metrics.h"
#include "faceswap/model/swapper.h"
#include "faceswap/pipeline/composite.h"

namespace faceswap::eval {

struct EvalFace {
  std::filesystem::path source;  // the clip or image it came from; frames are re-read from it
  face::FaceRecord record;       // frame index, landmarks (frame pixels), track
  cv::Mat crop;                  // the aligned crop saved by extract (BGR)
  face::Landmarks crop_points{}; // landmarks in crop pixels
  int64_t run = 0;               // neighbouring faces share a run (face::HoldoutRun)
};

struct IdentityFaces {
  std::string name;
  std::vector<EvalFace> faces;  // in source, frame order
};

// Draws aligned faces (BGR) as `identity`: model::Swapper::Swap in `faceswap eval`.
using FaceRenderer = std::function<std::vector<model::SwapOutput>(const std::vector<cv::Mat>& faces, int identity)>;

struct EvalOptions {
  pipeline::CompositeOptions composite;  // as convert's defaults
  face::AlignOptions align;              // crop the renderer takes (size: the model's resolution)
  face::DetectorOptions detector;        // the landmark model refitted on swapped frames
  bool frames = true;                    // false: only the face metrics (no clip reading)
  std::optional<std::filesystem::path> recognition_model;  // the judge; unset: model_files.h's search
  void Check() const;                    // UsageError
};

// One row of the report. Values are NaN where nothing could be measured (e.g. no
// readable source clip for the frame metrics).
struct DirectionReport {
  std::string source, target;
  int faces = 0;                  // held-out faces of the source
  double psnr = 0, ssim = 0;      // source redrawn by its own decoder
  double detail = 0;              // ... its detail fidelity (MeasureDetailFidelity), mean over faces
  std::array<double, kDetailBands> detail_bands{};  // ... per band, finest first
  double target_share = 0;        // ID retrieval: swapped faces nearest a real face of the target
  double source_share = 0;        // ... of the source (its own run left out)
  double target_distance = 0;     // mean descriptor distance of swapped faces to the target's real faces
  double source_distance = 0;     // ... to the source's (own run left out)
  double real_accuracy = 0;       // retrieval of the source's real faces (the judge's own baseline)
  int frames = 0;                 // frames swapped and measured
  double pose_error = 0;          // mean of the three below, degrees
  double pitch_error = 0, yaw_error = 0, roll_error = 0;  // mean |swapped - original|, degrees
  double landmark_error = 0;      // mean over faces
  double landmark_error_p90 = 0;  // 90th percentile
  int pairs = 0;                  // neighbouring frame pairs for the temporal ratio
  double temporal_ratio = 0;
  double seam = 0;                // mean over faces
  double sharpness = 0;           // mean over faces of LaplacianVariance(swapped) / (original)
  double occlusion_iou = 0;       // learned mask against the visible face (NaN without a learned mask)
  double occlusion_hull_iou = 0;  // the landmark hull alone against it (the baseline)
  double occluder_psnr = 0;       // dB, the occluder's pixels after the swap against before
  cv::Mat occlusion_sheet;        // a few occluded faces, their masks and swaps (OcclusionFigures)
};

struct EvalReport {
  std::vector<DirectionReport> directions;
  double seconds = 0;
};

// `faces[i]` are the faces of identity i of the renderer's model. Throws UsageError for
// fewer than two identities or an identity without faces, InputError (saying how to get
// it) without the face-recognition network.
EvalReport Evaluate(const std::vector<IdentityFaces>& faces, const FaceRenderer& render, const EvalOptions& options);

}  // namespace faceswap::eval
