#pragma once

// Test helpers for the crdt component tests: a "region" = one real redis-server plus a
// connection, fed records through CrdtPlanner::Plan exactly as the applier does (SCRIPT LOAD,
// then the planned commands inside MULTI/EXEC). Tests only; one thread.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/hlc.h"
#include "crdt/crdt_planner.h"
#include "redis/connection.h"
#include "testing/redis_server.h"

namespace walrus::crdt::test {

inline Write MakeWrite(std::string origin, Hlc h, std::vector<Op> ops) {
  Write w;
  w.multi = ops.size() > 1;
  w.ops = std::move(ops);
  w.origin = std::move(origin);
  w.hlc = EncodeHlc(h);
  return w;
}

class Region {
 public:
  static std::unique_ptr<Region> Start() {
    auto r = std::make_unique<Region>();
    auto srv = walrus::test::RedisServer::Start();
    if (!srv) {
      ADD_FAILURE() << srv.error().message;
      return nullptr;
    }
    r->server = std::move(*srv);
    auto c = r->server->Connect();
    if (!c) {
      ADD_FAILURE() << c.error().message;
      return nullptr;
    }
    r->conn = std::move(*c);
    return r;
  }

  // Applies a batch of records in one MULTI/EXEC, like the applier. Returns the error replies
  // of the EXEC (one string per failed command) or a transport error.
  std::vector<std::string> Apply(const std::vector<Write>& batch) {
    std::vector<Argv> cmds;
    for (const auto& w : batch) {
      auto st = planner.Plan(w, 0, cmds);
      EXPECT_TRUE(st) << st.error().message;
    }
    return Run(cmds);
  }
  std::vector<std::string> Apply(const Write& w) { return Apply(std::vector<Write>{w}); }

  std::vector<std::string> Run(const std::vector<Argv>& cmds) {
    conn->Append({"MULTI"});
    for (const auto& s : planner.Scripts()) conn->Append({"SCRIPT", "LOAD", s});
    for (const auto& c : cmds) conn->Append(c);
    conn->Append({"EXEC"});
    auto replies = conn->ReadReplies(conn->pending());
    std::vector<std::string> errors;
    if (!replies) {
      ADD_FAILURE() << replies.error().message;
      return {"transport: " + replies.error().message};
    }
    const auto& exec = replies->back();
    if (exec.IsError()) return {std::string(exec.str())};
    for (size_t i = 0; i < exec.size(); ++i) {
      if (exec.element(i).IsError()) errors.emplace_back(exec.element(i).str());
    }
    return errors;
  }

  // One command, rendered as text for comparisons.
  std::string Cmd(std::initializer_list<std::string_view> argv) {
    auto r = conn->Command(argv);
    if (!r) return "transport: " + r.error().message;
    return r->DebugString();
  }

  // Merge tests use synthetic stamps (some in the future): no clock-skew check here
  // (crdt_planner_test covers it).
  CrdtPlanner planner{{.max_clock_skew_ms = 0}};
  std::unique_ptr<walrus::test::RedisServer> server;
  std::unique_ptr<redis::Connection> conn;
};

}  // namespace walrus::crdt::test
