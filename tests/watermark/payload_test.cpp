#include "faceswap/watermark/payload.h"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

namespace faceswap::watermark {
namespace {

Payload Sample() {
  Payload p;
  p.version_major = 1;
  p.version_minor = 23;
  p.version_patch = 45;
  p.days = DaysSince2020(2025, 6, 1);
  p.model = 0xabcdef;
  return p;
}

TEST(Payload, PacksToFixedLengthAndBack) {
  const std::vector<uint8_t> bits = PackPayload(Sample());
  ASSERT_EQ(bits.size(), static_cast<size_t>(kPayloadBits));
  const auto back = UnpackPayload(bits);
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, Sample());
  EXPECT_EQ(back->Describe(), "faceswap 1.23.45, 2025-06-01, model abcdef");
}

TEST(Payload, EverySingleBitErrorIsCaught) {
  const std::vector<uint8_t> bits = PackPayload(Sample());
  for (int i = 0; i < kPayloadBits; ++i) {
    std::vector<uint8_t> damaged = bits;
    damaged[i] ^= 1;
    EXPECT_FALSE(UnpackPayload(damaged)) << "bit " << i;
  }
}

TEST(Payload, RandomBitsAlmostNeverPass) {
  // 2^-32 per try: 100000 random words must all fail.
  std::mt19937 rng(7);
  std::vector<uint8_t> bits(kPayloadBits);
  int passed = 0;
  for (int t = 0; t < 100000; ++t) {
    for (auto& b : bits) b = static_cast<uint8_t>(rng() & 1u);
    passed += UnpackPayload(bits).has_value();
  }
  EXPECT_EQ(passed, 0);
}

TEST(Payload, DatesRoundTrip) {
  EXPECT_EQ(DaysSince2020(2020, 1, 1), 0);
  EXPECT_EQ(DateOfDays(0), "2020-01-01");
  EXPECT_EQ(DaysSince2020(2024, 2, 29), 1520);
  EXPECT_EQ(DateOfDays(1520), "2024-02-29");
  for (int d = 0; d < 65536; d += 97) {
    const std::string iso = DateOfDays(d);
    EXPECT_EQ(DaysSince2020(std::stoi(iso.substr(0, 4)), std::stoi(iso.substr(5, 2)), std::stoi(iso.substr(8, 2))), d);
  }
}

TEST(Payload, ThisBuildHasTodayAndTheModelHash) {
  const Payload p = PayloadForThisBuild("1a2b3c4d5e6f7788");
  EXPECT_EQ(p.model, 0x1a2b3cu);
  EXPECT_GT(p.days, DaysSince2020(2024, 1, 1));
  EXPECT_EQ(PayloadForThisBuild("not-hex").model, 0u);
  EXPECT_EQ(PayloadForThisBuild("").model, 0u);
}

TEST(Payload, FieldsOutOfRangeAreRefused) {
  Payload p = Sample();
  p.version_minor = 64;
  EXPECT_THROW(PackPayload(p), std::invalid_argument);
  p = Sample();
  p.model = 0x1000000;
  EXPECT_THROW(PackPayload(p), std::invalid_argument);
  p = Sample();
  p.days = -1;
  EXPECT_THROW(PackPayload(p), std::invalid_argument);
}

}  // namespace
}  // namespace faceswap::watermark
