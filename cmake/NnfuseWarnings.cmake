# nnfuse::warnings: the project's warning flags, for the project's own targets only.
# Link it PRIVATE (it is not installed or exported): target_link_libraries(t PRIVATE nnfuse::warnings)
# With NNFUSE_WERROR (on in every preset) warnings are errors. Third-party headers reach the
# compiler through imported targets (-isystem), so their warnings stay silent.
add_library(nnfuse_warnings INTERFACE)
add_library(nnfuse::warnings ALIAS nnfuse_warnings)

target_compile_options(
  nnfuse_warnings
  INTERFACE $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic>
            $<$<COMPILE_LANG_AND_ID:C,GNU,Clang,AppleClang>:-Wall -Wextra -Wpedantic>
            $<$<COMPILE_LANG_AND_ID:CXX,MSVC>:/W4 /permissive->)

if(NNFUSE_WERROR)
  target_compile_options(
    nnfuse_warnings INTERFACE $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang,AppleClang>:-Werror>
                              $<$<COMPILE_LANG_AND_ID:C,GNU,Clang,AppleClang>:-Werror>
                              $<$<COMPILE_LANG_AND_ID:CXX,MSVC>:/WX>)
endif()

# g++ 12 at -O3 (Release) reports -Wrestrict inside libstdc++'s own std::string operator+ (a
# known false positive, GCC bug 105329), which -Werror turns into a failed build. Release only:
# clang-tidy reads the dev build's flags and rejects the g++-only option.
target_compile_options(
  nnfuse_warnings
  INTERFACE $<$<AND:$<COMPILE_LANG_AND_ID:CXX,GNU>,$<CONFIG:Release>>:-Wno-restrict>)
