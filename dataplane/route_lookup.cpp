#include "dataplane/route_lookup.hpp"

#include <rte_memory.h>

#include <cstring>
#include <stdexcept>

namespace ipsecgw::dataplane {
namespace {

rte_ether_addr to_ether(const gateway::MacAddress& m)
{
    rte_ether_addr e;
    std::memcpy(e.addr_bytes, m.data(), 6);
    return e;
}

rte_lpm* make4(const std::string& name, uint32_t n)
{
    rte_lpm_config c{};
    c.max_rules = n + 16;
    c.number_tbl8s = 256;
    rte_lpm* l = rte_lpm_create(name.c_str(), SOCKET_ID_ANY, &c);
    if (!l)
        throw std::runtime_error("rte_lpm_create failed for " + name);
    return l;
}

rte_lpm6* make6(const std::string& name, uint32_t n)
{
    rte_lpm6_config c{};
    c.max_rules = n + 16;
    c.number_tbl8s = 1024;
    rte_lpm6* l = rte_lpm6_create(name.c_str(), SOCKET_ID_ANY, &c);
    if (!l)
        throw std::runtime_error("rte_lpm6_create failed for " + name);
    return l;
}

}  // namespace

RouteLookup::RouteLookup(const gateway::RouteTable& routes, const gateway::NeighbourTable& neighbours,
                         const std::string& name)
{
    try {
        uint32_t n = static_cast<uint32_t>(routes.routes().size() + neighbours.entries().size());
        routes4_ = make4(name + "r4", n);
        routes6_ = make6(name + "r6", n);
        neigh4_ = make4(name + "n4", n);
        neigh6_ = make6(name + "n6", n);
        for (const auto& r : routes.routes()) {
            NextHop h;
            h.port = r.port;
            h.on_link = !r.via;
            // With a gateway, or with a default neighbour on the port, every
            // destination behind this route has the same MAC.
            std::optional<gateway::MacAddress> mac;
            if (r.via)
                mac = neighbours.resolve(r.port, *r.via);
            else
                for (const auto& nb : neighbours.entries())
                    if (nb.port == r.port && !nb.address)
                        mac = nb.mac;
            if (mac)
                h.resolved = true, h.mac = to_ether(*mac);
            uint32_t id = static_cast<uint32_t>(hops_.size());
            hops_.push_back(h);
            int rc = r.prefix.addr.is_v4() ? rte_lpm_add(routes4_, host4(r.prefix.addr.bytes.data()), r.prefix.len, id)
                                           : rte_lpm6_add(routes6_, r.prefix.addr.bytes.data(), r.prefix.len, id);
            if (rc != 0)
                throw std::runtime_error(r.where.to_string() + ": cannot add route " + r.prefix.to_string());
        }
        for (const auto& nb : neighbours.entries()) {
            if (!nb.address)
                continue;
            NextHop h{nb.port, true, true, to_ether(nb.mac)};
            uint32_t id = static_cast<uint32_t>(neighbours_.size());
            neighbours_.push_back(h);
            int rc = nb.address->is_v4() ? rte_lpm_add(neigh4_, host4(nb.address->bytes.data()), 32, id)
                                         : rte_lpm6_add(neigh6_, nb.address->bytes.data(), 128, id);
            if (rc != 0)
                throw std::runtime_error(nb.where.to_string() + ": cannot add neighbour");
        }
    } catch (...) {
        this->~RouteLookup();
        throw;
    }
}

RouteLookup::~RouteLookup()
{
    rte_lpm_free(routes4_), routes4_ = nullptr;
    rte_lpm6_free(routes6_), routes6_ = nullptr;
    rte_lpm_free(neigh4_), neigh4_ = nullptr;
    rte_lpm6_free(neigh6_), neigh6_ = nullptr;
}

}  // namespace ipsecgw::dataplane
