# The layering rule of walrus targets, as a pure function (no targets are made here, so
# tests/cmake/tier_rule_test.cmake runs it with `cmake -P`). WalrusHelpers.cmake applies it to
# every target declared with walrus_library / walrus_executable / walrus_test / walrus_fuzzer.
#
# Tiers, bottom to top (the README's "Layers" map):
#   client   libraries over one outside thing each (core, metrics, http, kafka, redis, protocol):
#            may depend on other client libraries and third-party packages only.
#   domain   libraries of walrus's own concepts shared by services (replication, crdt, client,
#            dataset): may depend on client and other domain libraries.
#   service  one `walrus <command>` each (apply, mirror, ...): may depend on client and domain
#            libraries, never on another service; a library declared PART_OF a service (the
#            gateway's dashboard assets, walrus_gateway_web) is that service's own.
#   program  executables shipped or run by hand (the `walrus` binary, walrus_devkafka_main):
#            may link services and everything below them.
#   test     test binaries, fuzzers, benches and the testing support library (src/testing):
#            may depend on anything; only tests may depend on them.
#
#   walrus_tier_refusal(why walrus_kafka client kafka walrus_replication domain replication "")
#   # why: "walrus_kafka (client, src/kafka) must not depend on walrus_replication (domain, ...): ..."

include_guard(GLOBAL)

set(WALRUS_TIERS client domain service program test)

# Sets `out` to the reason `consumer` (of tier/module) may not depend on `dep` (of tier/module,
# declared PART_OF `dep_part_of`, usually ""), or to "" when it may.
function(walrus_tier_refusal out consumer consumer_tier consumer_module dep dep_tier dep_module
         dep_part_of)
  set(why "")
  if(dep_tier STREQUAL "test")
    if(NOT consumer_tier STREQUAL "test")
      set(why "the testing support library and test targets are for tests only")
    endif()
  elseif(dep_tier STREQUAL "program")
    set(why "an executable is not a library")
  elseif(consumer_tier STREQUAL "client")
    if(NOT dep_tier STREQUAL "client")
      set(why "a client library depends only on other client libraries and third-party packages")
    endif()
  elseif(consumer_tier STREQUAL "domain")
    if(dep_tier STREQUAL "service")
      set(why "a library never depends on a service")
    endif()
  elseif(consumer_tier STREQUAL "service")
    if(dep_tier STREQUAL "service" AND NOT dep_part_of STREQUAL consumer)
      set(why "services depend on libraries, never on each other")
    endif()
  endif()
  if(why)
    set(${out} "${consumer} (${consumer_tier}, src/${consumer_module}) must not depend on ${dep} (${dep_tier}, src/${dep_module}): ${why}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

# FATAL_ERROR unless `tier` is one of WALRUS_TIERS (and, with `allowed`, one of those).
function(walrus_tier_require target tier)
  set(allowed ${ARGN})
  if(NOT allowed)
    set(allowed ${WALRUS_TIERS})
  endif()
  if(NOT tier IN_LIST allowed)
    string(REPLACE ";" "|" choices "${allowed}")
    message(FATAL_ERROR "walrus tiers: ${target} needs TIER ${choices} (got '${tier}')")
  endif()
endfunction()
