# cmake -P script run by the test cross.arm64_consumer (see CMakeLists.txt here).
include("${CMAKE_CURRENT_LIST_DIR}/../support/run.cmake")
nnfuse_test_require(check_cross.cmake NNFUSE_BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR TOOLCHAIN_FILE
                    GENERATOR HOST_C_COMPILER HOST_CXX_COMPILER QEMU READELF)

nnfuse_test_install("${NNFUSE_BUILD_DIR}" "${WORK_DIR}" package_dir)
set(build "${WORK_DIR}/build")

set(configure_args
    -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
    "-DCMAKE_TOOLCHAIN_FILE=${TOOLCHAIN_FILE}" "-Dnnfuse_DIR=${package_dir}"
    "-DNNFUSE_HOST_C_COMPILER=${HOST_C_COMPILER}" "-DNNFUSE_HOST_CXX_COMPILER=${HOST_CXX_COMPILER}"
    -DCMAKE_BUILD_TYPE=Release "-DNNFUSE_TEST_WERROR=${WERROR}")
if(MAKE_PROGRAM)
  list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
if(LAUNCHER)
  list(APPEND configure_args "-DCMAKE_C_COMPILER_LAUNCHER=${LAUNCHER}"
       "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
nnfuse_test_run("${CMAKE_COMMAND}" ${configure_args})
nnfuse_test_run("${CMAKE_COMMAND}" --build "${build}")

set(harness "${build}/cross_harness")
nnfuse_test_run("${READELF}" -h "${harness}" OUTPUT header)
if(NOT header MATCHES "Machine:[ \t]+AArch64")
  message(FATAL_ERROR "${harness} is not an AArch64 program")
endif()
# The variant check (getauxval on AArch64): a CPU with the dot-product extension runs the
# first variant, one without it the baseline.
foreach(case IN ITEMS "max:arm_64_linux_arm_dot_prod" "cortex-a53:arm_64_linux")
  string(REPLACE ":" ";" case "${case}")
  list(GET case 0 cpu)
  list(GET case 1 variant)
  nnfuse_test_run("${CMAKE_COMMAND}" -E env "QEMU_CPU=${cpu}" "${QEMU}" "${harness}"
                  OUTPUT output)
  if(NOT output MATCHES "variant ${variant} ")
    message(FATAL_ERROR "on a ${cpu} CPU the harness did not run variant ${variant}")
  endif()
endforeach()
