# cmake -P script run by the test cross.arm64_consumer (see CMakeLists.txt here).
foreach(var IN ITEMS NNFUSE_BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR TOOLCHAIN_FILE GENERATOR
                     HOST_C_COMPILER HOST_CXX_COMPILER QEMU READELF)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_cross.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "OUTPUT" "")
  string(REPLACE ";" " " printable "${arg_UNPARSED_ARGUMENTS}")
  message(STATUS "+ ${printable}")
  if(arg_OUTPUT)
    execute_process(COMMAND ${arg_UNPARSED_ARGUMENTS} RESULT_VARIABLE rc OUTPUT_VARIABLE out)
    message("${out}")
    set(${arg_OUTPUT} "${out}" PARENT_SCOPE)
  else()
    execute_process(COMMAND ${arg_UNPARSED_ARGUMENTS} RESULT_VARIABLE rc)
  endif()
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${printable}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")
run("${CMAKE_COMMAND}" --install "${NNFUSE_BUILD_DIR}" --prefix "${prefix}")
file(GLOB_RECURSE config "${prefix}/*/nnfuseConfig.cmake")
if(NOT config)
  message(FATAL_ERROR "no nnfuseConfig.cmake under ${prefix}")
endif()
get_filename_component(package_dir "${config}" DIRECTORY)

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
run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${build}")

set(harness "${build}/cross_harness")
run("${READELF}" -h "${harness}" OUTPUT header)
if(NOT header MATCHES "Machine:[ \t]+AArch64")
  message(FATAL_ERROR "${harness} is not an AArch64 program")
endif()
run("${QEMU}" "${harness}")
