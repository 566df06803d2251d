#pragma once
// The watermark's picture: a square tile of kChips x kChips "chips" repeated over the frame.
// A quarter of the chips are pilots with fixed pseudo-random signs (the detector finds the
// tile's position and size by correlating with them); every other chip carries one of the
// coded payload bits, multiplied by its own pseudo-random sign (spread spectrum, Cox et al.
// 1997). Each coded bit lands on 2-3 chips of every tile, and a frame holds many tiles.
// The chips are interpolated with a periodic cubic kernel into a smooth, zero-mean noise of
// RMS 1 whose energy lies below half the chip rate: frequencies that H.264 keeps.
//
// The tile's side is half the frame's shorter side, so a frame that is only
// resized keeps the same pattern relative to its size; crops change it, which the detector
// searches for.

#include <opencv2/core.hpp>

#include <cstdint>
#include <vector>

#include "conv_code.h"
#include "faceswap/watermark/payload.h"

namespace faceswap::watermark::detail {

inline constexpr int kChips = 32;                                      // chips per tile side
inline constexpr int kCodedBits = kRate * (kPayloadBits + kTailBits);  // 288
// Half the shorter side: on the shared clips (576 px wide) that is 9 pixels per chip.
// Lower frequencies cost x264 fewer bits and survive scaling: with the same mark (43 dB)
// on the first 6 s of the shared clips (2026-12-04), 9-pixel chips cost 13.3% / 12.1%
// more bytes at crf 18 where 4.5-pixel chips (a quarter of the side) cost 23.8% / 23.0%,
// and after half size and crf 28 read 123 / 180 of 180 frames instead of 6 / 8. (An early
// design, with a weaker detector, found the quarter better after crf 28 alone.) Tiles of
// two thirds of the side (12-pixel chips) cost fewer bytes again but read too few frames
// of person_a.
inline constexpr double kTilesPerShortSide = 2.0;
inline constexpr int kMinTile = 64;  // pixels: 2 per chip; smaller frames (shorter side < 128) are not marked

// Which coded bit each chip carries (-1: a pilot) and its pseudo-random sign, from the
// project's fixed key: the same on every machine.
struct ChipLayout {
  std::vector<int16_t> bit;   // kChips * kChips, row-major
  std::vector<float> sign;    // +1 or -1
};
const ChipLayout& Layout();

// Chip values (kChips x kChips, CV_32F): the pilots' signs, and sign * (+1 / -1) for the
// coded bits 1 / 0 on the data chips.
cv::Mat ChipValues(const std::vector<uint8_t>& coded);
// The pilots alone (data chips 0).
cv::Mat PilotChips();

// Periodic Catmull-Rom weights from the kChips chip centres to `size` pixels along one
// axis (kChips x size, CV_32F); pixel u lies at chip coordinate (u + 0.5) * kChips / size - 0.5.
cv::Mat InterpolationMatrix(int size);
// K^T * chips * K: the tile at `size` x `size` pixels, CV_32F (not normalised).
cv::Mat RenderTile(const cv::Mat& chips, int size);
// The adjoint: how strongly each chip is present in a `size` x `size` tile (kChips x kChips).
cv::Mat ChipEvidence(const cv::Mat& tile);

// Tile side in pixels for a frame of this size (0 when the frame is too small to mark).
int TileSizeFor(cv::Size frame);

}  // namespace faceswap::watermark::detail
