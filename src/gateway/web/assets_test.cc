#include "gateway/web/assets.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace walrus::gateway::web {
namespace {

std::string ReadSourceFile(std::string_view name) {
  std::ifstream in(std::string(WALRUS_WEB_SOURCE_DIR) + "/" + std::string(name), std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << name << " in " << WALRUS_WEB_SOURCE_DIR;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(AssetsTest, ServesEveryPageFileWithItsContentType) {
  struct Case {
    const char* path;
    const char* type;
  };
  for (const Case& c : {Case{"/index.html", "text/html; charset=utf-8"},
                        Case{"/app.js", "text/javascript; charset=utf-8"},
                        Case{"/style.css", "text/css; charset=utf-8"},
                        Case{"/favicon.svg", "image/svg+xml"}}) {
    const Asset* a = FindAsset(c.path);
    ASSERT_NE(a, nullptr) << c.path;
    EXPECT_EQ(a->content_type, c.type) << c.path;
    EXPECT_FALSE(a->body.empty()) << c.path;
  }
}

TEST(AssetsTest, BodiesEqualTheFilesOnDisk) {
  ASSERT_GE(AssetCount(), 4u);
  for (std::size_t i = 0; i < AssetCount(); ++i) {
    std::string_view name = AssetPath(i);
    const Asset* a = FindAsset("/" + std::string(name));
    ASSERT_NE(a, nullptr) << name;
    EXPECT_EQ(a->body, ReadSourceFile(name)) << name << " differs from the source file";
  }
}

TEST(AssetsTest, RootAndQueryStringsServeTheIndex) {
  const Asset* index = FindAsset("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(FindAsset("/"), index);
  EXPECT_EQ(FindAsset("/?x=1"), index);
  EXPECT_EQ(FindAsset("/app.js?v=2"), FindAsset("/app.js"));
}

TEST(AssetsTest, UnknownPathsAreNotFound) {
  for (const char* p : {"/nope.html", "index.html", "/INDEX.HTML", "/../index.html",
                        "/index.html/", "//index.html", "/api/regions", "/README.md",
                        "/CMakeLists.txt", "/assets.cc"}) {
    EXPECT_EQ(FindAsset(p), nullptr) << p;
  }
}

TEST(AssetsTest, IndexReferencesOnlyEmbeddedFilesAndNoNetwork) {
  std::string_view html = FindAsset("/index.html")->body;
  for (const char* ref : {"app.js", "style.css", "favicon.svg"}) {
    EXPECT_NE(html.find(ref), std::string_view::npos) << "index.html does not load " << ref;
  }
  // Offline: no CDN, no external fonts or scripts.
  for (std::size_t i = 0; i < AssetCount(); ++i) {
    std::string_view body = FindAsset("/" + std::string(AssetPath(i)))->body;
    EXPECT_EQ(body.find("https://"), std::string_view::npos) << AssetPath(i);
    EXPECT_EQ(body.find("//cdn"), std::string_view::npos) << AssetPath(i);
  }
}

}  // namespace
}  // namespace walrus::gateway::web
