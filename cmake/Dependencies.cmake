# Every third-party library, found from the system (Debian packages named in README.md).

find_package(OpenCV 4 REQUIRED COMPONENTS core imgproc imgcodecs photo calib3d highgui video)
find_package(dlib REQUIRED)
find_package(Torch REQUIRED)
find_package(CLI11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(FFMPEG REQUIRED IMPORTED_TARGET
  libavformat libavcodec libavutil libswscale libswresample libavdevice)

if(FACESWAP_CUDA AND NOT TORCH_CUDA_LIBRARIES)
    message(FATAL_ERROR "FACESWAP_CUDA=ON but the LibTorch found at ${Torch_DIR} has no CUDA. "
                        "Set CMAKE_PREFIX_PATH to a CUDA LibTorch (see README).")
endif()

# Torch's imported target carries its compile flags (the C++ ABI define); wrap it once.
add_library(faceswap_torch INTERFACE)
target_link_libraries(faceswap_torch INTERFACE ${TORCH_LIBRARIES})
separate_arguments(_torch_flags UNIX_COMMAND "${TORCH_CXX_FLAGS}")
target_compile_options(faceswap_torch INTERFACE ${_torch_flags})
if(TORCH_CUDA_LIBRARIES)
  target_compile_definitions(faceswap_torch INTERFACE FACESWAP_TORCH_CUDA_BUILD)
endif()

message(STATUS "OpenCV ${OpenCV_VERSION}, dlib ${dlib_VERSION}, Torch ${Torch_VERSION}, "
               "libavcodec ${FFMPEG_libavcodec_VERSION}")
