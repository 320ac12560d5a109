#include "openclawrelay/relay_phrases.h"

#include <json-glib/json-glib.h>

#include "common/json.h"

namespace clawvoice::openclawrelay {

namespace {

/* A JSON object text with string members, for tool results. */
std::string object_of(std::initializer_list<std::pair<const char *, std::string>> members)
{
  json::ObjectPtr o(json_object_new());
  for (const auto &[name, value] : members)
    json_object_set_string_member(o.get(), name, value.c_str());
  return json::to_string(o.get());
}

}  // namespace

std::string tool_definition(const std::string &name, const std::string &description)
{
  json::ObjectPtr message(json_object_new());
  json_object_set_string_member(message.get(), "type", "string");
  json_object_set_string_member(message.get(), "description",
      "The caller's full request, as they said it, with any details they gave.");
  JsonObject *properties = json_object_new();
  json_object_set_object_member(properties, "message", json_object_ref(message.get()));
  JsonObject *parameters = json_object_new();
  json_object_set_string_member(parameters, "type", "object");
  json_object_set_object_member(parameters, "properties", properties);
  JsonArray *required = json_array_new();
  json_array_add_string_element(required, "message");
  json_object_set_array_member(parameters, "required", required);

  json::ObjectPtr tool(json_object_new());
  json_object_set_string_member(tool.get(), "type", "function");
  json_object_set_string_member(tool.get(), "name", name.c_str());
  json_object_set_string_member(tool.get(), "description", description.c_str());
  json_object_set_object_member(tool.get(), "parameters", parameters);
  return json::to_string(tool.get());
}

std::string answer_inject(const std::string &question, const std::string &answer)
{
  return "Your agent has answered the caller's request \"" + question +
      "\". Tell the caller this answer now, faithfully, without adding facts of your own: " + answer;
}

std::string progress_inject(const std::string &question, const std::string &progress_text)
{
  return "The agent is still working on the caller's request \"" + question +
      "\". Tell the caller briefly, in your own words: \"" + progress_text + "\"";
}

std::string timeout_inject(const std::string &question, const std::string &timeout_text)
{
  return "The agent did not answer the caller's request \"" + question +
      "\" in time, and the request was stopped. Apologise to the caller: \"" + timeout_text + "\"";
}

std::string failure_sentence(const openclaw::GatewayError &error)
{
  using Kind = openclaw::GatewayErrorKind;
  switch (error.kind) {
    case Kind::Unauthorized:
      return "I couldn't reach your agent: it refused the credentials.";
    case Kind::RateLimited:
      if (error.retry_after_s > 0)
        return "I couldn't reach your agent: it is turning requests away right now. Please try again in " +
            std::to_string(error.retry_after_s) + (error.retry_after_s == 1 ? " second." : " seconds.");
      return "I couldn't reach your agent: it is turning requests away right now. Please try again shortly.";
    case Kind::ServerError:
      return "Your agent ran into an internal error and could not answer.";
    case Kind::Refused:
      return "I couldn't reach your agent: it is not running or not reachable.";
    case Kind::Timeout:
      return "I couldn't reach your agent: it did not respond.";
    case Kind::MalformedStream:
      return "Your agent's answer came back garbled, so I can't tell you what it said.";
    case Kind::BadRequest:
      return "Your agent turned the request down as invalid.";
    case Kind::Cancelled:
      break;
  }
  return "I couldn't get an answer from your agent.";
}

std::string failure_inject(const std::string &question, const std::string &sentence)
{
  return "The caller's request \"" + question + "\" could not be answered. Tell the caller honestly, "
      "in your own words, without guessing an answer: \"" + sentence + "\"";
}

std::string busy_result(unsigned running)
{
  return object_of({{"status", "busy"},
      {"message", "Already working on " + std::to_string(running) +
          " requests. Tell the caller you can take this one once those are answered."}});
}

std::string empty_request_result()
{
  return object_of({{"status", "error"},
      {"message", "The request was empty. Ask the caller to say again what they need."}});
}

std::string memory_inject(const std::string &memory)
{
  return "Background from your agent's memory, for context only (do not read it out; use it when it "
      "helps the caller):\n\n" + memory;
}

}  // namespace clawvoice::openclawrelay
