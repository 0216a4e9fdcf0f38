# walrus_library(NAME SOURCES ... DEPS ...)
#   A static library under src/<module>/ with our warnings; includes are rooted at src/.
# walrus_test(NAME SOURCES ... DEPS ... [LABELS ...])
#   A GoogleTest binary registered with gtest_discover_tests and the given CTest labels
#   (unit, component, e2e, fault).
# WALRUS_QUICK_BUILD=ON (scripts/test.sh): -g0 everywhere and -O1 for test binaries.

set(WALRUS_WARNINGS -Wall -Wextra -Werror -Wno-missing-field-initializers)

function(walrus_apply_flags target)
  target_compile_options(${target} PRIVATE ${WALRUS_WARNINGS})
  target_include_directories(${target} PUBLIC ${CMAKE_SOURCE_DIR}/src)
  if(WALRUS_QUICK_BUILD)
    target_compile_options(${target} PRIVATE -g0)  # after the build type's -g, so it wins
  endif()
  if(WALRUS_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()

function(walrus_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  walrus_apply_flags(${name})
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
endfunction()

function(walrus_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT WALRUS_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  walrus_apply_flags(${name})
  if(WALRUS_QUICK_BUILD)
    target_compile_options(${name} PRIVATE -O1)  # test code needs no -O2; the code under test keeps it
  endif()
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${ARG_LABELS}" DISCOVERY_TIMEOUT 60)
endfunction()

# walrus_fuzzer(NAME SOURCES ... DEPS ...): a libFuzzer target, only with WALRUS_FUZZ=ON and clang.
function(walrus_fuzzer name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  if(NOT WALRUS_FUZZ)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  walrus_apply_flags(${name})
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()
