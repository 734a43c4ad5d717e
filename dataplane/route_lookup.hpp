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
    bool lookup4(const uint8_t* dst, uint16_t* port, const rte_ether_addr** mac, bool* no_route) const;
    bool lookup6(const uint8_t* dst, uint16_t* port, const rte_ether_addr** mac, bool* no_route) const;

private:
    bool finish(uint32_t hop, bool have_neigh, uint32_t neigh, uint16_t* port, const rte_ether_addr** mac,
                bool* no_route) const;

    rte_lpm* routes4_ = nullptr;
    rte_lpm6* routes6_ = nullptr;
    rte_lpm* neigh4_ = nullptr;
    rte_lpm6* neigh6_ = nullptr;
    std::vector<NextHop> hops_;
    std::vector<NextHop> neighbours_;  // host entries: port + mac
};

}  // namespace ipsecgw::dataplane
