#pragma once
// FNV-1a, 64 bits (Fowler, Noll, Vo; offset basis and prime from the authors' published
// parameters): the project's hash for checksums and names (model.json's weights_hash, the
// ranks' weight checksums, the exemplar cache's file names). Not for anything an adversary
// chooses.

#include <cstddef>
#include <cstdint>

namespace faceswap::core {

inline constexpr uint64_t kFnvOffsetBasis = 1469598103934665603ULL;
inline constexpr uint64_t kFnvPrime = 1099511628211ULL;

// Folds `size` bytes into `hash` (start from kFnvOffsetBasis).
inline void Fnv1aMix(uint64_t& hash, const void* data, std::size_t size) {
  const auto* bytes = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ bytes[i]) * kFnvPrime;
}

}  // namespace faceswap::core
