#include "faceswap/model/model_info.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>
#include <regex>

#include "faceswap/core/error.h"
#include "faceswap/core/file_util.h"
#include "faceswap/core/fnv.h"
#include "faceswap/core/json_number.h"

namespace fs = std::filesystem;
using faceswap::core::JsonNumber;
using nlohmann::json;

namespace faceswap::model {

int ModelInfo::IdentityIndex(const std::string& name) const {
  for (size_t i = 0; i < identities.size(); ++i) {
    if (identities[i] == name) return static_cast<int>(i);
  }
  return -1;
}

std::vector<std::vector<float>> ModelInfo::IdentityMeans() const {
  std::vector<std::vector<float>> means;
  for (const std::string& name : identities) {
    const auto it = std::find_if(descriptors.begin(), descriptors.end(),
                                 [&](const IdentityDescriptor& d) { return d.identity == name; });
    if (it == descriptors.end() || it->mean.empty()) return {};
    means.push_back(it->mean);
  }
  return means;
}

std::string ModelInfo::RecipeValue(const std::string& key) const {
  for (const auto& [k, v] : recipe) {
    if (k == key) return v;
  }
  return "";
}

ModelInfo LoadModelInfo(const fs::path& model_dir) {
  const fs::path file = model_dir / kModelInfoFile;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ModelError(file, "no model here (model.json missing or unreadable)");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return ParseModelInfo(text, file);
}

ModelInfo ParseModelInfo(const std::string& text, const fs::path& file) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw ModelError(file, std::string("not valid JSON (") + e.what() + ")");
  }
  ModelInfo info;
  try {
    info.version = JsonNumber<int>(j.at("version"), "version");
    if (info.version != kModelInfoVersion) {
      throw ModelError(file, "model.json version " + std::to_string(info.version) +
                                 " is not supported by this faceswap (expects " +
                                 std::to_string(kModelInfoVersion) + ")");
    }
    info.preset = j.at("preset").get<std::string>();
    info.resolution = JsonNumber<int>(j.at("resolution"), "resolution");
    info.identities = j.at("identities").get<std::vector<std::string>>();
    info.iteration = JsonNumber<int64_t>(j.at("iteration"), "iteration");
    info.alignment_template = j.at("alignment").at("template").get<std::string>();
    info.coverage = JsonNumber<double>(j.at("alignment").at("coverage"), "coverage");
    info.stage_iterations = core::JsonNumberOr(j, "stage_iterations", int64_t{0});
    info.occlusion_mask = j.value("occlusion_mask", false);
    info.weights_hash = j.value("weights_hash", "");
    for (const auto& b : j.value("backups", json::array())) {
      info.backups.push_back({b.at("file").get<std::string>(), JsonNumber<int64_t>(b.at("iteration"), "iteration"),
                              b.at("hash").get<std::string>()});
      // train deletes old backups by these names: never anything outside backups/.
      if (!IsBackupName(info.backups.back().file)) {
        throw ModelError(file, "backup '" + info.backups.back().file + "' is not a file in backups/");
      }
    }
    info.updated = j.value("updated", "");
    for (const auto& t : j.value("training_faces", json::array())) {
      info.training_faces.push_back({t.at("identity").get<std::string>(), t.at("folders").get<std::vector<std::string>>()});
    }
    info.holdout_rule = j.value("holdout_rule", "");
    for (const auto& d : j.value("descriptors", json::array())) {
      IdentityDescriptor descriptor{d.at("identity").get<std::string>(), {}, core::JsonNumberOr(d, "faces", int64_t{0})};
      const json& mean = d.at("mean");
      if (!mean.is_array() || mean.size() != 128) {
        throw ModelError(file, "descriptor of identity '" + descriptor.identity + "' must hold 128 numbers");
      }
      for (const json& v : mean) descriptor.mean.push_back(JsonNumber<float>(v, "descriptor"));
      info.descriptors.push_back(std::move(descriptor));
    }
    const json recipe = j.value("recipe", json::object());  // named: items() must not outlive it
    for (const auto& [key, value] : recipe.items()) {
      info.recipe.emplace_back(key, value.get<std::string>());
    }
    if (j.contains("libraries")) {
      for (const auto& [name, version] : j.at("libraries").items()) {
        info.libraries.emplace_back(name, version.get<std::string>());
      }
    }
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // nlohmann's, and JsonNumber's range errors
    throw ModelError(file, std::string("missing or malformed field (") + e.what() + ")");
  }
  if (info.identities.size() < 2) throw ModelError(file, "a model needs at least two identities");
  if (info.iteration < 0 || info.stage_iterations < 0 || info.resolution <= 0) {
    throw ModelError(file, "iteration, stage_iterations and resolution must not be negative");
  }
  return info;
}

bool IsBackupName(const std::string& file) {
  static const std::regex form(R"(backups/weights-[0-9]+\.pt)");
  return std::regex_match(file, form);
}

void SaveModelInfo(const fs::path& model_dir, const ModelInfo& info) {
  core::WriteFileAtomically(model_dir / kModelInfoFile, ModelInfoText(info));
}

std::string ModelInfoText(const ModelInfo& info) {
  json backups = json::array();
  for (const auto& b : info.backups) backups.push_back({{"file", b.file}, {"iteration", b.iteration}, {"hash", b.hash}});
  json libs = json::object();
  for (const auto& [name, version] : info.libraries) libs[name] = version;
  json training = json::array();
  for (const auto& t : info.training_faces) training.push_back({{"identity", t.identity}, {"folders", t.folders}});
  json recipe = json::object();
  for (const auto& [key, value] : info.recipe) recipe[key] = value;
  json descriptors = json::array();
  for (const auto& d : info.descriptors) {
    json mean = json::array();
    for (float v : d.mean) mean.push_back(std::round(static_cast<double>(v) * 1e5) / 1e5);
    descriptors.push_back({{"identity", d.identity}, {"faces", d.faces}, {"mean", std::move(mean)}});
  }
  const json j = {
      {"version", info.version},
      {"preset", info.preset},
      {"resolution", info.resolution},
      {"identities", info.identities},
      {"iteration", info.iteration},
      {"stage_iterations", info.stage_iterations},
      {"occlusion_mask", info.occlusion_mask},
      {"alignment", {{"template", info.alignment_template}, {"coverage", info.coverage}}},
      {"weights_hash", info.weights_hash},
      {"backups", backups},
      {"libraries", libs},
      {"updated", info.updated},
      {"training_faces", training},
      {"holdout_rule", info.holdout_rule},
      {"descriptors", descriptors},
      {"recipe", recipe},
  };
  return j.dump(2) + "\n";
}

std::string HashFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "cannot read");
  return HashStream(in);
}

std::string HashStream(std::istream& in) {
  uint64_t hash = core::kFnvOffsetBasis;
  char buffer[1 << 16];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) core::Fnv1aMix(hash, buffer, static_cast<size_t>(in.gcount()));
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

}  // namespace faceswap::model
