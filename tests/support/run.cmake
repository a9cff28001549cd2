# nnfuse_test_run(<command...> [OUTPUT <var>]): prints and runs a command from a cmake -P test
# script, stops the script if it fails; with OUTPUT, its standard output is also printed and
# returned in <var>. Included by tests/install/check_install.cmake and tests/cross/check_cross.cmake.
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
