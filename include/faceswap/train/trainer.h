#pragma once
// train::Train: the training loop behind `faceswap train`. LibTorch-free header.
//
// The model folder holds model.json, weights.pt (+ backups/), previews/, loss.csv.
// Re-running with the same folder resumes; a folder made with another preset or
// identity set is refused (ModelError). SIGINT/SIGTERM finish the step, save, return.
// As one rank of a data-parallel run (TrainOptions::distributed), every rank trains on its
// own faces with averaged gradients, stops at the same step as the others, and only rank 0
// touches the model folder; a lost rank ends every other with DistributedError (exit 9).
//
// A step whose loss or gradient is not finite is skipped and halves the learning rate;
// kMaxBadSteps such steps in a row put the last good save back and stop with
// DivergedError (exit 8), so a diverged run never overwrites a good model.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "faceswap/model/device.h"
#include "faceswap/model/precision.h"
#include "faceswap/train/augment.h"
#include "faceswap/train/distributed.h"
#include "faceswap/train/face_set.h"

namespace faceswap::train {

inline constexpr int kMaxBadSteps = 8;

struct TrainOptions {
  std::filesystem::path model_dir;
  std::string preset = "lite";
  int batch_size = 0;               // per identity; 0: the preset's default
  double learning_rate = 0.0;       // Adam; 0: the preset's default
  int64_t iterations = 0;           // stop once the model has taken this many steps (0: no limit)
  double time_budget_seconds = 0;   // stop after this long in this run (0: no limit)
  int save_every = 250;             // iterations between checkpoints
  int preview_every = 250;          // iterations between preview PNGs (0: only at the end)
  int keep_backups = 3;
  int64_t stage_iterations = 3000;  // progressive presets: steps per resolution stage
  model::DeviceKind device = model::DeviceKind::kAuto;
  model::Precision precision = model::Precision::kFp32;
  int threads = 0;                  // CPU threads for LibTorch (0: all cores)
  uint64_t seed = 1;                // augmentation RNG seed
  std::string alignment_template;   // recorded in model.json for convert
  double coverage = 1.0;            // recorded in model.json for convert
  AugmentOptions augment;
  double average_decay = 0.0;       // moving average of the weights for drawing (0: none)
  int warmup_steps = 0;             // learning rate ramps up linearly over these first steps
  double max_grad_norm = 0.0;       // clip the gradient's global norm to this (0: no clipping)
  double frequency_weight = 0.0;    // weight of the focal frequency loss (0: off)
  // Weight of the identity loss: a few faces of each identity per step are drawn as the
  // next identity and pulled towards its mean descriptor by dlib's face-recognition
  // network (train/identity_net.h). 0: off. eval's judge is the same network, so a model
  // trained with it is judged by a network that trained it (eval.json says so).
  double identity_weight = 0.0;
  // One rank of a data-parallel run (train/process_group.h); default: training alone.
  // Only rank 0 reads and writes the model folder.
  DistributedOptions distributed;
  int64_t nan_at = -1;              // tests: make the loss NaN once this iteration is reached (-1: never)
  int64_t nan_steps = 1;            // ... for this many attempted steps
  void Check() const;               // UsageError
};

struct TrainReport {
  int64_t start_iteration = 0;
  int64_t end_iteration = 0;
  std::vector<double> first_loss;   // per identity, the first step of this run
  std::vector<double> last_loss;    // per identity, mean of the last steps of this run
  double samples_per_second = 0;    // faces per second, all identities together
  bool interrupted = false;         // stopped by SIGINT/SIGTERM (and saved)
  bool resumed = false;
  int64_t skipped_steps = 0;        // non-finite loss or gradient
};

// Trains on `faces` (one FaceSet per identity, in identity order; names become the
// model's identities). Returns when the iteration or time budget is reached or a stop
// signal arrives; the model is saved in every case.
TrainReport Train(const TrainOptions& options, const std::vector<FaceSet>& faces);

// Set by SIGINT/SIGTERM while Train runs; tests may set it too.
void RequestStop();

}  // namespace faceswap::train
