# The broken package of the test configure.broken_peer claims any version.
set(PACKAGE_VERSION 99.0)
set(PACKAGE_VERSION_COMPATIBLE TRUE)
