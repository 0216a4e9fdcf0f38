#pragma once

// Helpers of the mirror component tests (not part of the library): a dc -> dr flow of topic "t"
// between two in-process mock clusters, and deadline polling (kafka/test_util.h).

#include "kafka/mock_cluster.h"
#include "kafka/test_util.h"
#include "mirror/mirror_config.h"

namespace walrus::mirror::testing {

using kafka::testing::WaitFor;

inline FlowConfig TestFlowConfig(const kafka::MockCluster& src, const kafka::MockCluster& dst,
                                 bool transactions) {
  FlowConfig c;
  c.source_alias = "dc";
  c.target_alias = "dr";
  c.source_bootstrap = src.bootstraps();
  c.target_bootstrap = dst.bootstraps();
  c.topics = {"t"};
  c.source_props = {{"bootstrap.servers", src.bootstraps()}};
  c.target_props = {{"bootstrap.servers", dst.bootstraps()}};
  c.transactions = transactions;
  return c;
}

}  // namespace walrus::mirror::testing
