#include "faceswap/model/tensor_image.h"

#include <opencv2/imgproc.hpp>

#include "faceswap/core/error.h"

namespace faceswap::model {

torch::Tensor ImagesToTensor(const std::vector<cv::Mat>& images, int side) {
  torch::Tensor batch = torch::empty({static_cast<int64_t>(images.size()), side, side, 3}, torch::kUInt8);
  cv::Mat resized, rgb;
  for (size_t i = 0; i < images.size(); ++i) {
    const cv::Mat& image = images[i];
    if (image.type() != CV_8UC3) throw UsageError("network input must be 8-bit BGR images");
    if (image.rows != side || image.cols != side) {
      cv::resize(image, resized, cv::Size(side, side), 0, 0, image.rows > side ? cv::INTER_AREA : cv::INTER_CUBIC);
    } else {
      resized = image;
    }
    // Write RGB straight into the tensor's memory.
    cv::Mat target(side, side, CV_8UC3, batch[static_cast<int64_t>(i)].data_ptr<uint8_t>());
    cv::cvtColor(resized, target, cv::COLOR_BGR2RGB);
  }
  return batch.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(255.0).contiguous();
}

cv::Mat TensorToImage(const torch::Tensor& batch, int index) {
  const torch::Tensor hwc = batch[index]
                                .detach()
                                .to(torch::kCPU, torch::kFloat32)
                                .clamp(0.0, 1.0)
                                .mul(255.0)
                                .round()
                                .to(torch::kUInt8)
                                .permute({1, 2, 0})
                                .contiguous();
  const cv::Mat rgb(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr<uint8_t>());
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

cv::Mat TensorToMask(const torch::Tensor& batch, int index) {
  const torch::Tensor hw = batch[index][0].detach().to(torch::kCPU, torch::kFloat32).contiguous();
  return cv::Mat(static_cast<int>(hw.size(0)), static_cast<int>(hw.size(1)), CV_32FC1, hw.data_ptr<float>()).clone();
}

}  // namespace faceswap::model
