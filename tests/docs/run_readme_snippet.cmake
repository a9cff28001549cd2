# Extracts the first ```cpp block of README, compiles it with warnings as errors and runs it.
file(READ "${README}" text)
string(FIND "${text}" "```cpp\n" start)
if(start EQUAL -1)
  message(FATAL_ERROR "${README} has no ```cpp block")
endif()
math(EXPR start "${start} + 7")
string(SUBSTRING "${text}" ${start} -1 rest)
string(FIND "${rest}" "```" end)
string(SUBSTRING "${rest}" 0 ${end} snippet)
file(WRITE "${WORK_DIR}/readme_snippet.cpp" "${snippet}")
execute_process(
  COMMAND ${COMPILER} -std=c++20 -Wall -Wextra -Wpedantic -Werror -UNDEBUG -I${INCLUDE}
          "${WORK_DIR}/readme_snippet.cpp" -o "${WORK_DIR}/readme_snippet"
  RESULT_VARIABLE compiled)
if(NOT compiled EQUAL 0)
  message(FATAL_ERROR "the README's C++ example does not compile")
endif()
execute_process(COMMAND "${WORK_DIR}/readme_snippet" RESULT_VARIABLE ran)
if(NOT ran EQUAL 0)
  message(FATAL_ERROR "the README's C++ example failed when run (${ran})")
endif()
