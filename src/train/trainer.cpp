#include "faceswap/train/trainer.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <numeric>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/job_queue.h"
#include "faceswap/core/progress.h"
#include "faceswap/core/stop_signal.h"
#include "faceswap/model/checkpoint.h"
#include "faceswap/model/preset.h"
#include "faceswap/model/tensor_image.h"
#include "faceswap/train/loss.h"

namespace fs = std::filesystem;

namespace faceswap::train {
namespace {

struct IdentityBatch {
  torch::Tensor input, target, weight, mask;
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

// Augments batches on its own thread, one iteration ahead of the optimiser.
class Loader {
 public:
  Loader(const std::vector<FaceSet>& faces, const model::Preset& preset, int64_t stage_iterations, int batch,
         const AugmentOptions& augment, uint64_t seed, int64_t first_iteration)
      : faces_(faces), preset_(preset), stage_iterations_(stage_iterations), batch_(batch), augment_(augment),
        rng_(seed * 7919 + static_cast<uint64_t>(first_iteration)), next_(first_iteration), queue_(2) {
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
        for (const FaceSet& set : faces_) {
          std::vector<cv::Mat> inputs, targets, weights, masks;
          for (int i = 0; i < batch_; ++i) {
            const FaceSample& face = set.faces[static_cast<size_t>(rng_.uniform(0, static_cast<int>(set.faces.size())))];
            TrainingPair pair = MakePair(face, batch.resolution, augment_, rng_);
            inputs.push_back(std::move(pair.input));
            targets.push_back(std::move(pair.target));
            weights.push_back(std::move(pair.weight));
            masks.push_back(std::move(pair.mask));
          }
          batch.identities.push_back({model::ImagesToTensor(inputs, batch.resolution),
                                      model::ImagesToTensor(targets, batch.resolution), MasksToTensor(weights),
                                      MasksToTensor(masks)});
        }
        if (!queue_.Push(std::move(batch))) return;
      }
    } catch (const std::exception& e) {
      error_ = e.what();
      queue_.Stop();
    }
  }

  const std::vector<FaceSet>& faces_;
  const model::Preset& preset_;
  int64_t stage_iterations_;
  int batch_;
  AugmentOptions augment_;
  cv::RNG rng_;
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
    const torch::Tensor input = model::ImagesToTensor(originals, side).to(device);
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

void WritePng(const fs::path& path, const cv::Mat& image) {
  std::vector<uchar> png;
  if (!cv::imencode(".png", image, png)) throw OutputError(path, "cannot encode PNG");
  core::WriteFileAtomically(path, std::string(png.begin(), png.end()));
}

// A small line chart of loss.csv: one colour per identity, log-free, newest at the right.
cv::Mat LossPlot(const std::vector<std::vector<double>>& history, const std::vector<std::string>& names) {
  const int width = 640, height = 320, margin = 30;
  cv::Mat plot(height, width, CV_8UC3, cv::Scalar(255, 255, 255));
  if (history.empty()) return plot;
  double top = 0;
  for (const auto& row : history) {
    for (double v : row) top = std::max(top, v);
  }
  const cv::Scalar colours[] = {{200, 80, 30}, {30, 120, 220}, {60, 170, 60}, {150, 50, 150}};
  for (size_t id = 0; id < names.size(); ++id) {
    std::vector<cv::Point> line;
    for (size_t i = 0; i < history.size(); ++i) {
      const double x = margin + (width - 2 * margin) * static_cast<double>(i) / std::max<size_t>(1, history.size() - 1);
      const double y = height - margin - (height - 2 * margin) * history[i][id] / std::max(top, 1e-9);
      line.emplace_back(cvRound(x), cvRound(y));
    }
    cv::polylines(plot, line, false, colours[id % 4], 1, cv::LINE_AA);
    cv::putText(plot, names[id], cv::Point(margin + 80 * static_cast<int>(id), 20), cv::FONT_HERSHEY_SIMPLEX, 0.5,
                colours[id % 4], 1);
  }
  cv::rectangle(plot, cv::Point(margin, margin), cv::Point(width - margin, height - margin), cv::Scalar(0, 0, 0));
  return plot;
}

std::vector<std::vector<double>> ReadLossHistory(const fs::path& csv, size_t identities) {
  std::vector<std::vector<double>> rows;
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream s(line);
    std::string cell;
    std::getline(s, cell, ',');  // iteration
    for (size_t i = 0; i < identities && std::getline(s, cell, ','); ++i) row.push_back(std::stod(cell));
    if (row.size() == identities) rows.push_back(row);
  }
  return rows;
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
  augment.Check();
}

TrainReport Train(const TrainOptions& options, const std::vector<FaceSet>& faces) {
  options.Check();
  if (faces.size() < 2) throw UsageError("training needs faces of at least two identities");
  for (const FaceSet& set : faces) {
    if (set.faces.empty()) throw InputError(set.identity, "no faces to train on");
  }
  const model::Preset& preset = model::GetPreset(options.preset);
  const int batch = options.batch_size > 0 ? options.batch_size : preset.default_batch;
  const double rate = options.learning_rate > 0 ? options.learning_rate : preset.default_learning_rate;
  model::SetCpuThreads(options.threads);
  const model::DeviceKind device_kind = model::ResolveDevice(options.device);
  const torch::Device device = device_kind == model::DeviceKind::kCuda ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  torch::manual_seed(options.seed);

  std::vector<std::string> names;
  for (const FaceSet& set : faces) names.push_back(set.identity);

  // Create or resume.
  core::EnsureDirectory(options.model_dir);
  const bool resume = fs::exists(options.model_dir / model::kModelInfoFile);
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
  info.descriptors.clear();
  for (const FaceSet& set : faces) {
    if (!set.descriptor) {
      info.descriptors.clear();  // all or none: convert needs every identity's
      break;
    }
    info.descriptors.push_back({set.identity, std::vector<float>(set.descriptor->begin(), set.descriptor->end()),
                                set.descriptor_faces});
  }

  model::FaceAutoencoder net = model::CreateNetwork(info);
  net->to(device);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(rate).betas({0.5, 0.999}));
  TrainReport report;
  if (resume) {
    const model::LoadedFrom from = model::LoadCheckpoint(options.model_dir, net, &optimizer, info);
    net->to(device);
    report.resumed = true;
    spdlog::info("{}: resuming at iteration {}{}", options.model_dir.string(), from.iteration,
                 from.backup ? " (from a backup)" : "");
  }
  for (auto& group : optimizer.param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(rate);
  report.start_iteration = info.iteration;
  if (options.iterations > 0 && info.iteration >= options.iterations) {
    spdlog::info("{}: already at iteration {} (target {}); nothing to do", options.model_dir.string(), info.iteration,
                 options.iterations);
    report.end_iteration = info.iteration;
    return report;
  }

  const fs::path csv_path = options.model_dir / "loss.csv";
  const bool new_csv = !fs::exists(csv_path);
  std::ofstream csv(csv_path, std::ios::app);
  if (!csv) throw OutputError(csv_path, "cannot write loss history");
  if (new_csv) {
    csv << "iteration";
    for (const auto& n : names) csv << ",loss_" << n;
    csv << ",samples_per_second\n";
  }
  core::EnsureDirectory(options.model_dir / "previews");

  core::StopSignals signals;  // Ctrl-C: finish the step, save, return
  Loader loader(faces, preset, info.stage_iterations, batch, options.augment, options.seed, info.iteration);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  const int64_t run_total = options.iterations > 0 ? options.iterations - info.iteration : 0;
  core::Progress progress("train", run_total, "it");
  std::vector<std::vector<double>> recent;  // last losses, for the report
  int64_t samples = 0;

  auto save = [&](bool final_save) {
    model::SaveCheckpoint(options.model_dir, net, &optimizer, info, options.keep_backups);
    csv.flush();
    if (final_save || (options.preview_every > 0 && info.iteration % options.preview_every == 0)) {
      const cv::Mat grid = PreviewGrid(net, faces, 4);
      char name[64];
      std::snprintf(name, sizeof name, "preview-%08lld.png", static_cast<long long>(info.iteration));
      WritePng(options.model_dir / "previews" / name, grid);
      WritePng(options.model_dir / "preview.png", grid);
      WritePng(options.model_dir / "loss.png", LossPlot(ReadLossHistory(csv_path, names.size()), names));
    }
  };

  net->train();
  while (true) {
    if (options.iterations > 0 && info.iteration >= options.iterations) break;
    if (options.time_budget_seconds > 0 && elapsed() >= options.time_budget_seconds) break;
    if (core::StopSignals::requested()) {
      report.interrupted = true;
      break;
    }
    Batch data = loader.Next();
    const model::Stage stage = model::StageAt(preset, info.iteration, info.stage_iterations);
    if (stage.resolution != net->current_resolution()) {
      spdlog::info("progressive training: growing to {} px at iteration {}", stage.resolution, info.iteration);
    }
    net->SetStage(stage.resolution, stage.alpha);

    optimizer.zero_grad();
    std::vector<double> losses;
    torch::Tensor total;
    for (size_t i = 0; i < data.identities.size(); ++i) {
      const IdentityBatch& b = data.identities[i];
      const model::Decoded out = net->Forward(b.input.to(device), static_cast<int>(i));
      torch::Tensor loss = FaceLoss(out.rgb, b.target.to(device), b.weight.to(device));
      if (out.mask.defined()) loss = loss + 0.5 * (out.mask - b.mask.to(device)).abs().mean();
      losses.push_back(loss.item<double>());
      total = total.defined() ? total + loss : loss;
    }
    total.backward();
    optimizer.step();
    ++info.iteration;
    samples += batch * static_cast<int64_t>(faces.size());

    if (report.first_loss.empty()) report.first_loss = losses;
    recent.push_back(losses);
    if (recent.size() > 20) recent.erase(recent.begin());
    const double rate_now = samples / std::max(1e-9, elapsed());
    csv << info.iteration;
    for (double l : losses) csv << "," << l;
    csv << "," << rate_now << "\n";
    csv.flush();  // the history is readable while training runs (plots, scripts, tests)

    std::string status;
    for (size_t i = 0; i < losses.size(); ++i) {
      char text[48];
      std::snprintf(text, sizeof text, "%s %.4f ", names[i].c_str(), losses[i]);
      status += text;
    }
    char tail[48];
    std::snprintf(tail, sizeof tail, "| %.1f faces/s", rate_now);
    progress.SetStatus(status + tail);
    progress.Advance();

    if (info.iteration % options.save_every == 0) save(false);
  }
  progress.Finish();
  report.samples_per_second = samples / std::max(1e-9, elapsed());  // training only, not the final save
  if (report.interrupted) spdlog::warn("stop requested: saving at iteration {}", info.iteration);
  save(true);

  report.end_iteration = info.iteration;
  if (!recent.empty()) {
    report.last_loss.assign(recent.front().size(), 0.0);
    for (const auto& row : recent) {
      for (size_t i = 0; i < row.size(); ++i) report.last_loss[i] += row[i] / static_cast<double>(recent.size());
    }
  }
  spdlog::info("{}: saved at iteration {} ({:.1f} faces/s)", options.model_dir.string(), info.iteration,
               report.samples_per_second);
  return report;
}

}  // namespace faceswap::train
