#include "faceswap/core/log.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <vector>

#include "faceswap/core/error.h"

namespace faceswap::core {
namespace {
Verbosity g_verbosity = Verbosity::kNormal;
}

void SetupLogging(Verbosity verbosity, const std::optional<std::filesystem::path>& log_file) {
  g_verbosity = verbosity;
  std::vector<spdlog::sink_ptr> sinks;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  console->set_pattern("%^[%l]%$ %v");
  switch (verbosity) {
    case Verbosity::kQuiet: console->set_level(spdlog::level::warn); break;
    case Verbosity::kNormal: console->set_level(spdlog::level::info); break;
    case Verbosity::kVerbose: console->set_level(spdlog::level::debug); break;
  }
  sinks.push_back(console);
  if (log_file) {
    // spdlog would create missing folders; a typo in the path should fail instead.
    const auto parent = log_file->has_parent_path() ? log_file->parent_path() : std::filesystem::path(".");
    std::error_code ec;
    if (!std::filesystem::is_directory(parent, ec)) {
      throw OutputError(*log_file, "cannot open log file (folder " + parent.string() + " does not exist)");
    }
    try {
      auto file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(log_file->string(), false);
      file->set_pattern("%Y-%m-%d %H:%M:%S.%e [%l] %v");
      file->set_level(spdlog::level::debug);  // the file always gets the full story
      sinks.push_back(file);
    } catch (const spdlog::spdlog_ex& e) {
      throw OutputError(*log_file, std::string("cannot open log file (") + e.what() + ")");
    }
  }
  auto logger = std::make_shared<spdlog::logger>("faceswap", sinks.begin(), sinks.end());
  logger->set_level(spdlog::level::debug);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

Verbosity CurrentVerbosity() { return g_verbosity; }

}  // namespace faceswap::core
