// `faceswap train`: faces of two or more people in, a model folder out (or resumed).

#include <spdlog/spdlog.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "faceswap/cli/commands.h"
#include "faceswap/core/duration.h"
#include "faceswap/core/folder_lock.h"
#include "faceswap/core/error.h"
#include "faceswap/model/preset.h"
#include "faceswap/core/log.h"
#include "faceswap/train/distributed.h"
#include "faceswap/train/face_cache.h"
#include "faceswap/train/local_launcher.h"
#include "faceswap/train/trainer.h"
#include "precision_argument.h"

namespace faceswap::cli {
namespace {

struct TrainArguments {
  std::vector<std::filesystem::path> a, b;
  std::vector<std::string> identities;  // NAME=PATH, repeatable
  std::string time;
  std::optional<std::filesystem::path> landmarks;
  std::string face_select = "all";
  PrecisionArgument precision;
  int nproc = 0;                     // --nproc: ranks to start on this machine
  std::string rank_timeout = "5m";
  train::TrainOptions options;
};

std::vector<train::IdentitySource> Sources(const TrainArguments& args) {
  std::vector<train::IdentitySource> sources;
  auto add = [&](const std::string& name, const std::filesystem::path& path) {
    for (auto& s : sources) {
      if (s.name == name) {
        s.inputs.push_back(path);
        return;
      }
    }
    sources.push_back({name, {path}});
  };
  for (const auto& p : args.a) add("a", p);
  for (const auto& p : args.b) add("b", p);
  for (const auto& text : args.identities) {
    const auto [name, path] = train::ParseIdentityArgument(text);
    add(name, path);
  }
  if (sources.size() < 2) {
    throw UsageError("train needs faces of two people at least: --a PATH --b PATH, or --identity NAME=PATH twice");
  }
  return sources;
}

void RunTrain(TrainArguments& args, const GlobalOptions& global) {
  train::TrainOptions& options = args.options;
  options.device = model::ParseDeviceKind(global.device);
  // Before any faces are extracted or read: a precision the device cannot run fails at once.
  options.precision = args.precision.Resolve(options.device);
  options.threads = global.threads;
  if (!args.time.empty()) options.time_budget_seconds = core::ParseDuration(args.time);
  // One rank of a data-parallel job (torchrun, srun, or a rank that --nproc started)?
  train::DistributedOptions& distributed = options.distributed;
  distributed = train::ReadDistributedEnvironment();
  distributed.timeout_seconds = core::ParseDuration(args.rank_timeout);
  const bool our_rank = train::StartedByLocalLauncher();
  const bool launcher = args.nproc > 1 && !our_rank;
  if (launcher && distributed.launched) {
    throw UsageError("--nproc starts its own ranks, but this process already is rank " +
                     std::to_string(distributed.rank) + " of a launched job (RANK/SLURM_PROCID are set); drop --nproc");
  }
  if (distributed.launched) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    options.threads = train::ThreadsPerRank(our_rank ? 0 : global.threads, distributed, cores);
    if (distributed.rank != 0) {
      // Rank 0 speaks for the run (the others' warnings would repeat its own); the others
      // only report their errors, marked with their rank.
      core::SetupLogging(core::Verbosity::kQuiet, std::nullopt);
      spdlog::set_level(spdlog::level::err);
      spdlog::set_pattern(fmt::format("%^[%l]%$ rank {}: %v", distributed.rank));
    }
  }
  if (options.iterations == 0 && options.time_budget_seconds == 0 && distributed.rank == 0) {
    spdlog::info("no --iterations or --time given: training until Ctrl-C (the model is saved then)");
  }
  options.Check();
  const auto sources = Sources(args);
  // One writer per model folder: a second train on it stops here (exit 5), before reading
  // faces. In a data-parallel run the launcher of --nproc, or else rank 0, holds it.
  std::optional<core::FolderLock> lock;
  if (!our_rank && distributed.rank == 0) lock.emplace(options.model_dir, "faceswap train", ExitCode::kModel);
  if (launcher) {
    train::RunLocalRanks({args.nproc, global.threads, distributed.timeout_seconds});
    return;
  }

  train::FaceCacheOptions cache;
  cache.cache_dir = options.model_dir / "cache";
  cache.threads = options.threads;
  cache.landmark_model = args.landmarks;
  cache.face_select = args.face_select;
  const std::vector<train::FaceSet> faces = train::LoadTrainingFaces(sources, cache);
  for (const auto& set : faces) {
    if (distributed.rank != 0) break;
    spdlog::info("identity {}: {} training faces{}", set.identity, set.faces.size(),
                 set.descriptor ? fmt::format(" (identity descriptor from {} described faces)", set.descriptor_faces) : "");
  }
  options.alignment_template = faces.front().alignment_template;
  options.coverage = faces.front().coverage;

  const train::TrainReport report = train::Train(options, faces);
  if (distributed.rank != 0) return;
  std::string losses;
  for (size_t i = 0; i < report.last_loss.size(); ++i) {
    losses += fmt::format("{}{} {:.4f}", i ? ", " : "", faces[i].identity, report.last_loss[i]);
  }
  spdlog::info("iterations {} -> {}{}; loss {}; preview: {}", report.start_iteration, report.end_iteration,
               report.interrupted ? " (stopped by signal)" : "", losses.empty() ? "-" : losses,
               (options.model_dir / "preview.png").string());
}

}  // namespace

Command AddTrainCommand(CLI::App& app, const GlobalOptions& global) {
  auto args = std::make_shared<TrainArguments>();
  train::TrainOptions& o = args->options;
  // The command's default recipe, chosen with scripts/bench_quality.sh (README, "Measuring
  // quality"): the weight average on, bf16 where the CPU has it (--precision auto).
  o.average_decay = 0.999;
  CLI::App* sub = app.add_subcommand("train", "Teach a model the faces of two or more people (resumes an existing model)");
  sub->footer(
      "Inputs may be videos, images, folders of either, or `faceswap extract` output folders.\n"
      "Faces are extracted once into MODEL/cache. Ctrl-C finishes the step, saves and exits 0;\n"
      "running the same command again resumes. MODEL/preview.png shows each identity's faces\n"
      "as reconstructed and as swapped into the others; MODEL/loss.csv and loss.png the history,\n"
      "MODEL/quality.csv the held-out swaps' identity and sharpness at every save.\n"
      "Several GPUs or machines: --nproc N here, or start it with torchrun or srun (README).");
  sub->add_option("--a", args->a, "Videos, images or folders of person A")->check(CLI::ExistingPath);
  sub->add_option("--b", args->b, "Videos, images or folders of person B")->check(CLI::ExistingPath);
  sub->add_option("--identity", args->identities, "NAME=PATH, repeatable: more identities (or more inputs for one)");
  sub->add_option("-m,--model", o.model_dir, "Model folder (created, or resumed when it exists)")->required();
  sub->add_option("--preset", o.preset, "Network: " + model::PresetNames())
      ->check(CLI::IsMember([] {
        std::vector<std::string> names;
        for (const model::Preset& p : model::AllPresets()) names.push_back(p.name);
        return names;
      }()))
      ->capture_default_str();
  sub->add_option("--batch", o.batch_size, "Faces per identity per step and rank (0: the preset's default)")
      ->capture_default_str();
  sub->add_option("--lr", o.learning_rate, "Adam learning rate (0: the preset's default)");
  sub->add_option("--iterations", o.iterations, "Stop when the model has taken this many steps in total (0: no limit)")
      ->capture_default_str();
  sub->add_option("--time", args->time, "Stop after this long in this run, e.g. 10m, 1h30m");
  sub->add_option("--save-every", o.save_every, "Steps between saves")->capture_default_str();
  sub->add_option("--preview-every", o.preview_every, "Steps between preview images (0: only at the end)")
      ->capture_default_str();
  sub->add_option("--keep-backups", o.keep_backups, "Saved weights kept in MODEL/backups")->capture_default_str();
  sub->add_option("--stage-iterations", o.stage_iterations, "hd preset: steps per resolution stage (32, 64, 128 px)")
      ->capture_default_str();
  sub->add_option("--seed", o.seed, "Random seed for augmentation")->capture_default_str();
  sub->add_option("--average", o.average_decay,
                  "Keep a moving average of the weights with this decay (e.g. 0.999) and draw previews, convert "
                  "and eval with it (0: off)")
      ->check(CLI::Range(0.0, 0.99999))
      ->capture_default_str();
  sub->add_option("--frequency-weight", o.frequency_weight, "Weight of the focal frequency loss (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--identity-weight", o.identity_weight,
                  "Weight of the identity loss (dlib's face-recognition network on swapped faces; 0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--occluders", o.augment.occluder_share,
                  "Share of training faces with a synthetic occluder (hand, bar, hair, textured shape) pasted over "
                  "them, which an occlusion network learns to leave out of the mask (0: no occlusion network; "
                  "convert still finds what covers a face by how well the model redraws it)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  sub->add_option("--warmup", o.warmup_steps, "Ramp the learning rate up over this many first steps")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--clip", o.max_grad_norm, "Clip the gradient's norm to this (0: off)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  // Fault injection for the tests of the non-finite-loss guard; not for users.
  sub->add_option("--debug-nan-at", o.nan_at)->group("");
  sub->add_option("--debug-nan-steps", o.nan_steps)->group("");
  args->precision.AddTo(sub);
  sub->add_option("--nproc", args->nproc,
                  "Train data-parallel with N ranks on this machine (child processes; --threads is split "
                  "between them, --batch stays per rank; with CUDA, one GPU each)")
      ->check(CLI::Range(1, 1024));
  sub->add_option("--rank-timeout", args->rank_timeout,
                  "Data-parallel runs: how long a rank waits for the others at a step before giving up (exit 9); "
                  "longer than rank 0's slowest save")
      ->capture_default_str();
  sub->add_option("--landmarks", args->landmarks, "68-point landmark model used when extracting faces");
  sub->add_option("--face-select", args->face_select,
                  "Faces taken from raw inputs: all | largest | ref:IMAGE (use largest or ref: when other people appear)")
      ->capture_default_str();
  return {sub, [args, &global] { RunTrain(*args, global); }};
}

}  // namespace faceswap::cli
