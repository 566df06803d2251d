#pragma once
// How much fine detail an image holds: the variance of its Laplacian (3x3) on grey, over
// the pixels where `mask` (CV_8UC1) is non-zero (Pech-Pacheco et al., "Diatom
// autofocusing in brightfield microscopy: a comparative study", ICPR 2000, as a focus
// measure). 0 for an empty mask. A swapped face's over the original's is eval's sharpness
// ratio (1.0: as sharp as the source); train watches the same ratio on held-out faces.

#include <opencv2/core.hpp>

namespace faceswap::core {

double LaplacianVariance(const cv::Mat& bgr, const cv::Mat& mask);
// Over the whole image.
double LaplacianVariance(const cv::Mat& bgr);

}  // namespace faceswap::core
