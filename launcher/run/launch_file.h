/* clawvoice — launch files: a pipeline description in gst-launch-1.0 syntax, plus per-element
 * property overrides addressed by element name.
 *
 * A launch file (pipelines/NAME.launch) is what a person would type after `gst-launch-1.0`, spread
 * over lines, with `#` comment lines describing it:
 *
 *   # Asks a question from a WAV file and writes the reply to another.
 *   filesrc name=caller location=tests/data/question.wav ! wavparse ! …
 *     realtimesink name=rt url=ws://127.0.0.1:8765/v1/realtime ! wavenc ! filesink name=reply …
 *
 * Whoever runs it fills in the parameters of one call by naming elements: `rt.url=…`,
 * `reply.location=…`. This is the seed of the launcher's pipeline factory: a route owns a launch file
 * and maps a call's parameters onto named elements with these functions. */
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace clawvoice::launcher {

/* One `NAME.PROPERTY=VALUE`: the element named NAME gets PROPERTY set from the string VALUE,
 * deserialised as gst-launch-1.0 would (enums by nick, caps, structures, numbers, booleans…). */
struct PropertyOverride {
  std::string element;
  std::string property;
  std::string value;
};

/* Parses "NAME.PROPERTY=VALUE"; on failure returns false and says why in *error. */
bool parse_property_override(const std::string &spec, PropertyOverride *out, std::string *error);

/* The launch description in a launch file's text: whole-line `#` comments and blank lines go,
 * a shell-style `\` at the end of a line joins it to the next, lines are joined with spaces.
 * (A `#` inside a line is left alone: it may belong to a property value.) */
std::string strip_launch_comments(const std::string &text);

/* Sets each override on the element of that name anywhere inside `bin`. Fails — and sets nothing
 * more — on an unknown element, an unknown or read-only property, or a value that does not parse. */
bool apply_property_overrides(GstBin *bin, const std::vector<PropertyOverride> &overrides,
                              std::string *error);

/* Builds a pipeline from a launch description (no comments) and applies the overrides.
 * Any element that cannot be made or linked is an error (GST_PARSE_FLAG_FATAL_ERRORS); missing
 * elements are named in *error. Returns a floating-free reference to a GstPipeline, or nullptr. */
GstElement *parse_launch_description(const std::string &description,
                                     const std::vector<PropertyOverride> &overrides, std::string *error);

/* Reads `path`, strips its comments and does parse_launch_description(). */
GstElement *load_launch_file(const std::string &path, const std::vector<PropertyOverride> &overrides,
                             std::string *error);

}  // namespace clawvoice::launcher
