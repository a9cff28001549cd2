# cmake -P script of the test examples.schedules_current: the .schedule.h files the build wrote
# (-DGENERATED=dir) and the checked-in ones (-DCHECKED_IN=dir) must be the same set, byte for byte.
# After a deliberate change, refresh the record with: cp <GENERATED>/*.schedule.h <CHECKED_IN>/
file(GLOB generated RELATIVE "${GENERATED}" "${GENERATED}/*.schedule.h")
file(GLOB checked_in RELATIVE "${CHECKED_IN}" "${CHECKED_IN}/*.schedule.h")
list(SORT generated)
list(SORT checked_in)
if(NOT generated)
  message(FATAL_ERROR "the build wrote no .schedule.h files in ${GENERATED}")
endif()
if(NOT generated STREQUAL checked_in)
  message(FATAL_ERROR "the checked-in schedules are not the ones the build writes:\n"
                      "  built:      ${generated}\n  checked in: ${checked_in}")
endif()
set(stale "")
foreach(file IN LISTS generated)
  execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${GENERATED}/${file}"
                          "${CHECKED_IN}/${file}" RESULT_VARIABLE differ)
  if(differ)
    list(APPEND stale "${file}")
  endif()
endforeach()
if(stale)
  message(FATAL_ERROR "these checked-in schedules differ from what the build writes: ${stale}\n"
                      "refresh them with: cp ${GENERATED}/*.schedule.h ${CHECKED_IN}/")
endif()
message(STATUS "${CHECKED_IN}: all ${generated} match the build")
