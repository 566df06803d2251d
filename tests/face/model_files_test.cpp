// Where network files are looked for, and what a user is told when one is missing.

#include "faceswap/face/model_files.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "faceswap/core/error.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace faceswap::test {
namespace {

// Sets an environment variable for one test and puts the old value back.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) setenv(name_, old_->c_str(), 1);
    else unsetenv(name_);
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

void MakeFile(const fs::path& path, uintmax_t size) {
  std::ofstream(path) << "x";
  fs::resize_file(path, size);  // sparse: only the size is checked
}

TEST(ModelFiles, FoundInTheCacheFolderNamedByTheEnvironment) {
  const fs::path dir = MakeTempDir("models_env");
  ScopedEnv env("FACESWAP_MODELS", dir.string());
  EXPECT_EQ(face::ModelCacheDir(), dir);
  const face::ModelFileSpec& spec = face::SpecOf(face::ModelFile::kCnnDetector);
  MakeFile(dir / spec.name, spec.size);
  EXPECT_EQ(face::ResolveModelFile(face::ModelFile::kCnnDetector), dir / spec.name);
}

TEST(ModelFiles, MissingFileNamesItAndHowToGetIt) {
  const fs::path dir = MakeTempDir("models_missing");
  ScopedEnv env("FACESWAP_MODELS", dir.string());
  const face::ModelFileStatus status = face::CheckModelFile(face::ModelFile::kFaceRecognition);
  ASSERT_FALSE(status.problem.empty());
  EXPECT_NE(status.problem.find("fetch_models.sh"), std::string::npos) << status.problem;
  EXPECT_NE(status.problem.find("dlib.net/files"), std::string::npos) << status.problem;
  EXPECT_NE(status.problem.find(dir.string()), std::string::npos) << status.problem;
  try {
    face::ResolveModelFile(face::ModelFile::kFaceRecognition);
    FAIL() << "resolved a missing file";
  } catch (const InputError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << "one line: " << what;
    EXPECT_EQ(what.rfind("dlib_face_recognition_resnet_model_v1.dat: ", 0), 0u) << what;
  }
}

TEST(ModelFiles, WrongSizeIsRefusedUnlessNamedExplicitly) {
  const fs::path dir = MakeTempDir("models_size");
  ScopedEnv env("FACESWAP_MODELS", dir.string());
  const face::ModelFileSpec& spec = face::SpecOf(face::ModelFile::kCnnDetector);
  MakeFile(dir / spec.name, 1000);
  const face::ModelFileStatus found = face::CheckModelFile(face::ModelFile::kCnnDetector);
  EXPECT_NE(found.problem.find("1000 bytes"), std::string::npos) << found.problem;
  // A file the user names is theirs to choose (a retrained network).
  EXPECT_TRUE(face::CheckModelFile(face::ModelFile::kCnnDetector, dir / spec.name).problem.empty());
  EXPECT_FALSE(face::CheckModelFile(face::ModelFile::kCnnDetector, dir / "absent.dat").problem.empty());
}

TEST(ModelFiles, LandmarkModelEnvironmentVariableWins) {
  const fs::path dir = MakeTempDir("models_landmarks");
  const fs::path file = dir / "my_landmarks.dat";
  MakeFile(file, 10);
  ScopedEnv env("FACESWAP_LANDMARK_MODEL", file.string());
  EXPECT_EQ(face::ResolveModelFile(face::ModelFile::kLandmarks68), file);
}

}  // namespace
}  // namespace faceswap::test
