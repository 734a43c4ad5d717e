#include "gateway/route_table.hpp"

namespace ipsecgw::gateway {

std::optional<RouteResult> RouteTable::lookup(const net::IpAddress& dst) const
{
    const Route* best = nullptr;
    for (const Route& r : routes_) {
        if (r.prefix.addr.family != dst.family || !r.prefix.contains(dst))
            continue;
        if (!best || r.prefix.len >= best->prefix.len)
            best = &r;
    }
    if (!best)
        return std::nullopt;
    return RouteResult{best->port, best->via ? *best->via : dst};
}

std::optional<MacAddress> NeighbourTable::resolve(uint16_t port, const net::IpAddress& next_hop) const
{
    const Neighbour* fallback = nullptr;
    for (const Neighbour& n : entries_) {
        if (n.port != port)
            continue;
        if (n.address && *n.address == next_hop)
            return n.mac;
        if (!n.address)
            fallback = &n;
    }
    if (fallback)
        return fallback->mac;
    return std::nullopt;
}

}  // namespace ipsecgw::gateway
