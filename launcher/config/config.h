/* clawvoice — the launcher's configuration: typed structures, strict parsing, validation, the deep
 * `--check`, and the per-call placeholders of property values.
 *
 * The file is JSON with `//` and `/ * * /` comments (docs/config.md describes every key; the
 * commented example is config/clawvoice.example.jsonc). Parsing is strict: unknown keys, wrong types,
 * duplicate keys and trailing commas are errors, and every error names the file, the key path
 * (`routes.twilio.auth_token`), the line and what is wrong. All errors are collected, not just the
 * first. `${NAME}` in a string value is replaced by the environment variable NAME.
 *
 * parse_config()/load_config() touch nothing but the file itself; check_config() goes further and
 * builds every enabled route's launch file to prove the properties apply (needs gst_init and the
 * clawvoice plugin). */
#pragma once

#include <glib.h>

#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "call_placeholders.h"   /* CallInfo, expand_call_placeholders() */
#include "launch_file.h"         /* PropertyOverride */

namespace clawvoice::launcher {

struct ListenAddress {
  std::string host = "127.0.0.1";   /* an IPv6 host is kept without its brackets */
  guint16 port = 8080;              /* 0 = ephemeral, read back after binding */
  std::string to_string() const;    /* "127.0.0.1:8080", "[::1]:8080" */
};

/* "HOST:PORT" or "[IPV6]:PORT" (what `server.listen` and `--listen` take). */
bool parse_listen_address(const std::string &text, ListenAddress *out, std::string *error);
/* The base URL callers use when `server.public_url` is not set: http://HOST:PORT, with a wildcard
 * host (0.0.0.0, ::) replaced by the loopback address, since nobody can connect to a wildcard. */
std::string derive_public_url(const ListenAddress &listen);

using ElementProperties = std::map<std::string, std::map<std::string, std::string>>;  /* element → property → value template */

struct RouteConfig {
  std::string name;
  bool enabled = false;
  std::string launch_path;          /* absolute */
  bool status_callback = true;      /* twilio: accept POST /status */
  std::string auth_token;           /* twilio: signs webhooks; a secret */
  /* browser (docs/browser.md): what POST /api/session hands the page, and who may ask */
  std::vector<std::string> stun_urls;         /* browser: "stun:HOST:PORT" ICE servers for the page */
  std::vector<std::string> turn_urls;         /* browser: "turn:HOST:PORT?transport=udp", with ephemeral credentials */
  std::string turn_secret;                    /* browser: the TURN server's static-auth-secret; a secret */
  guint turn_ttl_seconds = 3600;              /* browser: lifetime of a TURN credential */
  std::string api_token;                      /* browser: bearer POST /api/session needs; "" = none; a secret */
  std::vector<std::string> allowed_origins;   /* browser: Origin values allowed; empty = any */
  guint token_ttl_seconds = 30;               /* browser: session token → WS /signal */
  std::vector<std::string> ice_addresses;     /* browser: webrtcbin's local ICE addresses; empty = every interface */
  std::string web_root;                       /* browser: the page's directory; "" = the built-in web/ */
  /* openai (docs/openai.md): OpenAI-hosted SIP calls (signed webhook → accept/reject, sideband) and
   * the browser-direct API (/api/token, /api/send, /api/result, /ws) */
  std::string webhook_secret;                 /* openai: whsec_… that signs OpenAI's webhooks; a secret */
  std::vector<std::string> allow_callers;     /* openai: caller numbers/SIP users accepted, a trailing '*' is a
                                               * prefix; empty = everyone */
  guint reject_status = 486;                  /* openai: SIP status sent when a caller is refused */
  std::string session_instructions;           /* openai: the voice's instructions (accept, client secrets) */
  std::string session_voice = "marin";        /* openai */
  std::string session_model = "gpt-realtime"; /* openai */
  std::string transcription_model;            /* openai: caller transcripts ("" = none) */
  guint client_secret_ttl_seconds = 600;      /* openai: lifetime of a minted ephemeral key */
  /* openai and openai_compat */
  std::vector<std::string> bearer_tokens;     /* bearers the route's API takes, several at once for rotation;
                                               * empty (openai) = server.control_token; secrets */
  guint rate_limit_per_minute = 60;           /* requests per client address and minute; 0 = no limit */
  /* openai_compat: POST /v1/chat/completions, GET /v1/models */
  std::string session_key = "main";           /* openai_compat: the OpenClaw session every turn goes to */
  std::string filler_text = "One moment, let me check on that.";   /* openai_compat: "" = no filler */
  guint filler_after_ms = 800;                /* openai_compat: filler when the agent is silent this long */
  std::string compat_model = "openclaw";      /* openai_compat: the model id /v1/models lists */
  /* sip (docs/sip.md): a SIP user agent server over UDP, one RTP port per call */
  ListenAddress sip_listen{"127.0.0.1", 5060};   /* sip: UDP address for SIP; port 0 = ephemeral (logged) */
  std::string sip_public_address;                /* sip: host in Contact and SDP c=; "" = the listen host */
  guint sip_rtp_port_min = 20000;                /* sip: each call's RTP port comes from this range */
  guint sip_rtp_port_max = 20999;
  std::vector<std::string> sip_allow;            /* sip: source addresses / CIDR blocks that may call; empty = any */
  std::string sip_realm = "clawvoice";           /* sip: digest realm */
  std::map<std::string, std::string> sip_users;  /* sip: digest user → password; empty = no digest; secrets */
  guint sip_rtp_timeout_seconds = 30;            /* sip: no RTP from the caller for this long ends the call */
  guint sip_answer_delay_ms = 0;                 /* sip: 180 Ringing → 200 OK; the pipeline starts at once */
  ElementProperties properties;     /* this route's own, overlaid on the global ones */
};

/* The routes this launcher knows, in a stable order ("twilio"). */
std::vector<std::string> known_route_names();

struct RealtimeBackend {
  enum class Kind { Simulator, OpenAI } kind = Kind::Simulator;
  std::string url = "wss://api.openai.com/v1/realtime";   /* used when kind == OpenAI */
  std::string api_key;              /* required when kind == OpenAI; a secret */
};

/* The brain: the OpenClaw gateway the pipelines' `openclawrelay` elements call. */
struct AgentBackend {
  enum class Kind { Simulator, Gateway } kind = Kind::Simulator;
  std::string url = "http://127.0.0.1:18789";   /* used when kind == Gateway; no trailing slash */
  std::string token;                /* the gateway's bearer token; required when kind == Gateway; a secret */
  std::string agent_id = "main";
};

struct SimulatorConfig {
  ListenAddress listen{"127.0.0.1", 0};
  std::string api_key = "sk-sim-local";
  std::string reply;                /* fixed reply text; "" = the simulator's default behaviour */
  guint response_delay_ms = 0;
};

struct Config {
  std::string source;                 /* the file it came from, or "(embedded default)" */
  ListenAddress listen;
  std::string public_url;             /* no trailing slash */
  bool public_url_derived = true;     /* not set in the file: derived from `listen`; re-derive it
                                       * (derive_public_url) after binding port 0 or a --listen override */
  std::string control_token;          /* empty = control endpoints disabled (403) */
  guint max_concurrent_calls = 50;
  guint call_ttl_seconds = 600;
  std::string log_level = "info";     /* debug | info | warning | error */
  std::string gst_debug;              /* for gst_debug_set_threshold_from_string() */
  std::string pipelines_dir;          /* absolute */
  RealtimeBackend realtime;
  AgentBackend openclaw;
  SimulatorConfig simulator;
  ElementProperties properties;
  std::map<std::string, RouteConfig> routes;   /* every known route present, enabled or not */
  std::map<std::string, int> key_lines;        /* key path → line in `source`, for later errors */

  /* The properties for one route: global ones overlaid with the route's (property by property). */
  ElementProperties properties_for(const std::string &route) const;
};

struct ConfigError {
  std::string file;
  std::string key;        /* "routes.twilio.auth_token"; empty for a syntax error */
  int line = 0;           /* 1-based; 0 = not known */
  std::string message;
  std::string to_string() const;   /* "FILE:LINE: KEY: MESSAGE" (LINE and KEY left out when unknown) */
};

/* Parses a config file; `builtin_pipelines_dir` is the default pipelines_dir. Returns nullopt on
 * any error (all of them in *errors). Relative paths in the file are relative to its directory. */
std::optional<Config> load_config(const std::string &path, const std::string &builtin_pipelines_dir,
                                  std::vector<ConfigError> *errors);
/* The same from text: `origin` names it in errors, `base_dir` anchors relative paths. */
std::optional<Config> parse_config(const std::string &text, const std::string &origin,
                                   const std::string &base_dir, const std::string &builtin_pipelines_dir,
                                   std::vector<ConfigError> *errors);

/* The embedded default: simulator backend, twilio route enabled with a random demo auth token and a
 * random control token (both for the launcher to print at start). */
Config default_config(const std::string &builtin_pipelines_dir);

/* Deep check: every enabled route's launch file exists and builds (load_launch_file), every element
 * named in its properties exists in it, every property exists, is writable and its value
 * deserialises (placeholders replaced by sample values first). Appends to *errors; true when none.
 * Needs gst_init() and the clawvoice plugin available. */
bool check_config(const Config &config, std::vector<ConfigError> *errors);

/* What `clawvoice-launcher --check [--config FILE]` does: loads `path` (the embedded default when
 * empty) and check_config()s it; prints one ConfigError::to_string() per line on `err` and returns
 * 1, or prints "config OK" on `out` and returns 0. */
int run_config_check(const std::string &path, const std::string &builtin_pipelines_dir,
                     std::ostream &out, std::ostream &err);

/* The overrides for one call's pipeline: properties_for(call.route) with the call's placeholders
 * expanded, ready for apply_property_overrides(). */
std::vector<PropertyOverride> property_overrides_for_call(const Config &config, const CallInfo &call);

/* For logs: the config as compact JSON with every secret masked ("***"): control_token, the API
 * keys, auth tokens, and property values whose name says key/token/secret/password. */
std::string describe_config(const Config &config);

}  // namespace clawvoice::launcher
