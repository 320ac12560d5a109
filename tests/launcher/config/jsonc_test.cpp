/* The strict JSON-with-comments reader: what it accepts, what it refuses, and where it says the
 * problem is. */
#include <gtest/gtest.h>

#include "jsonc.h"

using namespace clawvoice::launcher;

namespace {

JsoncSyntaxError syntax_error(const std::string &text)
{
  JsoncSyntaxError error;
  std::optional<JsoncValue> v = parse_jsonc(text, &error);
  EXPECT_FALSE(v.has_value()) << "accepted: " << text;
  return error;
}

TEST(Jsonc, CommentsAreWhitespaceAndPositionsSurviveThem)
{
  const std::string text =
    "// a line comment { \"not\": \"parsed\" }\n"       // line 1
    "{ /* block\n"                                       // line 2
    "     over two lines */ \"a\": 1, // trailing\n"    // line 3
    "  \"url\": \"http://x/*not-a-comment*/ // nor this\",\n"   // line 4
    "  \"b\": [true, false, null] }\n";                 // line 5
  JsoncSyntaxError error;
  std::optional<JsoncValue> v = parse_jsonc(text, &error);
  ASSERT_TRUE(v.has_value()) << error.line << ":" << error.column << " " << error.message;
  ASSERT_EQ(v->kind, JsoncValue::Kind::Object);
  ASSERT_EQ(v->members.size(), 3u);
  EXPECT_EQ(v->members[0].key, "a");
  EXPECT_EQ(v->members[0].line, 3);
  EXPECT_EQ(v->members[0].value.text, "1");
  EXPECT_EQ(v->members[1].line, 4);
  EXPECT_EQ(v->find("url")->text, "http://x/*not-a-comment*/ // nor this");
  EXPECT_EQ(v->members[2].line, 5);
  EXPECT_EQ(v->find("b")->items.size(), 3u);
  EXPECT_EQ(v->find("b")->items[2].kind, JsoncValue::Kind::Null);
  EXPECT_EQ(v->find("missing"), nullptr);
}

TEST(Jsonc, NumbersKeepTheirWrittenForm)
{
  JsoncSyntaxError error;
  std::optional<JsoncValue> v = parse_jsonc(R"({"a": -0.50, "b": 1e3, "c": 12345678901234567890})", &error);
  ASSERT_TRUE(v.has_value()) << error.message;
  EXPECT_EQ(v->find("a")->text, "-0.50");
  EXPECT_EQ(v->find("b")->text, "1e3");
  EXPECT_EQ(v->find("c")->text, "12345678901234567890");
}

TEST(Jsonc, EscapesAndSurrogatePairsDecode)
{
  JsoncSyntaxError error;
  std::optional<JsoncValue> v =
    parse_jsonc(R"({"s": "q\" b\\ s\/ n\n t\t \u00e9 \ud83d\ude00"})", &error);
  ASSERT_TRUE(v.has_value()) << error.message;
  EXPECT_EQ(v->find("s")->text, "q\" b\\ s/ n\n t\t \xC3\xA9 \xF0\x9F\x98\x80");
}

TEST(Jsonc, TrailingCommasAreRefusedWhereTheyAre)
{
  JsoncSyntaxError e = syntax_error("{\n  \"a\": 1,\n}\n");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 9);
  EXPECT_NE(e.message.find("trailing comma"), std::string::npos) << e.message;

  e = syntax_error("{\"a\": [1, 2,\n ]}");
  EXPECT_EQ(e.line, 1);
  EXPECT_NE(e.message.find("trailing comma before ']'"), std::string::npos) << e.message;
}

TEST(Jsonc, WhatJsonGlibWouldLetThroughIsRefused)
{
  struct Case { const char *text; const char *says; int line; };
  const Case cases[] = {
    {"{'a': 1}", "keys are written in double quotes", 1},
    {"{\"a\": 'x'}", "double quotes, not single", 1},
    {"{a: 1}", "keys are written in double quotes", 1},
    {"{\"a\":\n 0x10}", "hexadecimal", 2},
    {"{\"a\": 01}", "do not start with 0", 1},
    {"{\"a\": 1.}", "followed by a digit", 1},
    {"{\"a\": +1}", "expected a value", 1},
    {"{\"a\": NaN}", "unexpected word 'NaN'", 1},
    {"{\"a\": 1}\n{\"b\": 2}", "after the end of the document", 2},
    {"{\"a\": 1,\n \"a\": 2}", "duplicate key 'a' (first at line 1)", 2},
    {"{\"a\": \"x\ny\"}", "line break inside a string", 1},
    {"{\"a\": \"\\x\"}", "unknown escape", 1},
    {"{\"a\": \"\\ud83d\"}", "high surrogate", 1},
    {"{\"a\": \"\\u0000\"}", "\\u0000", 1},
    {"{\"a\": 1 \"b\": 2}", "missing ','", 1},
    {"{\"a\" 1}", "expected ':'", 1},
    {"", "empty", 1},
    {"  // only a comment\n", "empty", 2},
    {"{\"a\": 1} /", "lone '/'", 1},
  };
  for (const Case &c : cases) {
    JsoncSyntaxError e = syntax_error(c.text);
    EXPECT_NE(e.message.find(c.says), std::string::npos) << c.text << " → " << e.message;
    EXPECT_EQ(e.line, c.line) << c.text << " → " << e.message;
  }
}

TEST(Jsonc, UnclosedThingsPointAtWhereTheyOpened)
{
  JsoncSyntaxError e = syntax_error("{\n  \"a\": 1 /* never\n closed\n}");
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.column, 10);
  EXPECT_NE(e.message.find("never closed"), std::string::npos) << e.message;

  e = syntax_error("{\n\n  \"a\": \"open");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.column, 8);
  EXPECT_NE(e.message.find("never closed"), std::string::npos) << e.message;
}

TEST(Jsonc, InvalidUtf8IsRefusedWithItsLine)
{
  JsoncSyntaxError e = syntax_error("{\n\"a\": \"\xff\"}");
  EXPECT_EQ(e.line, 2);
  EXPECT_NE(e.message.find("UTF-8"), std::string::npos) << e.message;
}

TEST(Jsonc, DeepNestingIsRefusedNotACrash)
{
  std::string text(1000, '[');
  JsoncSyntaxError e = syntax_error(text);
  EXPECT_NE(e.message.find("nested deeper"), std::string::npos) << e.message;
}

TEST(Jsonc, ColumnsCountCharactersNotBytes)
{
  /* "é" is two bytes, one column: the trailing ',' is the 8th character. */
  JsoncSyntaxError e = syntax_error("{\"é\": 1,}");
  EXPECT_EQ(e.column, 8);
}

}  // namespace
