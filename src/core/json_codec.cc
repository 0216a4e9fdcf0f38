// JsonDecoder: JSON op format v1 -> Write. The encoder half of json_codec.h is in
// json_encoder.cc.

#include "core/json_codec.h"

#include <simdjson.h>

#include "core/base64.h"
#include "core/command_table.h"
#include "core/keyspace.h"
#include "core/planner.h"
#include "core/strings.h"

namespace walrus {
namespace {

namespace dom = simdjson::dom;

// Field bits; also used to detect duplicates.
enum Field : uint32_t {
  kNone = 0,
  kCmd = 1 << 0,
  kKey = 1 << 1,
  kKeyB64 = 1 << 2,
  kArgs = 1 << 3,
  kArgsB64 = 1 << 4,
  kTtl = 1 << 5,
  kExpireAt = 1 << 6,
  kMulti = 1 << 7,
  kOrigin = 1 << 8,
  kHlc = 1 << 9,
};
constexpr uint32_t kOpFields = kCmd | kKey | kKeyB64 | kArgs | kArgsB64 | kTtl | kExpireAt;

Field FieldOf(std::string_view name) {
  // Dispatch on length first: this runs for every field of every record.
  switch (name.size()) {
    case 3:
      if (name == "cmd") return kCmd;
      if (name == "key") return kKey;
      if (name == "hlc") return kHlc;
      return kNone;
    case 4:
      return name == "args" ? kArgs : kNone;
    case 5:
      return name == "multi" ? kMulti : kNone;
    case 6:
      if (name == "ttl_ms") return kTtl;
      if (name == "origin") return kOrigin;
      return kNone;
    case 7:
      return name == "key_b64" ? kKeyB64 : kNone;
    case 8:
      return name == "args_b64" ? kArgsB64 : kNone;
    case 12:
      return name == "expire_at_ms" ? kExpireAt : kNone;
    default:
      return kNone;
  }
}

std::string_view FieldName(uint32_t f) {
  switch (f) {
    case kCmd:
      return "cmd";
    case kKey:
      return "key";
    case kKeyB64:
      return "key_b64";
    case kArgs:
      return "args";
    case kArgsB64:
      return "args_b64";
    case kTtl:
      return "ttl_ms";
    case kExpireAt:
      return "expire_at_ms";
    case kMulti:
      return "multi";
    case kOrigin:
      return "origin";
    case kHlc:
      return "hlc";
    default:
      return "?";
  }
}

std::string_view TypeName(dom::element_type t) {
  switch (t) {
    case dom::element_type::ARRAY:
      return "array";
    case dom::element_type::OBJECT:
      return "object";
    case dom::element_type::INT64:
    case dom::element_type::UINT64:
    case dom::element_type::DOUBLE:
      return "number";
    case dom::element_type::STRING:
      return "string";
    case dom::element_type::BOOL:
      return "boolean";
    case dom::element_type::NULL_VALUE:
      return "null";
  }
  return "?";
}

// The fields of one op object, as found; validated by BuildOp.
struct OpFields {
  uint32_t seen = 0;
  std::string_view cmd, key, key_b64;
  dom::array args, args_b64;
  dom::element ttl, expire_at;
};

// Decoding state for one record. `index` is the op's position in `multi`, -1 at the top level.
class RecordDecoder {
 public:
  explicit RecordDecoder(const DecoderLimits& limits) : limits_(limits) {}

  Error Fail(Errc code, int index, std::string_view msg) const {
    if (index < 0) return Error(code, std::string(msg));
    return Error(code, "multi[" + std::to_string(index) + "]: " + std::string(msg));
  }

  // Records one op field of an object; type errors are reported here.
  Status Store(Field f, dom::element v, int index, OpFields& out) const {
    const std::string_view name = FieldName(f);
    if (out.seen & f)
      return Fail(Errc::kDecode, index, "duplicate field '" + std::string(name) + "'");
    out.seen |= f;
    bool bad = false;
    switch (f) {
      case kCmd:
        bad = v.get_string().get(out.cmd) != simdjson::SUCCESS;
        break;
      case kKey:
        bad = v.get_string().get(out.key) != simdjson::SUCCESS;
        break;
      case kKeyB64:
        bad = v.get_string().get(out.key_b64) != simdjson::SUCCESS;
        break;
      case kArgs:
        bad = v.get_array().get(out.args) != simdjson::SUCCESS;
        break;
      case kArgsB64:
        bad = v.get_array().get(out.args_b64) != simdjson::SUCCESS;
        break;
      case kTtl:
        out.ttl = v;
        break;
      case kExpireAt:
        out.expire_at = v;
        break;
      default:
        break;
    }
    if (bad) {
      const bool array = f == kArgs || f == kArgsB64;
      return Fail(Errc::kDecode, index,
                  "'" + std::string(name) + "' must be " + (array ? "an array" : "a string") +
                      ", got " + std::string(TypeName(v.type())));
    }
    return Status::Ok();
  }

  Result<int64_t> Int(dom::element v, std::string_view name, int index) const {
    int64_t n = 0;
    if (v.type() != dom::element_type::INT64 || v.get_int64().get(n) != simdjson::SUCCESS) {
      return Fail(Errc::kDecode, index,
                  "'" + std::string(name) + "' must be an integer, got " +
                      (v.is_number() ? std::string("a non-int64 number")
                                     : std::string(TypeName(v.type()))));
    }
    if (n <= 0) return Fail(Errc::kRefused, index, std::string(name) + " must be > 0");
    return n;
  }

  Status DecodeArgs(const OpFields& f, int index, Op& op) const {
    const bool b64 = f.seen & kArgsB64;
    const dom::array& arr = b64 ? f.args_b64 : f.args;
    const std::string_view name = b64 ? "args_b64" : "args";
    const size_t n = arr.size();
    if (n > limits_.max_args) {
      return Fail(Errc::kRefused, index,
                  "too many args: " + std::to_string(n) + " (limit " +
                      std::to_string(limits_.max_args) + ")");
    }
    op.args.reserve(n);
    size_t i = 0;
    for (dom::element e : arr) {
      std::string_view s;
      if (e.get_string().get(s) != simdjson::SUCCESS) {
        std::string msg = std::string(name) + "[" + std::to_string(i) + "] must be a string, got " +
                          std::string(TypeName(e.type()));
        if (e.is_number()) msg += " (quote numbers, e.g. \"5\")";
        return Fail(Errc::kDecode, index, msg);
      }
      if (++i > limits_.max_args) {  // size() saturates on huge arrays
        return Fail(Errc::kRefused, index, "too many args");
      }
      if (!b64) {
        op.args.emplace_back(s);
        continue;
      }
      if (Status st = Base64DecodeTo(s, op.args.emplace_back()); !st) {
        return Fail(Errc::kDecode, index,
                    "args_b64[" + std::to_string(i - 1) + "]: " + st.error().message);
      }
    }
    return Status::Ok();
  }

  // Validates the collected fields and builds the op (canonical cmd, decoded key and args).
  Result<Op> BuildOp(const OpFields& f, int index) const {
    if (!(f.seen & kCmd)) return Fail(Errc::kDecode, index, "missing field 'cmd'");
    Result<const CommandSpec*> spec = ResolveCommand(f.cmd);
    if (!spec) return Fail(Errc::kRefused, index, spec.error().message);
    Op op;
    op.cmd = (*spec)->name;
    if ((f.seen & kKey) && (f.seen & kKeyB64)) {
      return Fail(Errc::kDecode, index, "'key' and 'key_b64' together");
    }
    if (f.seen & kKey) {
      op.key = f.key;
    } else if (f.seen & kKeyB64) {
      if (Status st = Base64DecodeTo(f.key_b64, op.key); !st) {
        return Fail(Errc::kDecode, index, "key_b64: " + st.error().message);
      }
    } else {
      return Fail(Errc::kDecode, index, "missing field 'key'");
    }
    if (op.key.empty()) return Fail(Errc::kRefused, index, "empty key");
    if ((f.seen & kArgs) && (f.seen & kArgsB64)) {
      return Fail(Errc::kDecode, index, "'args' and 'args_b64' together");
    }
    if (f.seen & (kArgs | kArgsB64)) {
      if (Status st = DecodeArgs(f, index, op); !st) return st.error();
    }
    // Every key position, once key_b64 / args_b64 are decoded: before the other checks, so a
    // write to walrus's own keys is always refused as such (CheckOp checks it again).
    if (Status st = CheckOpKeys(op); !st) return Fail(Errc::kRefused, index, st.error().message);
    if (f.seen & kTtl) {
      Result<int64_t> v = Int(f.ttl, "ttl_ms", index);
      if (!v) return v.error();
      op.ttl_ms = *v;
    }
    if (f.seen & kExpireAt) {
      Result<int64_t> v = Int(f.expire_at, "expire_at_ms", index);
      if (!v) return v.error();
      op.expire_at_ms = *v;
    }
    if (op.ttl_ms && op.expire_at_ms) {
      return Fail(Errc::kRefused, index, "ttl_ms and expire_at_ms together");
    }
    if (Status st = CheckOp(op); !st) return Fail(Errc::kRefused, index, st.error().message);
    return op;
  }

  Result<Write> DecodeMulti(dom::element v, Write& w) const {
    dom::array arr;
    if (v.get_array().get(arr) != simdjson::SUCCESS) {
      return Fail(Errc::kDecode, -1,
                  "'multi' must be an array, got " + std::string(TypeName(v.type())));
    }
    const size_t n = arr.size();
    if (n == 0) return Fail(Errc::kRefused, -1, "empty multi");
    if (n > limits_.max_multi_ops) {
      return Fail(Errc::kRefused, -1,
                  "multi has " + std::to_string(n) + " ops (limit " +
                      std::to_string(limits_.max_multi_ops) + ")");
    }
    w.multi = true;
    w.ops.reserve(n);
    int index = 0;
    for (dom::element e : arr) {
      if (static_cast<size_t>(index) >= limits_.max_multi_ops) {
        return Fail(Errc::kRefused, -1, "too many ops in multi");
      }
      dom::object obj;
      if (e.get_object().get(obj) != simdjson::SUCCESS) {
        return Fail(Errc::kDecode, index,
                    "op must be an object, got " + std::string(TypeName(e.type())));
      }
      OpFields f;
      for (dom::key_value_pair kv : obj) {
        const Field fld = FieldOf(kv.key);
        if (fld == kNone)
          return Fail(Errc::kDecode, index, "unknown field " + QuoteForMessage(kv.key, 32));
        if (fld == kMulti) return Fail(Errc::kRefused, index, "nested multi");
        if (fld == kOrigin || fld == kHlc) {
          return Fail(Errc::kDecode, index,
                      "field '" + std::string(FieldName(fld)) + "' only allowed at the top level");
        }
        if (Status st = Store(fld, kv.value, index, f); !st) return st.error();
      }
      Result<Op> op = BuildOp(f, index);
      if (!op) return op.error();
      w.ops.push_back(std::move(*op));
      ++index;
    }
    return std::move(w);
  }

  Result<Write> DecodeRecord(std::optional<std::string_view> record_key, dom::element root) const {
    dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS) {
      return Fail(Errc::kDecode, -1,
                  "value must be a JSON object, got " + std::string(TypeName(root.type())));
    }
    Write w;
    OpFields f;
    dom::element multi;
    for (dom::key_value_pair kv : obj) {
      const Field fld = FieldOf(kv.key);
      if (fld == kNone)
        return Fail(Errc::kDecode, -1, "unknown field " + QuoteForMessage(kv.key, 32));
      if (fld == kMulti || fld == kOrigin || fld == kHlc) {
        if (f.seen & fld)
          return Fail(Errc::kDecode, -1, "duplicate field '" + std::string(FieldName(fld)) + "'");
        f.seen |= fld;
        if (fld == kMulti) {
          multi = kv.value;
          continue;
        }
        std::string_view s;
        if (kv.value.get_string().get(s) != simdjson::SUCCESS) {
          return Fail(Errc::kDecode, -1,
                      "'" + std::string(FieldName(fld)) + "' must be a string, got " +
                          std::string(TypeName(kv.value.type())));
        }
        (fld == kOrigin ? w.origin : w.hlc) = s;
        continue;
      }
      if (Status st = Store(fld, kv.value, -1, f); !st) return st.error();
    }
    if (f.seen & kMulti) {
      if (const uint32_t op_fields = f.seen & kOpFields) {
        const uint32_t first = op_fields & (~op_fields + 1);  // lowest set bit
        return Fail(Errc::kDecode, -1,
                    "field '" + std::string(FieldName(first)) + "' not allowed beside 'multi'");
      }
      return DecodeMulti(multi, w);
    }
    Result<Op> op = BuildOp(f, -1);
    if (!op) return op.error();
    if (record_key && *record_key != op->key) {
      return Fail(
          Errc::kRefused, -1,
          "record key " + QuoteForMessage(*record_key) + " != op key " + QuoteForMessage(op->key));
    }
    w.ops.push_back(std::move(*op));
    return w;
  }

 private:
  const DecoderLimits& limits_;
};

}  // namespace

struct JsonDecoder::Impl {
  dom::parser parser;  // reused: keeps its buffers between records
};

JsonDecoder::JsonDecoder(DecoderLimits limits) : limits_(limits), impl_(std::make_unique<Impl>()) {}

JsonDecoder::~JsonDecoder() = default;

Result<Write> JsonDecoder::Decode(std::optional<std::string_view> record_key,
                                  std::optional<std::string_view> value) {
  if (!value) {
    // Tombstone: the record key is deleted.
    if (!record_key) return Error(Errc::kDecode, "tombstone (null value) without a record key");
    if (record_key->empty()) return Error(Errc::kRefused, "empty key");
    if (IsReservedKey(*record_key)) return Error(Errc::kRefused, ReservedKeyMessage(*record_key));
    Write w;
    Op& op = w.ops.emplace_back();
    op.cmd = "DEL";
    op.key = *record_key;
    return w;
  }
  if (value->size() > limits_.max_value_bytes) {
    return Error(Errc::kRefused, "value of " + std::to_string(value->size()) +
                                     " bytes exceeds the limit of " +
                                     std::to_string(limits_.max_value_bytes));
  }
  dom::element root;
  const simdjson::error_code err =
      impl_->parser.parse(value->data(), value->size(), /*realloc_if_needed=*/true).get(root);
  if (err != simdjson::SUCCESS) {
    return Error(Errc::kDecode, std::string("invalid JSON: ") + simdjson::error_message(err));
  }
  return RecordDecoder(limits_).DecodeRecord(record_key, root);
}

}  // namespace walrus
