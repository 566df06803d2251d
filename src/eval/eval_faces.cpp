#include "faceswap/eval/eval_faces.h"

#include <opencv2/imgcodecs.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/face/alignments_file.h"
#include "faceswap/pipeline/extract.h"

namespace fs = std::filesystem;

namespace faceswap::eval {
namespace {

constexpr int64_t kRunsPerFolder = 1'000'000'000;  // keeps run numbers of different folders apart

// Faces of `folder` (only those of `sources` when not empty; only held-out ones when
// `held_out_only`), appended to `out`.
void ReadFolder(const fs::path& folder, const std::set<fs::path>& sources, bool held_out_only, int64_t folder_number,
                std::vector<EvalFace>& out) {
  const face::AlignmentsFile alignments = face::LoadAlignments(folder / face::kAlignmentsFileName);
  int64_t index = 0;
  for (const face::SourceRecord& source : alignments.sources) {
    for (const face::FaceRecord& record : source.faces) {
      const int64_t i = index++;
      if (held_out_only && !face::IsHeldOut(i)) continue;
      if (!sources.empty() && !sources.count(source.path)) continue;
      EvalFace f;
      f.source = source.path;
      f.record = record;
      f.run = folder_number * kRunsPerFolder + face::HoldoutRun(i);
      f.crop = cv::imread((folder / record.file).string(), cv::IMREAD_COLOR);
      if (f.crop.empty()) {
        spdlog::warn("{}: unreadable face crop, skipped", (folder / record.file).string());
        continue;
      }
      for (size_t p = 0; p < record.points.size(); ++p) f.crop_points[p] = face::ApplyTransform(record.to_crop, record.points[p]);
      out.push_back(std::move(f));
    }
  }
}

// Whole runs, evenly spread, so that at most `max_faces` remain.
void KeepAtMost(std::vector<EvalFace>& faces, int max_faces) {
  if (max_faces <= 0 || static_cast<int>(faces.size()) <= max_faces) return;
  std::vector<int64_t> runs;
  for (const EvalFace& f : faces) {
    if (runs.empty() || runs.back() != f.run) runs.push_back(f.run);
  }
  const double per_run = static_cast<double>(faces.size()) / static_cast<double>(runs.size());
  const size_t keep = std::max<size_t>(2, static_cast<size_t>(std::floor(max_faces / per_run)));
  std::set<int64_t> kept;
  for (size_t k = 0; k < keep && k < runs.size(); ++k) kept.insert(runs[k * runs.size() / keep]);
  std::vector<EvalFace> out;
  for (EvalFace& f : faces) {
    if (kept.count(f.run) && static_cast<int>(out.size()) < max_faces) out.push_back(std::move(f));
  }
  faces = std::move(out);
}

}  // namespace

void EvalFacesOptions::Check() const {
  if (model_dir.empty()) throw UsageError("eval needs -m MODEL");
  if (max_faces < 0) throw UsageError("--max-faces must be >= 0");
}

std::vector<IdentityFaces> LoadEvalFaces(const model::ModelInfo& info, const EvalFacesOptions& o,
                                         std::string* description) {
  o.Check();
  const fs::path model_file = o.model_dir / model::kModelInfoFile;
  for (const auto& [name, paths] : o.inputs) {
    if (info.IdentityIndex(name) < 0 && !paths.empty()) {
      throw UsageError("model " + o.model_dir.string() + " has no identity '" + name + "'");
    }
  }
  const bool held_out_recorded = info.holdout_rule == face::kHoldoutRule;
  std::vector<IdentityFaces> result;
  std::vector<std::string> notes;
  int64_t folder_number = 0;
  for (const std::string& name : info.identities) {
    IdentityFaces identity{name, {}};
    std::set<fs::path> trained_folders;
    for (const model::TrainingFaces& t : info.training_faces) {
      if (t.identity != name) continue;
      for (const std::string& folder : t.folders) trained_folders.insert(face::AbsolutePath(folder));
    }
    const auto given = o.inputs.find(name);
    if (given == o.inputs.end() || given->second.empty()) {
      if (trained_folders.empty()) {
        throw UsageError(model_file.string() + ": does not record which faces identity '" + name +
                         "' was trained on (trained by an older faceswap); name clips with --" + name);
      }
      if (!held_out_recorded) {
        throw UsageError(model_file.string() + ": identity '" + name +
                         "' was trained on all its faces (none held out); name other clips with --" + name);
      }
      for (const fs::path& folder : trained_folders) ReadFolder(folder, {}, true, folder_number++, identity.faces);
      notes.push_back(name + ": held-out faces of the training folders");
    } else {
      std::vector<fs::path> raw;
      for (const fs::path& input : given->second) {
        core::RequireExists(input);
        const fs::path folder = face::AbsolutePath(input);
        if (face::IsExtractFolder(folder)) {
          const bool trained = trained_folders.count(folder) > 0;
          ReadFolder(folder, {}, trained && held_out_recorded, folder_number++, identity.faces);
          notes.push_back(name + ": " + input.string() + (trained ? " (held-out faces)" : " (all faces)"));
          continue;
        }
        // A clip the model trained on through its cache: take its held-out faces there.
        const std::vector<fs::path> sources = pipeline::ExpandInputs({input});
        bool found = false;
        for (const fs::path& trained : trained_folders) {
          if (!held_out_recorded) break;
          const face::AlignmentsFile alignments = face::LoadAlignments(trained / face::kAlignmentsFileName);
          std::set<fs::path> here;
          for (const fs::path& s : sources) {
            if (alignments.Find(s)) here.insert(alignments.Find(s)->path);
          }
          if (here.size() == sources.size()) {
            ReadFolder(trained, here, true, folder_number++, identity.faces);
            notes.push_back(name + ": " + input.string() + " (held-out faces)");
            found = true;
            break;
          }
        }
        if (!found) raw.push_back(input);
      }
      if (!raw.empty()) {
        pipeline::ExtractOptions extract;
        extract.inputs = raw;
        extract.output_dir = o.model_dir / "eval-cache" / name;
        extract.threads = o.threads;
        extract.detector.landmark_model = o.landmark_model;
        face::ParseFaceSelection(o.face_select, extract.tracker);
        spdlog::info("identity {}: extracting faces of clips it did not train on into {}", name,
                     extract.output_dir.string());
        pipeline::Extract(extract);
        std::set<fs::path> wanted;
        for (const fs::path& s : pipeline::ExpandInputs(raw)) wanted.insert(face::AbsolutePath(s));
        ReadFolder(extract.output_dir, wanted, false, folder_number++, identity.faces);
        for (const fs::path& input : raw) notes.push_back(name + ": " + input.string() + " (all faces)");
      }
    }
    KeepAtMost(identity.faces, o.max_faces);
    if (identity.faces.empty()) {
      throw InputError(given != o.inputs.end() && !given->second.empty() ? given->second.front() : model_file,
                       "no faces to evaluate identity '" + name + "' on");
    }
    result.push_back(std::move(identity));
  }
  if (description) {
    description->clear();
    for (const std::string& note : notes) *description += (description->empty() ? "" : "; ") + note;
  }
  return result;
}

}  // namespace faceswap::eval
