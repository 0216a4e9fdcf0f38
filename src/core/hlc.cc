#include "core/hlc.h"

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace walrus {
namespace {

bool ParseHex(std::string_view s, uint64_t& out) {
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else {
      return false;
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  out = v;
  return true;
}

}  // namespace

std::string EncodeHlc(const Hlc& h) {
  return fmt::format("{:012x}-{:04x}", static_cast<uint64_t>(h.physical_ms), h.logical);
}

Result<Hlc> ParseHlc(std::string_view text) {
  uint64_t p = 0;
  uint64_t l = 0;
  if (text.size() != kHlcTextSize || text[12] != '-' || !ParseHex(text.substr(0, 12), p) ||
      !ParseHex(text.substr(13), l)) {
    return Error(Errc::kInvalidArgument,
                 fmt::format("hlc must look like 018bcfe56800-0003 (12 hex digits of ms, '-', 4 "
                             "hex digits), got '{}'",
                             text.substr(0, 40)));
  }
  return Hlc{static_cast<int64_t>(p), static_cast<uint32_t>(l)};
}

bool ValidOrigin(std::string_view origin) {
  if (origin.empty() || origin.size() > 32) return false;
  for (char c : origin) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string EncodeStamp(const Hlc& h, std::string_view origin) {
  std::string s = EncodeHlc(h);
  s += '-';
  s += origin;
  return s;
}

HybridClock::HybridClock(HybridClockOptions opts) : opts_(std::move(opts)) {}

int64_t HybridClock::Now() const {
  if (opts_.now_ms) return opts_.now_ms();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status HybridClock::Init() {
  if (!ValidOrigin(opts_.origin)) {
    return Error(Errc::kInvalidArgument,
                 "origin must be 1-32 characters of [A-Za-z0-9_.-], got '" + opts_.origin + "'");
  }
  std::lock_guard lock(mu_);
  if (opts_.floor_file.empty()) return {};
  std::ifstream in(opts_.floor_file);
  if (!in) return {};  // first start
  int64_t f = -1;
  in >> f;
  if (!in || f < 0 || f > kHlcMaxPhysical) {
    return Error(Errc::kInvalidArgument,
                 "hlc floor file '" + opts_.floor_file + "' does not hold a millisecond count");
  }
  floor_ = f;
  // Everything issued before the restart had physical <= f: start strictly above it.
  if (Hlc{f + 1, 0} > last_) last_ = Hlc{f + 1, 0};
  return {};
}

Status HybridClock::PersistFloorLocked(int64_t physical_ms) {
  if (opts_.floor_file.empty() || physical_ms < floor_) return {};
  const int64_t f = physical_ms + opts_.floor_step_ms;
  const std::string tmp = opts_.floor_file + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << f << "\n";
    out.flush();
    if (!out) return Error(Errc::kIo, "cannot write hlc floor file '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), opts_.floor_file.c_str()) != 0) {
    return Error(Errc::kIo, "cannot rename hlc floor file to '" + opts_.floor_file + "'");
  }
  floor_ = f;
  return {};
}

Result<Hlc> HybridClock::TickHlc() {
  std::lock_guard lock(mu_);
  const int64_t now = Now();
  Hlc next;
  if (now > last_.physical_ms) {
    next = Hlc{now, 0};
  } else if (last_.logical < kHlcMaxLogical) {
    next = Hlc{last_.physical_ms, last_.logical + 1};
  } else {
    next = Hlc{last_.physical_ms + 1, 0};  // logical overflow: borrow a millisecond
  }
  if (next.physical_ms > kHlcMaxPhysical) return Error(Errc::kInternal, "hlc out of range");
  if (auto st = PersistFloorLocked(next.physical_ms); !st) return st.error();
  last_ = next;
  return next;
}

Result<std::string> HybridClock::Tick() {
  auto h = TickHlc();
  if (!h) return h.error();
  return EncodeHlc(*h);
}

Status HybridClock::Observe(std::string_view hlc_text) {
  auto h = ParseHlc(hlc_text);
  if (!h) return h.error();
  return ObserveHlc(*h);
}

Status HybridClock::ObserveHlc(const Hlc& remote) {
  std::lock_guard lock(mu_);
  const int64_t now = Now();
  if (remote.physical_ms > now + opts_.max_drift_ms) {
    return Error(Errc::kRefused,
                 fmt::format("hlc {} is {} ms ahead of the local clock (drift limit {} ms)",
                             EncodeHlc(remote), remote.physical_ms - now, opts_.max_drift_ms));
  }
  if (remote > last_) last_ = remote;
  return {};
}

Hlc HybridClock::Last() const {
  std::lock_guard lock(mu_);
  return last_;
}

}  // namespace walrus
