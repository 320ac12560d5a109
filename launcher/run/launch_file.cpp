/* clawvoice — launch files: load, strip comments, parse, apply per-element overrides. */
#include "launch_file.h"

#include <sstream>

namespace clawvoice::launcher {

static bool is_identifier(const std::string &s)
{
  if (s.empty())
    return false;
  for (char c : s) {
    if (!g_ascii_isalnum(c) && c != '-' && c != '_')
      return false;
  }
  return true;
}

bool parse_property_override(const std::string &spec, PropertyOverride *out, std::string *error)
{
  size_t eq = spec.find('=');
  size_t dot = spec.find('.');
  if (eq == std::string::npos || dot == std::string::npos || dot > eq) {
    *error = "'" + spec + "' is not NAME.PROPERTY=VALUE";
    return false;
  }
  PropertyOverride o;
  o.element = spec.substr(0, dot);
  o.property = spec.substr(dot + 1, eq - dot - 1);
  o.value = spec.substr(eq + 1);
  if (!is_identifier(o.element) || !is_identifier(o.property)) {
    *error = "'" + spec + "': element and property names are letters, digits, '-' and '_'";
    return false;
  }
  *out = std::move(o);
  return true;
}

std::string strip_launch_comments(const std::string &text)
{
  std::istringstream in(text);
  std::string line, out;
  while (std::getline(in, line)) {
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#')
      continue;
    size_t last = line.find_last_not_of(" \t\r");
    line = line.substr(first, last - first + 1);
    if (!line.empty() && line.back() == '\\')
      line.pop_back();
    if (!out.empty())
      out += ' ';
    out += line;
  }
  return out;
}

static bool set_property_from_string(GstElement *element, const PropertyOverride &o, std::string *error)
{
  GParamSpec *pspec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), o.property.c_str());
  if (!pspec) {
    *error = "element '" + o.element + "' (" + G_OBJECT_TYPE_NAME(element) + ") has no property '" +
             o.property + "'";
    return false;
  }
  if (!(pspec->flags & G_PARAM_WRITABLE) || (pspec->flags & G_PARAM_CONSTRUCT_ONLY)) {
    *error = "property '" + o.element + "." + o.property + "' cannot be set";
    return false;
  }
  /* What gst_util_set_object_arg() does, but checked, so a typo is an error and not a no-op. */
  GValue value = G_VALUE_INIT;
  g_value_init(&value, G_PARAM_SPEC_VALUE_TYPE(pspec));
  if (!gst_value_deserialize_with_pspec(&value, o.value.c_str(), pspec)) {
    g_value_unset(&value);
    *error = "'" + o.value + "' is not a valid value for " + o.element + "." + o.property + " (" +
             g_type_name(G_PARAM_SPEC_VALUE_TYPE(pspec)) + ")";
    return false;
  }
  g_object_set_property(G_OBJECT(element), o.property.c_str(), &value);
  g_value_unset(&value);
  return true;
}

bool apply_property_overrides(GstBin *bin, const std::vector<PropertyOverride> &overrides,
                              std::string *error)
{
  for (const PropertyOverride &o : overrides) {
    GstElement *element = gst_bin_get_by_name(bin, o.element.c_str());
    if (!element) {
      *error = "no element named '" + o.element + "' in the pipeline";
      return false;
    }
    bool ok = set_property_from_string(element, o, error);
    gst_object_unref(element);
    if (!ok)
      return false;
  }
  return true;
}

GstElement *parse_launch_description(const std::string &description,
                                     const std::vector<PropertyOverride> &overrides, std::string *error)
{
  GstParseContext *context = gst_parse_context_new();
  GError *gerror = nullptr;
  GstElement *result = gst_parse_launch_full(description.c_str(), context, GST_PARSE_FLAG_FATAL_ERRORS,
                                             &gerror);
  if (!result || gerror) {
    *error = gerror ? gerror->message : "could not build the pipeline";
    gchar **missing = gst_parse_context_get_missing_elements(context);
    if (missing && missing[0]) {
      g_autofree gchar *names = g_strjoinv(", ", missing);
      *error += std::string(" (missing elements: ") + names + ")";
    }
    g_strfreev(missing);
    g_clear_error(&gerror);
    gst_parse_context_free(context);
    if (result)
      gst_object_unref(gst_object_ref_sink(result));
    return nullptr;
  }
  gst_parse_context_free(context);

  /* A one-element description comes back bare; the runner wants a pipeline with a bus. */
  if (!GST_IS_PIPELINE(result)) {
    GstElement *pipeline = gst_pipeline_new(nullptr);
    gst_bin_add(GST_BIN(pipeline), result);
    result = pipeline;
  }
  gst_object_ref_sink(result);

  if (!apply_property_overrides(GST_BIN(result), overrides, error)) {
    gst_object_unref(result);
    return nullptr;
  }
  return result;
}

GstElement *load_launch_file(const std::string &path, const std::vector<PropertyOverride> &overrides,
                             std::string *error)
{
  gchar *contents = nullptr;
  GError *gerror = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, nullptr, &gerror)) {
    *error = gerror->message;
    g_error_free(gerror);
    return nullptr;
  }
  std::string description = strip_launch_comments(contents);
  g_free(contents);
  if (description.empty()) {
    *error = path + ": no pipeline description (only comments?)";
    return nullptr;
  }
  GstElement *pipeline = parse_launch_description(description, overrides, error);
  if (!pipeline)
    *error = path + ": " + *error;
  return pipeline;
}

}  // namespace clawvoice::launcher
