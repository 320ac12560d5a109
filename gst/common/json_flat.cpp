#include "common/json_flat.h"

#include <string>

namespace clawvoice::json {

bool FlatObject::read(std::string_view text, int max_depth)
{
  text_ = text;
  at_ = 0;
  objects_.clear();
  objects_.emplace_back();
  if (!parse_object(0, 0, max_depth))
    return false;
  skip_space();
  return at_ == text_.size();
}

const FlatObject::Member *FlatObject::find(const Members &members, std::string_view name)
{
  for (const Member &m : members)
    if (m.name == name)
      return &m;
  return nullptr;
}

bool FlatObject::string(const Members &members, std::string_view name, std::string_view *out)
{
  const Member *m = find(members, name);
  if (!m || m->kind != Member::Kind::String)
    return false;
  *out = m->text;
  return true;
}

const FlatObject::Members *FlatObject::object_member(const Members &members, std::string_view name) const
{
  const Member *m = find(members, name);
  return m && m->kind == Member::Kind::Object ? &objects_[m->object] : nullptr;
}

void FlatObject::skip_space()
{
  while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
    at_++;
}

bool FlatObject::literal(char c)
{
  skip_space();
  if (at_ >= text_.size() || text_[at_] != c)
    return false;
  at_++;
  return true;
}

bool FlatObject::parse_plain_string(std::string_view *out)
{
  if (!literal('"'))
    return false;
  const size_t start = at_;
  while (at_ < text_.size()) {
    const unsigned char c = text_[at_];
    if (c == '"') {
      *out = text_.substr(start, at_ - start);
      at_++;
      return true;
    }
    if (c < 0x20 || c >= 0x7f || c == '\\')
      return false;   /* an escape or anything json-glib would have to validate or decode */
    at_++;
  }
  return false;
}

bool FlatObject::parse_integer(gint64 *out)
{
  const bool negative = at_ < text_.size() && text_[at_] == '-';
  size_t i = at_ + (negative ? 1 : 0);
  const size_t first = i;
  gint64 value = 0;
  while (i < text_.size() && text_[i] >= '0' && text_[i] <= '9') {
    value = value * 10 + (text_[i] - '0');
    i++;
  }
  const size_t digits = i - first;
  if (digits == 0 || digits > 18 || (digits > 1 && text_[first] == '0'))
    return false;
  if (i < text_.size() && (text_[i] == '.' || text_[i] == 'e' || text_[i] == 'E'))
    return false;   /* a double: json-glib's to read */
  *out = negative ? -value : value;
  at_ = i;
  return true;
}

bool FlatObject::parse_object(size_t index, int depth, int max_depth)
{
  if (!literal('{'))
    return false;
  skip_space();
  if (at_ < text_.size() && text_[at_] == '}') {
    at_++;
    return true;
  }
  while (true) {
    Member member;
    if (!parse_plain_string(&member.name) || !literal(':'))
      return false;
    if (find(objects_[index], member.name))
      return false;   /* json-glib keeps the last one; leave that case to it */
    skip_space();
    if (at_ >= text_.size())
      return false;
    const char c = text_[at_];
    if (c == '"') {
      if (!parse_plain_string(&member.text))
        return false;
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      member.kind = Member::Kind::Integer;
      if (!parse_integer(&member.integer))
        return false;
    } else if (c == '{' && depth < max_depth) {
      member.kind = Member::Kind::Object;
      member.object = objects_.size();
      objects_.emplace_back();
      if (!parse_object(member.object, depth + 1, max_depth))
        return false;
    } else {
      return false;
    }
    objects_[index].push_back(member);
    if (literal(','))
      continue;
    return literal('}');
  }
}

JsonObject *FlatObject::build(size_t index) const
{
  JsonObject *object = json_object_new();
  for (const Member &m : objects_[index]) {
    const std::string name(m.name);
    switch (m.kind) {
      case Member::Kind::String:
        json_object_set_string_member(object, name.c_str(), std::string(m.text).c_str());
        break;
      case Member::Kind::Integer:
        json_object_set_int_member(object, name.c_str(), m.integer);
        break;
      case Member::Kind::Object:
        json_object_set_object_member(object, name.c_str(), build(m.object));
        break;
    }
  }
  return object;
}

ObjectPtr FlatObject::to_json_object() const
{
  return ObjectPtr(build(0));
}

}  // namespace clawvoice::json
