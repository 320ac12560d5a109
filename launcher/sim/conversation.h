/* clawvoice simulator — the conversation of one session: its items in order, with what the
 * simulator needs to know about each (audio length, call ids, text for the token count).
 *
 * Items are kept as the service would show them (no audio bytes). */
#pragma once

#include "common/json.h"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace clawvoice::sim {

struct ConversationItem {
  std::string id;
  std::string type;        /* message | function_call | function_call_output */
  std::string role;        /* messages: user | assistant | system */
  std::string call_id;     /* function_call / function_call_output */
  bool has_audio = false;  /* input_audio / output_audio content */
  double audio_ms = 0;     /* user: duration; assistant: audio SENT so far (or truncated to) */
  bool truncated = false;  /* conversation.item.truncate accepted: audio_ms is final */
  std::string text;        /* text, transcript, arguments or output */
  json::ObjectPtr json;    /* the item as the service shows it */

  /* Rewrites json's status and the audio content's transcript from the fields above. */
  void refresh_json(const char *status);
};

class Conversation {
 public:
  /* An item from conversation.item.create, completed like the service does (id, object,
   * status); audio bytes are dropped. */
  static std::unique_ptr<ConversationItem> from_client(JsonObject *item);

  ConversationItem *find(const std::string &id);
  const ConversationItem *last() const;
  std::string last_id() const;   /* "" when empty */
  std::string previous_id(const std::string &id) const;   /* "" for the first (or unknown) */
  bool has_function_call(const std::string &call_id) const;

  /* Inserts after @previous_id ("" = at the end, "root" = first). Returns the id of the item now
   * before it ("" for none), or nullopt when @previous_id is not in the conversation. */
  std::optional<std::string> insert(std::unique_ptr<ConversationItem> item,
                                    const std::string &previous_id = "");
  bool remove(const std::string &id);

  std::string to_json() const;
  double user_audio_ms() const;
  size_t text_chars() const;

 private:
  std::vector<std::unique_ptr<ConversationItem>> items_;
};

}  // namespace clawvoice::sim
