#pragma once
// dlib's frontal (HOG) face detector, read from the bytes the build unpacked
// (hog_detector_gen.cpp): the same detector as dlib::get_frontal_face_detector(), ~3 ms
// instead of ~0.3 s. Internal to the face module (and its tests).

#include <dlib/image_processing/frontal_face_detector.h>

namespace faceswap::face {

dlib::frontal_face_detector BuiltInHogDetector();

}  // namespace faceswap::face
