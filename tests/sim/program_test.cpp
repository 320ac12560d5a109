/* The clawvoice-sim program: prints where it listens, serves, stops on SIGTERM. */
#include "ws_client.h"

#include <gtest/gtest.h>

#include <glib.h>
#include <sys/wait.h>

#include <csignal>
#include <cstdio>
#include <cstring>

namespace clawvoice::sim::test {
namespace {

TEST(Program, ListensServesAndStopsOnSigterm)
{
  const char *bin = g_getenv("CLAWVOICE_SIM_BIN");
  if (!bin)
    GTEST_SKIP() << "CLAWVOICE_SIM_BIN not set (run through meson test)";
  const char *argv[] = {bin, "--listen", "127.0.0.1:0", "--api-key", "sk-secret-key",
                        "--reply", "Hi.", "--no-tool-calls", nullptr};
  GPid pid = 0;
  int out_fd = -1;
  GError *error = nullptr;
  ASSERT_TRUE(g_spawn_async_with_pipes(nullptr, (char **) argv, nullptr, G_SPAWN_DO_NOT_REAP_CHILD,
                                       nullptr, nullptr, &pid, nullptr, &out_fd, nullptr, &error))
      << (error ? error->message : "");
  FILE *out = fdopen(out_fd, "r");
  char line[256] = {0};
  ASSERT_NE(fgets(line, sizeof line, out), nullptr);
  char url[200] = {0};
  ASSERT_EQ(sscanf(line, "clawvoice-sim listening on %199s", url), 1) << line;
  EXPECT_TRUE(g_str_has_prefix(url, "ws://127.0.0.1:"));
  EXPECT_TRUE(g_str_has_suffix(url, "/v1/realtime"));
  EXPECT_EQ(strstr(line, "sk-secret-key"), nullptr);

  {
    WsClient client;
    ConnectOptions options;
    options.api_key = "sk-secret-key";
    ASSERT_TRUE(client.connect(std::string(url) + "?model=gpt-realtime", options));
    EXPECT_NE(client.wait_for("session.created"), nullptr);
    client.send(R"({"type":"response.create"})");
    const Event *done = client.wait_for("response.done", 10000);
    ASSERT_NE(done, nullptr);
    const Event *transcript = client.of_type("response.output_audio_transcript.done").at(0);
    EXPECT_EQ(json::get_string(transcript->object.get(), "transcript"), "Hi.");
    WsClient wrong;
    options.api_key = "sk-other";
    EXPECT_FALSE(wrong.connect(std::string(url) + "?model=gpt-realtime", options));
    EXPECT_EQ(wrong.http_status(), 401u);
  }

  kill(pid, SIGTERM);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  g_spawn_close_pid(pid);
  fclose(out);
}

}  // namespace
}  // namespace clawvoice::sim::test
