#pragma once
// Synthetic occluders: things that pass in front of a face (a hand, a microphone, a cup,
// hair, a glasses frame), pasted over a face picture with their coverage known exactly.
// Training pastes them over a share of its faces so that the decoders' masks learn "face
// and not covered" without hand-painted labels (Nirkin et al. 2018 trained face
// segmentation on synthetic occlusions; Voo et al. 2022 found random textured shapes to
// generalise to unseen occluders). eval pastes a seeded set over held-out faces, textured
// from pictures training never saw, and measures the mask on it. OpenCV only.

#include <opencv2/core.hpp>

namespace faceswap::blend {

// Draws one random occluder over `image` (CV_8UC3, square) in place and returns its
// coverage: CV_32FC1 in [0, 1], image-sized (1: the occluder's pixel replaced the face's).
// `face` (CV_32FC1 or CV_8UC1, image-sized, non-zero on the face) says where the face is:
// the occluder always covers part of it. `texture` (any BGR picture, e.g. another face's
// crop or a frame) gives most occluders their surface; the rest are skin-coloured (from
// the face itself: hands are the common case) or plain dark/bright ones with shading.
// Deterministic for a given `rng` state.
cv::Mat PasteOccluder(cv::Mat& image, const cv::Mat& face, const cv::Mat& texture, cv::RNG& rng);

}  // namespace faceswap::blend
