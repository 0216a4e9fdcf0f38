#pragma once

// Result<T>: a value or an error (std::error_code plus a human-readable message).
// Used on every I/O and decode path; exceptions are reserved for start-up and config parsing.
//
//   Result<int> ParsePort(std::string_view s) {
//     if (s.empty()) return Error(Errc::kInvalidArgument, "empty port");
//     return 6379;
//   }
//   auto port = ParsePort("x");
//   if (!port) spdlog::error("{}", port.error().message);

#include <cassert>
#include <string>
#include <system_error>
#include <utility>
#include <variant>

namespace walrus {

// Error categories of walrus itself. I/O libraries map their codes onto these.
enum class Errc {
  kOk = 0,
  kInvalidArgument = 1,  // caller passed something malformed (bad flag, bad op)
  kDecode = 2,           // a record could not be decoded
  kRefused = 3,          // a well-formed op that policy refuses (command not allowed, ...)
  kIo = 4,               // network / socket failure; retryable
  kTimeout = 5,          // operation timed out; retryable
  kUnavailable = 6,      // server busy, loading, read-only, OOM, ...: retryable with backoff
  kRejected = 7,         // the server rejected the command for good (WRONGTYPE, syntax)
  kConflict = 8,         // optimistic concurrency lost (WATCH aborted, position moved)
  kNotFound = 9,
  kInternal = 10,
  kAuth = 11,            // authentication / authorization failure; not retryable
};

const std::error_category& WalrusCategory();
inline std::error_code make_error_code(Errc e) { return {static_cast<int>(e), WalrusCategory()}; }

struct Error {
  std::error_code code;
  std::string message;

  Error() = default;
  Error(std::error_code c, std::string m) : code(c), message(std::move(m)) {}
  Error(Errc e, std::string m) : code(make_error_code(e)), message(std::move(m)) {}

  bool Is(Errc e) const { return code == make_error_code(e); }
  // Transient errors are retried with backoff; the others are final for the item at hand.
  bool Retryable() const {
    return Is(Errc::kIo) || Is(Errc::kTimeout) || Is(Errc::kUnavailable) || Is(Errc::kConflict);
  }
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Error err) : v_(std::move(err)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { assert(ok()); return std::get<0>(v_); }
  const T& value() const& { assert(ok()); return std::get<0>(v_); }
  T&& value() && { assert(ok()); return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { assert(!ok()); return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

// Result<void> equivalent.
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error err) : err_(std::move(err)), ok_(false) {}  // NOLINT(google-explicit-constructor)
  static Status Ok() { return {}; }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { assert(!ok_); return err_; }

 private:
  Error err_;
  bool ok_ = true;
};

}  // namespace walrus

template <>
struct std::is_error_code_enum<walrus::Errc> : std::true_type {};
