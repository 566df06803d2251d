// `faceswap info`: what this build links, whether CUDA is usable, which network files
// would be used. The first thing to run when something does not work.

#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"
#include "faceswap/core/versions.h"
#include "faceswap/face/model_files.h"
#include "faceswap/face/versions.h"
#include "faceswap/model/device.h"
#include "faceswap/video/versions.h"

namespace faceswap::cli {
namespace {

struct InfoOptions {
  std::optional<std::filesystem::path> landmarks;
};

void PrintVersions(const LibraryVersions& versions) {
  for (const auto& [name, version] : versions) std::printf("  %-14s %s\n", name.c_str(), version.c_str());
}

void RunInfo(const InfoOptions& options, const GlobalOptions& global) {
  std::printf("faceswap %s\n\nlibraries:\n", FACESWAP_VERSION);
  PrintVersions(core::Versions());
  PrintVersions({{"CLI11", CLI11_VERSION}});
  PrintVersions(video::Versions());
  PrintVersions(face::Versions());
  PrintVersions(model::Versions());

  const model::CudaStatus cuda = model::QueryCuda();
  std::printf("\ndevice:\n  CUDA usable    %s\n", cuda.Describe().c_str());
  const model::DeviceKind requested = model::ParseDeviceKind(global.device);
  const model::DeviceKind chosen = model::ResolveDevice(requested);
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  std::printf("  selected       %s (--device %s)\n", model::ToString(chosen).c_str(), global.device.c_str());
  std::printf("  CPU threads    %d of %u cores\n", global.threads > 0 ? global.threads : static_cast<int>(cores), cores);

  std::printf("\nnetwork files (searched in --landmarks, then ");
  for (const auto& dir : face::ModelSearchDirs()) std::printf("%s, ", dir.c_str());
  std::printf("in that order):\n");
  std::string first_problem;
  for (const face::ModelFileSpec& spec : face::ModelFileSpecs()) {
    const auto explicit_path = spec.file == face::ModelFile::kLandmarks68 ? options.landmarks : std::nullopt;
    const face::ModelFileStatus status = face::CheckModelFile(spec.file, explicit_path);
    std::printf("  %-44s %s\n", spec.purpose, status.problem.empty() ? "ok" : "MISSING");
    if (status.problem.empty()) {
      const auto mib = static_cast<double>(std::filesystem::file_size(status.path)) / (1024.0 * 1024.0);
      std::printf("    %s (%.1f MiB)\n", status.path.c_str(), mib);
    } else {
      std::printf("    %s: %s\n", status.path.c_str(), status.problem.c_str());
      if (first_problem.empty()) first_problem = status.path.string() + ": " + status.problem;
    }
  }
  // info reports every problem and still fails, so scripts notice a broken install.
  if (!first_problem.empty()) throw InputError(first_problem);
}

}  // namespace

Command AddInfoCommand(CLI::App& app, const GlobalOptions& global) {
  auto options = std::make_shared<InfoOptions>();
  CLI::App* sub = app.add_subcommand("info", "Show library versions, CUDA status and the network files in use");
  sub->add_option("--landmarks", options->landmarks, "68-point landmark model to check instead of the default");
  return {sub, [options, &global] { RunInfo(*options, global); }};
}

}  // namespace faceswap::cli
