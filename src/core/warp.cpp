#include "faceswap/core/warp.h"

#include <immintrin.h>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace faceswap::core {
namespace {

// Keys' cubic convolution kernel with a = -0.75 (OpenCV's), at the four taps around t.
void CubicWeights(float t, float w[4]) {
  constexpr float a = -0.75f;
  const float t1 = t + 1.f, u = 1.f - t;
  w[0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;
  w[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  w[2] = ((a + 2) * u - (a + 3)) * u * u + 1;
  w[3] = 1.f - w[0] - w[1] - w[2];
}

unsigned char ToByte(float v) { return static_cast<unsigned char>(std::clamp(std::lround(v), 0L, 255L)); }

// One pixel with every tap clamped into the picture (the edge replicated).
void EdgePixel(const cv::Mat& src, double sx, double sy, unsigned char* out) {
  // Beyond a pixel past the edge every tap reads the edge: the same result, and no position
  // too large for an int (fmax and fmin also turn a NaN into the bound).
  sx = std::fmin(std::fmax(sx, -2.0), src.cols + 1.0);
  sy = std::fmin(std::fmax(sy, -2.0), src.rows + 1.0);
  const double fx = std::floor(sx), fy = std::floor(sy);
  const int ix = static_cast<int>(fx), iy = static_cast<int>(fy);
  float wx[4], wy[4];
  CubicWeights(static_cast<float>(sx - fx), wx);
  CubicWeights(static_cast<float>(sy - fy), wy);
  float sum[3] = {0, 0, 0};
  for (int j = 0; j < 4; ++j) {
    const unsigned char* row = src.ptr<unsigned char>(std::clamp(iy - 1 + j, 0, src.rows - 1));
    for (int i = 0; i < 4; ++i) {
      const unsigned char* p = row + 3 * std::clamp(ix - 1 + i, 0, src.cols - 1);
      const float w = wx[i] * wy[j];
      for (int c = 0; c < 3; ++c) sum[c] += w * p[c];
    }
  }
  for (int c = 0; c < 3; ++c) out[c] = ToByte(sum[c]);
}

// Eight bytes from p as floats.
__attribute__((target("avx2,fma"))) inline __m256 Bytes8(const unsigned char* p) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
}

// The kernel's four taps for eight positions' fractions t at once.
__attribute__((target("avx2,fma"))) inline void CubicWeights8(__m256 t, __m256 w[4]) {
  const __m256 one = _mm256_set1_ps(1.f), t1 = _mm256_add_ps(t, one), u = _mm256_sub_ps(one, t);
  // The expressions of CubicWeights with a = -0.75 written out.
  w[0] = _mm256_fmadd_ps(
      _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(-0.75f), t1, _mm256_set1_ps(3.75f)), t1, _mm256_set1_ps(-6.f)), t1,
      _mm256_set1_ps(3.f));
  w[1] = _mm256_fmadd_ps(_mm256_fmsub_ps(_mm256_set1_ps(1.25f), t, _mm256_set1_ps(2.25f)), _mm256_mul_ps(t, t), one);
  w[2] = _mm256_fmadd_ps(_mm256_fmsub_ps(_mm256_set1_ps(1.25f), u, _mm256_set1_ps(2.25f)), _mm256_mul_ps(u, u), one);
  w[3] = _mm256_sub_ps(_mm256_sub_ps(_mm256_sub_ps(one, w[0]), w[1]), w[2]);
}

__attribute__((target("avx2,fma"))) inline void Transpose8(__m256 r[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  r[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  r[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  r[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  r[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  r[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  r[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  r[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  r[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// One row of dst, eight pixels at a time: their positions and weights side by side, then
// per pixel the four source rows' twelve bytes (four pixels' BGR) weighted down the columns,
// then the eight pixels' sums turned side by side again for the weights along the row.
// `m` maps dst to src.
__attribute__((target("avx2,fma"))) void WarpRowAvx2(const cv::Mat& src, const cv::Matx23d& m, int y, int width,
                                                     unsigned char* out) {
  const size_t step = src.step;
  const double base_x = m(0, 1) * y + m(0, 2), base_y = m(1, 1) * y + m(1, 2);
  const __m256 lane = _mm256_setr_ps(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256 dx = _mm256_set1_ps(static_cast<float>(m(0, 0))), dy = _mm256_set1_ps(static_cast<float>(m(1, 0)));
  const __m256i last_x = _mm256_set1_epi32(src.cols - 2), last_y = _mm256_set1_epi32(src.rows - 2);
  alignas(32) int ix[8], iy[8];
  alignas(32) float wy_at[4][8];
  alignas(16) unsigned char channel[3][16];
  int x = 0;
  for (; x + 8 <= width; x += 8) {
    const __m256 sx = _mm256_fmadd_ps(lane, dx, _mm256_set1_ps(static_cast<float>(m(0, 0) * x + base_x)));
    const __m256 sy = _mm256_fmadd_ps(lane, dy, _mm256_set1_ps(static_cast<float>(m(1, 0) * x + base_y)));
    const __m256 fx = _mm256_floor_ps(sx), fy = _mm256_floor_ps(sy);
    const __m256i vx = _mm256_cvttps_epi32(fx), vy = _mm256_cvttps_epi32(fy);
    // Every tap inside: 1 <= x and x + 2 <= cols - 1, the same down the column.
    const __m256i inside = _mm256_and_si256(
        _mm256_and_si256(_mm256_cmpgt_epi32(vx, _mm256_setzero_si256()), _mm256_cmpgt_epi32(vy, _mm256_setzero_si256())),
        _mm256_and_si256(_mm256_cmpgt_epi32(last_x, vx), _mm256_cmpgt_epi32(last_y, vy)));
    if (_mm256_movemask_ps(_mm256_castsi256_ps(inside)) != 0xFF) {
      for (int k = x; k < x + 8; ++k) EdgePixel(src, m(0, 0) * k + base_x, m(1, 0) * k + base_y, out + 3 * k);
      continue;
    }
    __m256 wx[4], wy[4];
    CubicWeights8(_mm256_sub_ps(sx, fx), wx);
    CubicWeights8(_mm256_sub_ps(sy, fy), wy);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ix), vx);
    _mm256_store_si256(reinterpret_cast<__m256i*>(iy), vy);
    for (int j = 0; j < 4; ++j) _mm256_store_ps(wy_at[j], wy[j]);
    // first[k]: B0 G0 R0 B1 G1 R1 B2 G2 of pixel k's taps, summed down the columns;
    // second[k]: G1 R1 B2 G2 R2 B3 G3 R3 (bytes 4-11: twelve bytes read, none past them).
    __m256 first[8], second[8];
    for (int k = 0; k < 8; ++k) {
      const unsigned char* p = src.data + (iy[k] - 1) * step + 3 * (ix[k] - 1);
      __m256 a = _mm256_mul_ps(Bytes8(p), _mm256_broadcast_ss(&wy_at[0][k]));
      __m256 b = _mm256_mul_ps(Bytes8(p + 4), _mm256_broadcast_ss(&wy_at[0][k]));
      for (int j = 1; j < 4; ++j) {
        p += step;
        a = _mm256_fmadd_ps(Bytes8(p), _mm256_broadcast_ss(&wy_at[j][k]), a);
        b = _mm256_fmadd_ps(Bytes8(p + 4), _mm256_broadcast_ss(&wy_at[j][k]), b);
      }
      first[k] = a;
      second[k] = b;
    }
    Transpose8(first);
    Transpose8(second);
    const __m256 sums[3] = {
        _mm256_fmadd_ps(first[0], wx[0], _mm256_fmadd_ps(first[3], wx[1], _mm256_fmadd_ps(first[6], wx[2], _mm256_mul_ps(second[5], wx[3])))),
        _mm256_fmadd_ps(first[1], wx[0], _mm256_fmadd_ps(first[4], wx[1], _mm256_fmadd_ps(first[7], wx[2], _mm256_mul_ps(second[6], wx[3])))),
        _mm256_fmadd_ps(first[2], wx[0], _mm256_fmadd_ps(first[5], wx[1], _mm256_fmadd_ps(second[4], wx[2], _mm256_mul_ps(second[7], wx[3])))),
    };
    for (int c = 0; c < 3; ++c) {
      const __m256i v = _mm256_cvtps_epi32(sums[c]);
      const __m128i words = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
      _mm_storel_epi64(reinterpret_cast<__m128i*>(channel[c]), _mm_packus_epi16(words, words));
    }
    unsigned char* o = out + 3 * x;
    for (int k = 0; k < 8; ++k) {
      o[3 * k] = channel[0][k];
      o[3 * k + 1] = channel[1][k];
      o[3 * k + 2] = channel[2][k];
    }
  }
  for (; x < width; ++x) EdgePixel(src, m(0, 0) * x + base_x, m(1, 0) * x + base_y, out + 3 * x);
}

bool HasAvx2Fma() {
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
}

}  // namespace

void WarpAffineCubic(const cv::Mat& src, cv::Mat& dst, const cv::Matx23d& to_dst, cv::Size size) {
  if (src.type() != CV_8UC3 || src.empty() || !HasAvx2Fma() || src.data == dst.data) {
    cv::warpAffine(src, dst, to_dst, size, cv::INTER_CUBIC, cv::BORDER_REPLICATE);
    return;
  }
  cv::Matx23d to_src;
  cv::invertAffineTransform(to_dst, to_src);
  dst.create(size, CV_8UC3);
  for (int y = 0; y < size.height; ++y) WarpRowAvx2(src, to_src, y, size.width, dst.ptr<unsigned char>(y));
}

}  // namespace faceswap::core
