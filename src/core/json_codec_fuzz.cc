// libFuzzer target for the JSON v1 op codec and the planner.
//
// Each input is decoded as a record value (null key), then split into key + value (first byte =
// key length) and decoded again, and as a tombstone. For every successful decode it checks:
//   - the Write is well-formed (1 op unless multi, canonical allowed cmd, non-empty key);
//   - EncodeJson -> Decode round-trips to an equal Write (whole write and each op alone);
//   - PlanOp succeeds for any usable record timestamp and emits [CMD, key, ...] commands.
// Violations abort. Run: build-fuzz/src/core/json_codec_fuzz src/core/fuzz_corpus/json

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "core/command_table.h"
#include "core/json_codec.h"
#include "core/planner.h"

namespace {

using walrus::Errc;

[[noreturn]] void Die(const char* what, std::string_view detail) {
  std::fprintf(stderr, "json_codec_fuzz: %s: %.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

void CheckPlans(const walrus::Op& op) {
  for (int64_t ts : {int64_t{0}, int64_t{1700000000000}, walrus::kMaxRecordTsMs}) {
    std::vector<walrus::Argv> out;
    walrus::Status st = walrus::PlanOp(op, ts, out);
    if (!st) Die("PlanOp failed on a decoded op", st.error().message);
    if (out.empty()) Die("PlanOp emitted nothing", op.cmd);
    for (const walrus::Argv& argv : out) {
      if (argv.size() < 2 || argv[1] != op.key) Die("planned command lacks the op key", op.cmd);
      if (!walrus::FindCommand(argv[0])) Die("planned command not allowed", argv[0]);
    }
  }
}

void CheckDecode(walrus::JsonDecoder& dec, std::optional<std::string_view> key,
                 std::optional<std::string_view> value) {
  walrus::Result<walrus::Write> w = dec.Decode(key, value);
  if (!w) {
    const walrus::Error& e = w.error();
    if (!e.Is(Errc::kDecode) && !e.Is(Errc::kRefused)) Die("unexpected error code", e.message);
    if (e.message.empty()) Die("empty error message", "");
    return;
  }
  if (w->ops.empty() || (!w->multi && w->ops.size() != 1)) Die("bad op count", "");
  for (const walrus::Op& op : w->ops) {
    const walrus::CommandSpec* spec = walrus::FindCommand(op.cmd);
    if (!spec || spec->name != op.cmd) Die("non-canonical cmd", op.cmd);
    if (op.key.empty()) Die("empty key decoded", "");
    CheckPlans(op);
    // Each op alone round-trips too.
    const std::string one = walrus::EncodeJson(op);
    walrus::Result<walrus::Write> back = dec.Decode(std::nullopt, one);
    if (!back) Die("op re-decode failed", back.error().message + " for " + one);
    if (back->ops.size() != 1 || back->ops[0] != op || back->multi) Die("op round-trip differs", one);
  }
  const std::string json = walrus::EncodeJson(*w);
  const std::optional<std::string_view> rekey =
      w->multi ? std::nullopt : std::optional<std::string_view>(w->ops[0].key);
  walrus::Result<walrus::Write> back = dec.Decode(rekey, json);
  if (!back) Die("re-decode failed", back.error().message + " for " + json);
  if (!(*back == *w)) Die("round-trip differs", json);
  if (walrus::EncodeJson(*back) != json) Die("encoding not canonical", json);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static walrus::JsonDecoder* dec = new walrus::JsonDecoder(walrus::DecoderLimits{
      .max_value_bytes = 1 << 16, .max_multi_ops = 64, .max_args = 1024});
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  CheckDecode(*dec, std::nullopt, in);
  if (size > 0) {
    const size_t key_len = data[0] % size;
    const std::string_view key = in.substr(1, key_len);
    const std::string_view value = in.substr(1 + key_len > size ? size : 1 + key_len);
    CheckDecode(*dec, key, value);
    if (data[0] & 1) CheckDecode(*dec, key, std::nullopt);
  }
  return 0;
}
