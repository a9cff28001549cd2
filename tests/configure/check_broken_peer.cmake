# cmake -P script run by the test configure.broken_peer (see CMakeLists.txt here).
file(REMOVE_RECURSE "${WORK_DIR}")
execute_process(
  COMMAND "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${WORK_DIR}" -G "${GENERATOR}"
          "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}" "-DCMAKE_C_COMPILER=${C_COMPILER}"
          "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_PREFIX_PATH=${BROKEN_PREFIX}"
          -DNNFUSE_BUILD_TESTS=OFF -DNNFUSE_BUILD_EXAMPLES=OFF -DNNFUSE_BUILD_BENCHMARKS=ON
          -DNNFUSE_BENCH_SET=quick -DNNFUSE_INSTALL=OFF
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}\n${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "configure failed (${rc}) with a broken oneDNN package on the prefix path")
endif()
if(NOT out MATCHES "oneDNN: skipped \\(its CMake package needs NnfuseMissingDependency\\)")
  message(FATAL_ERROR "configure did not say that oneDNN was skipped, and why")
endif()
file(READ "${WORK_DIR}/bench/groups.txt" groups)
if(groups MATCHES "onednn")
  message(FATAL_ERROR "the broken oneDNN peer is still built: ${groups}")
endif()
