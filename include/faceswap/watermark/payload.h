#pragma once
// What the invisible watermark says: "made by faceswap", which version, on which day, with
// which model. 56 bits of fields, sent together with a fixed 16-bit signature and a CRC-16
// (88 bits in all) so that a frame without the mark never decodes as marked: a random
// frame passes both checks with probability 2^-32 per attempt.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace faceswap::watermark {

inline constexpr int kPayloadBits = 88;  // signature 16 + version 16 + date 16 + model 24 + CRC 16

struct Payload {
  int version_major = 0;  // 0..15
  int version_minor = 0;  // 0..63
  int version_patch = 0;  // 0..63
  int days = 0;           // UTC day of the conversion, counted from 2020-01-01 (0..65535)
  uint32_t model = 0;     // 24 bits: the first 6 hex digits of model.json's weights_hash

  std::string Version() const;   // "0.1.0"
  std::string Date() const;      // "2025-06-01"
  std::string ModelHex() const;  // "1a2b3c"
  std::string Describe() const;  // "faceswap 0.1.0, 2025-06-01, model 1a2b3c"
  bool operator==(const Payload& other) const;
  bool operator!=(const Payload& other) const { return !(*this == other); }
};

// The payload convert writes: this build's version (FACESWAP_VERSION), today's UTC date
// and the model's weights_hash (16 hex digits; fewer or non-hex digits give model 0).
Payload PayloadForThisBuild(const std::string& weights_hash);

// Days since 2020-01-01 of a proleptic Gregorian date, and back (ISO "YYYY-MM-DD").
int DaysSince2020(int year, int month, int day);
std::string DateOfDays(int days);

// The 88 bits sent, one per byte (0 or 1), signature first, CRC last. Throws
// std::invalid_argument when a field does not fit its bits.
std::vector<uint8_t> PackPayload(const Payload& payload);
// The payload, or nullopt when the signature or the CRC does not match.
std::optional<Payload> UnpackPayload(const std::vector<uint8_t>& bits);

}  // namespace faceswap::watermark
