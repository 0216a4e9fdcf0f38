#pragma once

// Request validation and JSON helpers of the gateway's HTTP API (docs/gateway-api.md). Pure
// functions: what a body must look like and what error a client gets when it does not.
//
//   auto req = ParseProduceRequest(R"({"region":"us","cmd":"INCRBY","key":"k","args":["5"]})",
//                                  /*crdt=*/true);
//   if (!req) return Reply(400, ErrorJson(req.error().message));
//   // req->region == "us", req->write.ops[0].cmd == "INCRBY"
//
// Threading: any thread (decoders are per thread).

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/op.h"
#include "core/result.h"

namespace walrus::gateway {

struct ProduceRequest {
  std::string region;
  Write write;  // origin/hlc empty: the region's producer stamps them
};

// The body of POST /api/produce: one op in the op format (docs/op-format.md) plus "region".
// kInvalidArgument naming the problem: not JSON, not an object, region missing or not a string,
// origin/hlc given, or the op invalid (the decoder's message: unknown field, bad command, arity,
// ...). With `crdt`, also ops active-active mode would refuse (lists, NX/XX, *FLOAT, ...).
// Does not check that the region exists.
Result<ProduceRequest> ParseProduceRequest(std::string_view body, bool crdt);

// Refuses (kInvalidArgument, naming the command) a write `walrus apply --mode crdt` would
// dead-letter for its command or options.
Status CheckCrdtMergeable(const Write& w, std::string_view region);

// The body of POST /api/sim/start|rate: {"rate": N}. Empty body or no rate: nullopt when
// `required` is false. kInvalidArgument for bad JSON, a non-integer or out-of-range rate.
Result<std::optional<int>> ParseRateBody(std::string_view body, bool required);

// Compact JSON; invalid UTF-8 in strings is replaced (U+FFFD) instead of throwing.
std::string DumpJson(const nlohmann::json& j);
// {"error": message}
std::string ErrorJson(std::string_view message);

}  // namespace walrus::gateway
