#include "test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <mutex>
#include <vector>

#include "faceswap/core/file_util.h"

namespace fs = std::filesystem;

namespace faceswap::test {

std::optional<fs::path> SamplesDir() {
  if (const char* env = std::getenv("FACESWAP_SAMPLES"); env && *env) {
    if (fs::is_directory(env)) return fs::path(env);
    return std::nullopt;
  }
  const fs::path beside = fs::path(FACESWAP_SOURCE_DIR) / ".." / "shared" / "data";
  if (fs::is_directory(beside)) return fs::weakly_canonical(beside);
  return std::nullopt;
}

std::optional<fs::path> SampleFile(const std::string& relative, std::string* why) {
  const auto dir = SamplesDir();
  if (!dir) {
    if (why) {
      *why = "sample media not found: set FACESWAP_SAMPLES or put shared/data beside the source tree (" +
             (fs::path(FACESWAP_SOURCE_DIR) / ".." / "shared" / "data").string() + ")";
    }
    return std::nullopt;
  }
  const fs::path file = *dir / relative;
  if (!fs::exists(file)) {
    if (why) *why = "sample file missing: " + file.string();
    return std::nullopt;
  }
  return file;
}

fs::path MakeTempDir(const std::string& name) {
  static const fs::path root = [] {
    fs::path base = fs::temp_directory_path() / ("faceswap-tests-" + std::to_string(getpid()));
    fs::create_directories(base);
    std::atexit([] {
      if (const char* keep = std::getenv("FACESWAP_KEEP_TEST_FILES"); keep && *keep) return;  // to look at them
      std::error_code ignored;
      core::RemoveTree(fs::temp_directory_path() / ("faceswap-tests-" + std::to_string(getpid())), ignored);
    });
    return base;
  }();
  const fs::path dir = root / name;
  std::error_code ignored;
  core::RemoveTree(dir, ignored);
  fs::create_directories(dir);
  return dir;
}

CommandResult RunCommand(const std::string& command_line) {
  CommandResult result;
  const std::string wrapped = command_line + " 2>&1";
  FILE* pipe = popen(wrapped.c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer{};
  size_t n = 0;
  while ((n = fread(buffer.data(), 1, buffer.size(), pipe)) > 0) result.output.append(buffer.data(), n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

fs::path FaceswapBinary() { return FACESWAP_BINARY; }

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

bool HaveProgram(const std::string& name) {
  return RunCommand("command -v " + name + " >/dev/null").exit_code == 0;
}

fs::path CachedArtifact(const std::string& name, const std::function<void(const fs::path& dir)>& build) {
  const fs::path root = FACESWAP_TEST_CACHE;
  fs::create_directories(root);
  const int lock = open((root / (name + ".lock")).c_str(), O_CREAT | O_RDWR, 0644);
  if (lock < 0 || flock(lock, LOCK_EX) != 0) throw std::runtime_error("cannot lock the test cache " + root.string());
  struct Unlock {
    int fd;
    ~Unlock() {
      flock(fd, LOCK_UN);
      close(fd);
    }
  } unlock{lock};
  const fs::path dir = root / name;
  const fs::path stamp_file = root / (name + ".stamp");
  const std::string stamp =
      std::to_string(fs::last_write_time(FaceswapBinary()).time_since_epoch().count());
  std::ifstream stamp_in(stamp_file);
  std::string existing;
  std::getline(stamp_in, existing);
  if (existing == stamp && fs::is_directory(dir)) return dir;
  std::error_code ignored;
  core::RemoveTree(dir, ignored);
  const fs::path tmp = root / (name + ".building");
  core::RemoveTree(tmp, ignored);
  fs::create_directories(tmp);
  build(tmp);
  fs::rename(tmp, dir);
  std::ofstream(stamp_file) << stamp << "\n";
  return dir;
}

CommandResult RunFaceswap(const std::string& args) {
  CommandResult r = RunCommand(FaceswapBinary().string() + " " + args);
  EXPECT_EQ(r.exit_code, 0) << "faceswap " << args << "\n" << r.output;
  return r;
}

namespace {
std::vector<std::function<void(unsigned)>>& Seeders() {
  static std::vector<std::function<void(unsigned)>> seeders;
  return seeders;
}
}  // namespace

bool RegisterSeeder(std::function<void(unsigned)> seeder) {
  Seeders().push_back(std::move(seeder));
  return true;
}

void RunSeeders(unsigned seed) {
  for (auto& seeder : Seeders()) seeder(seed);
}

FileSizeLimit::FileSizeLimit(unsigned long long bytes) {
  rlimit limit{};
  getrlimit(RLIMIT_FSIZE, &limit);
  saved_soft_limit_ = limit.rlim_cur;
  limit.rlim_cur = static_cast<rlim_t>(bytes);
  saved_handler_ = std::signal(SIGXFSZ, SIG_IGN);
  if (setrlimit(RLIMIT_FSIZE, &limit) != 0) ADD_FAILURE() << "cannot set a file size limit";
}

FileSizeLimit::~FileSizeLimit() {
  rlimit limit{};
  getrlimit(RLIMIT_FSIZE, &limit);
  limit.rlim_cur = static_cast<rlim_t>(saved_soft_limit_);
  setrlimit(RLIMIT_FSIZE, &limit);
  std::signal(SIGXFSZ, saved_handler_);
}

std::string FileSizeLimitPrefix(unsigned long long bytes) {
  // prlimit (util-linux) counts bytes; `ulimit -f` counts 512 or 1024 by shell.
  return "trap '' XFSZ; prlimit --fsize=" + std::to_string(bytes) + " ";
}

}  // namespace faceswap::test
