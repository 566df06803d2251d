// Faults users hit, on the real faceswap binary (label slow): SIGKILL at random points of
// train's saves, readers loading a model while train replaces it, and a disk that fills
// during train's, convert's and extract's writes. Each must leave the last (or previous)
// good state loadable, fail with a clear one-line error, and leave no partial file under
// a final name.
//
// A full disk is a file size limit on the child (prlimit --fsize, SIGXFSZ ignored): a
// write past it fails with EFBIG as one on a full disk fails with ENOSPC, for root and
// for other users alike, with nothing to mount.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <fstream>
#include <functional>
#include <mutex>
#include <random>
#include <thread>

#include "e2e_fixtures.h"
#include "faceswap/core/csv_log.h"
#include "faceswap/core/file_util.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/model/checkpoint.h"
#include "test_support.h"

extern char** environ;

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace faceswap::test {
namespace {

double SecondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// `faceswap extract` of two shared photos per person (HOG only: a few seconds): tiny
// training sets, so that a train process starts fast.
fs::path TinyFaces(const std::string& who) {
  return CachedArtifact("faces_tiny_" + who, [&](const fs::path& dir) {
    std::string inputs;
    for (const char* name : who == "a" ? std::vector<const char*>{"obama-1080p.jpg", "obama_partial_face.jpg"}
                                       : std::vector<const char*>{"lin-manuel-miranda.png", "two_people.jpg"}) {
      inputs += SampleFile(std::string("images/") + name, nullptr)->string() + " ";
    }
    RunFaceswap("-q extract " + inputs + "-o " + dir.string() + " --detector hog --face-select largest");
  });
}

// The train command of these tests: a lite model on the tiny faces, saving after every
// step. The quality watch is off (no face-recognition network: Spawn points
// FACESWAP_MODELS nowhere) so that a save is just the save.
class TinyTrain {
 public:
  TinyTrain() : a_(TinyFaces("a")), b_(TinyFaces("b")) {}
  std::vector<std::string> Args(const fs::path& model, int64_t iterations) const {
    return {FaceswapBinary().string(), "-q", "--threads", "1", "train", "--a", a_.string(), "--b", b_.string(),
            "-m", model.string(), "--preset", "lite", "--batch", "2", "--average", "0", "--save-every", "1",
            "--preview-every", "0", "--keep-backups", "2", "--iterations", std::to_string(iterations)};
  }

 private:
  fs::path a_, b_;
};

// Starts argv as a child with stdout and stderr into `log` and, unless `networks`,
// FACESWAP_MODELS set to a missing folder (see TinyTrain).
pid_t Spawn(const std::vector<std::string>& argv, const fs::path& log, bool networks = false) {
  std::vector<std::string> env_text;
  if (!networks) env_text.emplace_back("FACESWAP_MODELS=/nonexistent");
  for (char** e = environ; *e; ++e) {
    if (networks || std::string(*e).rfind("FACESWAP_MODELS=", 0) != 0) env_text.emplace_back(*e);
  }
  std::vector<char*> args, env;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  for (const auto& e : env_text) env.push_back(const_cast<char*>(e.c_str()));
  args.push_back(nullptr);
  env.push_back(nullptr);
  posix_spawn_file_actions_t files;
  posix_spawn_file_actions_init(&files);
  posix_spawn_file_actions_addopen(&files, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&files, 1, 2);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &files, nullptr, args.data(), env.data()) != 0) pid = -1;
  posix_spawn_file_actions_destroy(&files);
  return pid;
}

// argv as one shell command line, each argument followed by a space (the arguments of
// these tests have no spaces or quotes).
std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line;
  for (const std::string& arg : argv) line += arg + " ";
  return line;
}

int WaitExit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Names created in or renamed into a folder (inotify), in order, from the moment it is
// constructed.
class FolderWatch {
 public:
  explicit FolderWatch(const fs::path& dir) : fd_(inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) {
    inotify_add_watch(fd_, dir.c_str(), IN_CREATE | IN_MOVED_TO);
  }
  ~FolderWatch() { close(fd_); }

  // Waits for the next name that `wanted` accepts (names before it are dropped); false
  // after `timeout_s`.
  bool WaitFor(const std::function<bool(const std::string&)>& wanted, double timeout_s) {
    const auto start = Clock::now();
    while (true) {
      while (!names_.empty()) {
        const std::string name = names_.front();
        names_.pop_front();
        if (wanted(name)) return true;
      }
      if (SecondsSince(start) >= timeout_s) return false;
      pollfd p{fd_, POLLIN, 0};
      if (poll(&p, 1, 20) <= 0) continue;
      alignas(inotify_event) char buffer[4096];
      const ssize_t n = read(fd_, buffer, sizeof buffer);
      for (ssize_t at = 0; at < n;) {
        const auto* event = reinterpret_cast<const inotify_event*>(buffer + at);
        if (event->len > 0) names_.emplace_back(event->name);
        at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
      }
    }
  }

 private:
  int fd_;
  std::deque<std::string> names_;
};

bool IsWeightsTemporary(const std::string& name) { return name.rfind("weights.tmp-", 0) == 0; }
bool IsModelJson(const std::string& name) { return name == model::kModelInfoFile; }

// Loads a model folder as convert does (model.json, then the weights it describes) into
// `net` (made once per folder: a lite network of the same preset) and returns where from.
// Throws when it does not load.
model::LoadedFrom LoadModel(const fs::path& dir, model::FaceAutoencoder& net, int64_t* described = nullptr) {
  model::ModelInfo info = model::LoadModelInfo(dir);
  if (described) *described = info.iteration;
  if (!net) net = model::CreateNetwork(info);
  return model::LoadCheckpoint(dir, net, nullptr, info, model::LoadWeights::kForDrawing);
}

std::vector<std::string> LeftoversIn(const fs::path& dir) {
  std::vector<std::string> found;
  const model::ModelInfo info = model::LoadModelInfo(dir);
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    const std::string relative = fs::relative(e.path(), dir).string();
    const bool listed = std::any_of(info.backups.begin(), info.backups.end(),
                                    [&](const model::Backup& b) { return b.file == relative; });
    if (core::IsTemporaryName(e.path()) || (model::IsBackupName(relative) && !listed)) found.push_back(relative);
  }
  return found;
}

std::string ReadText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

int EnvInt(const char* name, int fallback) {
  const char* text = std::getenv(name);
  return text && *text ? std::atoi(text) : fallback;
}

// SIGKILL lands at a random point of a save: from the moment the save's temporary file
// appears to a little past the time a whole save takes (so some land just after it, in
// the next step). Every kill must leave a model that loads at the save model.json names,
// and that save is the one being written (the kill came after its last rename) or the
// previous one. Two model folders are killed in turn side by side; FACESWAP_KILLS sets how
// many kills in all (default 50).
TEST(FaultSlow, SigkillDuringSavesAlwaysLeavesALoadableModel) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  torch::set_num_threads(1);
  const int kills = EnvInt("FACESWAP_KILLS", 50);
  const fs::path root = MakeTempDir("fault_kill");
  const TinyTrain train;
  const auto start = Clock::now();

  // A first save in each folder, and how long one save takes (temporary to model.json).
  const std::vector<fs::path> folders = {root / "m0", root / "m1"};
  double save_seconds = 0;
  for (const fs::path& dir : folders) {
    fs::create_directories(dir);
    FolderWatch watch(dir);
    const pid_t pid = Spawn(train.Args(dir, 2), root / "calibrate.log");
    for (int save = 0; save < 2; ++save) {
      ASSERT_TRUE(watch.WaitFor(IsWeightsTemporary, 120)) << ReadText(root / "calibrate.log");
      const auto t = Clock::now();
      ASSERT_TRUE(watch.WaitFor(IsModelJson, 60)) << ReadText(root / "calibrate.log");
      save_seconds = std::max(save_seconds, SecondsSince(t));
    }
    ASSERT_EQ(WaitExit(pid), 0) << ReadText(root / "calibrate.log");
  }

  std::mutex mutex;
  int tried = 0, loaded = 0, at_new_save = 0, at_previous_save = 0, from_backup = 0;
  auto kill_loop = [&](const fs::path& dir, unsigned seed) {
    std::mt19937 random(seed);
    std::uniform_real_distribution<double> delay(0.0, 1.25 * save_seconds);
    int64_t before = model::LoadModelInfo(dir).iteration;
    model::FaceAutoencoder net{nullptr};
    while (true) {
      {
        std::lock_guard<std::mutex> lock(mutex);
        if (tried >= kills) return;
        ++tried;
      }
      FolderWatch watch(dir);
      const pid_t pid = Spawn(train.Args(dir, 1000000), dir.string() + ".log");
      const bool saving = watch.WaitFor(IsWeightsTemporary, 120);
      std::this_thread::sleep_for(std::chrono::duration<double>(delay(random)));
      kill(pid, SIGKILL);
      WaitExit(pid);
      EXPECT_TRUE(saving) << "train never began a save:\n" << ReadText(dir.string() + ".log");
      int64_t described = -1;
      try {
        const model::LoadedFrom from = LoadModel(dir, net, &described);
        EXPECT_EQ(from.iteration, described) << "weights of another save than model.json's";
        EXPECT_GE(described, before) << "a kill lost a finished save";
        std::lock_guard<std::mutex> lock(mutex);
        ++loaded;
        (described > before ? at_new_save : at_previous_save)++;
        from_backup += from.backup ? 1 : 0;
      } catch (const std::exception& e) {
        ADD_FAILURE() << dir.string() << ": does not load after a SIGKILL: " << e.what();
      }
      before = std::max(before, described);
    }
  };
  std::thread other(kill_loop, folders[1], 2u);
  kill_loop(folders[0], 1u);
  other.join();
  std::printf("[ kills    ] %d SIGKILLs in %.0f s (a save takes %.2f s): %d loaded, %d at the save being written, "
              "%d at the previous save, %d of them from a backup\n",
              tried, SecondsSince(start), save_seconds, loaded, at_new_save, at_previous_save, from_backup);
  EXPECT_EQ(loaded, tried);

  // A clean run after all that: it resumes, tidies what the kills left and saves.
  for (const fs::path& dir : folders) {
    const int64_t now = model::LoadModelInfo(dir).iteration;
    const pid_t pid = Spawn(train.Args(dir, now + 1), dir.string() + ".log");
    ASSERT_EQ(WaitExit(pid), 0) << ReadText(dir.string() + ".log");
    EXPECT_EQ(LeftoversIn(dir), std::vector<std::string>{}) << dir;
    std::ifstream csv(dir / "loss.csv");
    std::string line;
    std::getline(csv, line);  // header
    while (std::getline(csv, line)) EXPECT_TRUE(core::ParseCsvNumbers(line)) << "loss.csv line '" << line << "'";
  }
}

// Readers take no lock: while a train saves after every step, another process loads the
// model again and again. Every load must succeed with the weights model.json describes,
// and the trainer must keep saving meanwhile.
TEST(FaultSlow, ReadersLoadAWholeSaveWhileTrainReplacesIt) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  torch::set_num_threads(1);
  const fs::path dir = MakeTempDir("fault_readers") / "model";
  fs::create_directories(dir);
  const TinyTrain train;
  ASSERT_EQ(WaitExit(Spawn(train.Args(dir, 1), dir.string() + ".log")), 0) << ReadText(dir.string() + ".log");
  const pid_t trainer = Spawn(train.Args(dir, 1000000), dir.string() + ".log");
  {
    FolderWatch watch(dir);
    ASSERT_TRUE(watch.WaitFor(IsModelJson, 120)) << ReadText(dir.string() + ".log");  // it saves
  }
  const int64_t first = model::LoadModelInfo(dir).iteration;
  int loads = 0, from_backup = 0, waited = 0;
  model::FaceAutoencoder net{nullptr};
  const auto start = Clock::now();
  while (SecondsSince(start) < 15 || loads < 10) {
    try {
      const model::LoadedFrom from = LoadModel(dir, net);
      // A save of this run: not older than the first one read, not newer than model.json now.
      EXPECT_GE(from.iteration, first);
      EXPECT_LE(from.iteration, model::LoadModelInfo(dir).iteration);
      ++loads;
      from_backup += from.backup ? 1 : 0;
      waited += from.waited ? 1 : 0;
    } catch (const std::exception& e) {
      ADD_FAILURE() << "load " << loads + 1 << " failed while train saved: " << e.what();
      break;
    }
  }
  const int64_t last = model::LoadModelInfo(dir).iteration;
  kill(trainer, SIGINT);  // Ctrl-C: it finishes its step, saves and exits 0
  EXPECT_EQ(WaitExit(trainer), 0) << ReadText(dir.string() + ".log");
  std::printf("[ readers  ] %d loads in %.0f s while train saved %lld times; %d met a save under way and waited, "
              "%d used a backup\n",
              loads, SecondsSince(start), static_cast<long long>(last - first), waited, from_backup);
  EXPECT_GE(last - first, 3) << "train did not keep saving while the model was read";
}

// Train's save runs into a full disk: exit 4 with the file and the reason, and the model
// still loads at the previous save, with no temporary left.
TEST(FaultSlow, ADiskFullDuringTrainsSaveKeepsThePreviousSave) {
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const fs::path dir = MakeTempDir("fault_full_train") / "model";
  fs::create_directories(dir);
  const TinyTrain train;
  ASSERT_EQ(WaitExit(Spawn(train.Args(dir, 2), dir.string() + ".log")), 0) << ReadText(dir.string() + ".log");
  const std::string description = ReadText(dir / model::kModelInfoFile);
  const CommandResult r = RunCommand(FileSizeLimitPrefix(fs::file_size(dir / "weights.pt") / 2) +
                                     "env FACESWAP_MODELS=/nonexistent " + CommandLine(train.Args(dir, 4)));
  std::printf("[ message  ] %s", r.output.c_str());
  EXPECT_EQ(r.exit_code, 4) << r.output;
  EXPECT_NE(r.output.find((dir / "weights.pt").string() + ": cannot write weights (File too large; is the disk full?)"),
            std::string::npos)
      << r.output;
  EXPECT_EQ(ReadText(dir / model::kModelInfoFile), description);
  model::FaceAutoencoder net{nullptr};
  EXPECT_EQ(LoadModel(dir, net).iteration, 2);
  EXPECT_EQ(LeftoversIn(dir), std::vector<std::string>{});
}

// Convert to one output: a second convert is refused while the first runs; a killed
// convert leaves no file under the output's name, and the next one clears its temporary;
// a full disk fails with the reason and again leaves nothing under the final name.
TEST(FaultSlow, ConvertOutputsAreLockedAndNeverLeftHalfWritten) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_b.mp4");
  const fs::path model = TrainedLiteModel();
  const fs::path dir = MakeTempDir("fault_convert");
  const fs::path out = dir / "out.mp4";
  const std::vector<std::string> convert = {FaceswapBinary().string(), "-q", "convert", clip.string(), "-o",
                                            out.string(), "-m", model.string(), "--swap-all"};
  auto leftovers = [&] {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir)) {
      if (e.path().extension() != ".log") names.push_back(e.path().filename().string());
    }
    return names;
  };

  FolderWatch watch(dir);
  const pid_t first = Spawn(convert, dir / "first.log");
  ASSERT_TRUE(watch.WaitFor([](const std::string& name) { return name.rfind("out.tmp-", 0) == 0; }, 120))
      << ReadText(dir / "first.log");
  const std::string second_command = CommandLine(convert);
  const CommandResult second = RunCommand(second_command + "--end 1");
  EXPECT_EQ(second.exit_code, 4) << second.output;
  EXPECT_NE(second.output.find(out.string() + ": in use by another faceswap (pid " + std::to_string(first) +
                               ": faceswap convert); wait for it to finish or stop it"),
            std::string::npos)
      << second.output;
  kill(first, SIGKILL);
  WaitExit(first);
  EXPECT_FALSE(fs::exists(out)) << "a killed convert left a file under the output's name";

  const CommandResult full = RunCommand(FileSizeLimitPrefix(200 * 1024) + second_command + "--end 4");
  std::printf("[ message  ] %s", full.output.c_str());
  EXPECT_EQ(full.exit_code, 4) << full.output;
  EXPECT_NE(full.output.find(out.string() + ": "), std::string::npos) << full.output;
  EXPECT_NE(full.output.find("File too large"), std::string::npos) << full.output;
  EXPECT_EQ(leftovers(), std::vector<std::string>{}) << "after a full disk";

  const CommandResult third = RunCommand(second_command + "--end 1");
  EXPECT_EQ(third.exit_code, 0) << third.output;
  EXPECT_EQ(leftovers(), std::vector<std::string>{"out.mp4"});  // no temporary, no lock file
}

// Extract into a folder whose disk fills while alignments.json is saved: exit 4 naming
// alignments.json; the file stays the valid one of the sources finished before; running
// the same command again skips those and finishes the rest, and while it runs a second
// extract into the folder is refused with its pid.
TEST(FaultSlow, ADiskFullDuringExtractKeepsAlignmentsValidAndResumable) {
  FACESWAP_REQUIRE_SAMPLE(clip, "clips/person_a.mp4");
  FACESWAP_REQUIRE_SAMPLE(photo, "images/obama-1080p.jpg");
  const fs::path dir = MakeTempDir("fault_full_extract") / "faces";
  const fs::path alignments = dir / face::kAlignmentsFileName;
  // One worker, so the photo is saved first; 64-pixel crops stay far under the limit,
  // alignments.json with the clip's faces does not.
  const std::vector<std::string> extract = {FaceswapBinary().string(), "-q", "--threads", "1", "extract",
                                            photo.string(), clip.string(), "-o", dir.string(), "--size", "64",
                                            "--every", "30", "--detector", "hog"};
  const CommandResult full = RunCommand(FileSizeLimitPrefix(24 * 1024) + CommandLine(extract));
  std::printf("[ message  ] %s", full.output.c_str());
  EXPECT_EQ(full.exit_code, 4) << full.output;
  EXPECT_NE(full.output.find(alignments.string() + ": write failed (File too large; is the disk full?)"),
            std::string::npos)
      << full.output;
  const face::AlignmentsFile kept = face::LoadAlignments(alignments);
  ASSERT_EQ(kept.sources.size(), 1u);
  EXPECT_TRUE(kept.sources[0].complete);
  EXPECT_EQ(kept.sources[0].path, face::AbsolutePath(photo));
  for (const auto& e : fs::directory_iterator(dir)) EXPECT_FALSE(core::IsTemporaryName(e.path())) << e.path();

  // The rerun, held still (SIGSTOP) once it writes its first crop, while a second
  // extract tries the same folder.
  const fs::path again_log = dir.parent_path() / "again.log";
  FolderWatch watch(dir);
  const pid_t again = Spawn(extract, again_log, /*networks=*/true);
  ASSERT_TRUE(watch.WaitFor([](const std::string& name) { return name.find(".png") != std::string::npos; }, 120))
      << ReadText(again_log);
  kill(again, SIGSTOP);
  const CommandResult second = RunCommand(CommandLine(extract));
  kill(again, SIGCONT);
  EXPECT_EQ(second.exit_code, 4) << second.output;
  EXPECT_NE(second.output.find(dir.string() + ": in use by another faceswap (pid " + std::to_string(again) +
                               ": faceswap extract); wait for it to finish or stop it"),
            std::string::npos)
      << second.output;
  EXPECT_EQ(WaitExit(again), 0) << ReadText(again_log);
  const face::AlignmentsFile done = face::LoadAlignments(alignments);
  ASSERT_EQ(done.sources.size(), 2u);
  EXPECT_TRUE(done.sources[1].complete);
  EXPECT_GT(done.sources[1].faces.size(), 5u);
}

}  // namespace
}  // namespace faceswap::test
