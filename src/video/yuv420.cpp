#include "faceswap/video/yuv420.h"

#include <algorithm>
#include <stdexcept>

#include "ffmpeg_util.h"

extern "C" {
#include <libavutil/pixdesc.h>
}

namespace faceswap::video {

struct Yuv420Converter::Impl {
  int colorspace = AVCOL_SPC_UNSPECIFIED;
  detail::SwsPtr sws;
  cv::Size sws_size;
};

Yuv420Converter::Yuv420Converter(const std::string& color_space) : impl_(std::make_unique<Impl>()) {
  const int named = color_space.empty() ? -1 : av_color_space_from_name(color_space.c_str());
  if (named >= 0) impl_->colorspace = named;
}

Yuv420Converter::~Yuv420Converter() = default;
Yuv420Converter::Yuv420Converter(Yuv420Converter&&) noexcept = default;
Yuv420Converter& Yuv420Converter::operator=(Yuv420Converter&&) noexcept = default;

void Yuv420Converter::Convert(const cv::Mat& bgr, cv::Rect region, cv::Mat& yuv420) {
  const int w = bgr.cols, h = bgr.rows;
  if (bgr.type() != CV_8UC3 || yuv420.type() != CV_8UC1 || yuv420.cols != w || yuv420.rows != h * 3 / 2 ||
      w % 2 || h % 2 || !yuv420.isContinuous()) {
    throw std::invalid_argument("Yuv420Converter: the 4:2:0 picture does not match the BGR frame");
  }
  // Even bounds, and sizes rounded up to 32 so that one swscale context serves a face
  // whose box changes by a few pixels from frame to frame.
  int x0 = std::max(0, region.x) & ~1, y0 = std::max(0, region.y) & ~1;
  int x1 = std::min(w, region.x + region.width), y1 = std::min(h, region.y + region.height);
  if (x1 <= x0 || y1 <= y0) return;
  int rw = ((x1 - x0) + 31) & ~31, rh = ((y1 - y0) + 31) & ~31;
  if (x0 + rw > w) x0 = std::max(0, w - rw) & ~1;
  if (y0 + rh > h) y0 = std::max(0, h - rh) & ~1;
  rw = std::min(rw, w - x0);
  rh = std::min(rh, h - y0);

  Impl& m = *impl_;
  if (!m.sws || m.sws_size != cv::Size(rw, rh)) {
    // The Writer's conversion (video_file_writer.cpp): the same filter, rounding and matrix.
    m.sws.reset(sws_getContext(rw, rh, AV_PIX_FMT_BGR24, rw, rh, AV_PIX_FMT_YUV420P, SWS_BILINEAR | SWS_ACCURATE_RND,
                               nullptr, nullptr, nullptr));
    if (!m.sws) throw std::bad_alloc();
    sws_setColorspaceDetails(m.sws.get(), sws_getCoefficients(SWS_CS_DEFAULT), 1, sws_getCoefficients(m.colorspace),
                             0, 0, 1 << 16, 1 << 16);
    m.sws_size = cv::Size(rw, rh);
  }
  uint8_t* y_plane = yuv420.data;
  uint8_t* u_plane = y_plane + static_cast<size_t>(w) * h;
  uint8_t* v_plane = u_plane + static_cast<size_t>(w / 2) * (h / 2);
  const uint8_t* src[4] = {bgr.ptr<uint8_t>(y0) + 3 * x0, nullptr, nullptr, nullptr};
  const int src_stride[4] = {static_cast<int>(bgr.step[0]), 0, 0, 0};
  uint8_t* dst[4] = {y_plane + static_cast<size_t>(y0) * w + x0,
                     u_plane + static_cast<size_t>(y0 / 2) * (w / 2) + x0 / 2,
                     v_plane + static_cast<size_t>(y0 / 2) * (w / 2) + x0 / 2, nullptr};
  const int dst_stride[4] = {w, w / 2, w / 2, 0};
  sws_scale(m.sws.get(), src, src_stride, 0, rh, dst, dst_stride);
}

}  // namespace faceswap::video
