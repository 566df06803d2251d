#include "faceswap/watermark/payload.h"

#include <chrono>
#include <cstdio>
#include <stdexcept>

#ifndef FACESWAP_VERSION
#error "FACESWAP_VERSION must be defined by the build (src/watermark/CMakeLists.txt)"
#endif

namespace faceswap::watermark {
namespace {

// A fixed pattern of bits that says "this is a faceswap mark" before anything else is read.
constexpr uint32_t kSignature = 0xFA5C;
constexpr int kEpochDays = 18262;  // 2020-01-01 counted from 1970-01-01

// Days from 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// CRC-16/CCITT-FALSE (polynomial 0x1021, initial value 0xFFFF) over bits, MSB first.
uint32_t Crc16(const std::vector<uint8_t>& bits, size_t count) {
  uint32_t crc = 0xFFFF;
  for (size_t i = 0; i < count; ++i) {
    const uint32_t top = ((crc >> 15) & 1u) ^ bits[i];
    crc = (crc << 1) & 0xFFFF;
    if (top) crc ^= 0x1021;
  }
  return crc;
}

void PutBits(std::vector<uint8_t>& bits, uint32_t value, int count) {
  for (int i = count - 1; i >= 0; --i) bits.push_back(static_cast<uint8_t>((value >> i) & 1u));
}

uint32_t GetBits(const std::vector<uint8_t>& bits, size_t& at, int count) {
  uint32_t value = 0;
  for (int i = 0; i < count; ++i) value = (value << 1) | (bits[at++] & 1u);
  return value;
}

void RequireRange(int value, int max, const char* what) {
  if (value < 0 || value > max) {
    throw std::invalid_argument(std::string("watermark payload: ") + what + " " + std::to_string(value) +
                                " does not fit (0.." + std::to_string(max) + ")");
  }
}

}  // namespace

int DaysSince2020(int year, int month, int day) { return DaysFromCivil(year, month, day) - kEpochDays; }

std::string DateOfDays(int days) {
  // H. Hinnant's civil_from_days.
  const int z = days + kEpochDays + 719468;
  const int era = (z >= 0 ? z : z - 146096) / 146097;
  const int doe = z - era * 146097;
  const int yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int mp = (5 * doy + 2) / 153;
  const int d = doy - (153 * mp + 2) / 5 + 1;
  const int m = mp + (mp < 10 ? 3 : -9);
  const int y = yoe + era * 400 + (m <= 2);
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d", y, m, d);
  return text;
}

std::string Payload::Version() const {
  return std::to_string(version_major) + "." + std::to_string(version_minor) + "." + std::to_string(version_patch);
}

std::string Payload::Date() const { return DateOfDays(days); }

std::string Payload::ModelHex() const {
  char text[8];
  std::snprintf(text, sizeof text, "%06x", static_cast<unsigned>(model & 0xFFFFFFu));
  return text;
}

std::string Payload::Describe() const { return "faceswap " + Version() + ", " + Date() + ", model " + ModelHex(); }

bool Payload::operator==(const Payload& o) const {
  return version_major == o.version_major && version_minor == o.version_minor && version_patch == o.version_patch &&
         days == o.days && model == o.model;
}

Payload PayloadForThisBuild(const std::string& weights_hash) {
  Payload p;
  std::sscanf(FACESWAP_VERSION, "%d.%d.%d", &p.version_major, &p.version_minor, &p.version_patch);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  p.days = static_cast<int>(std::chrono::duration_cast<std::chrono::hours>(now).count() / 24) - kEpochDays;
  if (weights_hash.size() >= 6) {
    try {
      size_t used = 0;
      const unsigned long value = std::stoul(weights_hash.substr(0, 6), &used, 16);
      if (used == 6) p.model = static_cast<uint32_t>(value);
    } catch (const std::exception&) {
      p.model = 0;  // not hex: an unknown model
    }
  }
  return p;
}

std::vector<uint8_t> PackPayload(const Payload& p) {
  RequireRange(p.version_major, 15, "version major");
  RequireRange(p.version_minor, 63, "version minor");
  RequireRange(p.version_patch, 63, "version patch");
  RequireRange(p.days, 65535, "day");
  if (p.model > 0xFFFFFFu) throw std::invalid_argument("watermark payload: model hash has more than 24 bits");
  std::vector<uint8_t> bits;
  bits.reserve(kPayloadBits);
  PutBits(bits, kSignature, 16);
  PutBits(bits, static_cast<uint32_t>(p.version_major), 4);
  PutBits(bits, static_cast<uint32_t>(p.version_minor), 6);
  PutBits(bits, static_cast<uint32_t>(p.version_patch), 6);
  PutBits(bits, static_cast<uint32_t>(p.days), 16);
  PutBits(bits, p.model, 24);
  PutBits(bits, Crc16(bits, bits.size()), 16);
  return bits;
}

std::optional<Payload> UnpackPayload(const std::vector<uint8_t>& bits) {
  if (bits.size() != static_cast<size_t>(kPayloadBits)) return std::nullopt;
  size_t at = 0;
  if (GetBits(bits, at, 16) != kSignature) return std::nullopt;
  Payload p;
  p.version_major = static_cast<int>(GetBits(bits, at, 4));
  p.version_minor = static_cast<int>(GetBits(bits, at, 6));
  p.version_patch = static_cast<int>(GetBits(bits, at, 6));
  p.days = static_cast<int>(GetBits(bits, at, 16));
  p.model = GetBits(bits, at, 24);
  const size_t body = at;
  if (GetBits(bits, at, 16) != Crc16(bits, body)) return std::nullopt;
  return p;
}

}  // namespace faceswap::watermark
