# Compiler launcher, warnings and sanitizers shared by every target.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  message(STATUS "Using ccache: ${CCACHE_PROGRAM}")
endif()

add_library(faceswap_warnings INTERFACE)
target_compile_options(faceswap_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)

# FACESWAP_SANITIZE, and fuzzing: ASan + UBSan everywhere. -fno-sanitize-recover: a UBSan
# finding aborts the test (or the fuzzer run) that hit it instead of printing a line in a
# log nobody reads.
if(FACESWAP_SANITIZE OR FACESWAP_FUZZ)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
                      -fno-sanitize=vptr)
  add_link_options(-fsanitize=address,undefined)
endif()
if(FACESWAP_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "FACESWAP_FUZZ needs clang (libFuzzer): use the `fuzz` preset or CMAKE_CXX_COMPILER=clang++")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)  # coverage for libFuzzer in every target
endif()

# Applied only to targets that run dlib's HOG detector and shape predictor.
function(faceswap_enable_simd target)
  if(FACESWAP_NATIVE_SIMD)
    target_compile_options(${target} PRIVATE -mavx2 -mfma)
    target_compile_definitions(${target} PRIVATE DLIB_HAVE_AVX DLIB_HAVE_SSE41 DLIB_HAVE_SSE3 DLIB_HAVE_SSE2)
  endif()
endfunction()
