#pragma once
// The watermark's error-correcting code: the rate-1/3, constraint-length-9 convolutional
// code with generators 557, 663, 711 (octal; free distance 18, the best rate-1/3 code of
// that length in Larsen's 1973 tables, as listed in Proakis, Digital Communications),
// terminated with 8 zero bits and decoded by a soft-decision Viterbi search (256 states).

#include <cstdint>
#include <vector>

namespace faceswap::watermark::detail {

inline constexpr int kConstraint = 9;
inline constexpr int kTailBits = kConstraint - 1;
inline constexpr int kRate = 3;

// Coded bits (0/1) of `bits` (0/1) followed by the tail: kRate * (bits + kTailBits).
std::vector<uint8_t> ConvEncode(const std::vector<uint8_t>& bits);

// The most likely message for soft values (positive: a coded 1, negative: a coded 0, the
// magnitude is the evidence), of `message_bits` bits.
std::vector<uint8_t> ViterbiDecode(const std::vector<float>& soft, int message_bits);

// The `list_size` most likely messages, most likely first (a parallel list Viterbi search,
// Seshadri and Sundberg 1994): with a check such as a CRC on the message, the first that
// passes it is right more often than the single most likely one is.
std::vector<std::vector<uint8_t>> ListViterbiDecode(const std::vector<float>& soft, int message_bits, int list_size);

}  // namespace faceswap::watermark::detail
