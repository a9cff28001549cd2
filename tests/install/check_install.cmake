# cmake -P script run by the test nnfuse.install.find_package (see CMakeLists.txt here).
foreach(var IN ITEMS NNFUSE_BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR GENERATOR CXX_COMPILER
                     EXPECTED_VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_install.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run)
  string(REPLACE ";" " " printable "${ARGN}")
  message(STATUS "+ ${printable}")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${printable}")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

run("${CMAKE_COMMAND}" --install "${NNFUSE_BUILD_DIR}" --prefix "${prefix}")

# The installed package files must not point back into the source tree (the build tree is
# under it): everything is found relative to the prefix or through the dependencies' packages.
if(NNFUSE_SOURCE_DIR)
  file(GLOB_RECURSE package_files "${prefix}/*.cmake")
  foreach(file IN LISTS package_files)
    file(READ "${file}" content)
    string(FIND "${content}" "${NNFUSE_SOURCE_DIR}/" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${file} refers to the source or build tree ${NNFUSE_SOURCE_DIR}")
    endif()
  endforeach()
endif()

set(configure_args -S "${CONSUMER_SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
                   "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
                   "-DEXPECTED_VERSION=${EXPECTED_VERSION}")
# The nnfuse build's compilers, build type and flags: under the asan preset the installed static
# libraries are instrumented and the consumer must link the sanitizer runtimes too.
foreach(pair IN ITEMS MAKE_PROGRAM:CMAKE_MAKE_PROGRAM C_COMPILER:CMAKE_C_COMPILER
                      BUILD_TYPE:CMAKE_BUILD_TYPE C_FLAGS:CMAKE_C_FLAGS CXX_FLAGS:CMAKE_CXX_FLAGS
                      EXE_LINKER_FLAGS:CMAKE_EXE_LINKER_FLAGS
                      C_LAUNCHER:CMAKE_C_COMPILER_LAUNCHER CXX_LAUNCHER:CMAKE_CXX_COMPILER_LAUNCHER)
  string(REPLACE ":" ";" pair "${pair}")
  list(GET pair 0 from)
  list(GET pair 1 to)
  if(NOT "${${from}}" STREQUAL "")
    list(APPEND configure_args "-D${to}=${${from}}")
  endif()
endforeach()
run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${build}")
run("${build}/nnfuse_consumer")
run("${build}/consumer_forward")
