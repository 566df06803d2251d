#pragma once
// The watermark's picture: a square tile of kChips x kChips "chips" repeated over the frame.
// A quarter of the chips are pilots with fixed pseudo-random signs (the detector finds the
// tile's position and size by correlating with them); every other chip carries one of the
// coded payload bits, multiplied by its own pseudo-random sign (spread spectrum, Cox et al.
// 1997). Each coded bit lands on 2-3 chips of every tile, and a frame holds many tiles.
// The chips are interpolated with a periodic cubic kernel into a smooth, zero-mean noise of
// RMS 1 whose energy lies below half the chip rate: frequencies that H.264 keeps.
//
// The tile's side is a quarter of the frame's shorter side, so a frame that is only
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
// A quarter of the shorter side: on the shared clips (576 px wide) that is 4.5 pixels per
// chip. In the design runs after crf 28, tiles of half the side (9 px chips, a quarter as
// many) decoded 13 of 30 frames where a quarter of the side decoded 25, and a third 21.
inline constexpr double kTilesPerShortSide = 4.0;
inline constexpr int kMinTile = 32;  // pixels: below one pixel per chip nothing survives

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
