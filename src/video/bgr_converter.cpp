#include "bgr_converter.h"

#include <opencv2/core.hpp>

#include "faceswap/core/frame_buffer_allocator.h"

#include <new>

namespace faceswap::video::detail {

void PrepareExclusive(cv::Mat& mat, int rows, int cols, int type) {
  const bool reusable = mat.data && mat.u && mat.u->refcount == 1 && mat.rows == rows &&
                        mat.cols == cols && mat.type() == type && mat.isContinuous();
  if (reusable) return;
  cv::Mat fresh;  // from the frame allocator: no new pages once as many frames as are in flight were made
  fresh.allocator = core::FrameBufferAllocator();
  fresh.create(rows, cols, type);
  mat = fresh;
}

void BgrConverter::Convert(const AVFrame* frame, int rotation_degrees, cv::Mat& out) {
  const int range = frame->color_range == AVCOL_RANGE_JPEG ? 1 : 0;
  if (!sws_ || frame->width != src_width_ || frame->height != src_height_ ||
      frame->format != src_format_ || frame->colorspace != src_colorspace_ ||
      range != src_range_) {
    // Same size in and out, so the filter only matters for chroma upsampling; bilinear is
    // what keeps a decode+encode round trip fast while staying well above 40 dB PSNR.
    sws_.reset(sws_getContext(frame->width, frame->height, static_cast<AVPixelFormat>(frame->format),
                              frame->width, frame->height, AV_PIX_FMT_BGR24,
                              SWS_BILINEAR | SWS_ACCURATE_RND, nullptr, nullptr, nullptr));
    if (!sws_) throw std::bad_alloc();
    // Use the stream's own YUV matrix and range (BT.709 for HD phone video); swscale would
    // otherwise assume BT.601 limited range and shift colours.
    const int* coefficients = sws_getCoefficients(frame->colorspace);
    sws_setColorspaceDetails(sws_.get(), coefficients, range, sws_getCoefficients(SWS_CS_DEFAULT),
                             1, 0, 1 << 16, 1 << 16);
    src_width_ = frame->width;
    src_height_ = frame->height;
    src_format_ = frame->format;
    src_colorspace_ = frame->colorspace;
    src_range_ = range;
  }
  cv::Mat* target = &out;
  if (rotation_degrees == 0) {
    PrepareExclusive(out, frame->height, frame->width);
  } else {
    PrepareExclusive(unrotated_, frame->height, frame->width);
    target = &unrotated_;
  }
  uint8_t* dst_data[4] = {target->data, nullptr, nullptr, nullptr};
  int dst_stride[4] = {static_cast<int>(target->step[0]), 0, 0, 0};
  sws_scale(sws_.get(), frame->data, frame->linesize, 0, frame->height, dst_data, dst_stride);
  if (rotation_degrees == 0) return;
  const bool quarter = rotation_degrees == 90 || rotation_degrees == 270;
  PrepareExclusive(out, quarter ? frame->width : frame->height, quarter ? frame->height : frame->width);
  const int code = rotation_degrees == 90    ? cv::ROTATE_90_CLOCKWISE
                   : rotation_degrees == 180 ? cv::ROTATE_180
                                             : cv::ROTATE_90_COUNTERCLOCKWISE;
  cv::rotate(unrotated_, out, code);
}

}  // namespace faceswap::video::detail
