// The one secret-file reader: what it trims, what it keeps, how it fails.

#include "core/secret_file.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

namespace walrus {
namespace {

// One file per test: CTest runs the tests of this binary in parallel processes.
std::string Write(const std::string& content) {
  const std::string path = ::testing::TempDir() + "/secret_file_test_" +
                           ::testing::UnitTest::GetInstance()->current_test_info()->name();
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string ErrorOf(const std::string& path, SecretFileOptions o = {}) {
  try {
    ReadSecretFile(path, "--x-file", o);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(SecretFile, TrailingLineEndsAreRemoved) {
  EXPECT_EQ(ReadSecretFile(Write("s3cret\n"), "--f"), "s3cret");
  EXPECT_EQ(ReadSecretFile(Write("s3cret\r\n\n"), "--f"), "s3cret");
  EXPECT_EQ(ReadSecretFile(Write("s3cret"), "--f"), "s3cret");
}

TEST(SecretFile, EverythingElseIsKept) {
  EXPECT_EQ(ReadSecretFile(Write(" pass word \n"), "--f"), " pass word ");
  EXPECT_EQ(ReadSecretFile(Write("a\nb\n"), "--f"), "a\nb");
  EXPECT_EQ(ReadSecretFile(Write("\tx\t"), "--f"), "\tx\t");
  EXPECT_EQ(ReadSecretFile(Write("\n"), "--f"), "");
}

TEST(SecretFile, TrimBlanksAlsoRemovesTrailingSpacesAndTabs) {
  const SecretFileOptions o{.trim_blanks = true};
  EXPECT_EQ(ReadSecretFile(Write("tok \t\r\n"), "--f", o), "tok");
  EXPECT_EQ(ReadSecretFile(Write(" tok"), "--f", o), " tok");
}

TEST(SecretFile, ErrorsNameTheFlagAndThePath) {
  const std::string path = Write("\n");
  EXPECT_EQ(ErrorOf(path, {.non_empty = true}), "--x-file: '" + path + "' is empty");
  EXPECT_EQ(ErrorOf(path), "");
  std::remove(path.c_str());
  EXPECT_EQ(ErrorOf(path), "--x-file: cannot read '" + path + "'");
}

}  // namespace
}  // namespace walrus
