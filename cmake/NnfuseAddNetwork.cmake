# nnfuse_add_network(<name> SPEC <header> NETWORK <C++ type> [GENERATOR <program>]
#                    [TARGETS host | x86-64-multi | <halide target>...]
#                    [SCHEDULES <names from schedules.def: naive manual fused mullapudi2016 ...>]
#                    [TYPICAL_BATCH <rows>] [MACHINE_PARAMS <parallelism,llc_bytes,balance>]
#                    [PRECISION fast|exact] [LOSS nnfuse::CrossEntropy|nnfuse::MSE] [EMIT_STMT]
#                    [STATISTICS])
#
# Generates kernels for the network type declared in the spec header at build time and makes a
# static library <name> (alias nnfuse::<name>) with the generated header
# <nnfuse/generated/<name>.hpp>, whose
# structs nnfuse::generated::<name>::<schedule> plug into nnfuse::Model. TARGETS are Halide
# target strings for one architecture; `x86-64-multi` is the multi-target build
# avx512 / avx2-fma / baseline with run-time dispatch and per-variant entry points; `host`
# (the default) is the build machine's target. All libraries share one Halide runtime.
# SCHEDULES (default naive manual): the hand-written ones (naive, manual, fused: whole-network
# fusion) and Halide's autoschedulers (mullapudi2016, adams2019, li2018), which plan from the
# spec's shapes and TYPICAL_BATCH (default 32) for MACHINE_PARAMS (default 2,33554432,40: two
# cores, 32 MiB last-level cache); the schedule each one chose is written next to the kernels
# as <kernel>__<variant>.schedule.h.
# PRECISION (default fast) says how the epilogues are evaluated: `fast` in float32, with the
# bounds measured over every float32 input (docs/ARCHITECTURE.md), `exact` in float64 rounded
# once (within 1 ULP of the correctly rounded value; slower for transcendental activations).
# LOSS also generates training kernels (training forward, backward with the loss fused into the
# last node, SGD and Adam) for every schedule but fused (its per-node kernels would be manual's),
# the autoschedulers' included, which nnfuse::Trainer runs.
# STATISTICS also generates statistics kernels for every schedule but fused: per node with an
# activation, the training forward's outputs and per-unit counts of active (z > 0), saturated and
# zero outputs over a call's rows, which nnfuse::Statistics accumulates (Model and Trainer).
# EMIT_STMT also writes each kernel's lowered Halide statement (<kernel>__<variant>__halide.stmt)
# next to it, for reading what a schedule became.
# Networks given the same GENERATOR (in one directory) are compiled by one generator program,
# so Halide.h is compiled once for all of them (tests/runtime does this).
# The generated header includes the spec by its file name; the library's include path has the
# spec's directory. Halide's messages go to <kernel dir>/<name>.log unless
# NNFUSE_VERBOSE_GENERATORS is ON.
#
# This module serves nnfuse's own build (from cmake/ in the source tree, the template in
# ../generators/) and an installed package (find_package(nnfuse) includes it from
# <prefix>/lib/cmake/nnfuse, the template installed next to it). nnfuse::warnings exists only
# in nnfuse's own build.
include_guard(GLOBAL)

# The schedule table, shared with the C++ generators (schedules.def: one row per schedule). It is
# next to the headers: in the source tree under ../generators/include, in an installed package
# where nnfuseConfig.cmake says (NNFUSE_SCHEDULES_DEF).
if(NOT NNFUSE_SCHEDULES_DEF)
  set(NNFUSE_SCHEDULES_DEF
      "${CMAKE_CURRENT_LIST_DIR}/../generators/include/nnfuse/generators/schedules.def")
endif()
if(NOT EXISTS "${NNFUSE_SCHEDULES_DEF}")
  message(FATAL_ERROR "nnfuse: the schedule table ${NNFUSE_SCHEDULES_DEF} is missing")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${NNFUSE_SCHEDULES_DEF}")
file(STRINGS "${NNFUSE_SCHEDULES_DEF}" _nnfuse_schedule_rows REGEX "^NNFUSE_SCHEDULE\\(")
set_property(GLOBAL PROPERTY NNFUSE_SCHEDULES "")
foreach(_nnfuse_row IN LISTS _nnfuse_schedule_rows)
  if(NOT _nnfuse_row MATCHES "^NNFUSE_SCHEDULE\\(([a-z0-9_]+), \"([A-Za-z0-9]*)\"")
    message(FATAL_ERROR "nnfuse: ${NNFUSE_SCHEDULES_DEF}: cannot read the row '${_nnfuse_row}'")
  endif()
  set_property(GLOBAL APPEND PROPERTY NNFUSE_SCHEDULES "${CMAKE_MATCH_1}")
  set_property(GLOBAL PROPERTY NNFUSE_SCHEDULE_${CMAKE_MATCH_1}_AUTOSCHEDULER "${CMAKE_MATCH_2}")
endforeach()
unset(_nnfuse_row)
unset(_nnfuse_schedule_rows)

# nnfuse_schedules(<var>): every schedule's name, in the table's order (naive manual fused ...).
function(nnfuse_schedules out_var)
  get_property(names GLOBAL PROPERTY NNFUSE_SCHEDULES)
  set(${out_var} ${names} PARENT_SCOPE)
endfunction()

# The Halide architecture (x86-64, arm-64, ...) of the machine this build makes programs for
# (CMAKE_SYSTEM_PROCESSOR: the build machine, or a cross build's target), or "" if unknown.
function(_nnfuse_halide_arch out_var)
  set(p "${CMAKE_SYSTEM_PROCESSOR}")
  set(arch "")
  if(p MATCHES "^(x86_64|AMD64|amd64|x64)$")
    set(arch x86-64)
  elseif(p MATCHES "^(i[3-6]86|x86)$")
    set(arch x86-32)
  elseif(p MATCHES "^(aarch64|arm64|ARM64)$")
    set(arch arm-64)
  elseif(p MATCHES "^arm")
    set(arch arm-32)
  elseif(p MATCHES "^riscv64$")
    set(arch riscv-64)
  endif()
  set(${out_var} "${arch}" PARENT_SCOPE)
endfunction()

# The shared Halide runtime for a target architecture (built once per build tree).
function(_nnfuse_halide_runtime target_string out_var)
  string(MAKE_C_IDENTIFIER "${target_string}" id)
  set(lib "nnfuse_halide_runtime_${id}")
  if(NOT TARGET ${lib})
    set(archive "${CMAKE_BINARY_DIR}/nnfuse_runtime/${lib}.a")
    add_custom_command(
      OUTPUT "${archive}"
      COMMAND ${CMAKE_COMMAND} -E make_directory "${CMAKE_BINARY_DIR}/nnfuse_runtime"
      COMMAND nnfuse::runtime_generator "${target_string}" "${archive}"
      DEPENDS nnfuse::runtime_generator
      COMMENT "nnfuse: Halide runtime for ${target_string}"
      VERBATIM)
    add_custom_target(${lib}_build DEPENDS "${archive}")
    add_library(${lib} STATIC IMPORTED GLOBAL)
    set_target_properties(${lib} PROPERTIES IMPORTED_LOCATION "${archive}")
    add_dependencies(${lib} ${lib}_build)
    target_link_libraries(${lib} INTERFACE Threads::Threads ${CMAKE_DL_LIBS})
  endif()
  set(${out_var} ${lib} PARENT_SCOPE)
endfunction()

# Writes the source of a generator program from the networks registered on it (deferred to
# the end of the directory, so every nnfuse_add_network(... GENERATOR g) call is in).
function(_nnfuse_write_generator generator)
  get_target_property(source ${generator} NNFUSE_SOURCE)
  get_target_property(specs ${generator} NNFUSE_SPECS)
  get_target_property(entries ${generator} NNFUSE_ENTRIES)
  list(REMOVE_DUPLICATES specs)
  set(NNFUSE_GENERATOR "${generator}")
  set(NNFUSE_INCLUDES "")
  foreach(spec IN LISTS specs)
    string(APPEND NNFUSE_INCLUDES "#include \"${spec}\"\n")
  endforeach()
  list(JOIN entries "\n" NNFUSE_ENTRIES)
  # The template: next to this module when installed, in ../generators/ in the source tree.
  set(template "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/nnfuse_generator.cpp.in")
  if(NOT EXISTS "${template}")
    set(template "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/../generators/nnfuse_generator.cpp.in")
  endif()
  if(NOT EXISTS "${template}")
    message(FATAL_ERROR "nnfuse: nnfuse_generator.cpp.in is neither next to "
                        "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/NnfuseAddNetwork.cmake nor in ../generators/")
  endif()
  configure_file("${template}" "${source}" @ONLY)
endfunction()

# A cross build (find_package(nnfuse) with CMAKE_CROSSCOMPILING; see nnfuseCross.cmake):
# generator programs must run on the build machine, so a small project for the host
# (nnfuse_host/<generator>/, built as an ExternalProject with the host's compilers and this
# same nnfuse package) makes the same nnfuse_add_network calls natively: for a target of
# another architecture those leave the kernels, the generated sources and the Halide runtime
# in its build tree. Here nnfuse::<name> compiles the generated source for the target and
# links those archives. NNFUSE_HOST_C_COMPILER / NNFUSE_HOST_CXX_COMPILER choose the host's
# compilers (default: cc / c++ on the PATH).
macro(_nnfuse_add_cross_network)
  if(arg_GENERATOR)
    set(generator ${arg_GENERATOR})
  else()
    set(generator ${name}_generator)
  endif()
  set(host_source "${CMAKE_BINARY_DIR}/nnfuse_host/${generator}")
  set(host_binary "${host_source}/build")
  set(host_out "${host_binary}/nnfuse/${name}")
  string(MAKE_C_IDENTIFIER "${runtime_target}" runtime_id)
  set(host_runtime "${host_binary}/nnfuse_runtime/nnfuse_halide_runtime_${runtime_id}.a")
  set(host_outputs "${host_out}/nnfuse/generated/${name}.hpp" "${host_out}/${name}_kernels.cpp"
                   "${host_out}/${name}_kernels.a" "${host_runtime}")
  get_property(known_generators GLOBAL PROPERTY NNFUSE_HOST_GENERATORS)
  if(NOT generator IN_LIST known_generators)
    set_property(GLOBAL APPEND PROPERTY NNFUSE_HOST_GENERATORS ${generator})
    cmake_language(EVAL CODE
                   "cmake_language(DEFER CALL _nnfuse_write_host_project [[${generator}]])")
  endif()
  set(host_call "nnfuse_add_network(${name} SPEC [==[${spec}]==] NETWORK [==[${arg_NETWORK}]==]")
  string(APPEND host_call " GENERATOR ${generator} TARGETS ${arg_TARGETS}")
  string(APPEND host_call " SCHEDULES ${arg_SCHEDULES} TYPICAL_BATCH ${arg_TYPICAL_BATCH}")
  string(APPEND host_call " MACHINE_PARAMS [==[${arg_MACHINE_PARAMS}]==] PRECISION ${arg_PRECISION}")
  if(arg_EMIT_STMT)
    string(APPEND host_call " EMIT_STMT")
  endif()
  if(arg_STATISTICS)
    string(APPEND host_call " STATISTICS")
  endif()
  if(arg_LOSS)
    string(APPEND host_call " LOSS [==[${arg_LOSS}]==]")
  endif()
  string(APPEND host_call ")")
  set_property(GLOBAL APPEND PROPERTY NNFUSE_HOST_CALLS_${generator} "${host_call}")
  set_property(GLOBAL APPEND PROPERTY NNFUSE_HOST_OUTPUTS_${generator} ${host_outputs})

  set_source_files_properties(${host_outputs} PROPERTIES GENERATED TRUE)
  add_library(${name}_kernels STATIC IMPORTED GLOBAL)
  set_target_properties(${name}_kernels PROPERTIES IMPORTED_LOCATION "${host_out}/${name}_kernels.a")
  # One imported Halide runtime per architecture, as in a native build.
  set(runtime_lib "nnfuse_halide_runtime_${runtime_id}")
  if(NOT TARGET ${runtime_lib})
    add_library(${runtime_lib} STATIC IMPORTED GLOBAL)
    set_target_properties(${runtime_lib} PROPERTIES IMPORTED_LOCATION "${host_runtime}")
    target_link_libraries(${runtime_lib} INTERFACE Threads::Threads ${CMAKE_DL_LIBS})
  endif()
  add_library(${name} STATIC "${host_out}/${name}_kernels.cpp")
  add_library(nnfuse::${name} ALIAS ${name})
  get_filename_component(spec_dir "${spec}" DIRECTORY)
  target_include_directories(${name} PUBLIC "${host_out}" "${spec_dir}")
  target_link_libraries(${name} PUBLIC nnfuse::runtime ${name}_kernels ${runtime_lib})
  add_dependencies(${name} ${generator}_host)
  set_target_properties(${name} PROPERTIES NNFUSE_OUTPUT_DIR "${host_out}")
endmacro()

# Writes the host project of a cross build's generator and adds it as an ExternalProject
# (deferred to the end of the directory, so every network of the generator is in it).
function(_nnfuse_write_host_project generator)
  get_property(calls GLOBAL PROPERTY NNFUSE_HOST_CALLS_${generator})
  get_property(outputs GLOBAL PROPERTY NNFUSE_HOST_OUTPUTS_${generator})
  list(JOIN calls "\n" calls)
  set(host_source "${CMAKE_BINARY_DIR}/nnfuse_host/${generator}")
  file(CONFIGURE OUTPUT "${host_source}/CMakeLists.txt" @ONLY CONTENT [[
# Written by nnfuse_add_network for a cross build (do not edit): the generator program
# @generator@ and the kernels it makes, built for and run on the host.
cmake_minimum_required(VERSION 3.25)
project(nnfuse_host_@generator@ LANGUAGES C CXX)
set(CMAKE_CXX_STANDARD 20)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
find_package(nnfuse REQUIRED CONFIG PATHS [==[@NNFUSE_CROSS_PACKAGE_DIR@]==] NO_DEFAULT_PATH)
@calls@
]])
  find_program(NNFUSE_HOST_C_COMPILER NAMES cc gcc clang NO_CMAKE_FIND_ROOT_PATH)
  find_program(NNFUSE_HOST_CXX_COMPILER NAMES c++ g++ clang++ NO_CMAKE_FIND_ROOT_PATH)
  if(NOT NNFUSE_HOST_C_COMPILER OR NOT NNFUSE_HOST_CXX_COMPILER)
    message(FATAL_ERROR "nnfuse: a cross build generates its kernels on the host, and no host "
                        "C/C++ compiler was found: set NNFUSE_HOST_C_COMPILER and "
                        "NNFUSE_HOST_CXX_COMPILER")
  endif()
  set(args -DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_COMPILER=${NNFUSE_HOST_C_COMPILER}"
           "-DCMAKE_CXX_COMPILER=${NNFUSE_HOST_CXX_COMPILER}")
  if(NNFUSE_VERBOSE_GENERATORS)
    list(APPEND args -DNNFUSE_VERBOSE_GENERATORS=ON)
  endif()
  foreach(lang IN ITEMS C CXX)
    if(CMAKE_${lang}_COMPILER_LAUNCHER)
      list(APPEND args "-DCMAKE_${lang}_COMPILER_LAUNCHER=${CMAKE_${lang}_COMPILER_LAUNCHER}")
    endif()
  endforeach()
  include(ExternalProject)
  ExternalProject_Add(
    ${generator}_host
    SOURCE_DIR "${host_source}"
    BINARY_DIR "${host_source}/build"
    CMAKE_ARGS ${args}
    BUILD_ALWAYS ON
    INSTALL_COMMAND ""
    BUILD_BYPRODUCTS ${outputs}
    USES_TERMINAL_BUILD ON)
endfunction()

function(nnfuse_add_network name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "EMIT_STMT;STATISTICS"
                        "SPEC;NETWORK;GENERATOR;TYPICAL_BATCH;MACHINE_PARAMS;PRECISION;LOSS"
                        "TARGETS;SCHEDULES")
  if(NOT arg_SPEC OR NOT arg_NETWORK)
    message(FATAL_ERROR "nnfuse_add_network(${name}): SPEC and NETWORK are required")
  endif()
  if(arg_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "nnfuse_add_network(${name}): unknown arguments ${arg_UNPARSED_ARGUMENTS}")
  endif()
  if(NNFUSE_CROSS_PACKAGE_DIR AND CMAKE_CROSSCOMPILING)
    # A cross build: `host` would name the build machine, not the one the program runs on.
    if(NOT arg_TARGETS)
      _nnfuse_halide_arch(arch)
      if(NOT arch)
        message(FATAL_ERROR "nnfuse_add_network(${name}): no default Halide target for "
                            "CMAKE_SYSTEM_PROCESSOR '${CMAKE_SYSTEM_PROCESSOR}': name TARGETS")
      endif()
      set(arg_TARGETS ${arch}-linux)
    elseif("host" IN_LIST arg_TARGETS)
      message(FATAL_ERROR "nnfuse_add_network(${name}): TARGETS host names the build machine, "
                          "but this is a cross build for ${CMAKE_SYSTEM_PROCESSOR}: name the "
                          "target's Halide target (arm-64-linux for AArch64) or leave TARGETS out")
    endif()
  elseif(NOT arg_TARGETS)
    set(arg_TARGETS host)
  endif()
  if(NOT arg_SCHEDULES)
    set(arg_SCHEDULES naive manual)
  endif()
  if(NOT arg_TYPICAL_BATCH)
    set(arg_TYPICAL_BATCH 32)
  endif()
  if(NOT arg_MACHINE_PARAMS)
    set(arg_MACHINE_PARAMS "2,33554432,40")
  endif()
  if(NOT arg_PRECISION)
    set(arg_PRECISION fast)
  elseif(NOT arg_PRECISION MATCHES "^(fast|exact)$")
    message(FATAL_ERROR "nnfuse_add_network(${name}): unknown PRECISION '${arg_PRECISION}' "
                        "(known: fast, exact)")
  endif()
  nnfuse_schedules(known)
  foreach(s IN LISTS arg_SCHEDULES)
    if(NOT s IN_LIST known)
      list(JOIN known ", " known_text)
      message(FATAL_ERROR "nnfuse_add_network(${name}): unknown schedule '${s}' (known: "
                          "${known_text})")
    endif()
  endforeach()
  get_filename_component(spec "${arg_SPEC}" ABSOLUTE)

  # Targets and the variant names of the kernel grammar.
  set(targets "")
  set(variants "")
  foreach(t IN LISTS arg_TARGETS)
    if(t STREQUAL "host")
      list(APPEND targets host)
      list(APPEND variants host)
    elseif(t STREQUAL "x86-64-multi")
      list(APPEND targets x86-64-linux-avx512 x86-64-linux-avx2-fma x86-64-linux)
      list(APPEND variants avx512 avx2 baseline)
    else()
      list(APPEND targets "${t}")
      string(MAKE_C_IDENTIFIER "${t}" v)
      list(APPEND variants "${v}")
    endif()
  endforeach()
  list(GET targets -1 baseline)
  if(baseline STREQUAL "host")
    set(runtime_target host)
  else()
    # The runtime is built for the architecture's plainest target.
    string(REGEX MATCH "^[a-z0-9_]+-[0-9]+-[a-z]+" runtime_target "${baseline}")
  endif()

  set(out "${CMAKE_CURRENT_BINARY_DIR}/nnfuse/${name}")
  if(NNFUSE_CROSS_PACKAGE_DIR AND CMAKE_CROSSCOMPILING)
    _nnfuse_add_cross_network()
    return()
  endif()

  # The autoscheduler plugins the schedules need (Halide's CMake package names them).
  set(plugins "")
  foreach(s IN LISTS arg_SCHEDULES)
    get_property(plugin GLOBAL PROPERTY NNFUSE_SCHEDULE_${s}_AUTOSCHEDULER)
    if(plugin)
      if(NOT TARGET Halide::${plugin})
        message(FATAL_ERROR "nnfuse_add_network(${name}): schedule ${s} needs Halide's "
                            "${plugin} autoscheduler plugin, which this Halide lacks")
      endif()
      list(APPEND plugins "$<TARGET_FILE:Halide::${plugin}>")
    endif()
  endforeach()
  list(JOIN plugins "," plugins_arg)
  # One generator program per GENERATOR name (default: one per network). Networks that share
  # one are compiled into it together: its source is written once the directory is processed.
  if(arg_GENERATOR)
    set(generator ${arg_GENERATOR})
  else()
    set(generator ${name}_generator)
  endif()
  if(NOT TARGET ${generator})
    set(source "${CMAKE_CURRENT_BINARY_DIR}/nnfuse/${generator}.cpp")
    add_executable(${generator} "${source}")
    target_link_libraries(${generator} PRIVATE nnfuse::generators)
    # The project's warning flags exist only in nnfuse's own build (not exported). The version
    # of the provenance comment (NNFUSE_VERSION_STRING) comes with nnfuse::generators.
    if(TARGET nnfuse::warnings)
      target_link_libraries(${generator} PRIVATE nnfuse::warnings)
    endif()
    set_property(TARGET ${generator} PROPERTY NNFUSE_SOURCE "${source}")
    cmake_language(EVAL CODE "cmake_language(DEFER CALL _nnfuse_write_generator [[${generator}]])")
  endif()
  set_property(TARGET ${generator} APPEND PROPERTY NNFUSE_SPECS "${spec}")
  # The generated header includes the spec by its file name, found through the library's include
  # path (the spec's directory, below): no absolute path of this machine is written into it.
  get_filename_component(spec_dir "${spec}" DIRECTORY)
  get_filename_component(spec_include "${spec}" NAME)
  if(arg_LOSS)
    set(instance "${arg_NETWORK}, ${arg_LOSS}")
  else()
    set(instance "${arg_NETWORK}")
  endif()
  set_property(TARGET ${generator} APPEND PROPERTY NNFUSE_ENTRIES
               "    {\"${name}\", \"${spec_include}\", \"${arg_NETWORK}\", \"${arg_LOSS}\", &nnfuse::generators::generate_network<${instance}>},")

  list(JOIN targets "," targets_arg)
  list(JOIN variants "," variants_arg)
  list(JOIN arg_SCHEDULES "," schedules_arg)
  set(outputs "${out}/nnfuse/generated/${name}.hpp" "${out}/${name}_kernels.cpp"
              "${out}/${name}_kernels.a")
  set(loss_comment "")
  if(arg_LOSS)
    set(loss_comment ", trained with ${arg_LOSS}")
  endif()
  set(emit_stmt 0)
  if(arg_EMIT_STMT)
    set(emit_stmt 1)
  endif()
  set(statistics 0)
  if(arg_STATISTICS)
    set(statistics 1)
  endif()
  # Halide's warnings and the autoschedulers' logs go to a log next to the kernels unless
  # NNFUSE_VERBOSE_GENERATORS asks for them on the terminal (a failure is shown either way).
  set(log_args "")
  if(NOT NNFUSE_VERBOSE_GENERATORS)
    set(log_args --log "${out}/${name}.log")
  endif()
  if(NNFUSE_PREGENERATED_DIR)
    # A sanitizer build reuses the kernels another build tree of the same sources generated:
    # they are the same machine code (Halide's output is not instrumented), and generating
    # them again with a sanitized generator only costs time.
    file(RELATIVE_PATH relative "${CMAKE_BINARY_DIR}" "${out}")
    set(pregenerated "${NNFUSE_PREGENERATED_DIR}/${relative}")
    set_target_properties(${generator} PROPERTIES EXCLUDE_FROM_ALL ON)
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E copy_directory "${pregenerated}" "${out}"
      DEPENDS "${pregenerated}/${name}_kernels.a" "${pregenerated}/${name}_kernels.cpp"
      COMMENT "nnfuse: reusing ${name}'s kernels from ${NNFUSE_PREGENERATED_DIR}"
      VERBATIM)
  else()
    add_custom_command(
      OUTPUT ${outputs}
      COMMAND ${CMAKE_COMMAND} -E make_directory "${out}"
      COMMAND ${generator} --network ${name} --output-dir "${out}" --schedules "${schedules_arg}"
              --targets "${targets_arg}" --variants "${variants_arg}" --plugins "${plugins_arg}"
              --typical-batch ${arg_TYPICAL_BATCH} --machine-params "${arg_MACHINE_PARAMS}"
              --emit-stmt ${emit_stmt} --statistics ${statistics} --precision ${arg_PRECISION}
              ${log_args}
      DEPENDS ${generator}
      COMMENT "nnfuse: generating ${name} (${schedules_arg} for ${targets_arg}, ${arg_PRECISION}${loss_comment})"
      VERBATIM)
  endif()
  add_custom_target(${name}_generate DEPENDS "${out}/${name}_kernels.a")

  add_library(${name}_kernels STATIC IMPORTED GLOBAL)
  set_target_properties(${name}_kernels PROPERTIES IMPORTED_LOCATION "${out}/${name}_kernels.a")
  add_dependencies(${name}_kernels ${name}_generate)

  # Only kernels of this build's architecture link into its programs; others (arm-64-linux in
  # an x86-64 build) leave the generated sources and archives in ${out}: a cross build's host
  # project makes them so (see _nnfuse_add_cross_network).
  _nnfuse_halide_arch(arch)
  string(REGEX MATCH "^[a-z0-9_]+-[0-9]+" baseline_arch "${baseline}")
  _nnfuse_halide_runtime("${runtime_target}" runtime_lib)
  if(baseline STREQUAL "host" OR (arch AND baseline_arch STREQUAL arch))
    add_library(${name} STATIC "${out}/${name}_kernels.cpp")
    add_library(nnfuse::${name} ALIAS ${name})
    target_include_directories(${name} PUBLIC "${out}" "${spec_dir}")
    target_link_libraries(${name} PUBLIC nnfuse::runtime ${name}_kernels ${runtime_lib})
  else()
    add_custom_target(${name} ALL DEPENDS "${out}/${name}_kernels.a" ${runtime_lib}_build)
  endif()
  set_property(TARGET ${name}_generate PROPERTY NNFUSE_OUTPUT_DIR "${out}")
endfunction()
