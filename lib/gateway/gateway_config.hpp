// The whole gateway configuration as parsed from a file, before anything is
// applied: ports and their roles, policies, SAs (with key material), routes and
// neighbours. Parsers fill it completely and validate() it, so a bad file is
// rejected before any of it takes effect.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "esp/sa_config.hpp"
#include "gateway/config_error.hpp"
#include "gateway/connection_config.hpp"
#include "gateway/route_table.hpp"
#include "gateway/spd.hpp"
#include "net/ip_address.hpp"

namespace ipsecgw::gateway {

enum class PortRole : uint8_t { Protected, Unprotected };

struct PortConfig {
    uint16_t id = 0;
    PortRole role = PortRole::Protected;
    std::vector<net::IpAddress> addresses;  // the gateway's own addresses on this port
    SourceLocation where;
};

// Soft limits raise an event; hard limits stop the SA. 0 = no limit.
struct SaLifetime {
    uint64_t soft_packets = 0, hard_packets = 0;
    uint64_t soft_bytes = 0, hard_bytes = 0;
    uint64_t soft_seconds = 0, hard_seconds = 0;
    bool any() const
    {
        return soft_packets || hard_packets || soft_bytes || hard_bytes || soft_seconds || hard_seconds;
    }
};

struct SaEntry {
    std::string name;
    esp::SaConfig sa;  // holds key material until wiped
    SaLifetime lifetime;
    SourceLocation where;
};

struct GatewayConfig {
    std::vector<PortConfig> ports;
    Spd spd;
    std::vector<SaEntry> sas;
    RouteTable routes;
    NeighbourTable neighbours;
    // IKEv2 connections (their PSKs and private keys wipe themselves).
    IkeConfig ike;

    GatewayConfig() = default;
    GatewayConfig(GatewayConfig&&) = default;
    GatewayConfig& operator=(GatewayConfig&&) = default;
    ~GatewayConfig() { wipe_keys(); }

    const PortConfig* port(uint16_t id) const;
    const SaEntry* find_sa(esp::Direction dir, uint32_t spi) const;
    // Addresses ESP may be sent to: port addresses plus inbound tunnel endpoints.
    std::vector<net::IpAddress> local_addresses() const;
    // Cross-checks references (policy -> SA, routes -> ports, duplicates);
    // throws ConfigError naming the offending line.
    void validate() const;
    void wipe_keys();
};

}  // namespace ipsecgw::gateway
