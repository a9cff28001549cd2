# cmake -P script run by the test nnfuse.install.find_package (see CMakeLists.txt here).
include("${CMAKE_CURRENT_LIST_DIR}/../support/run.cmake")
nnfuse_test_require(check_install.cmake NNFUSE_BUILD_DIR WORK_DIR CONSUMER_SOURCE_DIR GENERATOR
                    CXX_COMPILER EXPECTED_VERSION)

nnfuse_test_install("${NNFUSE_BUILD_DIR}" "${WORK_DIR}" package_dir)
set(prefix "${WORK_DIR}/prefix")
set(build "${WORK_DIR}/build")

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

# The consumer's configure arguments, after -S and -B.
set(configure_args -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}"
                   "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DEXPECTED_VERSION=${EXPECTED_VERSION}")
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
nnfuse_test_run("${CMAKE_COMMAND}" -S "${CONSUMER_SOURCE_DIR}" -B "${build}" ${configure_args})
nnfuse_test_run("${CMAKE_COMMAND}" --build "${build}")
nnfuse_test_run("${build}/nnfuse_consumer")
nnfuse_test_run("${build}/consumer_forward")

# A C++-only project gets a message that says what to add, not LLVM's "C: needs to be enabled".
if(CXX_ONLY_SOURCE_DIR)
  execute_process(
    COMMAND "${CMAKE_COMMAND}" -S "${CXX_ONLY_SOURCE_DIR}" -B "${WORK_DIR}/cxx_only" -G "${GENERATOR}"
            "-DCMAKE_PREFIX_PATH=${prefix}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(rc EQUAL 0)
    message(FATAL_ERROR "find_package(nnfuse) in a C++-only project configured; it must stop")
  endif()
  string(REPLACE "\n" " " err "${err}")
  if(NOT err MATCHES "the C language is not enabled in this project.*enable_language\\(C\\)")
    message(FATAL_ERROR "find_package(nnfuse) in a C++-only project failed without saying to "
                        "enable C:\n${err}")
  endif()
  message(STATUS "a C++-only project is told to enable C: ok")
endif()

# The README's consumer (examples/consumer), built and run as a user would; the README must show
# its CMakeLists.txt as it is.
if(EXAMPLE_SOURCE_DIR)
  file(READ "${EXAMPLE_SOURCE_DIR}/CMakeLists.txt" example_cmake)
  file(READ "${README}" readme)
  string(FIND "${readme}" "```cmake\n${example_cmake}```" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "${README} does not show ${EXAMPLE_SOURCE_DIR}/CMakeLists.txt as it is")
  endif()
  nnfuse_test_run("${CMAKE_COMMAND}" -S "${EXAMPLE_SOURCE_DIR}" -B "${WORK_DIR}/example" ${configure_args})
  nnfuse_test_run("${CMAKE_COMMAND}" --build "${WORK_DIR}/example")
  nnfuse_test_run("${WORK_DIR}/example/my_app")
endif()
