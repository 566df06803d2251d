#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <thread>

#include "faceswap/cli/commands.h"
#include "faceswap/core/error.h"
#include "faceswap/core/log.h"
#include "faceswap/model/device.h"

namespace faceswap::cli {

void AddGlobalOptions(CLI::App& app, GlobalOptions& options) {
  app.set_config("--config", "", "Read options from a TOML/INI file ([section] per subcommand)");
  app.add_flag("-v,--verbose", options.verbose, "Log debug details");
  app.add_flag("-q,--quiet", options.quiet, "Only warnings and errors; no progress bars");
  app.add_option("--log-file", options.log_file, "Also write the full log to this file");
  app.add_option("--device", options.device, "Where the network runs")
      ->check(CLI::IsMember({"auto", "cpu", "cuda"}))
      ->capture_default_str();
  app.add_option("--threads", options.threads, "CPU threads for decoding, faces and the network (0: all cores)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

std::vector<Command> DefineCommandLine(CLI::App& app, GlobalOptions& global) {
  app.set_version_flag("--version", FACESWAP_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the subcommand
  AddGlobalOptions(app, global);
  return {
      AddInfoCommand(app, global),
      AddExtractCommand(app, global),
      AddTrainCommand(app, global),
      AddConvertCommand(app, global),
      AddLiveCommand(app, global),
      AddEvalCommand(app, global),
      AddVerifyCommand(app, global),
  };
}

namespace {

int RunParsed(const std::vector<Command>& commands, const GlobalOptions& global) {
  core::SetupLogging(global.quiet     ? core::Verbosity::kQuiet
                     : global.verbose ? core::Verbosity::kVerbose
                                      : core::Verbosity::kNormal,
                     global.log_file);
  for (const Command& command : commands) {
    if (command.app->parsed()) {
      command.run();
      return static_cast<int>(ExitCode::kOk);
    }
  }
  return static_cast<int>(ExitCode::kUsage);  // unreachable: require_subcommand(1)
}

}  // namespace

int Main(int argc, char** argv) {
  // Logs and errors go to stderr from the start; RunParsed applies the user's choices.
  core::SetupLogging(core::Verbosity::kNormal, std::nullopt);
  CLI::App app{
      "faceswap: swap faces in videos.\n"
      "  extract  find, align and save the faces of clips, images or folders\n"
      "  train    teach a model the faces of two or more people\n"
      "  convert  swap the faces of a clip with a trained model (alias: swap)\n"
      "  eval     measure how good a trained model's swaps are\n"
      "  verify   tell whether videos or images carry faceswap's invisible watermark\n"
      "  info     show library versions, CUDA status and the landmark model",
      "faceswap"};
  GlobalOptions global;
  const std::vector<Command> commands = DefineCommandLine(app, global);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "faceswap: %s (see faceswap --help)\n", e.what());
    return static_cast<int>(ExitCode::kUsage);
  }

  try {
    return RunParsed(commands, global);
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return static_cast<int>(e.code());
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return static_cast<int>(ExitCode::kInternal);
  }
}

}  // namespace faceswap::cli
