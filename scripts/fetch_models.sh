#!/usr/bin/env bash
# Fetches dlib's extra networks (CC0) from Debian's dlib *source* package, once:
#   dlib_face_recognition_resnet_model_v1.dat   128-D face descriptors (identity)
#   mmod_human_face_detector.dat                CNN face detector (turned and small faces)
# and dlib's examples/johns/ (55 aligned face chips of 5 people) for the tests.
#
#   bash scripts/fetch_models.sh          # into $FACESWAP_MODELS or ~/.cache/faceswap/models
#
# Needs no root and leaves the system's apt configuration alone: apt reads a private
# sources list, lists and cache under ~/.cache/faceswap/apt. Every file is checked against
# its SHA-256; files already present and intact are not fetched again. Set
# FACESWAP_DEBIAN_MIRROR to use another Debian mirror (default http://deb.debian.org/debian).
set -euo pipefail

cache_root=${XDG_CACHE_HOME:-$HOME/.cache}/faceswap
models=${FACESWAP_MODELS:-$cache_root/models}
testdata=${FACESWAP_TESTDATA:-$cache_root/testdata}
mirror=${FACESWAP_DEBIAN_MIRROR:-http://deb.debian.org/debian}

# SHA-256 of each member, from the tarball of dlib 19.24+dfsg-1 (bookworm). The tarball
# itself: dlib_19.24+dfsg.orig-dlib-models.tar.bz2, 200,155,223 bytes, sha256 below (its .dsc).
models_tarball_sha256=735a840226bbc6e7418b9c8796a979abf1c1cea04b4ee276ca890d8f571453a8
declare -A want=(
  [dlib_face_recognition_resnet_model_v1.dat]=55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30
  [mmod_human_face_detector.dat]=be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a
)
johns_count=55

intact() { [[ -f $1 ]] && [[ $(sha256sum "$1" | cut -d' ' -f1) == "$2" ]]; }

missing=()
for f in "${!want[@]}"; do intact "$models/$f" "${want[$f]}" || missing+=("$f"); done
have_johns=0
if [[ -d $testdata/johns ]] && (($(find "$testdata/johns" -name '*.jpg' | wc -l) == johns_count)); then have_johns=1; fi

if ((${#missing[@]} == 0 && have_johns)); then
  echo "==> dlib networks present in $models (test chips in $testdata/johns)"
  exit 0
fi

for tool in apt-get tar bzip2 sha256sum; do
  command -v "$tool" >/dev/null || { echo "fetch_models.sh: '$tool' is needed (Debian: apt-get install $tool)" >&2; exit 1; }
done

start=$SECONDS
work=$cache_root/apt
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/sources.list.d" "$work/download" "$models" "$testdata"
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb-src [signed-by=$keyring] $mirror $codename main" > "$work/sources.list"
apt_private=(
  -o "Dir::Etc::SourceList=$work/sources.list"
  -o "Dir::Etc::SourceParts=$work/sources.list.d"
  -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache"
  -o "APT::Sandbox::User=$(id -un)"
)
echo "==> fetching dlib's source package from $mirror ($codename) into $work"
apt-get "${apt_private[@]}" -qq update
(cd "$work/download" && apt-get "${apt_private[@]}" -qq source --download-only dlib)

models_tar=$(ls "$work"/download/dlib_*.orig-dlib-models.tar.* | head -n 1)
main_tar=$(ls "$work"/download/dlib_*.orig.tar.* | head -n 1)
if [[ $(sha256sum "$models_tar" | cut -d' ' -f1) != "$models_tarball_sha256" ]]; then
  echo "note: $models_tar is not the 19.24+dfsg-1 tarball; its members are checked one by one" >&2
fi

if ((${#missing[@]})); then
  tmp=$(mktemp -d "$models/.fetch-XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  members=()
  for f in "${missing[@]}"; do members+=("--wildcards" "*/$f"); done
  tar --no-same-owner -xjf "$models_tar" -C "$tmp" "${members[@]}"
  for f in "${missing[@]}"; do
    got=$(find "$tmp" -name "$f" -type f | head -n 1)
    if [[ -z $got ]] || ! intact "$got" "${want[$f]}"; then
      echo "fetch_models.sh: $f from $models_tar does not match its SHA-256 ${want[$f]}" >&2
      exit 1
    fi
    chmod 644 "$got"
    mv "$got" "$models/$f"   # same file system: the final name appears complete or not at all
  done
fi

if ((!have_johns)); then
  rm -rf "$testdata/johns" "$testdata/.johns-tmp"
  mkdir -p "$testdata/.johns-tmp"
  tar --no-same-owner -xjf "$main_tar" -C "$testdata/.johns-tmp" --wildcards '*/examples/johns/*'
  mv "$(find "$testdata/.johns-tmp" -type d -name johns | head -n 1)" "$testdata/johns"
  rm -rf "$testdata/.johns-tmp"
fi

rm -rf "$work"   # 200 MB of tarballs and the source index: only the members above are kept
echo "==> dlib networks in $models, test chips in $testdata/johns ($((SECONDS - start)) s)"
