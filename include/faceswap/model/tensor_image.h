#pragma once
// Conversions between OpenCV images and network tensors. Includes LibTorch.

#include <torch/torch.h>

#include <opencv2/core.hpp>
#include <vector>

namespace faceswap::model {

// BGR 8-bit images (all side x side) -> float N x 3 x side x side, RGB, [0, 1].
torch::Tensor ImagesToTensor(const std::vector<cv::Mat>& images, int side);

// One image of a float N x 3 x H x W RGB [0, 1] tensor -> BGR 8-bit.
cv::Mat TensorToImage(const torch::Tensor& batch, int index);

// One image of a float N x 1 x H x W tensor -> CV_32FC1.
cv::Mat TensorToMask(const torch::Tensor& batch, int index);

}  // namespace faceswap::model
