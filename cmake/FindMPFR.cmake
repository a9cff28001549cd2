# FindMPFR: the MPFR library (correctly rounded float math) and the GMP library it needs.
#
# Imported targets:
#   MPFR::mpfr   MPFR, linking GMP::gmp
#   GMP::gmp     GMP
# Variables: MPFR_FOUND, MPFR_VERSION, MPFR_INCLUDE_DIR, MPFR_LIBRARY, GMP_INCLUDE_DIR, GMP_LIBRARY
# Debian 12: apt-get install libmpfr-dev libgmp-dev

find_path(MPFR_INCLUDE_DIR NAMES mpfr.h)
find_library(MPFR_LIBRARY NAMES mpfr)
find_path(GMP_INCLUDE_DIR NAMES gmp.h)
find_library(GMP_LIBRARY NAMES gmp)
mark_as_advanced(MPFR_INCLUDE_DIR MPFR_LIBRARY GMP_INCLUDE_DIR GMP_LIBRARY)

if(MPFR_INCLUDE_DIR AND EXISTS "${MPFR_INCLUDE_DIR}/mpfr.h")
  file(STRINGS "${MPFR_INCLUDE_DIR}/mpfr.h" _mpfr_version_line
       REGEX "^#define[ \t]+MPFR_VERSION_STRING[ \t]+\"[^\"]+\"")
  string(REGEX REPLACE ".*\"([^\"]+)\".*" "\\1" MPFR_VERSION "${_mpfr_version_line}")
  unset(_mpfr_version_line)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(
  MPFR
  REQUIRED_VARS MPFR_LIBRARY MPFR_INCLUDE_DIR GMP_LIBRARY GMP_INCLUDE_DIR
  VERSION_VAR MPFR_VERSION)

if(MPFR_FOUND)
  if(NOT TARGET GMP::gmp)
    add_library(GMP::gmp UNKNOWN IMPORTED)
    set_target_properties(GMP::gmp PROPERTIES IMPORTED_LOCATION "${GMP_LIBRARY}"
                                              INTERFACE_INCLUDE_DIRECTORIES "${GMP_INCLUDE_DIR}")
  endif()
  if(NOT TARGET MPFR::mpfr)
    add_library(MPFR::mpfr UNKNOWN IMPORTED)
    set_target_properties(
      MPFR::mpfr PROPERTIES IMPORTED_LOCATION "${MPFR_LIBRARY}"
                            INTERFACE_INCLUDE_DIRECTORIES "${MPFR_INCLUDE_DIR}"
                            INTERFACE_LINK_LIBRARIES GMP::gmp)
  endif()
endif()
