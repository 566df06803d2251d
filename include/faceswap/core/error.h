#pragma once
// Error convention for the whole project.
//
// Every failure a user can cause (a missing file, a broken clip, an unwritable folder, a
// model that does not match) is thrown as one of the exceptions below. The message names
// the file (when there is one) and the problem, in one line: "path: what went wrong".
// Libraries never print an error and never call exit(); main() catches once, prints the
// message and returns the exit code of the exception's kind (documented in README.md).

#include <filesystem>
#include <stdexcept>
#include <string>

namespace faceswap {

// Process exit codes. Keep in sync with README.md's "Exit codes" table.
enum class ExitCode : int {
  kOk = 0,
  kInternal = 1,        // a bug or an unexpected library failure
  kUsage = 2,           // bad command line or config file
  kInput = 3,           // an input file is missing, unreadable or not what it should be
  kOutput = 4,          // an output cannot be written
  kModel = 5,           // a model folder is missing, corrupt or does not match the request
  kDevice = 6,          // the requested device (CUDA) is absent or out of memory
  kNotImplemented = 7,  // the command exists but its work is not built yet
  kDiverged = 8,        // training diverged (non-finite losses); the last good save is kept
  kDistributed = 9,     // a rank of a distributed training run died or stopped answering
  kNotMarked = 10,      // verify: a file carries no faceswap watermark
  kInterrupted = 130,   // stopped by SIGINT before anything could be saved
};

class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  Error(ExitCode code, const std::filesystem::path& file, const std::string& problem)
      : std::runtime_error(file.string() + ": " + problem), code_(code) {}
  ExitCode code() const { return code_; }

 private:
  ExitCode code_;
};

// One small class per kind keeps throw sites readable: throw InputError(path, "no video stream").
#define FACESWAP_DEFINE_ERROR(Name, Code)                                                  \
  class Name : public Error {                                                              \
   public:                                                                                 \
    explicit Name(const std::string& message) : Error(Code, message) {}                    \
    Name(const std::filesystem::path& file, const std::string& problem)                    \
        : Error(Code, file, problem) {}                                                    \
  };

FACESWAP_DEFINE_ERROR(UsageError, ExitCode::kUsage)
FACESWAP_DEFINE_ERROR(InputError, ExitCode::kInput)
FACESWAP_DEFINE_ERROR(OutputError, ExitCode::kOutput)
FACESWAP_DEFINE_ERROR(ModelError, ExitCode::kModel)
FACESWAP_DEFINE_ERROR(DeviceError, ExitCode::kDevice)
FACESWAP_DEFINE_ERROR(NotImplementedError, ExitCode::kNotImplemented)
FACESWAP_DEFINE_ERROR(DivergedError, ExitCode::kDiverged)
FACESWAP_DEFINE_ERROR(DistributedError, ExitCode::kDistributed)

#undef FACESWAP_DEFINE_ERROR

}  // namespace faceswap
