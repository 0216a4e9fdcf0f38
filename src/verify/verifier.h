#pragma once

// Verifier: compares two or more Redis datasets key by key — what `walrus verify` runs.
//
//   verify::VerifyOptions o{.urls = {"redis://127.0.0.1:6390", "redis://127.0.0.1:6391"}};
//   auto report = verify::Verify(o);
//   if (!report) ...                                   // connection/usage error (exit 2)
//   if (report->differing > 0) ...                     // divergent (exit 1)
//
// Keys: the union over all instances of every user key (SCAN), plus the active-active sidecars
// (walrus:m:*, walrus:c:*) unless disabled; other walrus:* keys (applier positions, which
// legitimately differ between regions) are skipped. Per key and instance, read by the dataset
// reader (src/dataset/reader.h) in pipelined chunks: TYPE and PEXPIRETIME, then the value, whose
// digest is the canonical one (src/dataset/digest.h, docs/dataset-digest.md: sorted
// fields/members for hashes and sets, rank order for zsets, lists and streams, raw bytes for
// strings, DUMP for other types; a sidecar's GC floor field `g` left out). Absolute expiries
// must agree within `ttl_tolerance_ms`.
//
// Threading: a call runs on the caller's thread and owns its connections.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"

namespace walrus::verify {

struct VerifyOptions {
  std::vector<std::string> urls;  // two or more redis:// URLs
  int64_t ttl_tolerance_ms = 1000;
  bool sidecars = true;   // compare walrus:m:* metadata too
  size_t max_diffs = 20;  // differences kept in the report
  size_t chunk = 500;     // keys per pipelined round trip
  // Called after each chunk with (keys compared, keys total); empty: silent.
  std::function<void(size_t, size_t)> progress;
};

struct VerifyReport {
  size_t keys = 0;      // keys compared (user keys + sidecars)
  size_t sidecars = 0;  // of which sidecars
  size_t differing = 0;
  std::vector<std::string> diffs;  // the first max_diffs, human readable
};

Result<VerifyReport> Verify(const VerifyOptions& opts);

}  // namespace walrus::verify
