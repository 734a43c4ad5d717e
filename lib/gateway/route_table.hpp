// Routing model: longest-prefix match for IPv4 and IPv6 to (port, next hop),
// and the static neighbour table that gives the next hop's MAC address. The
// dataplane compiles the same data into rte_lpm/rte_lpm6; this model is its
// reference.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "gateway/config_error.hpp"
#include "gateway/value_parsers.hpp"
#include "net/ip_address.hpp"

namespace ipsecgw::gateway {

struct Route {
    net::IpPrefix prefix;
    uint16_t port = 0;
    std::optional<net::IpAddress> via;  // gateway; none = destination is on the link
    SourceLocation where;
};

// A static neighbour. Without an address it is the port's default neighbour
// (ipsec-secgw's `neigh port N MAC`): every packet leaving that port goes to it
// unless a more specific neighbour entry exists.
struct Neighbour {
    std::optional<net::IpAddress> address;
    uint16_t port = 0;
    MacAddress mac{};
    SourceLocation where;
};

struct RouteResult {
    uint16_t port = 0;
    net::IpAddress next_hop;  // via, or the destination itself
};

class RouteTable {
public:
    void add(Route r) { routes_.push_back(std::move(r)); }
    const std::vector<Route>& routes() const { return routes_; }
    // Longest prefix wins; among equal prefixes the last one added (a later
    // line overrides an earlier one).
    std::optional<RouteResult> lookup(const net::IpAddress& dst) const;

private:
    std::vector<Route> routes_;
};

class NeighbourTable {
public:
    void add(Neighbour n) { entries_.push_back(std::move(n)); }
    const std::vector<Neighbour>& entries() const { return entries_; }
    // The MAC for next_hop out of port: exact entry first, then the port default.
    std::optional<MacAddress> resolve(uint16_t port, const net::IpAddress& next_hop) const;

private:
    std::vector<Neighbour> entries_;
};

}  // namespace ipsecgw::gateway
