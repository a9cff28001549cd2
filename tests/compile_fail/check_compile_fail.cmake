# Run by CTest for each compile-fail test: compiles SOURCE with COMPILER and fails unless the
# compilation fails with every regex of EXPECT in its output.
string(REPLACE "<AND>" ";" INCLUDES "${INCLUDES}")
string(REPLACE "<AND>" ";" EXPECT "${EXPECT}")
set(include_flags "")
foreach(dir IN LISTS INCLUDES)
  list(APPEND include_flags "-I${dir}")
endforeach()
execute_process(
  COMMAND ${COMPILER} -std=c++20 -fsyntax-only ${include_flags} ${SOURCE}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
foreach(pattern IN LISTS EXPECT)
  if(NOT output MATCHES "${pattern}")
    message(FATAL_ERROR "${SOURCE} failed to compile, but its diagnostic lacks '${pattern}':\n"
                        "${output}")
  endif()
endforeach()
message(STATUS "${SOURCE}: rejected with the expected diagnostic")
