#pragma once
// Numbers read from JSON files that faceswap may not have written itself (alignments.json,
// model.json). nlohmann's get<int>() of 1e300, or get<float>() of 1e300, is undefined
// behaviour or an infinity that writes back as null; these check first. Header-only, for
// the modules that already parse JSON with nlohmann.

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace faceswap::core {

// `value` as T: a whole number in T's range for integer T, a finite number in T's range
// for floating-point T. Otherwise std::runtime_error("FIELD must be ...").
template <typename T>
T JsonNumber(const nlohmann::json& value, const std::string& field) {
  static_assert(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>);
  using Limits = std::numeric_limits<T>;
  if constexpr (std::is_integral_v<T>) {
    const auto out_of_range = [&] {
      return std::runtime_error(field + " must be a whole number from " + std::to_string(Limits::min()) + " to " +
                                std::to_string(Limits::max()));
    };
    if (value.is_number_unsigned()) {
      const uint64_t v = value.get<uint64_t>();
      if (v > static_cast<uint64_t>(Limits::max())) throw out_of_range();
      return static_cast<T>(v);
    }
    if (!value.is_number_integer()) throw out_of_range();
    const int64_t v = value.get<int64_t>();
    if constexpr (std::is_unsigned_v<T>) {
      if (v < 0 || static_cast<uint64_t>(v) > static_cast<uint64_t>(Limits::max())) throw out_of_range();
    } else {
      if (v < static_cast<int64_t>(Limits::min()) || v > static_cast<int64_t>(Limits::max())) throw out_of_range();
    }
    return static_cast<T>(v);
  } else {
    const double v = value.is_number() ? value.get<double>() : std::numeric_limits<double>::quiet_NaN();
    if (!std::isfinite(v) || std::abs(v) > static_cast<double>(Limits::max())) {
      throw std::runtime_error(field + " must be a finite number within the range of a " +
                               (sizeof(T) == 4 ? "float" : "double"));
    }
    return static_cast<T>(v);
  }
}

// object[key] as JsonNumber<T>, or `fallback` when the object has no such key.
template <typename T>
T JsonNumberOr(const nlohmann::json& object, const char* key, T fallback) {
  return object.contains(key) ? JsonNumber<T>(object.at(key), key) : fallback;
}

}  // namespace faceswap::core
