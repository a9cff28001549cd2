# nnfuse_test_run(<command...> [OUTPUT <var>]): prints and runs a command from a cmake -P test
# script, stops the script if it fails; with OUTPUT, its standard output is also printed and
# returned in <var>. Included, with the helpers below, by tests/install/check_install.cmake and
# tests/cross/check_cross.cmake.
include_guard(GLOBAL)

function(nnfuse_test_run)
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

# nnfuse_test_require(<script> <var>...): stops the script unless every -D<var>=... was given.
function(nnfuse_test_require script)
  foreach(var IN LISTS ARGN)
    if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
      message(FATAL_ERROR "${script}: -D${var}=... is required")
    endif()
  endforeach()
endfunction()

# nnfuse_test_install(<build dir> <work dir> <package dir var>): installs a build of nnfuse into
# <work dir>/prefix (emptying <work dir> first) and returns the folder of its nnfuseConfig.cmake.
function(nnfuse_test_install build_dir work_dir package_dir_var)
  file(REMOVE_RECURSE "${work_dir}")
  nnfuse_test_run("${CMAKE_COMMAND}" --install "${build_dir}" --prefix "${work_dir}/prefix")
  file(GLOB_RECURSE config "${work_dir}/prefix/*/nnfuseConfig.cmake")
  if(NOT config)
    message(FATAL_ERROR "no nnfuseConfig.cmake under ${work_dir}/prefix")
  endif()
  get_filename_component(package_dir "${config}" DIRECTORY)
  set(${package_dir_var} "${package_dir}" PARENT_SCOPE)
endfunction()
