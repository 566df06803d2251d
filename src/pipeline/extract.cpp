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

ExtractStats Extract(const ExtractOptions& options) {
  options.Check();
  const auto start = std::chrono::steady_clock::now();
  core::EnsureDirectory(options.output_dir);
  core::RemoveStaleTemporaries(options.output_dir);  // of killed runs (the CLI holds the folder's lock)
  const fs::path alignments_path = options.output_dir / face::kAlignmentsFileName;

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

  const std::vector<fs::path> sources = ExpandInputs(options.inputs);
  ExtractStats stats;
  stats.sources.resize(sources.size());
  std::vector<Job> jobs;
  int64_t total_frames = 0;
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
      // The container's frame count, for the progress bar's total and ETA only.
      video::Reader probe(sources[i]);
      total_frames += (probe.info().frame_count + options.every - 1) / options.every;
    }
    jobs.push_back(job);
  }

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

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = options.threads > 0 ? options.threads : static_cast<int>(cores);
  const int workers = std::max(1, std::min<int>(threads, static_cast<int>(jobs.size())));
  const int decoder_threads = std::max(1, threads / workers);

  std::mutex mutex;  // guards file, stats, progress and the first error
  std::unique_ptr<core::Progress> progress;
  if (options.show_progress && !jobs.empty()) progress = std::make_unique<core::Progress>("extract", total_frames);
  std::atomic<size_t> next_job{0};
  std::atomic<bool> stop{false};
  std::exception_ptr error;

  auto work = [&] {
    try {
      face::TrackerOptions tracker_options = options.tracker;
      if (!options.tracking) tracker_options.redetect_every = 1;
      face::Tracker tracker(tracker_options, options.detector);  // loads the model once per worker
      std::optional<face::IdentityEncoder> encoder;
      if (stats.described) encoder.emplace(network.path);
      std::map<int, int64_t> faces_of_track;
      face::AlignedFace aligned;
      video::Frame frame;
      std::vector<int> write_params = {cv::IMWRITE_PNG_COMPRESSION, 3};
      while (!stop) {
        const size_t k = next_job++;
        if (k >= jobs.size()) break;
        const Job& job = jobs[k];
        const auto source_start = std::chrono::steady_clock::now();
        SourceStats source_stats;
        source_stats.path = job.path;
        face::SourceRecord record;
        record.path = job.path;
        record.file_size = job.file_size;
        record.mtime_ns = job.mtime_ns;
        record.every = options.every;
        const std::string prefix = CropPrefix(job.path);

        video::ReaderOptions reader_options;
        reader_options.threads = decoder_threads;
        video::Reader reader(job.path, reader_options);
        tracker.Reset();
        faces_of_track.clear();
        const bool still = reader.info().is_image_input;
        int64_t pending_progress = 0;
        while (!stop && reader.Next(frame)) {
          ++source_stats.frames_read;
          if (frame.index % options.every != 0) continue;
          ++source_stats.frames_processed;
          if (still) {  // images of a folder are unrelated
            tracker.Reset();
            faces_of_track.clear();
          }
          const std::vector<face::Face> faces = tracker.Update(frame.bgr, frame.seconds);
          if (!faces.empty()) ++source_stats.frames_with_face;
          for (const face::Face& f : faces) {
            face::Align(frame.bgr, f.points, options.align, aligned);
            char name[64];
            std::snprintf(name, sizeof name, "_%06lld_%d.png", static_cast<long long>(frame.index), f.track_id);
            face::FaceRecord rec;
            rec.frame = frame.index;
            rec.seconds = frame.seconds;
            rec.track_id = f.track_id;
            rec.score = f.score;
            rec.box = f.box;
            rec.points = f.points;
            rec.to_crop = aligned.to_crop;
            rec.file = prefix + name;
            if (encoder && faces_of_track[f.track_id]++ % face::kDescriptorEvery == 0) {
              rec.descriptor = encoder->Encode(frame.bgr, f.points);
            }
            const fs::path final_path = options.output_dir / rec.file;
            core::TemporaryFile tmp(core::TemporaryPathFor(final_path));
            errno = 0;
            if (!cv::imwrite(tmp.path().string(), aligned.crop, write_params)) {
              throw OutputError(final_path, "cannot write face image" +
                                                (errno != 0 ? " (" + core::WriteFailure(errno) + ")" : std::string()));
            }
            core::CommitFile(tmp.path(), final_path);
            tmp.Release();
            record.faces.push_back(std::move(rec));
            ++source_stats.faces_saved;
          }
          if (progress && ++pending_progress == 8) {
            std::lock_guard<std::mutex> lock(mutex);
            progress->Advance(pending_progress);
            pending_progress = 0;
          }
        }
        if (stop) break;
        record.frames_read = source_stats.frames_read;
        if (reader.broken()) {
          // A truncated clip: what could be decoded is extracted; the rest is reported.
          source_stats.warning = reader.break_message();
          record.warning = source_stats.warning;
          spdlog::warn("{}", source_stats.warning);  // names the file already
        }
        record.complete = true;
        source_stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - source_start).count();

        std::lock_guard<std::mutex> lock(mutex);
        if (progress) {
          progress->Advance(pending_progress);
          progress->SetStatus(std::to_string(stats.faces_saved + source_stats.faces_saved) + " faces");
        }
        if (face::SourceRecord* old = file.Find(job.path)) {
          *old = std::move(record);
        } else {
          file.sources.push_back(std::move(record));
        }
        face::SaveAlignments(file, alignments_path);
        stats.frames_read += source_stats.frames_read;
        stats.frames_processed += source_stats.frames_processed;
        stats.frames_with_face += source_stats.frames_with_face;
        stats.faces_saved += source_stats.faces_saved;
        ++stats.sources_done;
        stats.sources[job.index] = std::move(source_stats);
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex);
      if (!error) error = std::current_exception();
      stop = true;
    }
  };

  if (!jobs.empty()) {
    if (workers == 1) {
      work();
    } else {
      std::vector<std::thread> pool;
      for (int i = 0; i < workers; ++i) pool.emplace_back(work);
      for (auto& t : pool) t.join();
    }
  }
  if (progress) progress->Finish();
  if (error) std::rethrow_exception(error);

  // People over the whole folder (new and earlier sources): cheap, so done every time.
  bool regrouped = false;
  if (stats.described || options.by_identity) {
    std::vector<int> before;
    for (const auto& source : file.sources) {
      for (const auto& f : source.faces) before.push_back(f.person);
    }
    stats.people = face::GroupPeople(file);
    size_t k = 0;
    for (const auto& source : file.sources) {
      for (const auto& f : source.faces) regrouped |= f.person != before[k++];
    }
  }
  if (regrouped || (jobs.empty() && !fs::exists(alignments_path))) face::SaveAlignments(file, alignments_path);
  if (options.by_identity) stats.person_folders = WritePersonFolders(options.output_dir, file, stats.people);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return stats;
}

}  // namespace faceswap::pipeline
