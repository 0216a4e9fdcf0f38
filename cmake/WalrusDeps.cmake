# Third-party libraries, all from Debian -dev packages (see scripts/install-deps.sh).
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
find_package(fmt REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 CONFIG QUIET)
find_package(nlohmann_json REQUIRED)
find_package(simdjson REQUIRED)
find_package(prometheus-cpp REQUIRED COMPONENTS core)
find_package(OpenSSL REQUIRED)
pkg_check_modules(RDKAFKA REQUIRED IMPORTED_TARGET rdkafka)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
# Debian's cpp-httplib is not header-only: httplib.h declares, libcpp-httplib.so defines, and the
# header's class layouts depend on the CPPHTTPLIB_*_SUPPORT defines the library was built with.
# The pkg-config target carries both, so everything that includes httplib.h must link it.
pkg_check_modules(CPPHTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)
# Boost.Asio (header-only, Debian libboost1.81-dev) for http::Server.
find_package(Boost 1.74 REQUIRED CONFIG COMPONENTS headers)
find_path(HTTPLIB_INCLUDE_DIR httplib.h REQUIRED)
find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp REQUIRED)
if(WALRUS_TESTS)
  find_package(GTest REQUIRED)
endif()
