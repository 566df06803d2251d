#include "faceswap/face/alignments_file.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iterator>
#include <sstream>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/json_number.h"

namespace faceswap::face {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json FaceToJson(const FaceRecord& f) {
  json landmarks = json::array();
  for (const auto& p : f.points) landmarks.push_back({p.x, p.y});
  json to_crop = json::array();
  for (int i = 0; i < 6; ++i) to_crop.push_back(f.to_crop.val[i]);
  json j = {{"frame", f.frame},
            {"seconds", f.seconds},
            {"track", f.track_id},
            {"score", f.score},
            {"box", {f.box.x, f.box.y, f.box.width, f.box.height}},
            {"landmarks", std::move(landmarks)},
            {"to_crop", std::move(to_crop)},
            {"file", f.file}};
  if (f.descriptor) {
    // Five decimals keep distances to 1e-4 and the file a third of full precision's size.
    json d = json::array();
    for (float v : *f.descriptor) d.push_back(std::round(static_cast<double>(v) * 1e5) / 1e5);
    j["descriptor"] = std::move(d);
  }
  if (f.person >= 0) j["person"] = f.person;
  return j;
}

FaceRecord FaceFromJson(const json& j) {
  FaceRecord f;
  using core::JsonNumber;
  f.frame = JsonNumber<int64_t>(j.at("frame"), "frame");
  f.seconds = JsonNumber<double>(j.at("seconds"), "seconds");
  f.track_id = JsonNumber<int>(j.at("track"), "track");
  f.score = core::JsonNumberOr(j, "score", 0.f);
  const json& box = j.at("box");
  if (!box.is_array() || box.size() != 4) throw std::runtime_error("box must hold 4 numbers");
  f.box = {JsonNumber<float>(box[0], "box"), JsonNumber<float>(box[1], "box"), JsonNumber<float>(box[2], "box"),
           JsonNumber<float>(box[3], "box")};
  const json& lm = j.at("landmarks");
  if (!lm.is_array() || lm.size() != 68) throw std::runtime_error("landmarks must hold 68 points");
  for (size_t i = 0; i < 68; ++i) {
    if (!lm[i].is_array() || lm[i].size() != 2) throw std::runtime_error("a landmark must be [x, y]");
    f.points[i] = {JsonNumber<float>(lm[i][0], "landmark"), JsonNumber<float>(lm[i][1], "landmark")};
  }
  const json& m = j.at("to_crop");
  if (!m.is_array() || m.size() != 6) throw std::runtime_error("to_crop must hold 6 numbers");
  for (int i = 0; i < 6; ++i) f.to_crop.val[i] = JsonNumber<double>(m[i], "to_crop");
  f.file = j.at("file").get<std::string>();
  if (j.contains("descriptor")) {
    const json& d = j.at("descriptor");
    if (!d.is_array() || d.size() != kDescriptorSize) {
      throw std::runtime_error("descriptor must hold " + std::to_string(kDescriptorSize) + " numbers");
    }
    Descriptor descriptor{};
    for (int i = 0; i < kDescriptorSize; ++i) descriptor[i] = JsonNumber<float>(d[i], "descriptor");
    f.descriptor = descriptor;
  }
  f.person = core::JsonNumberOr(j, "person", -1);
  return f;
}

}  // namespace

fs::path AbsolutePath(const fs::path& p) {
  std::error_code ec;
  fs::path a = fs::weakly_canonical(fs::absolute(p), ec);
  return ec ? fs::absolute(p).lexically_normal() : a;
}

bool IsExtractFolder(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::is_regular_file(path / kAlignmentsFileName, ec);
}

const SourceRecord* AlignmentsFile::Find(const fs::path& path) const {
  const fs::path key = AbsolutePath(path);
  for (const auto& s : sources) {
    if (s.path == key) return &s;
  }
  return nullptr;
}

SourceRecord* AlignmentsFile::Find(const fs::path& path) {
  return const_cast<SourceRecord*>(static_cast<const AlignmentsFile*>(this)->Find(path));
}

void StatSource(const fs::path& path, uint64_t& file_size, int64_t& mtime_ns) {
  std::error_code ec;
  file_size = fs::is_regular_file(path, ec) ? fs::file_size(path, ec) : 0;
  const auto t = fs::last_write_time(path, ec);
  mtime_ns = ec ? 0 : std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

AlignmentsFile LoadAlignments(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, "cannot read alignments file");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseAlignments(text, path);
}

AlignmentsFile ParseAlignments(const std::string& text, const fs::path& path) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw InputError(path, std::string("not a valid JSON alignments file (") + e.what() + ")");
  }
  if (!j.is_object() || !j.contains("version") || !j["version"].is_number_integer()) {
    throw InputError(path, "not an alignments file: no integer \"version\" field");
  }
  const int64_t version = j["version"].get<int64_t>();
  if (version != kAlignmentsVersion) {
    throw InputError(path, "alignments file version " + std::to_string(version) + " is not supported (this build reads version " +
                               std::to_string(kAlignmentsVersion) + ")");
  }
  AlignmentsFile file;
  try {
    const json& crop = j.at("crop");
    file.crop_size = core::JsonNumber<int>(crop.at("size"), "crop size");
    file.coverage = core::JsonNumber<double>(crop.at("coverage"), "coverage");
    file.template_name = crop.value("template", file.template_name);
    for (const json& s : j.at("sources")) {
      SourceRecord r;
      r.path = s.at("path").get<std::string>();
      r.file_size = core::JsonNumber<uint64_t>(s.at("file_size"), "file_size");
      r.mtime_ns = core::JsonNumber<int64_t>(s.at("mtime_ns"), "mtime_ns");
      r.every = core::JsonNumberOr(s, "every", 1);
      r.complete = s.at("complete").get<bool>();
      r.frames_read = core::JsonNumberOr(s, "frames_read", int64_t{0});
      r.warning = s.value("warning", std::string());
      for (const json& f : s.at("faces")) r.faces.push_back(FaceFromJson(f));
      file.sources.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    throw InputError(path, std::string("malformed alignments file: ") + e.what());
  }
  return file;
}

void SaveAlignments(const AlignmentsFile& file, const fs::path& path) {
  json sources = json::array();
  for (const SourceRecord& s : file.sources) {
    json faces = json::array();
    for (const FaceRecord& f : s.faces) faces.push_back(FaceToJson(f));
    sources.push_back({{"path", s.path.string()},
                       {"file_size", s.file_size},
                       {"mtime_ns", s.mtime_ns},
                       {"every", s.every},
                       {"complete", s.complete},
                       {"frames_read", s.frames_read},
                       {"warning", s.warning},
                       {"faces", std::move(faces)}});
  }
  const json j = {{"version", file.version},
                  {"crop", {{"size", file.crop_size}, {"coverage", file.coverage}, {"template", file.template_name}}},
                  {"sources", std::move(sources)}};
  core::WriteFileAtomically(path, j.dump(1) + "\n");
}

}  // namespace faceswap::face
