# FindCAF: the C++ Actor Framework 0.17, which ships neither a CMake package nor a
# pkg-config file (Debian libcaf-dev). Defines the imported targets caf::core,
# caf::io and caf::openssl, and CAF_VERSION ("0.17.6"). shoal's build and its
# installed package (shoalConfig.cmake) both find CAF through this file.
#
#   find_package(CAF 0.17.6 EXACT REQUIRED)
#   target_link_libraries(app PRIVATE caf::io)

include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(OpenSSL)

find_path(CAF_INCLUDE_DIR caf/config.hpp)
if(CAF_INCLUDE_DIR)
  # CAF_VERSION is 1706 for 0.17.6: major * 10000 + minor * 100 + patch.
  file(STRINGS "${CAF_INCLUDE_DIR}/caf/config.hpp" caf_version_line
       REGEX "^#define CAF_VERSION [0-9]+")
  string(REGEX MATCH "[0-9]+" caf_version_number "${caf_version_line}")
  math(EXPR caf_major "${caf_version_number} / 10000")
  math(EXPR caf_minor "${caf_version_number} / 100 % 100")
  math(EXPR caf_patch "${caf_version_number} % 100")
  set(CAF_VERSION "${caf_major}.${caf_minor}.${caf_patch}")
endif()
foreach(component core io openssl)
  find_library(CAF_${component}_LIBRARY caf_${component})
endforeach()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(CAF
  REQUIRED_VARS CAF_INCLUDE_DIR CAF_core_LIBRARY CAF_io_LIBRARY CAF_openssl_LIBRARY
  VERSION_VAR CAF_VERSION)

if(CAF_FOUND)
  foreach(component core io openssl)
    if(NOT TARGET caf::${component})
      add_library(caf::${component} SHARED IMPORTED)
      set_target_properties(caf::${component} PROPERTIES
        IMPORTED_LOCATION "${CAF_${component}_LIBRARY}"
        INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}")
    endif()
  endforeach()
  set_property(TARGET caf::core PROPERTY INTERFACE_LINK_LIBRARIES Threads::Threads)
  set_property(TARGET caf::io PROPERTY INTERFACE_LINK_LIBRARIES caf::core)
  set_property(TARGET caf::openssl PROPERTY INTERFACE_LINK_LIBRARIES caf::io OpenSSL::SSL)
endif()
mark_as_advanced(CAF_INCLUDE_DIR CAF_core_LIBRARY CAF_io_LIBRARY CAF_openssl_LIBRARY)
