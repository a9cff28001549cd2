# A deliberately broken oneDNN package for the test configure.broken_peer: like Debian's
# dnnl-config.cmake without OpenCL installed, it ends configure through a required dependency
# that cannot be found.
set(NnfuseMissingDependency_FIND_REQUIRED TRUE)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(NnfuseMissingDependency
                                  REQUIRED_VARS NNFUSE_MISSING_DEPENDENCY_LIBRARY)
