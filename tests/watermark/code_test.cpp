// The convolutional code and its Viterbi decoder (private to the module: src/watermark/).

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <stdexcept>

#include "../../src/watermark/conv_code.h"

namespace faceswap::watermark::detail {
namespace {

std::vector<uint8_t> RandomBits(std::mt19937& rng, int n) {
  std::vector<uint8_t> bits(n);
  for (auto& b : bits) b = static_cast<uint8_t>(rng() & 1u);
  return bits;
}

std::vector<float> Clean(const std::vector<uint8_t>& coded) {
  std::vector<float> soft;
  for (uint8_t c : coded) soft.push_back(c ? 1.0f : -1.0f);
  return soft;
}

TEST(ConvCode, LengthAndCleanRoundTrip) {
  std::mt19937 rng(1);
  const auto bits = RandomBits(rng, 88);
  const auto coded = ConvEncode(bits);
  ASSERT_EQ(coded.size(), static_cast<size_t>(kRate * (88 + kTailBits)));
  EXPECT_EQ(ViterbiDecode(Clean(coded), 88), bits);
}

TEST(ConvCode, CorrectsScatteredHardErrors) {
  // Free distance 18: any 8 flipped coded bits are corrected; spread-out errors far more.
  std::mt19937 rng(2);
  for (int trial = 0; trial < 50; ++trial) {
    const auto bits = RandomBits(rng, 88);
    std::vector<float> soft = Clean(ConvEncode(bits));
    for (int k = 0; k < 8; ++k) soft[rng() % soft.size()] *= -1;
    EXPECT_EQ(ViterbiDecode(soft, 88), bits) << "trial " << trial;
  }
}

TEST(ConvCode, DecodesSoftValuesInGaussianNoise) {
  // Amplitude 1, noise sigma 1 per coded bit (Es/N0 = -3 dB, Eb/N0 about 1.5 dB): the hard
  // decisions alone are 16% wrong, the decoder still gets most words right.
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  int right = 0, hard_errors = 0, coded_total = 0;
  for (int trial = 0; trial < 100; ++trial) {
    const auto bits = RandomBits(rng, 88);
    const auto coded = ConvEncode(bits);
    std::vector<float> soft = Clean(coded);
    for (size_t i = 0; i < soft.size(); ++i) {
      soft[i] += noise(rng);
      hard_errors += (soft[i] > 0) != (coded[i] == 1);
    }
    coded_total += static_cast<int>(soft.size());
    right += ViterbiDecode(soft, 88) == bits;
  }
  EXPECT_GT(hard_errors, coded_total / 10);
  EXPECT_GE(right, 80);
}

TEST(ConvCode, ListDecodingFindsMoreWordsThatPassAFollowingCheck) {
  // The first 16 message bits stand for a check: a list entry counts when it repeats the
  // sent ones. Noise sigma 1.3: plain Viterbi loses many words, the list finds more.
  std::mt19937 rng(4);
  std::normal_distribution<float> noise(0.0f, 1.3f);
  int plain = 0, listed = 0;
  for (int trial = 0; trial < 100; ++trial) {
    const auto bits = RandomBits(rng, 88);
    std::vector<float> soft = Clean(ConvEncode(bits));
    for (float& s : soft) s += noise(rng);
    const auto list = ListViterbiDecode(soft, 88, 8);
    ASSERT_FALSE(list.empty());
    EXPECT_EQ(list.front(), ViterbiDecode(soft, 88));
    for (size_t i = 1; i < list.size(); ++i) EXPECT_NE(list[i], list[i - 1]);
    plain += list.front() == bits;
    for (const auto& candidate : list) {
      if (std::equal(bits.begin(), bits.begin() + 16, candidate.begin())) {
        listed += candidate == bits;
        break;
      }
    }
  }
  EXPECT_GT(listed, plain);
  EXPECT_THROW(ListViterbiDecode(std::vector<float>(10), 88, 8), std::invalid_argument);
}

}  // namespace
}  // namespace faceswap::watermark::detail
