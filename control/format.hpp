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

}  // namespace ipsecgw::control
