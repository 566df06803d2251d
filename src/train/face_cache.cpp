#include "faceswap/train/face_cache.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <optional>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/folder_lock.h"
#include "faceswap/face/align.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/face/identity.h"
#include "faceswap/face/model_files.h"
#include "faceswap/face/tracker.h"
#include "faceswap/pipeline/extract.h"

namespace fs = std::filesystem;

namespace faceswap::train {
namespace {

// The descriptors extract recorded, one group per track (all faces of a track are one
// person), for the identity's mean descriptor.
using DescriptorGroups = std::vector<std::vector<face::Descriptor>>;

// Held-out faces train watches while it runs (quality_watch.h), per identity.
constexpr size_t kWatchedFaces = 8;

// `count` items spread evenly over `items`.
template <typename T>
std::vector<T> Spread(const std::vector<T>& items, size_t count) {
  if (items.size() <= count) return items;
  std::vector<T> picked;
  for (size_t i = 0; i < count; ++i) picked.push_back(items[i * items.size() / count]);
  return picked;
}

// The crop of one face with its landmarks in crop pixels; nullopt (with a warning) when
// the crop cannot be read.
std::optional<FaceSample> ReadSample(const fs::path& dir, const face::SourceRecord& source,
                                     const face::FaceRecord& record, const FaceCacheOptions& options) {
  FaceSample sample;
  sample.crop = cv::imread((dir / record.file).string(), cv::IMREAD_COLOR);
  if (sample.crop.empty()) {
    spdlog::warn("{}: unreadable face crop, skipped", (dir / record.file).string());
    return std::nullopt;
  }
  double scale = 1.0;
  if (sample.crop.cols > options.max_side) {
    scale = static_cast<double>(options.max_side) / sample.crop.cols;
    cv::resize(sample.crop, sample.crop, cv::Size(options.max_side, options.max_side), 0, 0, cv::INTER_AREA);
  }
  for (size_t i = 0; i < record.points.size(); ++i) {
    const cv::Point2f p = face::ApplyTransform(record.to_crop, record.points[i]);
    sample.points[i] = cv::Point2f(static_cast<float>(p.x * scale), static_cast<float>(p.y * scale));
  }
  sample.source = source.path.filename().string() + "#" + std::to_string(record.frame);
  return sample;
}

// Appends the faces of one extract folder, leaving the held-out ones out (a few of those
// go to set.watched).
void ReadExtractFolder(const fs::path& dir, const FaceCacheOptions& options, FaceSet& set, DescriptorGroups& groups) {
  const fs::path file = dir / face::kAlignmentsFileName;
  const face::AlignmentsFile alignments = face::LoadAlignments(file);
  if (set.alignment_template.empty()) {
    set.alignment_template = alignments.template_name;
    set.coverage = alignments.coverage;
  } else if (set.alignment_template != alignments.template_name || std::abs(set.coverage - alignments.coverage) > 1e-9) {
    throw InputError(file, "faces were aligned differently from the other inputs (template or coverage differs)");
  }
  set.folders.push_back(face::AbsolutePath(dir));
  std::vector<std::pair<const face::SourceRecord*, const face::FaceRecord*>> held_out;
  int64_t index = 0;
  for (const face::SourceRecord& source : alignments.sources) {
    std::map<int, size_t> group_of_track;
    for (const face::FaceRecord& record : source.faces) {
      if (options.hold_out && face::IsHeldOut(index++)) {
        held_out.emplace_back(&source, &record);
        continue;
      }
      if (record.descriptor) {
        auto [it, added] = group_of_track.try_emplace(record.track_id, groups.size());
        if (added) groups.emplace_back();
        groups[it->second].push_back(*record.descriptor);
      }
      if (auto sample = ReadSample(dir, source, record, options)) set.faces.push_back(std::move(*sample));
    }
  }
  for (const auto& [source, record] : Spread(held_out, kWatchedFaces)) {
    if (auto sample = ReadSample(dir, *source, *record, options)) set.watched.push_back(std::move(*sample));
  }
}

// The identity's descriptor: the mean of its main person's described faces. Faces from
// folders extracted before descriptors existed are described here (up to 64 of them).
void DescribeIdentity(FaceSet& set, DescriptorGroups groups) {
  const face::ModelFileStatus network = face::CheckModelFile(face::ModelFile::kFaceRecognition);
  if (groups.empty()) {
    if (!network.problem.empty()) return;  // LoadTrainingFaces warns once
    face::IdentityEncoder encoder(network.path);
    const size_t count = std::min<size_t>(64, set.faces.size());
    for (size_t i = 0; i < count; ++i) {
      const FaceSample& sample = set.faces[i * set.faces.size() / count];
      groups.push_back({encoder.Encode(sample.crop, sample.points)});
    }
  }
  if (groups.empty()) return;
  const std::vector<int> person = face::ClusterPeople(groups);
  std::vector<face::Descriptor> main;
  std::vector<int64_t> faces_of_person;
  for (size_t g = 0; g < groups.size(); ++g) {
    if (faces_of_person.size() <= static_cast<size_t>(person[g])) faces_of_person.resize(person[g] + 1, 0);
    faces_of_person[person[g]] += static_cast<int64_t>(groups[g].size());
    if (person[g] == 0) main.insert(main.end(), groups[g].begin(), groups[g].end());
  }
  const int64_t all = std::accumulate(faces_of_person.begin(), faces_of_person.end(), int64_t{0});
  if (faces_of_person.size() > 1 && faces_of_person[1] * 10 >= all) {
    spdlog::warn("identity {}: its faces show {} people (the two largest: {} and {} of {} described faces); the model "
                 "learns all of them as '{}'. Train on one person: --face-select largest or ref:IMAGE, or a "
                 "person_N folder of `faceswap extract --by-identity`",
                 set.identity, faces_of_person.size(), faces_of_person[0], faces_of_person[1], all, set.identity);
  }
  set.descriptor = face::MeanDescriptor(main);
  set.descriptor_faces = static_cast<int64_t>(main.size());
}

}  // namespace

std::pair<std::string, fs::path> ParseIdentityArgument(const std::string& text) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) {
    throw UsageError("--identity expects NAME=PATH, got '" + text + "'");
  }
  const std::string name = text.substr(0, eq);
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') {
      throw UsageError("identity name '" + name + "' may only use letters, digits, '_' and '-'");
    }
  }
  return {name, fs::path(text.substr(eq + 1))};
}

std::vector<FaceSet> LoadTrainingFaces(const std::vector<IdentitySource>& sources, const FaceCacheOptions& options) {
  std::vector<FaceSet> sets;
  for (const IdentitySource& source : sources) {
    FaceSet set;
    set.identity = source.name;
    if (options.hold_out) set.holdout_rule = face::kHoldoutRule;
    std::vector<fs::path> raw;
    DescriptorGroups groups;
    for (const fs::path& input : source.inputs) {
      core::RequireExists(input);
      if (face::IsExtractFolder(input)) {
        ReadExtractFolder(input, options, set, groups);
      } else {
        raw.push_back(input);
      }
    }
    if (!raw.empty()) {
      // Extract's own bookkeeping skips inputs already done and redoes changed ones.
      pipeline::ExtractOptions extract;
      extract.inputs = raw;
      extract.output_dir = options.cache_dir / source.name;
      extract.threads = options.threads;
      extract.detector.landmark_model = options.landmark_model;
      face::ParseFaceSelection(options.face_select, extract.tracker);
      // The ranks of a distributed run share this cache: they take turns, and the first
      // one's extraction leaves the rest nothing to do.
      const core::FolderLock cache_lock(extract.output_dir, "faceswap train (face cache)", ExitCode::kOutput,
                                        core::FolderLock::IfHeld::kWait);
      spdlog::info("identity {}: extracting faces into {}", source.name, extract.output_dir.string());
      pipeline::Extract(extract);
      ReadExtractFolder(extract.output_dir, options, set, groups);
    }
    if (set.faces.empty()) {
      throw InputError(source.inputs.front(), "no faces found for identity '" + source.name + "'");
    }
    DescribeIdentity(set, std::move(groups));
    set.watched = Spread(set.watched, kWatchedFaces);
    sets.push_back(std::move(set));
  }
  const face::ModelFileStatus network = face::CheckModelFile(face::ModelFile::kFaceRecognition);
  if (!network.problem.empty()) {
    spdlog::warn("{}: {}; the model records no identity descriptors, so convert will swap every face it sees",
                 network.path.string(), network.problem);
  }
  for (const FaceSet& set : sets) {
    if (set.alignment_template != sets.front().alignment_template || set.coverage != sets.front().coverage) {
      throw UsageError("identities '" + sets.front().identity + "' and '" + set.identity +
                       "' were extracted with different alignment settings; extract them alike");
    }
  }
  return sets;
}

}  // namespace faceswap::train
