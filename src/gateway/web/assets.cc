#include "gateway/web/assets.h"

#include <array>
#include <vector>

#include "gateway/web/assets_data.h"

namespace walrus::gateway::web {
namespace {

std::string_view ContentTypeFor(std::string_view path) {
  struct Entry {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr std::array<Entry, 6> kTypes{{
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".svg", "image/svg+xml"},
      {".json", "application/json"},
      {".png", "image/png"},
  }};
  for (const auto& e : kTypes) {
    if (path.size() > e.ext.size() && path.ends_with(e.ext)) return e.type;
  }
  return "application/octet-stream";
}

// Built once on first use from the generated table; never modified afterwards.
const std::vector<Asset>& Assets() {
  static const std::vector<Asset> assets = [] {
    std::vector<Asset> v;
    v.reserve(kEmbeddedFileCount);
    for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
      v.push_back({ContentTypeFor(kEmbeddedFiles[i].path), kEmbeddedFiles[i].bytes});
    }
    return v;
  }();
  return assets;
}

}  // namespace

const Asset* FindAsset(std::string_view path) {
  if (auto q = path.find_first_of("?#"); q != std::string_view::npos) path = path.substr(0, q);
  if (path == "/" || path.empty()) path = "/index.html";
  const auto& assets = Assets();
  for (std::size_t i = 0; i < kEmbeddedFileCount; ++i) {
    if (kEmbeddedFiles[i].path == path) return &assets[i];
  }
  return nullptr;
}

std::size_t AssetCount() { return kEmbeddedFileCount; }

std::string_view AssetPath(std::size_t i) {
  return i < kEmbeddedFileCount ? kEmbeddedFiles[i].path.substr(1) : std::string_view{};
}

}  // namespace walrus::gateway::web
