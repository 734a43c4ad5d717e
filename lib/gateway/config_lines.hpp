// Splits a configuration text into logical lines of whitespace-separated
// tokens: '#' starts a comment, a trailing '\' joins the next physical line
// (without inserting a space, as ipsec-secgw does). Keeps the first physical
// line number of each logical line. The text may hold key material, so the
// buffers are wiped on destruction.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "gateway/config_error.hpp"

namespace ipsecgw::gateway {

struct ConfigLine {
    SourceLocation where;
    std::vector<std::string_view> tokens;  // views into ConfigLines' storage
};

class ConfigLines {
public:
    ConfigLines(std::string file_name, std::string text);
    ~ConfigLines();
    ConfigLines(const ConfigLines&) = delete;
    ConfigLines& operator=(const ConfigLines&) = delete;

    const std::vector<ConfigLine>& lines() const { return lines_; }

private:
    std::string text_;
    std::vector<std::string> joined_;  // one string per logical line
    std::vector<ConfigLine> lines_;
};

// Reads a whole file; throws ConfigError(file:0) when it cannot be read.
std::string read_config_file(const std::string& path);
// Overwrites a string's characters before it is released.
void wipe_string(std::string& s);

}  // namespace ipsecgw::gateway
