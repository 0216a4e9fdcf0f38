#pragma once

// The dashboard's static files (index.html, app.js, style.css, favicon.svg), embedded into the
// binary at build time from src/gateway/web/ (see CMakeLists.txt there). No file system access at
// run time; the page works offline.
//
//   if (const auto* a = walrus::gateway::web::FindAsset(req.path)) {
//     res.set_content(std::string(a->body), std::string(a->content_type).c_str());
//   }
//
// Threading: immutable static data; safe from any thread.

#include <string_view>

namespace walrus::gateway::web {

struct Asset {
  std::string_view content_type;  // e.g. "text/html; charset=utf-8"
  std::string_view body;          // the file's bytes, valid for the program's lifetime
};

// The asset served at `path` ("/index.html", "/app.js", "/style.css", "/favicon.svg"; "/" is
// index.html). A query string ("?v=1") is ignored. nullptr for anything else.
const Asset* FindAsset(std::string_view path);

// Every embedded path (without "/"), for listings and tests.
std::size_t AssetCount();
std::string_view AssetPath(std::size_t i);

}  // namespace walrus::gateway::web
