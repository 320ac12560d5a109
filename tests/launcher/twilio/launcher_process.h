/* Launcher tests — the real clawvoice-launcher as a child process on 127.0.0.1.
 *
 * Starts it with a config written to a temporary directory and `--listen 127.0.0.1:0`, reads the
 * port back from its `launcher.started` log line, keeps every line it prints (so tests can check
 * log events, and that no secret was ever written), and stops it by its pid: SIGTERM, then
 * SIGKILL if it has not exited within the grace time. */
#pragma once

#include <glib.h>

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace clawvoice::test::launcher {

struct HttpAnswer {
  guint status = 0;
  std::string content_type;
  std::string body;
  std::string error;
};

class LauncherProcess {
 public:
  /* @config_json: the config file's text (JSONC); empty: no --config, the embedded default. */
  explicit LauncherProcess(const std::string &config_json);
  ~LauncherProcess();   /* stop() */

  bool started() const { return port_ != 0; }
  const std::string &start_error() const { return start_error_; }
  GPid pid() const { return pid_; }
  guint port() const { return port_; }
  std::string url(const std::string &path) const;

  /* SIGTERM, wait up to @grace_ms, then SIGKILL. Returns the exit status (-1 if killed). */
  int stop(guint grace_ms = 10000);
  bool running() const;

  /* Every output line so far (stdout and stderr). */
  std::vector<std::string> lines() const;
  /* Log lines whose "event" is @event. */
  std::vector<std::string> events(const std::string &event) const;
  bool wait_for_event(const std::string &event, guint timeout_ms, size_t count = 1) const;
  bool output_contains(const std::string &text) const;
  /* Waits until a line contains @text (the start banner comes after launcher.started). */
  bool wait_for_output(const std::string &text, guint timeout_ms) const;

  /* HTTP with the control token as bearer (empty: none). */
  HttpAnswer get(const std::string &path, const std::string &bearer) const;
  HttpAnswer del(const std::string &path, const std::string &bearer) const;
  HttpAnswer post_json(const std::string &path, const std::string &bearer, const std::string &json) const;

 private:
  bool write_config(const std::string &config_json, std::string *path);
  void read_lines(int fd);

  std::string dir_;
  GPid pid_ = 0;
  guint port_ = 0;
  std::string start_error_;
  int exit_status_ = 0;
  bool exited_ = false;
  int readers_done_ = 0;
  std::vector<std::thread> readers_;
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  std::vector<std::string> lines_;
};

/* Path of the launcher binary built by meson. */
std::string launcher_binary();

/* Reads @fd (a child's stdout or stderr) line by line until it closes, each line without its end
 * of line to @on_line; then closes it. For a reader thread: a child blocks on a full pipe. */
void read_lines_of(int fd, const std::function<void(std::string)> &on_line);

/* Ends child @pid: SIGTERM, then SIGKILL if it is still there after @grace_ms; reaps it. Returns
 * its exit code, or -1 when it had to be killed or died of a signal. */
int terminate_child(GPid pid, guint grace_ms);

/* Path of a file in tests/data. */
std::string data_path(const std::string &name);

/* The JSON object text's string member @key ("" if absent), for log lines and small answers. */
/* A UDP port on 127.0.0.1 that was free a moment ago (bound, read back, released): for peers such
 * as sipp that cannot bind port 0 and say which port they got. */
guint16 free_udp_port();
/* The first of @count consecutive free UDP ports on 127.0.0.1 (even), or 0: sipp binds its media
 * port and the three after it (RTCP, video RTP and RTCP). */
guint16 free_udp_port_run(guint count);
std::string json_string(const std::string &json, const char *key);

}  // namespace clawvoice::test::launcher
