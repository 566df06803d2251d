#!/usr/bin/env bash
# Packs what a lent GPU machine needs to build and test faceswap, for scripts/build_on_gpu.sh.
#
#   bash scripts/device_deps.sh          # fills .device/ (ignored by git), about 20 minutes once
#   bash scripts/device_deps.sh --clean  # start over (sources and builds too)
#
# That machine has CUDA, a CUDA PyTorch (its LibTorch), CMake, Ninja and a C++ compiler, but
# none of our other libraries, no package access, and a call carries at most 64 MiB. Debian's
# own OpenCV, FFmpeg and dlib bring a 470 MB closure (GDAL, Qt, SDL, codec2, x265...), so
# this builds lean ones from Debian 12's source packages, with only what faceswap uses:
#   FFmpeg 5.1    shared, every internal codec and format, libx264 (Debian's), zlib (PNG),
#                 no filters, no other system libraries
#   OpenCV 4.6    core imgproc imgcodecs (PNG, JPEG) photo calib3d features2d flann highgui
#                 (no GUI backend: live's preview window is not for a headless GPU machine)
#   dlib 19.24    shared, no BLAS (detection and landmarks run on the CPU there)
# and copies the header-only and small libraries from this machine's Debian packages (CLI11,
# spdlog + fmt, nlohmann-json, GoogleTest, pkgconf), with every shared library they load
# that is not glibc or GCC's runtime. Result: .device/deps.tar.xz (about 20 MB), unpacked
# anywhere (scripts/build_on_gpu.sh rewrites the pkg-config prefixes).
#
# Also .device/testdata.tar: faces and alignments extracted here (the GPU machine lacks the
# 100 MB landmark network, so it cannot extract), and the shared clips the GPU tests and
# bench read. Needs the normal build (build/src/cli/faceswap) and ../shared/data.
#
# Work folder: $FACESWAP_DEVICE_WORK (default /var/tmp/faceswap-device); each stage leaves
# a stamp there and is skipped when run again.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=${FACESWAP_DEVICE_WORK:-/var/tmp/faceswap-device}
out=$repo/.device
jobs=$(nproc)

if [[ ${1:-} == --clean ]]; then rm -rf "$work" "$out"; fi
if [[ ${1:-} == -h || ${1:-} == --help ]]; then sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi

prefix=$work/prefix
for tool in nasm xz cmake ninja; do
  command -v $tool >/dev/null || { echo "device_deps.sh: needs $tool (apt-get install nasm xz-utils cmake ninja-build)" >&2; exit 1; }
done
mkdir -p "$work/src" "$prefix/lib" "$prefix/include" "$prefix/bin" "$out"

step() { echo "==> $* ($(date +%H:%M:%S))"; }
# cmake_install NAME SOURCE_DIR CMAKE_ARGS...: configure (Ninja, Release, into the prefix),
# build and install, logging to $work/NAME.log; stops the script on failure.
cmake_install() {
  local name=$1 source=$2
  shift 2
  { cmake -S "$source" -B "$work/$name-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_INSTALL_PREFIX="$prefix" -DCMAKE_INSTALL_LIBDIR=lib "$@" &&
    cmake --build "$work/$name-build" -j"$jobs" && cmake --install "$work/$name-build"; } > "$work/$name.log" 2>&1 \
    || { echo "device_deps.sh: $name build failed, see $work/$name.log" >&2; exit 1; }
}
done_stamp() { [[ -f $work/$1.done ]]; }
mark() { touch "$work/$1.done"; }

# Debian's source packages, without needing deb-src in the system's sources.
if ! done_stamp sources; then
  step "downloading Debian 12's ffmpeg, opencv and dlib sources"
  lists=$work/apt-lists
  mkdir -p "$lists/partial"
  echo "deb-src ${FACESWAP_DEBIAN_MIRROR:-http://deb.debian.org/debian} bookworm main" > "$work/sources.list"
  apt_opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists="$lists")
  apt-get "${apt_opts[@]}" update -qq
  (cd "$work/src" && apt-get "${apt_opts[@]}" source --download-only ffmpeg opencv dlib >/dev/null 2>&1)
  (cd "$work/src" && apt-get download -q libx264-dev libx264-164 >/dev/null 2>&1)
  mark sources
fi

# libx264 (encoder behind convert's default codec): Debian's binary package.
if ! done_stamp x264; then
  step "unpacking Debian's libx264"
  rm -rf "$work/x264" && mkdir -p "$work/x264"
  for deb in "$work"/src/libx264*.deb; do dpkg -x "$deb" "$work/x264"; done
  cp -a "$work"/x264/usr/include/x264*.h "$prefix/include/"
  cp -a "$work"/x264/usr/lib/x86_64-linux-gnu/libx264.so* "$prefix/lib/"
  mkdir -p "$prefix/lib/pkgconfig"
  sed "s|^prefix=.*|prefix=$prefix|; s|^libdir=.*|libdir=\${prefix}/lib|; s|^includedir=.*|includedir=\${prefix}/include|" \
    "$work/x264/usr/lib/x86_64-linux-gnu/pkgconfig/x264.pc" > "$prefix/lib/pkgconfig/x264.pc"
  mark x264
fi

if ! done_stamp ffmpeg; then
  step "building FFmpeg 5.1 (shared, lean)"
  rm -rf "$work/ffmpeg" && mkdir -p "$work/ffmpeg"
  tar -xJf "$work"/src/ffmpeg_*.orig.tar.xz -C "$work/ffmpeg" --strip-components=1
  (cd "$work/ffmpeg" &&
    PKG_CONFIG_PATH=$prefix/lib/pkgconfig ./configure --prefix="$prefix" --enable-shared --disable-static \
      --enable-gpl --enable-libx264 --enable-zlib --disable-autodetect --disable-programs --disable-doc --disable-avfilter \
      --disable-postproc --disable-debug --enable-pic \
      --extra-cflags="-I$prefix/include" --extra-ldflags="-L$prefix/lib" > "$work/ffmpeg.log" 2>&1 &&
    make -j"$jobs" >> "$work/ffmpeg.log" 2>&1 && make install >> "$work/ffmpeg.log" 2>&1) \
    || { echo "device_deps.sh: FFmpeg build failed, see $work/ffmpeg.log" >&2; exit 1; }
  mark ffmpeg
fi

if ! done_stamp opencv; then
  step "building OpenCV 4.6 (shared, the modules faceswap links)"
  rm -rf "$work/opencv" "$work/opencv-build" && mkdir -p "$work/opencv"
  tar -xJf "$work"/src/opencv_*.orig.tar.xz -C "$work/opencv" --strip-components=1
  off=()
  for w in GTK QT FFMPEG GSTREAMER V4L 1394 OPENEXR TIFF WEBP JASPER OPENJPEG GDAL GDCM IPP ITT OPENCL VA VA_INTEL \
           LAPACK EIGEN PROTOBUF TBB OPENMP CUDA ADE QUIRC IMGCODEC_HDR IMGCODEC_SUNRASTER IMGCODEC_PXM IMGCODEC_PFM \
           AVIF OPENVX VTK OPENGL CAROTENE; do
    off+=("-DWITH_$w=OFF")
  done
  cmake_install opencv "$work/opencv" -DCMAKE_INSTALL_RPATH='$ORIGIN' \
    -DBUILD_LIST=core,imgproc,imgcodecs,photo,calib3d,features2d,flann,highgui \
    -DBUILD_SHARED_LIBS=ON -DBUILD_TESTS=OFF -DBUILD_PERF_TESTS=OFF -DBUILD_EXAMPLES=OFF -DBUILD_DOCS=OFF \
    -DBUILD_opencv_apps=OFF -DBUILD_JAVA=OFF -DBUILD_opencv_python3=OFF -DBUILD_opencv_python2=OFF \
    -DWITH_PNG=ON -DWITH_JPEG=ON -DBUILD_PNG=OFF -DBUILD_JPEG=OFF -DBUILD_ZLIB=OFF -DCPU_DISPATCH=AVX2 \
    -DOPENCV_GENERATE_PKGCONFIG=OFF "${off[@]}"
  mark opencv
fi

if ! done_stamp dlib; then
  step "building dlib 19.24 (shared, no BLAS)"
  rm -rf "$work/dlib" "$work/dlib-build" && mkdir -p "$work/dlib"
  tar -xjf "$work"/src/dlib_*.orig.tar.bz2 -C "$work/dlib" --strip-components=1
  cmake_install dlib "$work/dlib/dlib" -DBUILD_SHARED_LIBS=ON \
    -DDLIB_NO_GUI_SUPPORT=ON -DDLIB_USE_BLAS=OFF -DDLIB_USE_LAPACK=OFF -DDLIB_USE_CUDA=OFF \
    -DDLIB_USE_FFMPEG=OFF -DDLIB_GIF_SUPPORT=OFF -DDLIB_WEBP_SUPPORT=OFF -DDLIB_JXL_SUPPORT=OFF \
    -DDLIB_PNG_SUPPORT=ON -DDLIB_JPEG_SUPPORT=ON -DDLIB_LINK_WITH_SQLITE3=OFF -DUSE_SSE4_INSTRUCTIONS=ON
  # dlib's CMake file hands its users this machine's libpng, zlib and libjpeg by absolute
  # path; the shared libdlib loads them itself, so its users need none of them.
  sed -i 's|INTERFACE_LINK_LIBRARIES "[^"]*/usr/lib/x86_64-linux-gnu/lib[^"]*"|INTERFACE_LINK_LIBRARIES ""|' \
    "$prefix/lib/cmake/dlib/dlib.cmake"
  mark dlib
fi

# Small dependencies straight from this machine's Debian packages (headers, CMake files,
# libraries), in Debian's layout under the prefix: their CMake files find the prefix from
# where they lie (lib/x86_64-linux-gnu/cmake/NAME).
if ! done_stamp debian; then
  step "copying CLI11, spdlog, fmt, nlohmann-json, GoogleTest and pkgconf from Debian packages"
  for pkg in libcli11-dev libspdlog-dev libfmt-dev nlohmann-json3-dev libgtest-dev libgmock-dev \
             libbenchmark-dev libbenchmark1debian libspdlog1.10 libfmt9 pkgconf-bin libpkgconf3; do
    dpkg -L "$pkg" | while read -r f; do
      [[ -f $f || -L $f ]] || continue
      case "$f" in
        /usr/share/doc/*|/usr/share/man/*|/usr/share/lintian/*|/usr/src/*) continue ;;
        /usr/include/*) dest=$prefix/include/${f#/usr/include/} ;;
        /usr/lib/x86_64-linux-gnu/*) dest=$prefix/lib/x86_64-linux-gnu/${f#/usr/lib/x86_64-linux-gnu/} ;;
        /usr/share/*) dest=$prefix/share/${f#/usr/share/} ;;
        /usr/bin/*) dest=$prefix/bin/${f#/usr/bin/} ;;
        *) continue ;;
      esac
      mkdir -p "$(dirname "$dest")"
      cp -a "$f" "$dest"
    done
  done
  mark debian
fi

# Every shared library the packed ones load, but glibc's and GCC's runtime (any machine
# that can compile has those, newer).
step "adding the shared libraries they load"
system='^(linux-vdso|libc|libm|libpthread|libdl|librt|ld-linux-x86-64|libstdc\+\+|libgcc_s|libgomp)\.so'
for lib in "$prefix"/lib/*.so* "$prefix"/lib/x86_64-linux-gnu/*.so* "$prefix"/bin/*; do
  [[ -f $lib && ! -L $lib ]] || continue
  { LD_LIBRARY_PATH=$prefix/lib:$prefix/lib/x86_64-linux-gnu ldd "$lib" 2>/dev/null || true; } | awk '$3 ~ /^\// {print $1, $3}' | while read -r name path; do
    [[ $name =~ $system ]] && continue
    [[ -e $prefix/lib/$name || -e $prefix/lib/x86_64-linux-gnu/$name ]] || cp -L "$path" "$prefix/lib/$name"
  done
done

step "packing .device/deps.tar.xz"
tar -C "$prefix" --exclude='share/opencv4/haarcascades' --exclude='share/opencv4/lbpcascades' \
  -cf - . | xz -T"$jobs" -6 > "$out/deps.tar.xz.tmp"
mv "$out/deps.tar.xz.tmp" "$out/deps.tar.xz"
echo "$prefix" > "$out/deps.prefix"

# Test data: faces and alignments extracted by this machine's build.
samples=${FACESWAP_SAMPLES:-$repo/../shared/data}
bin=$repo/build/src/cli/faceswap
if [[ -x $bin && -d $samples/clips ]]; then
  step "extracting the GPU tests' faces and alignments here"
  td=$work/testdata
  if [[ ! -f $td/.done ]]; then
    rm -rf "$td" && mkdir -p "$td/data/clips"
    cp -a "$samples/clips/person_a.mp4" "$samples/clips/person_b.mp4" "$td/data/clips/"
    # 128 px crops of every 6th frame: 14 MB for both, enough for the GPU tests and bench
    # (the largest preset trains at 128 px).
    for who in a b; do
      "$bin" -q extract "$samples/clips/person_$who.mp4" -o "$td/faces_$who" --every 6 --size 128 --face-select largest
    done
    touch "$td/.done"
  fi
  tar -C "$td" -cf "$out/testdata.tar" .
else
  echo "device_deps.sh: no $bin or $samples/clips: build first (cmake --preset release ...) for testdata.tar" >&2
  exit 1
fi
# convert's landmark network, 63 MB as xz: more than one call carries beside the rest, so in
# two parts (part00 with the build call, part01 with the next call to the still-warm
# machine, which joins them: cat part00 part01 | xz -d).
landmarks=/usr/share/dlib/shape_predictor_68_face_landmarks.dat
if [[ -f $landmarks && ! -f $out/landmarks.xz.part01 ]]; then
  step "packing the landmark network in two parts"
  xz -T"$jobs" -9 -c "$landmarks" | split -b 34000000 -d - "$out/landmarks.xz.part"
fi
# bench_gpu.sh convert's clip: person_b's first 10 s at 1080x1920 (a phone's portrait 1080p).
if [[ ! -f $out/clip1080.mp4 ]] && command -v ffmpeg >/dev/null; then
  ffmpeg -nostdin -v error -y -i "$samples/clips/person_b.mp4" -t 10 -vf scale=1080:1920:flags=lanczos \
    -c:v libx264 -crf 20 -preset fast -c:a copy "$out/clip1080.mp4"
fi
du -sh "$out"/*
