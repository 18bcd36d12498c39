# The Debian package of the node (`cpack -G DEB` in the build folder): the `shoal`
# binary, /etc/shoal/shoal.json (configs/single.json, a conffile) and the systemd unit
# contrib/systemd/shoal.service. Depends are computed from the binary (dpkg-shlibdeps).
#
# The unit and /etc/shoal belong to the `service` component, which a plain
# `cmake --install` leaves out (it would write to /etc whatever the prefix); install
# it with `cmake --install build --component service`.

install(FILES ${PROJECT_SOURCE_DIR}/contrib/systemd/shoal.service
  DESTINATION lib/systemd/system COMPONENT service EXCLUDE_FROM_ALL)
install(FILES ${PROJECT_SOURCE_DIR}/configs/single.json DESTINATION /etc/shoal
  RENAME shoal.json COMPONENT service EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME shoal)
set(CPACK_PACKAGE_VENDOR shoal)
set(CPACK_PACKAGE_CONTACT "shoal maintainers <shoal@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "actor-model event processing node: token keeper, binlog sync, hot keys")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL node service)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING ALL_COMPONENTS_IN_ONE)
set(CPACK_DEBIAN_PACKAGE_NAME shoal)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${PROJECT_SOURCE_DIR}/contrib/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
