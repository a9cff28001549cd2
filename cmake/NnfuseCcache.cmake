# Compile through ccache when it is installed (and the user chose no launcher of their own).
if(NOT NNFUSE_USE_CCACHE)
  return()
endif()

find_program(NNFUSE_CCACHE_PROGRAM ccache)
mark_as_advanced(NNFUSE_CCACHE_PROGRAM)
if(NOT NNFUSE_CCACHE_PROGRAM)
  message(STATUS "nnfuse: ccache not found, compiling without it")
  return()
endif()

foreach(_nnfuse_lang IN ITEMS C CXX)
  if(NOT CMAKE_${_nnfuse_lang}_COMPILER_LAUNCHER)
    set(CMAKE_${_nnfuse_lang}_COMPILER_LAUNCHER "${NNFUSE_CCACHE_PROGRAM}")
  endif()
endforeach()
message(STATUS "nnfuse: compiling through ${NNFUSE_CCACHE_PROGRAM}")
