#include "faceswap/train/trainer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <optional>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/job_queue.h"
#include "faceswap/core/stop_signal.h"
#include "faceswap/model/autocast.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/preset.h"
#include "faceswap/model/tensor_image.h"
#include "faceswap/train/identity_net.h"
#include "faceswap/train/loss.h"
#include "faceswap/train/process_group.h"
#include "faceswap/train/weight_average.h"
#include "run_recorder.h"

namespace fs = std::filesystem;

namespace faceswap::train {
namespace {

// Faces per identity and step that the identity loss draws as another identity: the
// face-recognition network costs ~20 ms a face on this project's 2-core CPU.
constexpr int64_t kIdentityLossFaces = 4;

// fp16 dynamic loss scaling (Micikevicius et al. 2018, "Mixed precision training"): start
// high, halve on every overflow, double after this many overflow-free steps.
constexpr double kInitialLossScale = 65536.0;
constexpr int64_t kLossScaleGrowthSteps = 1000;

struct IdentityBatch {
  torch::Tensor input, target, weight, mask;
  torch::Tensor occluded_input, input_mask;  // the occlusion network's faces and targets
};

struct Batch {
  int64_t iteration = 0;
  int resolution = 0;
  std::vector<IdentityBatch> identities;
};

torch::Tensor MasksToTensor(const std::vector<cv::Mat>& masks) {
  const int side = masks.front().rows;
  torch::Tensor t = torch::empty({static_cast<int64_t>(masks.size()), 1, side, side}, torch::kFloat32);
  for (size_t i = 0; i < masks.size(); ++i) {
    cv::Mat target(side, side, CV_32FC1, t[static_cast<int64_t>(i)].data_ptr<float>());
    masks[i].copyTo(target);
  }
  return t;
}

// SplitMix64's finaliser (Vigna, public domain): a well-mixed 64-bit value from any input.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The random draws of one training sample (which face, its augmentation) depend only on
// the seed, the loader's step, the identity and the sample's place in the global batch:
// rank r of n with batch b draws samples r*b .. r*b+b-1 of the n*b that one rank with
// batch n*b would draw, whatever the threads or the number of ranks.
cv::RNG SampleRng(uint64_t seed, int64_t iteration, size_t identity, int64_t sample) {
  uint64_t h = Mix(seed);
  h = Mix(h ^ static_cast<uint64_t>(iteration));
  h = Mix(h ^ static_cast<uint64_t>(identity));
  return cv::RNG(Mix(h ^ static_cast<uint64_t>(sample)));
}

// Augments batches on its own thread, one iteration ahead of the optimiser.
class Loader {
 public:
  // `first_sample`: this rank's first place in the global batch (rank * batch). `workers`:
  // threads that augment a batch's samples together (1: this loader thread alone).
  Loader(const std::vector<FaceSet>& faces, const model::Preset& preset, int64_t stage_iterations, int batch,
         const AugmentOptions& augment, uint64_t seed, int64_t first_iteration, int64_t first_sample, int workers)
      : faces_(faces), preset_(preset), stage_iterations_(stage_iterations), batch_(batch), workers_(workers),
        augment_(augment),
        without_occluders_(WithoutOccluders(augment)),
        seed_(seed), first_sample_(first_sample), next_(first_iteration), queue_(2) {
    thread_ = std::thread([this] { Run(); });
  }
  ~Loader() {
    queue_.Stop();
    thread_.join();
  }
  Batch Next() {
    auto batch = queue_.Pop();
    if (!batch) throw Error(ExitCode::kInternal, "training data loader stopped: " + error_);
    return std::move(*batch);
  }

 private:
  void Run() {
    try {
      while (true) {
        Batch batch;
        batch.iteration = next_++;
        batch.resolution = model::StageAt(preset_, batch.iteration, stage_iterations_).resolution;
        for (size_t id = 0; id < faces_.size(); ++id) {
          std::vector<cv::Mat> inputs, targets, weights, masks, occluded_inputs, input_masks;
          std::vector<TrainingPair> pairs(static_cast<size_t>(batch_));
          const auto make_pairs = [&](const cv::Range& range) { MakePairs(batch, id, range, pairs); };
          if (workers_ > 1) {
            cv::parallel_for_(cv::Range(0, batch_), make_pairs, workers_);
          } else {
            make_pairs(cv::Range(0, batch_));
          }
          for (int i = 0; i < batch_; ++i) {
            const bool for_occlusion = ForOcclusion(first_sample_ + i);
            TrainingPair& pair = pairs[static_cast<size_t>(i)];
            inputs.push_back(std::move(pair.input));
            targets.push_back(std::move(pair.target));
            weights.push_back(std::move(pair.weight));
            masks.push_back(std::move(pair.mask));
            if (for_occlusion) {
              occluded_inputs.push_back(std::move(pair.occluded_input));
              input_masks.push_back(std::move(pair.input_mask));
            }
          }
          IdentityBatch b{model::ImagesToTensor(inputs, preset_.EncoderSide(batch.resolution)),
                          model::ImagesToTensor(targets, batch.resolution), MasksToTensor(weights),
                          MasksToTensor(masks), torch::Tensor(), torch::Tensor()};
          if (!occluded_inputs.empty()) {
            b.occluded_input = model::ImagesToTensor(occluded_inputs, preset_.EncoderSide(batch.resolution));
            b.input_mask = MasksToTensor(input_masks);
          }
          batch.identities.push_back(std::move(b));
        }
        if (!queue_.Push(std::move(batch))) return;
      }
    } catch (const std::exception& e) {
      error_ = e.what();
      queue_.Stop();
    }
  }

  // The training pairs of samples range.start..range.end-1 of identity `id` in `batch`, into
  // pairs[i]. Each sample has its own random stream: the same pairs on any number of workers.
  void MakePairs(const Batch& batch, size_t id, const cv::Range& range, std::vector<TrainingPair>& pairs) const {
    const FaceSet& set = faces_[id];
    for (int i = range.start; i < range.end; ++i) {
      cv::RNG rng = SampleRng(seed_, batch.iteration, id, first_sample_ + i);
      const FaceSample& face = set.faces[static_cast<size_t>(rng.uniform(0, static_cast<int>(set.faces.size())))];
      const bool for_occlusion = ForOcclusion(first_sample_ + i);
      pairs[static_cast<size_t>(i)] =
          MakePair(face, batch.resolution, for_occlusion ? augment_ : without_occluders_, rng, true,
                   preset_.EncoderSide(batch.resolution), for_occlusion ? OccluderTexture(id, rng) : cv::Mat());
    }
  }

  // The occlusion network trains on half of each identity's faces, those at even places
  // of the global batch: it learns its mask as well from half as many, and its forward
  // and backward cost a tenth of the lite autoencoder's speed otherwise (median of 5 runs
  // of 250 steps: 165 faces/s against 150 with the whole batch, 181 without occluders).
  // Counted globally, 2 ranks of batch 2 train it on the faces 1 rank of batch 4 does,
  // each rank on as many; a rank of batch 1 takes its one face whatever its place.
  bool ForOcclusion(int64_t global_sample) const {
    return augment_.occluder_share > 0 && (batch_ == 1 || global_sample % 2 == 0);
  }
  static AugmentOptions WithoutOccluders(AugmentOptions augment) {
    augment.occluder_share = 0;
    return augment;
  }

  // A picture for occluders to be cut from: some face crop of another identity (its
  // background, hair and clothes are things that pass in front of faces); empty when no
  // occluders are drawn, so that the random draws stay those of a run without them.
  cv::Mat OccluderTexture(size_t identity, cv::RNG& rng) const {
    if (augment_.occluder_share <= 0) return cv::Mat();
    const size_t others = faces_.size() - 1;
    const size_t pick = identity + 1 + static_cast<size_t>(rng.uniform(0, static_cast<int>(others)));
    const FaceSet& other = faces_[pick % faces_.size()];
    return other.faces[static_cast<size_t>(rng.uniform(0, static_cast<int>(other.faces.size())))].crop;
  }

  const std::vector<FaceSet>& faces_;
  const model::Preset& preset_;
  int64_t stage_iterations_;
  int batch_;
  int workers_;
  AugmentOptions augment_;
  AugmentOptions without_occluders_;  // for the faces the occlusion network does not see
  uint64_t seed_;
  int64_t first_sample_;
  int64_t next_;
  core::JobQueue<Batch> queue_;
  std::string error_;
  std::thread thread_;
};

// For each identity, a few faces: original | reconstruction | swapped into each other identity.
cv::Mat PreviewGrid(model::FaceAutoencoder& net, const std::vector<FaceSet>& faces, int per_identity) {
  torch::NoGradGuard no_grad;
  const bool was_training = net->is_training();
  net->eval();
  const int side = net->current_resolution();
  const int cell = std::max(side, 96);
  const int n = static_cast<int>(faces.size());
  const int columns = 1 + n;  // original, then decoded as identity 0..n-1
  const int header = 24;
  cv::Mat grid(header + n * per_identity * cell, columns * cell, CV_8UC3, cv::Scalar(32, 32, 32));
  const auto device = net->parameters().front().device();
  cv::putText(grid, "original", cv::Point(4, 16), cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(255, 255, 255), 1);
  for (int j = 0; j < n; ++j) {
    cv::putText(grid, "as " + faces[j].identity, cv::Point((1 + j) * cell + 4, 16), cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(255, 255, 255), 1);
  }
  cv::RNG unused;
  for (int i = 0; i < n; ++i) {
    const auto& set = faces[i].faces;
    std::vector<cv::Mat> originals;
    for (int k = 0; k < per_identity; ++k) {
      const FaceSample& face = set[static_cast<size_t>(k) * set.size() / static_cast<size_t>(per_identity)];
      originals.push_back(MakePair(face, side, AugmentOptions{}, unused, false).target);
    }
    const torch::Tensor input = model::ImagesToTensor(originals, net->input_resolution()).to(device);
    const torch::Tensor code = net->Encode(input);
    for (int k = 0; k < per_identity; ++k) {
      const int y = header + (i * per_identity + k) * cell;
      cv::Mat original;
      cv::resize(originals[k], original, cv::Size(cell, cell), 0, 0, cv::INTER_NEAREST);
      original.copyTo(grid(cv::Rect(0, y, cell, cell)));
    }
    for (int j = 0; j < n; ++j) {
      const torch::Tensor rgb = net->Decode(code, j).rgb.to(torch::kCPU);
      for (int k = 0; k < per_identity; ++k) {
        cv::Mat decoded;
        cv::resize(model::TensorToImage(rgb, k), decoded, cv::Size(cell, cell), 0, 0, cv::INTER_NEAREST);
        decoded.copyTo(grid(cv::Rect((1 + j) * cell, header + (i * per_identity + k) * cell, cell, cell)));
      }
    }
  }
  if (was_training) net->train();
  return grid;
}

// The detail stage trains on a window of a quarter of the face's side (a sixteenth of its
// area), at a place drawn from the seed and the step (the same on every rank).
std::optional<model::DetailWindow> DetailWindowAt(const model::Preset& preset, uint64_t seed, int64_t iteration) {
  if (!preset.detail_stage) return std::nullopt;
  const int side = preset.EncoderSide(preset.resolution);
  model::DetailWindow window;
  window.side = side / 4;
  cv::RNG rng = SampleRng(seed, iteration, std::numeric_limits<size_t>::max(), 0);
  const int first = model::kDetailWindowMargin, last = side - model::kDetailWindowMargin - window.side;
  window.x = rng.uniform(first, last + 1);
  window.y = rng.uniform(first, last + 1);
  return window;
}

// The loss of one identity's faces drawn by its own decoder, in float32 (outside the
// autocast scope). A face drawn smaller than the target (the decoder's own face in a preset
// with a detail stage) is measured against the target shrunk to its side.
torch::Tensor ReconstructionLoss(const model::Decoded& out, const IdentityBatch& b, double frequency_weight,
                                 const torch::Device& device) {
  const torch::Tensor rgb = out.rgb.to(torch::kFloat32);
  torch::Tensor target = b.target.to(device), weight = b.weight.to(device);
  const int64_t factor = target.size(-1) / rgb.size(-1);
  torch::Tensor loss = CoarseFaceLoss(rgb, target, weight);
  if (out.mask.defined()) loss = loss + 0.5 * (out.mask.to(torch::kFloat32) - b.mask.to(device)).abs().mean();
  if (frequency_weight > 0) {
    if (factor > 1) target = torch::nn::functional::avg_pool2d(target, torch::nn::functional::AvgPool2dFuncOptions(factor));
    loss = loss + frequency_weight * FocalFrequencyLoss(rgb, target);
  }
  return loss;
}

// The detail stage's loss on one identity's step: the stage enlarges the real target
// faces shrunk to the encoder's side (area means, as ImagesToTensor shrinks a face), in
// the window, and is measured against the target there (DetailLoss: L1 and its finest
// Laplacian bands). It learns from the person's real faces, not from the decoder's: the
// go/no-go measured both the same on faces the decoder drew, and in the product the
// decoder's faces as input gave less (README, "Measuring quality"); the stage and the
// autoencoder train apart, on the same step.
torch::Tensor DetailStageLoss(model::FaceAutoencoder& net, int identity, const IdentityBatch& b,
                              const model::DetailWindow& window, model::Precision precision,
                              const torch::Device& device) {
  namespace F = torch::nn::functional;
  // Half of the faces (at least one), for speed: 75 s of the sharp preset here trained at
  // 85 faces/s this way, 79 with every face (lite: 103).
  const int64_t faces = std::max<int64_t>(1, b.target.size(0) / 2);
  const torch::Tensor target = b.target.narrow(0, 0, faces).to(device), weight = b.weight.narrow(0, 0, faces).to(device);
  const int64_t scale = target.size(-1) / net->input_resolution();
  const torch::Tensor shrunk = F::avg_pool2d(target, F::AvgPool2dFuncOptions(scale));
  torch::Tensor drawn;
  {
    model::AutocastScope amp(precision, device.type());
    drawn = net->Enhance(shrunk, identity, window);
  }
  auto cut = [&](const torch::Tensor& t) {
    return t.narrow(2, window.y * scale, window.side * scale).narrow(3, window.x * scale, window.side * scale);
  };
  return DetailLoss(drawn.to(torch::kFloat32), cut(target), cut(weight));
}

// The occlusion network's loss: binary cross-entropy against the visible face (soft at
// the occluders' and the hull's edges), in float32.
torch::Tensor OcclusionLoss(const torch::Tensor& visible, const torch::Tensor& target) {
  // The target too: CUDA's binary_cross_entropy stops the process (a device-side assert) on
  // a target outside [0, 1], and the default recipe's went outside it at its first step on
  // the GPU machine; the CPU's does not check.
  return torch::nn::functional::binary_cross_entropy(visible.to(torch::kFloat32).clamp(1e-6, 1 - 1e-6),
                                                     target.to(torch::kFloat32).clamp(0, 1));
}

void SetLearningRate(torch::optim::Adam& optimizer, double rate) {
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
}

}  // namespace

void RequestStop() { core::StopSignals::Request(); }

void TrainOptions::Check() const {
  if (model_dir.empty()) throw UsageError("train needs a model folder (-m)");
  model::GetPreset(preset);
  if (batch_size < 0 || learning_rate < 0 || iterations < 0 || time_budget_seconds < 0 || save_every <= 0 ||
      preview_every < 0 || keep_backups < 1 || stage_iterations <= 0) {
    throw UsageError("train: batch, rate, iterations, time, save/preview intervals and backups must be positive");
  }
  if (average_decay < 0 || average_decay >= 1) throw UsageError("train: --average must be in [0, 1)");
  if (warmup_steps < 0 || max_grad_norm < 0) throw UsageError("train: --warmup and --clip must be >= 0");
  if (frequency_weight < 0 || identity_weight < 0) throw UsageError("train: loss weights must be >= 0");
  augment.Check();
  if (distributed.launched) distributed.Check();
}

namespace {

// model.json for this run: the folder's (checked against the request) when `resume`, a
// new one otherwise; then this run's faces, recipe and descriptors.
model::ModelInfo PrepareModelInfo(const TrainOptions& options, const std::vector<FaceSet>& faces, bool resume,
                                  int batch, double rate, int ranks) {
  const model::Preset& preset = model::GetPreset(options.preset);
  std::vector<std::string> names;
  for (const FaceSet& set : faces) names.push_back(set.identity);
  model::ModelInfo info;
  if (resume) {
    info = model::LoadModelInfo(options.model_dir);
    if (info.preset != options.preset) {
      throw ModelError(options.model_dir / model::kModelInfoFile,
                       "model was trained with preset '" + info.preset + "', not '" + options.preset +
                           "' (use another folder or --preset " + info.preset + ")");
    }
    if (info.identities != names) {
      std::string have, want;
      for (const auto& n : info.identities) have += (have.empty() ? "" : ",") + n;
      for (const auto& n : names) want += (want.empty() ? "" : ",") + n;
      throw ModelError(options.model_dir / model::kModelInfoFile,
                       "model knows identities [" + have + "], this run gives [" + want + "]");
    }
    if (info.alignment_template != options.alignment_template || std::abs(info.coverage - options.coverage) > 1e-9) {
      throw ModelError(options.model_dir / model::kModelInfoFile,
                       "model was trained on faces aligned differently (template or coverage) from these");
    }
  } else {
    info.preset = preset.name;
    info.resolution = preset.resolution;
    info.identities = names;
    info.stage_iterations = preset.progressive ? options.stage_iterations : 0;
    info.occlusion_mask = options.augment.occluder_share > 0;  // nothing to learn beyond the hull without occluders
    info.alignment_template = options.alignment_template;
    info.coverage = options.coverage;
  }

  info.training_faces.clear();
  for (const FaceSet& set : faces) {
    model::TrainingFaces record{set.identity, {}};
    for (const fs::path& folder : set.folders) record.folders.push_back(folder.string());
    info.training_faces.push_back(std::move(record));
  }
  info.holdout_rule = faces.empty() ? "" : faces.front().holdout_rule;
  auto text = [](double v) { return fmt::format("{:g}", v); };
  info.recipe = {{"preset", preset.name},
                 {"batch", std::to_string(batch)},
                 {"learning_rate", text(rate)},
                 {"precision", model::ToString(options.precision)},
                 {"average", text(options.average_decay)},
                 {"warmup", std::to_string(options.warmup_steps)},
                 {"clip", text(options.max_grad_norm)},
                 {"frequency_weight", text(options.frequency_weight)},
                 {"identity_weight", text(options.identity_weight)},
                 {"occluders", text(options.augment.occluder_share)}};
  if (ranks > 1) info.recipe.emplace_back("ranks", std::to_string(ranks));
  info.descriptors.clear();
  for (const FaceSet& set : faces) {
    if (!set.descriptor) {
      info.descriptors.clear();  // all or none: convert needs every identity's
      break;
    }
    info.descriptors.push_back({set.identity, std::vector<float>(set.descriptor->begin(), set.descriptor->end()),
                                set.descriptor_faces});
  }
  return info;
}

// The last lines of a run: every rank's weights checksum (equal when data parallelism
// kept them identical) and what communication cost.
void LogGroupSummary(ProcessGroup& group, model::FaceAutoencoder& net, double train_seconds) {
  const std::vector<uint64_t> sums = group.AllGather(WeightsChecksum(*net));
  if (group.rank() != 0) return;
  if (group.alone()) {
    spdlog::info("weights checksum {:016x}", sums.front());
    return;
  }
  std::string list;
  for (size_t r = 0; r < sums.size(); ++r) list += fmt::format("{}rank {}: {:016x}", r ? ", " : "", r, sums[r]);
  const bool same = std::all_of(sums.begin(), sums.end(), [&](uint64_t v) { return v == sums.front(); });
  if (same) {
    spdlog::info("weights checksum {} (identical on all {} ranks)", list, sums.size());
  } else {
    spdlog::warn("weights checksum {}: the ranks' weights differ (please report this with --log-file)", list);
  }
  const CommunicationTime& time = group.communication();
  if (time.steps > 0) {
    const double step_ms = 1000 * train_seconds / static_cast<double>(time.steps);
    spdlog::info("all-reduce ({}, {} buckets of {:.1f} MB of gradients, {:.1f} of them started during backward): "
                 "{:.1f} ms of {:.1f} ms per step waiting ({:.1f}%)",
                 group.backend(), group.bucket_count(), group.gradient_bytes() / 1e6,
                 static_cast<double>(time.buckets_started_in_backward) / static_cast<double>(time.steps),
                 time.per_step_ms(), step_ms, 100 * time.per_step_ms() / std::max(1e-9, step_ms));
  }
}

// The identity loss's frozen face-recognition network and each identity's mean
// descriptor (identities x 128); empty without --identity-weight.
struct IdentityTargets {
  IdentityNet net{nullptr};
  torch::Tensor means;
};

IdentityTargets LoadIdentityTargets(const TrainOptions& options, const std::vector<FaceSet>& faces,
                                    const torch::Device& device) {
  IdentityTargets targets;
  if (options.identity_weight <= 0) return targets;
  std::vector<torch::Tensor> means;
  for (const FaceSet& set : faces) {
    if (!set.descriptor) {
      throw UsageError("--identity-weight needs every identity's descriptor, and identity '" + set.identity +
                       "' has none (the face-recognition network was missing when its faces were read)");
    }
    means.push_back(torch::tensor(std::vector<float>(set.descriptor->begin(), set.descriptor->end())));
  }
  targets.means = torch::stack(means).to(device);
  targets.net = LoadIdentityNet();
  targets.net->to(device);
  return targets;
}

struct StepLoss {
  std::vector<double> per_identity;
  torch::Tensor total;  // their sum, to differentiate
};

// One step's forward pass over every identity's batch: its reconstruction loss, the
// occlusion network's (when the model has one) and the identity loss (when asked for).
StepLoss ForwardStep(model::FaceAutoencoder& net, const Batch& data, const std::optional<model::DetailWindow>& window,
                     IdentityTargets& identity, const TrainOptions& options, double coverage,
                     const torch::Device& device) {
  StepLoss step;
  for (size_t i = 0; i < data.identities.size(); ++i) {
    const IdentityBatch& b = data.identities[i];
    const int other = static_cast<int>((i + 1) % data.identities.size());
    const int64_t swapped_faces = std::min<int64_t>(kIdentityLossFaces, b.input.size(0));
    model::Decoded out, swapped;
    torch::Tensor visible;
    {
      model::AutocastScope amp(options.precision, device.type());
      const torch::Tensor code = net->Encode(b.input.to(device));
      if (net->has_occlusion()) visible = net->VisibleFace(b.occluded_input.to(device));
      // The detail stage trains on its own (DetailStageLoss): the decoders draw without it.
      out = net->Decode(code, static_cast<int>(i), false);
      if (identity.net) swapped = net->Decode(code.narrow(0, 0, swapped_faces), other, false);
    }
    torch::Tensor loss = ReconstructionLoss(out, b, options.frequency_weight, device);
    if (window) loss = loss + DetailStageLoss(net, static_cast<int>(i), b, *window, options.precision, device);
    if (visible.defined()) loss = loss + OcclusionLoss(visible, b.input_mask.to(device));
    if (identity.net) {
      const torch::Tensor described = identity.net->Describe(ChipsFromFaces(swapped.rgb.to(torch::kFloat32), coverage));
      loss = loss + options.identity_weight * (described - identity.means[other]).norm(2, 1).mean();
    }
    step.per_identity.push_back(loss.item<double>());
    step.total = step.total.defined() ? step.total + loss : loss;
  }
  return step;
}

// Judges each step's gradient before the optimiser takes it. fp16 gradients underflow
// unless the loss is scaled up first (dynamic loss scaling, Micikevicius et al. 2018,
// "Mixed precision training": start high, halve on every overflow, double after
// kLossScaleGrowthSteps steps without one). A non-finite loss or gradient is skipped,
// never stepped on (it would poison every weight), and halves the learning rate; after
// kMaxBadSteps of them in a row the run has diverged.
class StepGuard {
 public:
  enum class Verdict { kStep, kOverflow, kSkip, kDiverged };

  StepGuard(model::Precision precision, double rate)
      : loss_scale_(precision == model::Precision::kFp16 ? kInitialLossScale : 1.0), rate_(rate), rate_max_(rate) {}

  double loss_scale() const { return loss_scale_; }
  double rate_max() const { return rate_max_; }  // the learning rate after warm-up
  int bad_in_a_row() const { return bad_in_a_row_; }

  Verdict Judge(bool losses_finite, double gradient_norm) {
    if (losses_finite && !std::isfinite(gradient_norm) && loss_scale_ > 1.0) {
      loss_scale_ /= 2;  // an overflow of the scaled gradient, not a divergence
      good_scaled_steps_ = 0;
      return Verdict::kOverflow;
    }
    if (!losses_finite || !std::isfinite(gradient_norm)) {
      if (++bad_in_a_row_ >= kMaxBadSteps) return Verdict::kDiverged;
      rate_max_ = std::max(rate_ / 16, rate_max_ * 0.5);
      return Verdict::kSkip;
    }
    bad_in_a_row_ = 0;
    if (loss_scale_ != 1.0 && ++good_scaled_steps_ % kLossScaleGrowthSteps == 0) loss_scale_ *= 2;
    return Verdict::kStep;
  }

 private:
  double loss_scale_;
  double rate_, rate_max_;
  int bad_in_a_row_ = 0;
  int64_t good_scaled_steps_ = 0;
};

[[noreturn]] void ThrowDiverged(const TrainOptions& options, bool writer, int bad_steps, int64_t iteration,
                                int64_t last_saved) {
  if (!writer || fs::exists(options.model_dir / model::kWeightsFile)) {
    throw DivergedError(options.model_dir, std::to_string(bad_steps) +
                                               " steps in a row had a non-finite loss or gradient at iteration " +
                                               std::to_string(iteration) + "; stopped, the last save (iteration " +
                                               std::to_string(last_saved) + ") is kept. Try a lower --lr");
  }
  throw DivergedError(options.model_dir, "training diverged before its first save (non-finite loss at iteration " +
                                             std::to_string(iteration) + "); nothing was saved. Try a lower --lr");
}

// A resumed run loads the folder's newest intact weights, optimiser state and average
// (an average missing from an older model starts again from the weights); a new run
// starts its average from the first random weights.
void LoadOrStart(const fs::path& model_dir, bool resume, model::FaceAutoencoder& net, torch::optim::Adam& optimizer,
                 model::ModelInfo& info, model::FaceAutoencoder& average, std::optional<WeightAverage>& averager,
                 const torch::Device& device) {
  if (!resume) {
    if (averager) averager->Reset();
    return;
  }
  const model::LoadedFrom from =
      model::LoadCheckpoint(model_dir, net, &optimizer, info, model::LoadWeights::kLive, average ? &average : nullptr);
  net->to(device);
  if (average) average->to(device);
  // The checkpoint is read onto the CPU; Adam's moments must follow the weights (on a GPU,
  // the first step after a resume would otherwise mix devices).
  for (auto& entry : optimizer.state()) {
    auto& state = static_cast<torch::optim::AdamParamState&>(*entry.second);
    state.exp_avg(state.exp_avg().to(device));
    state.exp_avg_sq(state.exp_avg_sq().to(device));
    if (state.max_exp_avg_sq().defined()) state.max_exp_avg_sq(state.max_exp_avg_sq().to(device));
  }
  if (averager && !from.has_average) averager->Reset();
  spdlog::info("{}: resuming at iteration {}{}", model_dir.string(), from.iteration, from.backup ? " (from a backup)" : "");
}

// The step's resolution stage (progressive presets) and, during warm-up, its learning rate.
void SetStageAndRate(model::FaceAutoencoder& net, torch::optim::Adam& optimizer, const model::Preset& preset,
                     const TrainOptions& options, const model::ModelInfo& info, double rate_max, bool writer) {
  const model::Stage stage = model::StageAt(preset, info.iteration, info.stage_iterations);
  if (stage.resolution != net->current_resolution() && writer) {
    spdlog::info("progressive training: growing to {} px at iteration {}", stage.resolution, info.iteration);
  }
  net->SetStage(stage.resolution, stage.alpha);
  if (options.warmup_steps > 0 && info.iteration <= options.warmup_steps) {
    SetLearningRate(optimizer, rate_max * std::min(1.0, (info.iteration + 1.0) / options.warmup_steps));
  }
}

// The gradients scaled back from the loss scale and clipped to `max_norm` (0: not
// clipped); returns their norm before clipping (non-finite after an overflow).
double UnscaleAndClip(model::FaceAutoencoder& net, double loss_scale, double max_norm) {
  if (loss_scale != 1.0) {
    for (auto& p : net->parameters()) {
      if (p.grad().defined()) p.grad().div_(loss_scale);
    }
  }
  return torch::nn::utils::clip_grad_norm_(net->parameters(),
                                           max_norm > 0 ? max_norm : std::numeric_limits<double>::infinity());
}

// A checkpoint (rank 0), then the quality watch's measurement and, when due, a preview.
void SaveAndRecord(const TrainOptions& options, const std::vector<FaceSet>& faces, model::FaceAutoencoder& net,
                   torch::optim::Adam& optimizer, model::FaceAutoencoder& average, model::ModelInfo& info,
                   RunRecorder& recorder, bool final_save) {
  model::SaveCheckpoint(options.model_dir, net, &optimizer, info, options.keep_backups, average ? &average : nullptr);
  if (average) average->SetStage(net->current_resolution(), net->current_alpha());
  model::FaceAutoencoder& drawing = average ? average : net;
  recorder.MeasureQuality(drawing, info.iteration);
  if (final_save || (options.preview_every > 0 && info.iteration % options.preview_every == 0)) {
    recorder.WritePreview(info.iteration, PreviewGrid(drawing, faces, 4));
  }
}

}  // namespace

namespace {

TrainReport TrainOnDevice(const TrainOptions& options, const std::vector<FaceSet>& faces) {
  options.Check();
  if (faces.size() < 2) throw UsageError("training needs faces of at least two identities");
  for (const FaceSet& set : faces) {
    if (set.faces.empty()) throw InputError(set.identity, "no faces to train on");
  }
  const model::Preset& preset = model::GetPreset(options.preset);
  const int batch = options.batch_size > 0 ? options.batch_size : preset.default_batch;
  const double rate = options.learning_rate > 0 ? options.learning_rate : preset.default_learning_rate;
  const int cpu_threads = model::SetCpuThreads(options.threads);
  const model::DeviceKind device_kind = model::ResolveDevice(options.device);
  const torch::Device device = device_kind == model::DeviceKind::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  model::CheckPrecision(options.precision, device_kind);
  torch::manual_seed(options.seed);

  // Data parallel: rank 0 alone owns the model folder; the others train beside it.
  ProcessGroup group = options.distributed.launched ? ProcessGroup(options.distributed, device) : ProcessGroup();
  const bool writer = group.rank() == 0;

  // Create or resume.
  if (writer) core::EnsureDirectory(options.model_dir);
  const bool resume = writer && fs::exists(options.model_dir / model::kModelInfoFile);
  model::ModelInfo info = PrepareModelInfo(options, faces, resume, batch, rate, group.size());

  model::FaceAutoencoder net = model::CreateNetwork(info);
  net->to(device);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(rate).betas({0.5, 0.999}));
  // The moving average of the weights: what previews, convert and eval draw with.
  model::FaceAutoencoder average{nullptr};
  std::optional<WeightAverage> averager;
  if (options.average_decay > 0 && writer) {
    average = model::CreateNetwork(info);
    average->to(device);
    average->eval();
    averager.emplace(net, average, options.average_decay);
  }
  TrainReport report;
  report.resumed = resume;
  LoadOrStart(options.model_dir, resume, net, optimizer, info, average, averager, device);
  if (writer) model::RemoveSaveLeftovers(options.model_dir, info);  // of runs killed while saving
  // Every rank starts from rank 0's weights, optimiser state and step.
  std::vector<int64_t> shared_numbers = {info.iteration, info.stage_iterations};
  group.BroadcastState(*net, optimizer, shared_numbers);
  info.iteration = shared_numbers[0];
  info.stage_iterations = shared_numbers[1];
  group.WatchGradients(net->parameters());
  if (!group.alone() && writer) {
    spdlog::info("data parallel on {} ranks ({}): batch {} per identity on each rank, {} per identity in all",
                 group.size(), group.backend(), batch, batch * group.size());
  }
  IdentityTargets identity = LoadIdentityTargets(options, faces, device);
  SetLearningRate(optimizer, rate);
  report.start_iteration = info.iteration;
  if (options.iterations > 0 && info.iteration >= options.iterations) {
    if (writer) {
      spdlog::info("{}: already at iteration {} (target {}); nothing to do", options.model_dir.string(), info.iteration,
                   options.iterations);
    }
    report.end_iteration = info.iteration;
    return report;
  }

  RunRecorder recorder(options.model_dir, faces, writer, options.iterations > 0 ? options.iterations - info.iteration : 0);
  core::StopSignals signals;  // Ctrl-C: finish the step, save, return
  // On a GPU the step is quicker than one thread's augmentation: the CPU threads augment
  // together. On a CPU they run the step, and the loader keeps one thread beside it.
  Loader loader(faces, preset, info.stage_iterations, batch, options.augment, options.seed, info.iteration,
                static_cast<int64_t>(group.rank()) * batch, device.is_cuda() ? cpu_threads : 1);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  int64_t samples = 0;  // faces trained on, all ranks together
  StepGuard guard(options.precision, rate);
  int64_t last_saved = info.iteration;
  int64_t nan_injected = 0;

  net->train();
  while (options.iterations == 0 || info.iteration < options.iterations) {
    Batch data = loader.Next();
    SetStageAndRate(net, optimizer, preset, options, info, guard.rate_max(), writer);
    optimizer.zero_grad();
    StepLoss step = ForwardStep(net, data, DetailWindowAt(preset, options.seed, info.iteration), identity, options,
                                info.coverage, device);
    if (options.nan_at >= 0 && info.iteration >= options.nan_at && nan_injected < options.nan_steps) {
      ++nan_injected;
      step.total = step.total * std::numeric_limits<double>::quiet_NaN();  // tests: a fault injected on purpose
      for (double& l : step.per_identity) l = std::numeric_limits<double>::quiet_NaN();
    }
    // Backward runs even on a non-finite loss: every rank takes part in the gradients'
    // all-reduce, and the averaged gradient is then non-finite on all of them, so all
    // skip the step together.
    const double loss_scale = guard.loss_scale();
    (loss_scale != 1.0 ? step.total * loss_scale : step.total).backward();
    group.AverageGradients();
    const StepAgreement agreed =
        group.Agree(step.per_identity, core::StopSignals::requested(),
                    options.time_budget_seconds > 0 && elapsed() >= options.time_budget_seconds);
    const std::vector<double>& losses = agreed.losses;
    const double norm = UnscaleAndClip(net, loss_scale, options.max_grad_norm);
    const bool losses_finite = std::all_of(losses.begin(), losses.end(), [](double l) { return std::isfinite(l); });

    switch (guard.Judge(losses_finite, norm)) {
      case StepGuard::Verdict::kOverflow:
        spdlog::debug("iteration {}: fp16 gradient overflow, loss scale now {:g}", info.iteration, guard.loss_scale());
        break;
      case StepGuard::Verdict::kDiverged:
        ++report.skipped_steps;
        recorder.Finish();
        ThrowDiverged(options, writer, guard.bad_in_a_row(), info.iteration, last_saved);
      case StepGuard::Verdict::kSkip:
        ++report.skipped_steps;
        SetLearningRate(optimizer, guard.rate_max());
        spdlog::warn("iteration {}: non-finite loss or gradient, step skipped; learning rate now {:.3g}", info.iteration,
                     guard.rate_max());
        break;
      case StepGuard::Verdict::kStep:
        optimizer.step();
        ++info.iteration;
        if (averager) averager->Update(info.iteration);
        samples += batch * static_cast<int64_t>(faces.size()) * group.size();
        recorder.Record(info.iteration, losses, samples / std::max(1e-9, elapsed()));
        if (writer && info.iteration % options.save_every == 0) {
          SaveAndRecord(options, faces, net, optimizer, average, info, recorder, false);
          last_saved = info.iteration;
        }
        break;
    }
    if (agreed.stop()) {
      report.interrupted = agreed.stop_signal;
      break;
    }
  }
  recorder.Finish();
  const double train_seconds = elapsed();
  report.samples_per_second = samples / std::max(1e-9, train_seconds);  // training only, not the final save
  LogGroupSummary(group, net, train_seconds);
  report.end_iteration = info.iteration;
  report.first_loss = recorder.first_loss();
  report.last_loss = recorder.RecentLoss();
  if (!writer) return report;
  if (report.interrupted) spdlog::warn("stop requested: saving at iteration {}", info.iteration);
  SaveAndRecord(options, faces, net, optimizer, average, info, recorder, true);
  spdlog::info("{}: saved at iteration {} ({:.1f} faces/s)", options.model_dir.string(), info.iteration,
               report.samples_per_second);
  return report;
}

}  // namespace

TrainReport Train(const TrainOptions& options, const std::vector<FaceSet>& faces) {
  try {
    return TrainOnDevice(options, faces);
  } catch (const c10::Error& e) {
    // The model folder holds the last save: nothing written half. LibTorch's message is
    // many lines of allocator figures; its first line says how much was asked for. (Its
    // caching allocator throws OutOfMemoryError; without the cache, a plain CUDA error.)
    const std::string what = e.what();
    if (!dynamic_cast<const c10::OutOfMemoryError*>(&e) && what.find("out of memory") == std::string::npos) throw;
    const int batch = options.batch_size > 0 ? options.batch_size : model::GetPreset(options.preset).default_batch;
    throw DeviceError("out of GPU memory training preset '" + options.preset + "' at --batch " +
                      std::to_string(batch) + " (" + what.substr(0, what.find('\n')) + "): try --batch " +
                      std::to_string(std::max(1, batch / 2)) + " or a smaller --preset");
  }
}

}  // namespace faceswap::train
