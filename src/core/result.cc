#include "core/result.h"

namespace walrus {
namespace {

class WalrusErrorCategory final : public std::error_category {
 public:
  const char* name() const noexcept override { return "walrus"; }
  std::string message(int ev) const override {
    switch (static_cast<Errc>(ev)) {
      case Errc::kOk: return "ok";
      case Errc::kInvalidArgument: return "invalid argument";
      case Errc::kDecode: return "decode error";
      case Errc::kRefused: return "refused";
      case Errc::kIo: return "i/o error";
      case Errc::kTimeout: return "timeout";
      case Errc::kUnavailable: return "unavailable";
      case Errc::kRejected: return "rejected";
      case Errc::kConflict: return "conflict";
      case Errc::kNotFound: return "not found";
      case Errc::kInternal: return "internal error";
      case Errc::kAuth: return "authentication failed";
    }
    return "unknown";
  }
};

}  // namespace

const std::error_category& WalrusCategory() {
  static const WalrusErrorCategory kCategory;
  return kCategory;
}

}  // namespace walrus
