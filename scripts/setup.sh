#!/usr/bin/env bash
# Installs the Debian 12 packages nnfuse needs to build, test and benchmark.
# Idempotent: asks dpkg which packages are missing and runs apt-get (update + install) only
# when some are. Run as root, or as a user with sudo.
set -euo pipefail

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache git pkg-config g++
  clang-14 clang-tidy-14 clang-format-14 libclang-rt-14-dev llvm-14-dev
  # libraries
  # Halide 14's CMake package requires PNG and JPEG (its image IO), found through these
  libhalide14-0-dev libpng-dev libjpeg-dev libboost-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev nlohmann-json3-dev
  libmpfr-dev libgmp-dev
  # nnfuse::data reads gzip-compressed IDX files with zlib; Fashion-MNIST is its real data set
  # (installed in /usr/share/datasets/fashion-mnist; the data tests skip it when it is absent)
  zlib1g-dev dataset-fashion-mnist
  # golden values and plots
  python3 python3-torch python3-numpy python3-matplotlib
  # AArch64 cross build, run under qemu
  g++-aarch64-linux-gnu qemu-user
  # benchmark peers (XNNPACK's header includes pthreadpool.h, from libpthreadpool-dev;
  # Debian's oneDNN is built with its OpenCL GPU runtime and its CMake package needs OpenCL)
  libdnnl-dev ocl-icd-opencl-dev opencl-c-headers
  libxnnpack-dev libpthreadpool-dev libopenblas-dev libeigen3-dev libtorch-dev
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "setup: error: dpkg-query not found; scripts/setup.sh supports Debian 12 only." >&2
  echo "setup: install the equivalents of: ${PACKAGES[*]}" >&2
  exit 1
fi

# One dpkg-query call for all packages; unknown or absent ones print nothing (and make it fail).
declare -A installed=()
while read -r name want flag state; do
  [[ "$want $flag $state" == "install ok installed" ]] && installed["$name"]=1
done < <(dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true)
missing=()
for pkg in "${PACKAGES[@]}"; do
  [[ -n "${installed[$pkg]:-}" ]] || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

sudo=()
if ((EUID != 0)); then
  if command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    echo "setup: error: not root and sudo is not available; as root, run:" >&2
    echo "  apt-get update && apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

echo "setup: installing ${#missing[@]} missing package(s): ${missing[*]}"
"${sudo[@]}" apt-get update
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
echo "setup: installed ${missing[*]}"
