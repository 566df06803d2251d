#include "faceswap/pipeline/extract.h"

#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/progress.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/face/identity.h"
#include "faceswap/face/model_files.h"
#include "faceswap/pipeline/person_folders.h"
#include "faceswap/video/reader.h"

namespace faceswap::pipeline {
namespace fs = std::filesystem;

namespace {

bool HasImageExtension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp" || ext == ".tif" || ext == ".tiff" ||
         ext == ".webp";
}

// Crop names start with the source's stem plus a hash of its full path, so two clips
// called take1.mp4 in different folders do not overwrite each other's crops.
std::string CropPrefix(const fs::path& source) {
  uint32_t h = 2166136261u;  // FNV-1a, 32 bit
  for (unsigned char c : source.string()) {
    h ^= c;
    h *= 16777619u;
  }
  char hex[9];
  std::snprintf(hex, sizeof hex, "%08x", h);
  return source.stem().string() + "_" + hex;
}

struct Job {
  size_t index;  // into the expanded source list
  fs::path path;
  uint64_t file_size = 0;
  int64_t mtime_ns = 0;
};

}  // namespace

void ExtractOptions::Check() const {
  if (inputs.empty()) throw UsageError("extract: no inputs given");
  for (const auto& input : inputs) core::RequireExists(input);
  if (output_dir.empty()) throw UsageError("extract: no output folder given");
  if (every < 1) throw UsageError("extract: --every must be >= 1, got " + std::to_string(every));
  if (threads < 0) throw UsageError("extract: threads must be >= 0");
  align.Check();
  detector.Check();
  tracker.Check();
}

std::vector<fs::path> ExpandInputs(const std::vector<fs::path>& inputs) {
  std::vector<fs::path> sources;
  for (const auto& input : inputs) {
    core::RequireExists(input);
    if (fs::is_directory(input)) {
      std::vector<fs::path> images;
      for (const auto& entry : fs::directory_iterator(input)) {
        if (entry.is_regular_file() && HasImageExtension(entry.path())) images.push_back(face::AbsolutePath(entry.path()));
      }
      if (images.empty()) throw InputError(input, "folder holds no images (png, jpg, jpeg, bmp, tif, tiff, webp)");
      std::sort(images.begin(), images.end());
      sources.insert(sources.end(), images.begin(), images.end());
    } else {
      sources.push_back(face::AbsolutePath(input));
    }
  }
  // The same file named twice is one source.
  std::vector<fs::path> unique;
  for (const auto& s : sources) {
    if (std::find(unique.begin(), unique.end(), s) == unique.end()) unique.push_back(s);
  }
  return unique;
}

namespace {

// alignments.json of an earlier run into the same folder, emptied of its sources when it
// was made with another crop size or coverage.
face::AlignmentsFile LoadOrStartAlignments(const ExtractOptions& options, const fs::path& alignments_path) {
  face::AlignmentsFile file;
  if (fs::exists(alignments_path)) {
    file = face::LoadAlignments(alignments_path);
    if (file.crop_size != options.align.size || std::abs(file.coverage - options.align.coverage) > 1e-9) {
      spdlog::warn("{}: made with crop size {} coverage {}, now {} / {}: extracting everything again",
                   alignments_path.string(), file.crop_size, file.coverage, options.align.size, options.align.coverage);
      file.sources.clear();
    }
  }
  file.crop_size = options.align.size;
  file.coverage = options.align.coverage;
  return file;
}

// The sources still to extract (those complete with the same file and settings are
// skipped and counted in `stats`), and the frames they will look at, for the progress
// bar's total and ETA only.
std::vector<Job> PlanJobs(const std::vector<fs::path>& sources, const face::AlignmentsFile& file,
                          const ExtractOptions& options, ExtractStats& stats, int64_t& total_frames) {
  std::vector<Job> jobs;
  total_frames = 0;
  stats.sources.resize(sources.size());
  for (size_t i = 0; i < sources.size(); ++i) {
    stats.sources[i].path = sources[i];
    Job job{i, sources[i]};
    face::StatSource(sources[i], job.file_size, job.mtime_ns);
    const face::SourceRecord* done = file.Find(sources[i]);
    if (done && done->complete && done->file_size == job.file_size && done->mtime_ns == job.mtime_ns &&
        done->every == options.every) {
      stats.sources[i].skipped = true;
      ++stats.sources_skipped;
      spdlog::info("{}: already extracted, skipping", sources[i].string());
      continue;
    }
    if (HasImageExtension(sources[i])) {
      total_frames += 1;
    } else {
      video::Reader probe(sources[i]);  // the container's frame count
      total_frames += (probe.info().frame_count + options.every - 1) / options.every;
    }
    jobs.push_back(job);
  }
  return jobs;
}

// One worker's tools, loaded once and reused for every source it takes.
struct Worker {
  Worker(const ExtractOptions& options, const face::ModelFileStatus& network, bool describe)
      : tracker(TrackerOptionsFor(options), options.detector) {
    if (describe) encoder.emplace(network.path);
  }
  static face::TrackerOptions TrackerOptionsFor(const ExtractOptions& options) {
    face::TrackerOptions o = options.tracker;
    if (!options.tracking) o.redetect_every = 1;
    return o;
  }
  face::Tracker tracker;
  std::optional<face::IdentityEncoder> encoder;
  std::map<int, int64_t> faces_of_track;  // faces seen per track in this source
  face::AlignedFace aligned;
  video::Frame frame;
};

// The sources extracted by `workers` threads, each taking the next job until none is left.
// Each finished source is recorded in the alignments file, saved at once (under the lock
// that also guards the stats and the progress bar); the first error stops every worker
// and is rethrown by Run.
class SourceWorkers {
 public:
  SourceWorkers(const ExtractOptions& options, const std::vector<Job>& jobs, const face::ModelFileStatus& network,
                face::AlignmentsFile& file, const fs::path& alignments_path, ExtractStats& stats)
      : options_(options), jobs_(jobs), network_(network), file_(file), alignments_path_(alignments_path),
        stats_(stats) {}

  void Run(int workers, int decoder_threads, int64_t total_frames) {
    decoder_threads_ = decoder_threads;
    if (options_.show_progress) progress_ = std::make_unique<core::Progress>("extract", total_frames);
    if (workers == 1) {
      Work();
    } else {
      std::vector<std::thread> pool;
      for (int i = 0; i < workers; ++i) pool.emplace_back(&SourceWorkers::Work, this);
      for (auto& t : pool) t.join();
    }
    if (progress_) progress_->Finish();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  void Work() {
    try {
      Worker worker(options_, network_, stats_.described);
      while (!stop_) {
        const size_t k = next_job_++;
        if (k >= jobs_.size()) break;
        ExtractSource(jobs_[k], worker);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
      stop_ = true;
    }
  }

  void ExtractSource(const Job& job, Worker& w) {
    const auto source_start = std::chrono::steady_clock::now();
    SourceStats source_stats;
    source_stats.path = job.path;
    face::SourceRecord record;
    record.path = job.path;
    record.file_size = job.file_size;
    record.mtime_ns = job.mtime_ns;
    record.every = options_.every;
    const std::string prefix = CropPrefix(job.path);

    video::ReaderOptions reader_options;
    reader_options.threads = decoder_threads_;
    video::Reader reader(job.path, reader_options);
    w.tracker.Reset();
    w.faces_of_track.clear();
    const bool still = reader.info().is_image_input;
    int64_t pending_progress = 0;
    while (!stop_ && reader.Next(w.frame)) {
      ++source_stats.frames_read;
      if (w.frame.index % options_.every != 0) continue;
      ++source_stats.frames_processed;
      if (still) {  // images of a folder are unrelated
        w.tracker.Reset();
        w.faces_of_track.clear();
      }
      const std::vector<face::Face> faces = w.tracker.Update(w.frame.bgr, w.frame.seconds);
      if (!faces.empty()) ++source_stats.frames_with_face;
      for (const face::Face& f : faces) {
        record.faces.push_back(SaveFace(f, prefix, w));
        ++source_stats.faces_saved;
      }
      if (progress_ && ++pending_progress == 8) {
        std::lock_guard<std::mutex> lock(mutex_);
        progress_->Advance(pending_progress);
        pending_progress = 0;
      }
    }
    if (stop_) return;
    record.frames_read = source_stats.frames_read;
    if (reader.broken()) {
      // A truncated clip: what could be decoded is extracted; the rest is reported.
      source_stats.warning = reader.break_message();
      record.warning = source_stats.warning;
      spdlog::warn("{}", source_stats.warning);  // names the file already
    }
    record.complete = true;
    source_stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - source_start).count();
    Record(job, std::move(record), std::move(source_stats), pending_progress);
  }

  // The face's aligned crop written (complete under its final name or not at all) and its
  // record; a descriptor for the first face of its track and every kDescriptorEvery-th.
  face::FaceRecord SaveFace(const face::Face& f, const std::string& prefix, Worker& w) const {
    face::Align(w.frame.bgr, f.points, options_.align, w.aligned);
    char name[64];
    std::snprintf(name, sizeof name, "_%06lld_%d.png", static_cast<long long>(w.frame.index), f.track_id);
    face::FaceRecord rec;
    rec.frame = w.frame.index;
    rec.seconds = w.frame.seconds;
    rec.track_id = f.track_id;
    rec.score = f.score;
    rec.box = f.box;
    rec.points = f.points;
    rec.to_crop = w.aligned.to_crop;
    rec.file = prefix + name;
    if (w.encoder && w.faces_of_track[f.track_id]++ % face::kDescriptorEvery == 0) {
      rec.descriptor = w.encoder->Encode(w.frame.bgr, f.points);
    }
    const fs::path final_path = options_.output_dir / rec.file;
    core::TemporaryFile tmp(core::TemporaryPathFor(final_path));
    errno = 0;
    if (!cv::imwrite(tmp.path().string(), w.aligned.crop, kPngParams)) {
      throw OutputError(final_path, "cannot write face image" +
                                        (errno != 0 ? " (" + core::WriteFailure(errno) + ")" : std::string()));
    }
    core::CommitFile(tmp.path(), final_path);
    tmp.Release();
    return rec;
  }

  // A finished source into the alignments file (saved at once) and the totals.
  void Record(const Job& job, face::SourceRecord record, SourceStats source_stats, int64_t pending_progress) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (progress_) {
      progress_->Advance(pending_progress);
      progress_->SetStatus(std::to_string(stats_.faces_saved + source_stats.faces_saved) + " faces");
    }
    if (face::SourceRecord* old = file_.Find(job.path)) {
      *old = std::move(record);
    } else {
      file_.sources.push_back(std::move(record));
    }
    face::SaveAlignments(file_, alignments_path_);
    stats_.frames_read += source_stats.frames_read;
    stats_.frames_processed += source_stats.frames_processed;
    stats_.frames_with_face += source_stats.frames_with_face;
    stats_.faces_saved += source_stats.faces_saved;
    ++stats_.sources_done;
    stats_.sources[job.index] = std::move(source_stats);
  }

  inline static const std::vector<int> kPngParams = {cv::IMWRITE_PNG_COMPRESSION, 3};

  const ExtractOptions& options_;
  const std::vector<Job>& jobs_;
  const face::ModelFileStatus& network_;
  face::AlignmentsFile& file_;
  const fs::path& alignments_path_;
  ExtractStats& stats_;
  int decoder_threads_ = 1;
  std::mutex mutex_;  // guards file_, stats_, progress_ and error_
  std::unique_ptr<core::Progress> progress_;
  std::atomic<size_t> next_job_{0};
  std::atomic<bool> stop_{false};
  std::exception_ptr error_;
};

// People over the whole folder (new and earlier sources): cheap, so done every time.
// True when a face's person changed.
bool GroupPeopleAgain(face::AlignmentsFile& file, ExtractStats& stats) {
  std::vector<int> before;
  for (const auto& source : file.sources) {
    for (const auto& f : source.faces) before.push_back(f.person);
  }
  stats.people = face::GroupPeople(file);
  bool regrouped = false;
  size_t k = 0;
  for (const auto& source : file.sources) {
    for (const auto& f : source.faces) regrouped |= f.person != before[k++];
  }
  return regrouped;
}

}  // namespace

ExtractStats Extract(const ExtractOptions& options) {
  options.Check();
  const auto start = std::chrono::steady_clock::now();
  core::EnsureDirectory(options.output_dir);
  core::RemoveStaleTemporaries(options.output_dir);  // of killed runs (the CLI holds the folder's lock)
  const fs::path alignments_path = options.output_dir / face::kAlignmentsFileName;
  face::AlignmentsFile file = LoadOrStartAlignments(options, alignments_path);

  ExtractStats stats;
  int64_t total_frames = 0;
  const std::vector<Job> jobs = PlanJobs(ExpandInputs(options.inputs), file, options, stats, total_frames);

  // Descriptors for grouping people: only when the network is there (a warning says what
  // is missing); --by-identity cannot do without them.
  const face::ModelFileStatus network = face::CheckModelFile(face::ModelFile::kFaceRecognition);
  stats.described = network.problem.empty();
  if (!stats.described) {
    if (options.by_identity) throw InputError(network.path, network.problem);
    if (!jobs.empty()) {
      spdlog::warn("{}: {}; faces are not described, so people are not grouped", network.path.string(),
                   network.problem);
    }
  }

  if (!jobs.empty()) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const int threads = options.threads > 0 ? options.threads : static_cast<int>(cores);
    const int workers = std::max(1, std::min<int>(threads, static_cast<int>(jobs.size())));
    SourceWorkers(options, jobs, network, file, alignments_path, stats)
        .Run(workers, std::max(1, threads / workers), total_frames);
  }

  const bool regrouped = (stats.described || options.by_identity) && GroupPeopleAgain(file, stats);
  if (regrouped || (jobs.empty() && !fs::exists(alignments_path))) face::SaveAlignments(file, alignments_path);
  if (options.by_identity) stats.person_folders = WritePersonFolders(options.output_dir, file, stats.people);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace faceswap::pipeline
