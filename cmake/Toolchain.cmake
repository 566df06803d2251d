# Compiler launcher, warnings and sanitizers shared by every target.

find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
  set(CMAKE_CXX_COMPILER_LAUNCHER "${CCACHE_PROGRAM}")
  message(STATUS "Using ccache: ${CCACHE_PROGRAM}")
endif()

add_library(faceswap_warnings INTERFACE)
target_compile_options(faceswap_warnings INTERFACE -Wall -Wextra -Wpedantic -Wno-unused-parameter)

if(FACESWAP_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize=vptr)
  add_link_options(-fsanitize=address,undefined)
endif()

# Applied only to targets that run dlib's HOG detector and shape predictor.
function(faceswap_enable_simd target)
  if(FACESWAP_NATIVE_SIMD)
    target_compile_options(${target} PRIVATE -mavx2 -mfma)
    target_compile_definitions(${target} PRIVATE DLIB_HAVE_AVX DLIB_HAVE_SSE41 DLIB_HAVE_SSE3 DLIB_HAVE_SSE2)
  endif()
endfunction()
