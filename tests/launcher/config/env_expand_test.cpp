/* ${ENV} expansion in config strings. */
#include <gtest/gtest.h>

#include "config_test_support.h"
#include "env_expand.h"

using namespace clawvoice::launcher;
using clawvoice::test::ScopedEnv;

namespace {

std::string expanded(const std::string &text)
{
  std::string out, error;
  EXPECT_TRUE(expand_env(text, &out, &error)) << text << " → " << error;
  return out;
}

std::string failure(const std::string &text)
{
  std::string out = "untouched", error;
  EXPECT_FALSE(expand_env(text, &out, &error)) << text << " → " << out;
  EXPECT_EQ(out, "untouched");
  return error;
}

TEST(EnvExpand, ReplacesSetVariables)
{
  ScopedEnv a("CV_TEST_A", "alpha"), b("CV_TEST_B", "beta");
  EXPECT_EQ(expanded("${CV_TEST_A}"), "alpha");
  EXPECT_EQ(expanded("x-${CV_TEST_A}-${CV_TEST_B}-y"), "x-alpha-beta-y");
  EXPECT_EQ(expanded("no variables"), "no variables");
}

TEST(EnvExpand, DefaultAppliesWhenUnsetOrEmpty)
{
  ScopedEnv unset("CV_TEST_UNSET", std::nullopt), empty("CV_TEST_EMPTY", ""), set("CV_TEST_SET", "v");
  EXPECT_EQ(expanded("${CV_TEST_UNSET:-fallback}"), "fallback");
  EXPECT_EQ(expanded("${CV_TEST_EMPTY:-fallback}"), "fallback");
  EXPECT_EQ(expanded("${CV_TEST_SET:-fallback}"), "v");
  EXPECT_EQ(expanded("${CV_TEST_UNSET:-}"), "");
  EXPECT_EQ(expanded("${CV_TEST_UNSET:-http://127.0.0.1:8080}"), "http://127.0.0.1:8080");
  /* Set but empty without a default is the variable's value, "". */
  EXPECT_EQ(expanded("[${CV_TEST_EMPTY}]"), "[]");
}

TEST(EnvExpand, DollarDollarBraceIsALiteral)
{
  ScopedEnv a("CV_TEST_A", "alpha");
  EXPECT_EQ(expanded("$${CV_TEST_A}"), "${CV_TEST_A}");
  EXPECT_EQ(expanded("price $5 and $$ and $"), "price $5 and $$ and $");
  /* Read left to right: a plain '$', then the escape. */
  EXPECT_EQ(expanded("$$${CV_TEST_A}"), "$${CV_TEST_A}");
}

TEST(EnvExpand, MissingVariableIsNamedButNothingElseIsEchoed)
{
  ScopedEnv unset("CV_TEST_MISSING", std::nullopt);
  std::string error = failure("Bearer ${CV_TEST_MISSING}");
  EXPECT_NE(error.find("CV_TEST_MISSING is not set"), std::string::npos) << error;
  EXPECT_NE(error.find("${CV_TEST_MISSING:-default}"), std::string::npos) << error;
}

TEST(EnvExpand, MalformedReferencesAreErrors)
{
  EXPECT_NE(failure("${UNCLOSED").find("without a closing"), std::string::npos);
  EXPECT_NE(failure("${}").find("not a variable name"), std::string::npos);
  EXPECT_NE(failure("${1ABC}").find("'1ABC' is not a variable name"), std::string::npos);
  EXPECT_NE(failure("${A B}").find("not a variable name"), std::string::npos);
}

}  // namespace
