/* clawvoice relay tests — small helpers: a temporary directory. */
#pragma once

#include <glib.h>

#include <string>

namespace clawvoice::test {

/* A fresh directory under the system temp dir, removed with its contents on destruction. */
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;

  const std::string &path() const { return path_; }
  /* Writes @content to @relative (parent directories created). */
  void write(const std::string &relative, const std::string &content) const;
  /* The content of @relative, "" if missing. */
  std::string read(const std::string &relative) const;
  bool exists(const std::string &relative) const;

 private:
  std::string path_;
};

}  // namespace clawvoice::test
