# `cmake --install` and the Debian package (CPack): the binary in bin/, the
# control room in share/onair/web (web/CMakeLists.txt), the systemd units,
# the sample channel files and the documentation. The package's dependencies
# are what dpkg-shlibdeps finds the binary linked against: Debian 12's own
# library packages (FFmpeg 5.1, libsrt-gnutls, yaml-cpp, fmt, SQLite).
install(FILES ${CMAKE_CURRENT_LIST_DIR}/onair@.service ${CMAKE_CURRENT_LIST_DIR}/onair-schedule.service
        DESTINATION lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/samples/demo.yaml ${CMAKE_SOURCE_DIR}/samples/redundant.yaml
        DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)
install(FILES ${CMAKE_SOURCE_DIR}/README.md ${CMAKE_SOURCE_DIR}/docs/architecture.md
              ${CMAKE_SOURCE_DIR}/docs/benchmarks.md ${CMAKE_SOURCE_DIR}/docs/grafana/onair-channels.json
        DESTINATION ${CMAKE_INSTALL_DOCDIR})

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME onair)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "onair developers <onair@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "live transcode-and-package server: SRT/RTP in, ABR HLS and LL-HLS out, redundant pipelines, DVR, clips")
set(CPACK_PACKAGE_DESCRIPTION
    "One process per channel: SRT or RTP/UDP MPEG-TS in, an ABR ladder (x264, AAC), HLS and \
Low-Latency HLS from two redundant pipelines with an origin that fails over between them, \
a DVR, Live-to-VOD clips, an event controller, and a control-room web page.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # onair_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_CURRENT_LIST_DIR}/postinst)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
