#include "conv_code.h"

#include <array>
#include <stdexcept>

namespace faceswap::watermark::detail {
namespace {

constexpr std::array<unsigned, kRate> kGenerators = {0557, 0663, 0711};
constexpr int kStates = 1 << (kConstraint - 1);

int Parity(unsigned v) { return __builtin_parity(v); }

// The kRate output bits for `input` entering a register that holds `state` (newest bit high).
unsigned Outputs(unsigned state, unsigned input) {
  const unsigned reg = (input << (kConstraint - 1)) | state;
  unsigned out = 0;
  for (int j = 0; j < kRate; ++j) out |= static_cast<unsigned>(Parity(reg & kGenerators[j])) << j;
  return out;
}

}  // namespace

std::vector<uint8_t> ConvEncode(const std::vector<uint8_t>& bits) {
  std::vector<uint8_t> coded;
  coded.reserve(kRate * (bits.size() + kTailBits));
  unsigned state = 0;
  auto push = [&](unsigned input) {
    const unsigned out = Outputs(state, input);
    for (int j = 0; j < kRate; ++j) coded.push_back(static_cast<uint8_t>((out >> j) & 1u));
    state = ((input << (kConstraint - 1)) | state) >> 1;
  };
  for (uint8_t b : bits) push(b & 1u);
  for (int i = 0; i < kTailBits; ++i) push(0);
  return coded;
}

std::vector<std::vector<uint8_t>> ListViterbiDecode(const std::vector<float>& soft, int message_bits, int list_size) {
  const int steps = message_bits + kTailBits;
  if (static_cast<int>(soft.size()) != kRate * steps) throw std::invalid_argument("ViterbiDecode: wrong soft length");
  if (list_size < 1 || list_size > 255) throw std::invalid_argument("ViterbiDecode: list size must be 1..255");
  static_assert(kStates <= 256, "states are stored in bytes");
  const size_t per_state = static_cast<size_t>(list_size);
  // The best `list_size` paths into each state, best first: their metrics now, and for
  // every step where each came from (previous state and its rank there).
  struct Back {
    uint8_t state = 0, rank = 0;
  };
  std::vector<float> metric(kStates * per_state), next(kStates * per_state);
  std::vector<int> count(kStates, 0), next_count(kStates, 0);
  std::vector<Back> back(static_cast<size_t>(steps) * kStates * per_state);
  metric[0] = 0;
  count[0] = 1;
  std::array<float, 1 << kRate> branch;
  for (int t = 0; t < steps; ++t) {
    // Correlation of each possible output triple with the soft values of this step.
    for (unsigned out = 0; out < branch.size(); ++out) {
      float m = 0;
      for (int j = 0; j < kRate; ++j) m += ((out >> j) & 1u) ? soft[kRate * t + j] : -soft[kRate * t + j];
      branch[out] = m;
    }
    std::fill(next_count.begin(), next_count.end(), 0);
    Back* from = &back[static_cast<size_t>(t) * kStates * per_state];
    const unsigned inputs = t < message_bits ? 2u : 1u;  // the tail feeds zeros
    for (unsigned s = 0; s < kStates; ++s) {
      for (unsigned input = 0; input < inputs; ++input) {
        const unsigned ns = ((input << (kConstraint - 1)) | s) >> 1;
        const float step = branch[Outputs(s, input)];
        float* list = &next[ns * per_state];
        Back* list_from = &from[ns * per_state];
        int& n = next_count[ns];
        for (int r = 0; r < count[s]; ++r) {
          const float m = metric[s * per_state + r] + step;
          if (n == list_size && m <= list[n - 1]) break;  // the ranks of s come best first
          int at = n < list_size ? n++ : n - 1;            // insertion into the sorted list
          while (at > 0 && list[at - 1] < m) {
            list[at] = list[at - 1];
            list_from[at] = list_from[at - 1];
            --at;
          }
          list[at] = m;
          list_from[at] = {static_cast<uint8_t>(s), static_cast<uint8_t>(r)};
        }
      }
    }
    std::swap(metric, next);
    std::swap(count, next_count);
  }
  // The tail ends in state 0; walk back each of its paths. The input bit that entered a
  // state is that state's top bit.
  std::vector<std::vector<uint8_t>> messages;
  for (int k = 0; k < count[0]; ++k) {
    std::vector<uint8_t> bits(message_bits);
    unsigned s = 0, rank = static_cast<unsigned>(k);
    for (int t = steps - 1; t >= 0; --t) {
      if (t < message_bits) bits[t] = static_cast<uint8_t>((s >> (kConstraint - 2)) & 1u);
      const Back& b = back[(static_cast<size_t>(t) * kStates + s) * per_state + rank];
      s = b.state;
      rank = b.rank;
    }
    messages.push_back(std::move(bits));
  }
  return messages;
}

std::vector<uint8_t> ViterbiDecode(const std::vector<float>& soft, int message_bits) {
  return ListViterbiDecode(soft, message_bits, 1).front();
}

}  // namespace faceswap::watermark::detail
