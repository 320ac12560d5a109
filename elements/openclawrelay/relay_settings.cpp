#include "openclawrelay/relay_settings.h"

namespace clawvoice::openclawrelay {

namespace {

std::string key_part(const std::string &text)
{
  std::string out = text;
  for (char &c : out)
    if (!g_ascii_isalnum(c) && c != '+' && c != '-' && c != '.' && c != '_' && c != '@')
      c = '_';
  return out;
}

}  // namespace

std::string session_key_for(SessionMode mode, const std::string &agent_id, const std::string &explicit_key,
    const std::string &main_key, const std::string &caller, const std::string &call_id)
{
  if (!explicit_key.empty())
    return explicit_key;
  const std::string agent = agent_id.empty() ? "main" : agent_id;
  switch (mode) {
    case SessionMode::Main:
      return main_key.empty() ? "agent:" + agent + ":main" : main_key;
    case SessionMode::Caller:
      if (!caller.empty())
        return "agent:" + agent + ":voice:dm:" + key_part(caller);
      break;
    case SessionMode::Call:
      break;
  }
  return "agent:" + agent + ":voice:call:" + key_part(call_id);
}

}  // namespace clawvoice::openclawrelay
