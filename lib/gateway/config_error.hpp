// A configuration error that points at its source: "file:line: reason".
#pragma once

#include <stdexcept>
#include <string>

namespace ipsecgw::gateway {

// Where a configuration item came from, kept for error messages and display.
struct SourceLocation {
    std::string file;
    unsigned line = 0;
    // line 0: the whole file (or a command-line option), no line number.
    std::string to_string() const { return line ? file + ":" + std::to_string(line) : file; }
};

class ConfigError : public std::runtime_error {
public:
    ConfigError(const SourceLocation& where, const std::string& reason)
        : std::runtime_error(where.to_string() + ": " + reason), where_(where), reason_(reason) {}
    const SourceLocation& where() const { return where_; }
    const std::string& reason() const { return reason_; }

private:
    SourceLocation where_;
    std::string reason_;
};

}  // namespace ipsecgw::gateway
