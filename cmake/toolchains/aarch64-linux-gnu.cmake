# A CMake toolchain file for 64-bit ARM Linux with Debian's cross compilers
# (g++-aarch64-linux-gnu). With it, a project that uses find_package(nnfuse) builds its
# networks for AArch64; nnfuse_add_network generates the kernels on the build machine.
#   cmake -S app -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=<nnfuse>/cmake/toolchains/aarch64-linux-gnu.cmake \
#         -Dnnfuse_DIR=<prefix>/lib/cmake/nnfuse
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_FIND_ROOT_PATH /usr/aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
