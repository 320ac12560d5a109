#include "relay_test_support.h"

#include <glib/gstdio.h>
#include <gtest/gtest.h>

namespace clawvoice::test {

namespace {

void remove_tree(const std::string &path)
{
  if (g_file_test(path.c_str(), G_FILE_TEST_IS_DIR) && !g_file_test(path.c_str(), G_FILE_TEST_IS_SYMLINK)) {
    if (GDir *dir = g_dir_open(path.c_str(), 0, nullptr)) {
      while (const gchar *name = g_dir_read_name(dir))
        remove_tree(path + "/" + name);
      g_dir_close(dir);
    }
    g_rmdir(path.c_str());
  } else {
    g_unlink(path.c_str());
  }
}

}  // namespace

TempDir::TempDir()
{
  GError *error = nullptr;
  gchar *dir = g_dir_make_tmp("clawvoice-relay-XXXXXX", &error);
  if (!dir) {
    ADD_FAILURE() << "cannot create a temporary directory: " << error->message;
    g_clear_error(&error);
    return;
  }
  path_ = dir;
  g_free(dir);
}

TempDir::~TempDir()
{
  if (!path_.empty())
    remove_tree(path_);
}

void TempDir::write(const std::string &relative, const std::string &content) const
{
  std::string full = path_ + "/" + relative;
  g_autofree gchar *parent = g_path_get_dirname(full.c_str());
  g_mkdir_with_parents(parent, 0755);
  GError *error = nullptr;
  if (!g_file_set_contents(full.c_str(), content.c_str(), (gssize) content.size(), &error)) {
    ADD_FAILURE() << error->message;
    g_clear_error(&error);
  }
}

std::string TempDir::read(const std::string &relative) const
{
  gchar *data = nullptr;
  gsize size = 0;
  std::string full = path_ + "/" + relative;
  if (!g_file_get_contents(full.c_str(), &data, &size, nullptr))
    return "";
  std::string out(data, size);
  g_free(data);
  return out;
}

bool TempDir::exists(const std::string &relative) const
{
  return g_file_test((path_ + "/" + relative).c_str(), G_FILE_TEST_EXISTS);
}

}  // namespace clawvoice::test
