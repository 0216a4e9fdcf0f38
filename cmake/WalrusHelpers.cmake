# walrus_library(NAME TIER client|domain|service|test [PART_OF SERVICE] SOURCES ... DEPS ...
#                [INCLUDES ...])
#   A static library under src/<module>/ with our warnings; includes are rooted at src/.
#   PART_OF (service tier only): a piece of that service, which alone may link it.
# walrus_executable(NAME TIER program|test SOURCES ... DEPS ... [INCLUDES ...] [DEFINITIONS ...])
#   An executable: `program` for the shipped binaries (they may link services), `test` for
#   benches and probes (they may link the testing support library).
# walrus_test(NAME SOURCES ... DEPS ... [LABELS ...] [INCLUDES ...] [DEFINITIONS ...]
#             [DEPENDS ...])
#   A GoogleTest binary (tier test) registered with gtest_discover_tests and the given CTest
#   labels (unit, component, e2e, fault); DEPENDS: targets built before it (not linked).
# walrus_fuzzer(NAME SOURCES ... DEPS ...): a libFuzzer target (tier test).
# WALRUS_QUICK_BUILD=ON (scripts/test.sh): -g0 everywhere and -O1 for test binaries.
#
# Every DEPS entry is either a third-party imported target (a name with "::") or a walrus target
# declared with one of these helpers. At the end of the configure, every walrus target's direct
# link libraries are checked against the tier rule of WalrusTiers.cmake; a violation, an unknown
# walrus target or a target declared without a tier fails the configure naming both targets.

include_guard(GLOBAL)
include(${CMAKE_CURRENT_LIST_DIR}/WalrusTiers.cmake)

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

# Records `target`'s tier and module (src/<module>/...) for walrus_check_tiers.
function(walrus_register_tier target tier)
  file(RELATIVE_PATH rel ${CMAKE_SOURCE_DIR} ${CMAKE_CURRENT_SOURCE_DIR})
  string(REGEX REPLACE "^src/" "" rel "${rel}")
  string(REGEX REPLACE "/.*" "" module "${rel}")
  set_target_properties(${target} PROPERTIES WALRUS_TIER ${tier} WALRUS_MODULE "${module}")
  set_property(GLOBAL APPEND PROPERTY WALRUS_TIERED_TARGETS ${target})
endfunction()

function(walrus_library name)
  cmake_parse_arguments(ARG "" "TIER;PART_OF" "SOURCES;DEPS;INCLUDES" ${ARGN})
  walrus_tier_require(${name} "${ARG_TIER}" client domain service test)
  if(ARG_PART_OF AND NOT ARG_TIER STREQUAL "service")
    message(FATAL_ERROR "walrus tiers: ${name}: PART_OF is for service libraries only")
  endif()
  add_library(${name} STATIC ${ARG_SOURCES})
  walrus_apply_flags(${name})
  walrus_register_tier(${name} ${ARG_TIER})
  set_target_properties(${name} PROPERTIES WALRUS_PART_OF "${ARG_PART_OF}")
  target_link_libraries(${name} PUBLIC ${ARG_DEPS})
  target_include_directories(${name} PUBLIC ${ARG_INCLUDES})
endfunction()

function(walrus_executable name)
  cmake_parse_arguments(ARG "" "TIER" "SOURCES;DEPS;INCLUDES;DEFINITIONS" ${ARGN})
  walrus_tier_require(${name} "${ARG_TIER}" program test)
  add_executable(${name} ${ARG_SOURCES})
  walrus_apply_flags(${name})
  walrus_register_tier(${name} ${ARG_TIER})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  target_include_directories(${name} PRIVATE ${ARG_INCLUDES})
  target_compile_definitions(${name} PRIVATE ${ARG_DEFINITIONS})
endfunction()

function(walrus_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS;INCLUDES;DEFINITIONS;DEPENDS" ${ARGN})
  if(NOT WALRUS_TESTS)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  walrus_apply_flags(${name})
  walrus_register_tier(${name} test)
  target_include_directories(${name} PRIVATE ${ARG_INCLUDES})
  target_compile_definitions(${name} PRIVATE ${ARG_DEFINITIONS})
  if(ARG_DEPENDS)
    add_dependencies(${name} ${ARG_DEPENDS})
  endif()
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
  walrus_register_tier(${name} test)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
endfunction()

# Checks every tiered target's direct link libraries (LINK_LIBRARIES: DEPS and any other
# target_link_libraries call) once the whole tree is configured; one FATAL_ERROR lists every
# violation. Third-party targets ("::" in the name) are not ours to check.
function(walrus_check_tiers)
  get_property(targets GLOBAL PROPERTY WALRUS_TIERED_TARGETS)
  set(errors "")
  foreach(t IN LISTS targets)
    get_target_property(tier ${t} WALRUS_TIER)
    get_target_property(module ${t} WALRUS_MODULE)
    get_target_property(links ${t} LINK_LIBRARIES)
    if(NOT links)
      continue()
    endif()
    foreach(dep IN LISTS links)
      if(dep MATCHES "::" OR dep MATCHES "^\\$<")
        continue()
      endif()
      if(NOT TARGET ${dep})
        list(APPEND errors "${t} (${tier}, src/${module}) depends on ${dep}, which is no target (a typo, or a module missing from the top-level list)")
        continue()
      endif()
      get_target_property(dep_tier ${dep} WALRUS_TIER)
      get_target_property(dep_module ${dep} WALRUS_MODULE)
      get_target_property(dep_part_of ${dep} WALRUS_PART_OF)
      if(NOT dep_part_of)
        set(dep_part_of "")
      endif()
      if(NOT dep_tier)
        list(APPEND errors "${t} (${tier}, src/${module}) depends on ${dep}, which was declared without a tier (use walrus_library)")
        continue()
      endif()
      walrus_tier_refusal(why ${t} ${tier} "${module}" ${dep} ${dep_tier} "${dep_module}"
                          "${dep_part_of}")
      if(why)
        list(APPEND errors "${why}")
      endif()
    endforeach()
  endforeach()
  if(errors)
    list(JOIN errors "\n  " text)
    message(FATAL_ERROR "walrus tiers: layering rule broken (README.md, \"Layers\"):\n  ${text}")
  endif()
endfunction()
cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL walrus_check_tiers)
