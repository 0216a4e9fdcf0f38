# The layering rule of cmake/WalrusTiers.cmake, and its enforcement by cmake/WalrusHelpers.cmake.
#   cmake -DWALRUS_SOURCE_DIR=<checkout> -DWORK_DIR=<scratch dir> [-DGENERATOR=Ninja]
#         [-DCXX_COMPILER=c++] -P tests/cmake/tier_rule_test.cmake
# Part 1 calls walrus_tier_refusal directly; part 2 configures tier_fixture/ (the real helpers)
# once with allowed dependencies only (must succeed) and once with every refused kind (must
# fail, naming both targets of each). Prints "N passed, 0 failed"; exits non-zero on a failure.
cmake_minimum_required(VERSION 3.25)
include(${WALRUS_SOURCE_DIR}/cmake/WalrusTiers.cmake)

set(passed 0)
set(failed 0)
# check(<variable holding TRUE or FALSE> <what it means>)
macro(check ok what)
  if(${ok})
    math(EXPR passed "${passed} + 1")
  else()
    math(EXPR failed "${failed} + 1")
    message(SEND_ERROR "FAILED: ${what}")
  endif()
endmacro()

# consumer tier, dep tier, dep declared PART_OF the consumer?, expected (allow | refuse)
set(cases
  "client client no allow" "client domain no refuse" "client service no refuse"
  "client test no refuse"
  "domain client no allow" "domain domain no allow" "domain service no refuse"
  "domain test no refuse"
  "service client no allow" "service domain no allow" "service service no refuse"
  "service service part allow" "service test no refuse"
  "program service no allow" "program domain no allow" "program test no refuse"
  "test service no allow" "test test no allow" "test client no allow"
  "client program no refuse")
foreach(c IN LISTS cases)
  string(REPLACE " " ";" c "${c}")
  list(GET c 0 ct)
  list(GET c 1 dt)
  list(GET c 2 part)
  list(GET c 3 expect)
  set(part_of "")
  if(part STREQUAL "part")
    set(part_of walrus_a)
  endif()
  walrus_tier_refusal(why walrus_a ${ct} mod_a walrus_b ${dt} mod_b "${part_of}")
  set(ok FALSE)
  if(expect STREQUAL "allow" AND NOT why)
    set(ok TRUE)
  elseif(expect STREQUAL "refuse" AND
         why MATCHES "^walrus_a \\(${ct}, src/mod_a\\) .* walrus_b \\(${dt}, src/mod_b\\): ")
    set(ok TRUE)
  endif()
  check(ok "${ct} -> ${dt} (${part}): expected ${expect}, got: '${why}'")
endforeach()

# Part 2: the helpers themselves, in a real configure.
if(NOT GENERATOR)
  set(GENERATOR Ninja)
endif()
set(compiler "")
if(CXX_COMPILER)
  set(compiler -DCMAKE_CXX_COMPILER=${CXX_COMPILER})
endif()
foreach(case ok wrong)
  file(REMOVE_RECURSE ${WORK_DIR}/${case})
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${WALRUS_SOURCE_DIR}/tests/cmake/tier_fixture -B ${WORK_DIR}/${case}
            -G ${GENERATOR} ${compiler} -DWALRUS_SOURCE_DIR=${WALRUS_SOURCE_DIR} -DCASE=${case}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  set(ok FALSE)
  if(case STREQUAL "ok")
    if(rc EQUAL 0)
      set(ok TRUE)
    endif()
    check(ok "the allowed dependencies should configure: ${err}")
    continue()
  endif()
  if(NOT rc EQUAL 0)
    set(ok TRUE)
  endif()
  check(ok "the refused dependencies should fail the configure")
  string(REPLACE "\n" " " err1 "${err}")
  string(REGEX REPLACE " +" " " err1 "${err1}")
  foreach(pattern
      "walrus_c2 \\(client, src/\\) must not depend on walrus_d1 \\(domain"
      "walrus_d1 \\(domain, src/\\) must not depend on walrus_s1 \\(service"
      "walrus_s3 \\(service, src/\\) must not depend on walrus_s2 \\(service"
      "walrus_s1 \\(service, src/\\) must not depend on walrus_s2_part \\(service"
      "walrus_s1 \\(service, src/\\) must not depend on walrus_t1 \\(test"
      "walrus_p1 \\(program, src/\\) must not depend on walrus_t1 \\(test"
      "walrus_d2 \\(domain, src/\\) depends on walrus_nothing, which is no target")
    set(found FALSE)
    if(err1 MATCHES "${pattern}")
      set(found TRUE)
    endif()
    check(found "the configure should refuse '${pattern}'; it said: ${err}")
  endforeach()
endforeach()

message("tiers: ${passed} passed, ${failed} failed")
if(failed GREATER 0)
  message(FATAL_ERROR "tier rule: ${failed} failed")
endif()
