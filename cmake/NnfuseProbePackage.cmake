# nnfuse_probe_package(<package> <found_var> <reason_var>)
#
# Whether `find_package(<package> CONFIG)` can succeed, asked in a separate CMake run so that a
# package whose config file ends configure (Debian's dnnl-config.cmake calls
# find_package(OpenCL REQUIRED), which QUIET does not soften) ends that run and not this one.
# Sets <found_var> to TRUE or FALSE and, when FALSE, <reason_var> to a short reason for a
# "skipped (...)" line. A package found once is remembered in the cache; one not found is asked
# again at the next configure, so installing it later is enough.
include_guard(GLOBAL)

function(nnfuse_probe_package package found_var reason_var)
  set(cache_var "NNFUSE_PROBED_${package}")
  if(${cache_var})
    set(${found_var} TRUE PARENT_SCOPE)
    set(${reason_var} "" PARENT_SCOPE)
    return()
  endif()

  set(dir "${CMAKE_BINARY_DIR}/nnfuse_probe/${package}")
  file(REMOVE_RECURSE "${dir}/build")
  file(WRITE "${dir}/src/CMakeLists.txt"
       "cmake_minimum_required(VERSION 3.25)\n"
       "project(nnfuse_probe_${package} LANGUAGES C CXX)\n"
       "find_package(${package} CONFIG REQUIRED)\n")
  # What decides where and how the package is found: this project's compilers, search paths
  # and toolchain.
  set(args -S "${dir}/src" -B "${dir}/build" -G "${CMAKE_GENERATOR}")
  foreach(var IN ITEMS CMAKE_MAKE_PROGRAM CMAKE_C_COMPILER CMAKE_CXX_COMPILER CMAKE_PREFIX_PATH
                       CMAKE_FIND_ROOT_PATH CMAKE_TOOLCHAIN_FILE ${package}_DIR ${package}_ROOT)
    if(DEFINED ${var} AND NOT "${${var}}" STREQUAL "")
      list(JOIN ${var} "\\;" value)
      list(APPEND args "-D${var}=${value}")
    endif()
  endforeach()
  execute_process(COMMAND "${CMAKE_COMMAND}" ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out
                  ERROR_VARIABLE err)
  if(rc EQUAL 0)
    set(${cache_var} TRUE CACHE INTERNAL "find_package(${package} CONFIG) succeeded in a probe")
    set(${found_var} TRUE PARENT_SCOPE)
    set(${reason_var} "" PARENT_SCOPE)
    return()
  endif()

  string(APPEND out "\n${err}")
  if(out MATCHES "Could not find a package configuration file provided by \"${package}\"")
    set(reason "not installed")
  elseif(out MATCHES "Could NOT find ([A-Za-z0-9_]+)")
    set(reason "its CMake package needs ${CMAKE_MATCH_1}")
  elseif(out MATCHES "CMake Error at ([^\n]*):[^\n]*\n *([^\n]+)")
    set(reason "its CMake package failed at ${CMAKE_MATCH_1}: ${CMAKE_MATCH_2}")
  else()
    set(reason "its CMake package failed; see ${dir}/build/CMakeFiles/CMakeOutput.log")
  endif()
  set(${found_var} FALSE PARENT_SCOPE)
  set(${reason_var} "${reason}" PARENT_SCOPE)
endfunction()
