#include "faceswap/model/autoencoder.h"

#include <gtest/gtest.h>

#include "faceswap/core/error.h"
#include "test_support.h"

namespace faceswap::model {
namespace {

const bool seeded = test::RegisterSeeder([](unsigned seed) { torch::manual_seed(seed); });

TEST(Autoencoder, EveryPresetMapsFacesToFacesForEveryIdentity) {
  for (const Preset& preset : AllPresets()) {
    FaceAutoencoder net(preset, 3);
    torch::NoGradGuard no_grad;
    const int r = preset.resolution;
    const int in = preset.EncoderSide(r);
    EXPECT_EQ(net->input_resolution(), in) << preset.name;
    const torch::Tensor faces = torch::rand({2, 3, in, in});
    for (int id = 0; id < 3; ++id) {
      const Decoded out = net->Forward(faces, id);
      EXPECT_EQ(out.rgb.sizes(), (std::vector<int64_t>{2, 3, r, r})) << preset.name;
      EXPECT_GE(out.rgb.min().item<float>(), 0.0f);
      EXPECT_LE(out.rgb.max().item<float>(), 1.0f);
      EXPECT_EQ(out.mask.defined(), preset.has_mask) << preset.name;
    }
  }
}

TEST(Autoencoder, SharpPresetDrawsFourTimesTheSideItEncodesStartingFromTheBicubicEnlargement) {
  namespace F = torch::nn::functional;
  const Preset sharp = GetPreset("sharp");
  EXPECT_EQ(sharp.resolution, 256);
  FaceAutoencoder net(sharp, 2);
  torch::NoGradGuard no_grad;
  EXPECT_THROW(net->Encode(torch::rand({1, 3, 256, 256})), UsageError);  // the encoder takes 64 px
  const torch::Tensor code = net->Encode(torch::rand({2, 3, 64, 64}));
  const Decoded out = net->Decode(code, 1);
  EXPECT_EQ(out.rgb.sizes(), (std::vector<int64_t>{2, 3, 256, 256}));
  const Decoded own = net->Decode(code, 1, false);  // without the detail stage
  EXPECT_EQ(own.rgb.sizes(), (std::vector<int64_t>{2, 3, 64, 64}));
  // An untrained stage adds nothing: the face is the decoder's, enlarged bicubically.
  const torch::Tensor bicubic = F::interpolate(own.rgb, F::InterpolateFuncOptions()
                                                            .scale_factor(std::vector<double>{4.0, 4.0})
                                                            .mode(torch::kBicubic)
                                                            .align_corners(false));
  EXPECT_LT((out.rgb - bicubic.clamp(0, 1)).abs().max().item<float>(), 1e-5f);
  // lite's encoder and decoders unchanged: sharp costs only in its detail stages.
  FaceAutoencoder lite(GetPreset("lite"), 2);
  auto count = [](const std::vector<torch::Tensor>& parameters) {
    int64_t n = 0;
    for (const auto& p : parameters) n += p.numel();
    return n;
  };
  EXPECT_EQ(count(net->EncoderParameters()), count(lite->EncoderParameters()));
  EXPECT_EQ(count(net->DecoderParameters(0)), count(lite->DecoderParameters(0)));
  EXPECT_THROW(lite->Enhance(torch::rand({1, 3, 64, 64}), 0), UsageError);
}

TEST(Autoencoder, ADetailWindowDrawsThePixelsOfTheWholeFace) {
  FaceAutoencoder net(GetPreset("sharp"), 2);
  torch::NoGradGuard no_grad;
  for (torch::Tensor& p : net->parameters()) p.copy_(torch::randn_like(p) * 0.05);  // the stage not zero
  const torch::Tensor faces = torch::rand({2, 3, 64, 64});
  const torch::Tensor whole = net->Enhance(faces, 0);
  const int m = kDetailWindowMargin;
  for (const DetailWindow window : {DetailWindow{m, 20, 16}, DetailWindow{64 - m - 32, m, 32}}) {
    const torch::Tensor part = net->Enhance(faces, 0, window);
    const int64_t side = 4 * window.side;
    ASSERT_EQ(part.sizes(), (std::vector<int64_t>{2, 3, side, side}));
    const torch::Tensor expected = whole.narrow(2, 4 * window.y, side).narrow(3, 4 * window.x, side);
    EXPECT_LT((part - expected).abs().max().item<float>(), 1e-5f) << window.x << "," << window.y;
  }
  EXPECT_THROW(net->Enhance(faces, 0, DetailWindow{m - 1, 20, 16}), UsageError);  // into the margin
  EXPECT_THROW(net->Enhance(faces, 0, DetailWindow{64 - m - 15, 20, 16}), UsageError);
}

TEST(Autoencoder, DecodersAreSeparateAndTheEncoderShared) {
  FaceAutoencoder net(GetPreset("lite"), 2);
  torch::NoGradGuard no_grad;
  const torch::Tensor faces = torch::rand({1, 3, 64, 64});
  const torch::Tensor code = net->Encode(faces);
  EXPECT_FALSE(torch::equal(net->Decode(code, 0).rgb, net->Decode(code, 1).rgb));
  EXPECT_GT(net->EncoderParameters().size(), 0u);
  EXPECT_EQ(net->DecoderParameters(0).size(), net->DecoderParameters(1).size());
  EXPECT_THROW(net->Decode(code, 2), UsageError);
}

TEST(Autoencoder, OriginalPresetHasTheClassicShape) {
  FaceAutoencoder net(GetPreset("original"), 2);
  // Encoder: convs 3->128->256->512->1024 (5x5), dense 16384->1024, dense 1024->16384,
  // upscale conv 1024->2048 (3x3). Count the weights to pin the architecture down.
  int64_t encoder = 0;
  for (const auto& p : net->EncoderParameters()) encoder += p.numel();
  const int64_t convs = (3 * 128 + 128 * 256 + 256 * 512 + 512 * 1024) * 25 + (128 + 256 + 512 + 1024);
  const int64_t dense = (16384 * 1024 + 1024) + (1024 * 16384 + 16384);
  const int64_t upscale = 1024 * 2048 * 9 + 2048;
  EXPECT_EQ(encoder, convs + dense + upscale);
  torch::NoGradGuard no_grad;
  EXPECT_EQ(net->Encode(torch::rand({1, 3, 64, 64})).sizes(), (std::vector<int64_t>{1, 512, 8, 8}));
}

TEST(Autoencoder, ProgressivePresetRunsEveryStageAndFadesIn) {
  const Preset hd = GetPreset("hd");
  FaceAutoencoder net(hd, 2);
  torch::NoGradGuard no_grad;
  for (int r = hd.start_resolution; r <= hd.resolution; r *= 2) {
    for (double alpha : {0.0, 0.5, 1.0}) {
      net->SetStage(r, alpha);
      const Decoded out = net->Forward(torch::rand({1, 3, r, r}), 1);
      EXPECT_EQ(out.rgb.size(2), r);
      EXPECT_EQ(out.mask.size(2), r);
    }
  }
  EXPECT_THROW(net->SetStage(16, 1.0), UsageError);
  EXPECT_THROW(net->SetStage(96, 1.0), UsageError);
  FaceAutoencoder lite(GetPreset("lite"), 2);
  EXPECT_THROW(lite->SetStage(32, 1.0), UsageError);
}

TEST(Autoencoder, StageScheduleGrowsAndFades) {
  const Preset hd = GetPreset("hd");
  EXPECT_EQ(StageAt(hd, 0, 100).resolution, 32);
  EXPECT_DOUBLE_EQ(StageAt(hd, 0, 100).alpha, 1.0);
  EXPECT_EQ(StageAt(hd, 100, 100).resolution, 64);
  EXPECT_DOUBLE_EQ(StageAt(hd, 100, 100).alpha, 0.0);
  EXPECT_DOUBLE_EQ(StageAt(hd, 125, 100).alpha, 0.5);
  EXPECT_DOUBLE_EQ(StageAt(hd, 160, 100).alpha, 1.0);
  EXPECT_EQ(StageAt(hd, 250, 100).resolution, 128);
  EXPECT_EQ(StageAt(hd, 100000, 100).resolution, 128);
  EXPECT_DOUBLE_EQ(StageAt(hd, 100000, 100).alpha, 1.0);
  EXPECT_EQ(StageAt(GetPreset("lite"), 5, 100).resolution, 64);
}

TEST(Autoencoder, TheOcclusionNetworkDrawsAVisibleFaceMaskAtTheEncodersSide) {
  for (const Preset& preset : AllPresets()) {
    FaceAutoencoder net(preset, 2, true);
    ASSERT_TRUE(net->has_occlusion()) << preset.name;
    const int side = net->input_resolution();
    const torch::Tensor visible = net->VisibleFace(torch::rand({2, 3, side, side}));
    ASSERT_EQ(visible.sizes(), (std::vector<int64_t>{2, 1, side, side})) << preset.name;
    EXPECT_GE(visible.min().item<float>(), 0.0f);
    EXPECT_LE(visible.max().item<float>(), 1.0f);
  }
  // Models saved before it have none (model.json without occlusion_mask).
  FaceAutoencoder old(GetPreset("lite"), 2);
  EXPECT_FALSE(old->has_occlusion());
  EXPECT_FALSE(old->VisibleFace(torch::rand({1, 3, 64, 64})).defined());
}

TEST(Autoencoder, UnknownPresetNamesTheChoices) {
  try {
    GetPreset("huge");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("original, lite, lite128, sharp, hd"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace faceswap::model
