# The installed package: `cmake --install` puts the layer libraries and their headers
# (shoal_library), the `shoal` binary (runtime/), a CMake package for
# find_package(shoal CONFIG) and shoal.pc for pkg-config, all relocatable: nothing
# below names the install prefix.

include(CMakePackageConfigHelpers)

set(shoal_config_dir ${CMAKE_INSTALL_LIBDIR}/cmake/shoal)
install(EXPORT shoal-targets NAMESPACE shoal:: DESTINATION ${shoal_config_dir}
  COMPONENT development)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/shoalConfig.cmake.in
  ${PROJECT_BINARY_DIR}/shoalConfig.cmake INSTALL_DESTINATION ${shoal_config_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shoalConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/shoalConfig.cmake
  ${PROJECT_BINARY_DIR}/shoalConfigVersion.cmake ${PROJECT_SOURCE_DIR}/cmake/FindCAF.cmake
  DESTINATION ${shoal_config_dir} COMPONENT development)

# shoal.pc lists the static libraries so that each comes before those it links: a
# library's link closure is larger than that of every library it links.
get_property(shoal_libraries GLOBAL PROPERTY SHOAL_INSTALLED_LIBRARIES)
set(ordered)
foreach(lib IN LISTS shoal_libraries)
  get_target_property(type ${lib} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    continue()
  endif()
  shoal_link_closure(${lib} deps)
  list(LENGTH deps n)
  math(EXPR key "10000 + ${n}")
  get_target_property(name ${lib} OUTPUT_NAME)
  if(NOT name)
    set(name ${lib})
  endif()
  list(APPEND ordered "${key}:${name}")
endforeach()
list(SORT ordered ORDER DESCENDING)
set(SHOAL_PC_LIBS)
foreach(entry IN LISTS ordered)
  string(REGEX REPLACE "^[0-9]+:" "-l" flag ${entry})
  string(APPEND SHOAL_PC_LIBS "${flag} ")
endforeach()
get_filename_component(caf_libdir ${CAF_core_LIBRARY} DIRECTORY)
string(APPEND SHOAL_PC_LIBS "-L${caf_libdir} -lcaf_openssl -lcaf_io -lcaf_core -pthread")
set(SHOAL_PC_CFLAGS "-I${CAF_INCLUDE_DIR}")
string(CONCAT SHOAL_PC_REQUIRES "libmariadb hiredis rdkafka cpp-httplib nlohmann_json spdlog "
  "prometheus-cpp-core absl_flat_hash_map libxxhash zlib libzstd openssl")
set(shoal_pc_dir ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
file(RELATIVE_PATH SHOAL_PC_TO_PREFIX /prefix/${shoal_pc_dir} /prefix)
string(REGEX REPLACE "/$" "" SHOAL_PC_TO_PREFIX ${SHOAL_PC_TO_PREFIX})
configure_file(${PROJECT_SOURCE_DIR}/cmake/shoal.pc.in ${PROJECT_BINARY_DIR}/shoal.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/shoal.pc DESTINATION ${shoal_pc_dir}
  COMPONENT development)
