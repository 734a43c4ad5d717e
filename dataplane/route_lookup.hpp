// Forwarding lookup: destination -> (output port, destination MAC), with
// rte_lpm/rte_lpm6 for the routes and a second pair of LPM tables holding the
// static neighbours as host routes, so resolving an on-link destination is
// one more LPM lookup rather than a hash or a lock.
#pragma once

#include <rte_ether.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/route_table.hpp"

namespace ipsecgw::dataplane {

struct NextHop {
    uint16_t port = 0;
    bool resolved = false;  // mac is known for every destination through this hop
    bool on_link = false;   // no gateway: a neighbour entry for the destination applies
    rte_ether_addr mac{};
};

class RouteLookup {
public:
    RouteLookup(const gateway::RouteTable& routes, const gateway::NeighbourTable& neighbours,
                const std::string& name);
    ~RouteLookup();
    RouteLookup(const RouteLookup&) = delete;
    RouteLookup& operator=(const RouteLookup&) = delete;

    // dst in network byte order. False: no route or no neighbour (*no_route says which).
    // Inline: called once per forwarded packet.
    bool lookup4(const uint8_t* dst, uint16_t* port, const rte_ether_addr** mac, bool* no_route) const
    {
        uint32_t hop, neigh = 0;
        uint32_t a = host4(dst);
        if (rte_lpm_lookup(routes4_, a, &hop) != 0) {
            *no_route = true;
            return false;
        }
        // Only an on-link route consults the neighbour entries: a route
        // through a gateway needs no second lookup.
        bool have_neigh = hops_[hop].on_link && !neighbours_.empty() && rte_lpm_lookup(neigh4_, a, &neigh) == 0;
        return finish(hop, have_neigh, neigh, port, mac, no_route);
    }
    bool lookup6(const uint8_t* dst, uint16_t* port, const rte_ether_addr** mac, bool* no_route) const
    {
        uint32_t hop, neigh = 0;
        if (rte_lpm6_lookup(routes6_, dst, &hop) != 0) {
            *no_route = true;
            return false;
        }
        bool have_neigh = hops_[hop].on_link && !neighbours_.empty() && rte_lpm6_lookup(neigh6_, dst, &neigh) == 0;
        return finish(hop, have_neigh, neigh, port, mac, no_route);
    }

private:
    // rte_lpm keys IPv4 addresses in host order.
    static uint32_t host4(const uint8_t* b)
    {
        return uint32_t(b[0]) << 24 | uint32_t(b[1]) << 16 | uint32_t(b[2]) << 8 | b[3];
    }
    bool finish(uint32_t hop, bool have_neigh, uint32_t neigh, uint16_t* port, const rte_ether_addr** mac,
                bool* no_route) const
    {
        const NextHop& h = hops_[hop];
        *port = h.port;
        *no_route = false;
        // On-link route: a static entry for the destination itself wins.
        if (h.on_link && have_neigh && neighbours_[neigh].port == h.port) {
            *mac = &neighbours_[neigh].mac;
            return true;
        }
        if (h.resolved) {
            *mac = &h.mac;
            return true;
        }
        return false;
    }

    rte_lpm* routes4_ = nullptr;
    rte_lpm6* routes6_ = nullptr;
    rte_lpm* neigh4_ = nullptr;
    rte_lpm6* neigh6_ = nullptr;
    std::vector<NextHop> hops_;
    std::vector<NextHop> neighbours_;  // host entries: port + mac
};

}  // namespace ipsecgw::dataplane
