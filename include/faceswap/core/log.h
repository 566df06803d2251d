#pragma once
// Logging setup: spdlog's default logger writes to stderr (and optionally a file).
// Modules log through spdlog::info/warn/debug directly; only main configures it.

#include <filesystem>
#include <optional>

namespace faceswap::core {

enum class Verbosity { kQuiet, kNormal, kVerbose };

// Replaces spdlog's default logger. Throws OutputError when the log file cannot be opened.
void SetupLogging(Verbosity verbosity, const std::optional<std::filesystem::path>& log_file);

Verbosity CurrentVerbosity();

}  // namespace faceswap::core
