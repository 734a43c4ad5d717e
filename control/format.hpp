// Human-readable rendering of control-protocol results (gwctl without --json).
// Generic, so a command added to the gateway prints sensibly without gwctl
// changes: scalar members become "name: value" lines, arrays of objects become
// aligned tables (columns in the order the gateway wrote the fields, numbers
// right-aligned), nested objects are indented sections.
#pragma once

#include <string>

#include "control/json.hpp"

namespace ipsecgw::control {

std::string render_table(const Json& rows);
std::string render_human(const Json& result);
std::string scalar_text(const Json& v);
// show.ike: one aligned table of IKE SAs (one row per connection without
// one), then one of CHILD_SAs.
std::string render_ike(const Json& result);

}  // namespace ipsecgw::control
