// Reader for DPDK ipsec-secgw configuration files (`sp`, `sa`, `rt`, `neigh`
// lines), so existing setups run unchanged. Ports and their roles come from the
// command line there (-p/-u), not from the file. Anything ipsecgw cannot do
// exactly as written is an error naming the line, never silently different.
#pragma once

#include <string>
#include <vector>

#include "gateway/gateway_config.hpp"

namespace ipsecgw::gateway {

struct SecgwOptions {
    uint32_t replay_window = 0;  // -w (ipsec-secgw's default: off)
    bool esn = false;            // -e
};

// Parses text that came from `file_name`. Throws ConfigError("file:line: reason").
// warnings receives non-fatal notes (options accepted and ignored).
GatewayConfig parse_secgw_config(const std::string& file_name, std::string text, const SecgwOptions& opts,
                                 std::vector<std::string>* warnings = nullptr);
GatewayConfig load_secgw_config(const std::string& path, const SecgwOptions& opts,
                                std::vector<std::string>* warnings = nullptr);

}  // namespace ipsecgw::gateway
