// Reader for ipsecgw's own configuration format: one statement per line,
// keyword first (`port`, `default-policy`, `key-file`, `sa`, `policy`, `route`,
// `neighbour`); see config/README.md for the grammar and examples.
//
// Key material: a file with inline keys must not be world-readable; keys can
// instead live in a separate key file (`key-file PATH`, lines `NAME HEX`),
// which must not be world-readable either.
#pragma once

#include <string>

#include "gateway/gateway_config.hpp"

namespace ipsecgw::gateway {

// `dir` resolves a relative key-file path; `world_readable` is whether the
// text's file may be read by anyone (inline keys are refused then).
GatewayConfig parse_native_config(const std::string& file_name, std::string text, const std::string& dir,
                                  bool world_readable);
GatewayConfig load_native_config(const std::string& path);

// Whether anyone may read the file (o+r); throws ConfigError if it cannot be stat()ed.
bool is_world_readable(const std::string& path);

}  // namespace ipsecgw::gateway
