// GuessSourceIdentity (convert's choice of whom the faces show, for models without identity
// descriptors) compares the decoders' faces only, and leaves the swapper's masks as it
// found them.

#include "face_filter.h"

#include <gtest/gtest.h>

#include "faceswap/model/checkpoint.h"
#include "faceswap/model/swapper.h"
#include "test_support.h"

namespace faceswap::pipeline {
namespace {

std::filesystem::path SavedLiteModel() {
  const std::filesystem::path dir = test::MakeTempDir("guess_source");
  model::ModelInfo info;
  info.preset = "lite";
  info.resolution = 64;
  info.identities = {"a", "b"};
  info.alignment_template = "test";
  info.coverage = 1.0;
  model::FaceAutoencoder net = model::CreateNetwork(info);
  model::SaveCheckpoint(dir, net, nullptr, info, 1);
  return dir;
}

TEST(GuessSourceIdentity, LeavesTheSwappersMasksAsTheyWere) {
  model::Swapper swapper(SavedLiteModel(), model::DeviceKind::kCpu);
  cv::Mat face(64, 64, CV_8UC3);
  cv::randu(face, 0, 255);
  const std::vector<cv::Mat> faces(2, face);

  ASSERT_TRUE(swapper.masks());
  const int source = GuessSourceIdentity(swapper, faces);
  EXPECT_TRUE(source == 0 || source == 1);
  EXPECT_TRUE(swapper.masks());
  EXPECT_FALSE(swapper.Swap(faces, 1)[0].mask.empty());

  swapper.set_masks(false);  // convert --mask landmarks
  GuessSourceIdentity(swapper, faces);
  EXPECT_FALSE(swapper.masks());
}

}  // namespace
}  // namespace faceswap::pipeline
