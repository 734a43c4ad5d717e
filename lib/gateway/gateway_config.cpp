#include "gateway/gateway_config.hpp"

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace ipsecgw::gateway {

const PortConfig* GatewayConfig::port(uint16_t id) const
{
    for (const auto& p : ports)
        if (p.id == id)
            return &p;
    return nullptr;
}

const SaEntry* GatewayConfig::find_sa(esp::Direction dir, uint32_t spi) const
{
    for (const auto& s : sas)
        if (s.sa.direction == dir && s.sa.spi == spi)
            return &s;
    return nullptr;
}

std::vector<net::IpAddress> GatewayConfig::local_addresses() const
{
    std::vector<net::IpAddress> out;
    auto add = [&](const net::IpAddress& a) {
        if (a.family != net::Family::None && std::find(out.begin(), out.end(), a) == out.end())
            out.push_back(a);
    };
    for (const auto& p : ports)
        for (const auto& a : p.addresses)
            add(a);
    for (const auto& s : sas)
        if (s.sa.direction == esp::Direction::Inbound && s.sa.mode == esp::Mode::Tunnel)
            add(s.sa.tunnel_dst);
    return out;
}

void GatewayConfig::validate() const
{
    for (size_t i = 0; i < ports.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (ports[i].id == ports[j].id)
                throw ConfigError(ports[i].where, "port " + std::to_string(ports[i].id) +
                                  " already defined at " + ports[j].where.to_string());
    // (direction, SPI) -> index: a live gateway validates every change, so
    // this must stay linear in the number of SAs (10,000 and more).
    std::unordered_map<uint64_t, size_t> seen;
    seen.reserve(sas.size());
    auto sa_key = [](esp::Direction d, uint32_t spi) {
        return (static_cast<uint64_t>(d == esp::Direction::Inbound) << 32) | spi;
    };
    for (size_t i = 0; i < sas.size(); ++i) {
        const auto& s = sas[i];
        if (s.sa.spi < 256 && s.sa.direction == esp::Direction::Inbound && s.sa.spi == 0)
            throw ConfigError(s.where, "SPI 0 is reserved (RFC 4303 §2.1)");
        auto [it, fresh] = seen.emplace(sa_key(s.sa.direction, s.sa.spi), i);
        if (!fresh)
            throw ConfigError(s.where, "SA with SPI " + std::to_string(s.sa.spi) +
                              " in this direction already defined at " + sas[it->second].where.to_string());
        if (s.sa.mode == esp::Mode::Tunnel &&
            (s.sa.tunnel_src.family == net::Family::None || s.sa.tunnel_dst.family == net::Family::None))
            throw ConfigError(s.where, "tunnel mode SA needs both tunnel addresses (src and dst)");
        if (s.sa.mode == esp::Mode::Tunnel && s.sa.tunnel_src.family != s.sa.tunnel_dst.family)
            throw ConfigError(s.where, "tunnel src and dst are of different address families");
        const auto& l = s.lifetime;
        if ((l.hard_packets && l.soft_packets > l.hard_packets) || (l.hard_bytes && l.soft_bytes > l.hard_bytes) ||
            (l.hard_seconds && l.soft_seconds > l.hard_seconds))
            throw ConfigError(s.where, "soft lifetime exceeds hard lifetime");
    }
    for (const auto& p : spd.policies()) {
        if (p.action != PolicyAction::Protect)
            continue;
        if (!seen.count(sa_key(p.direction, p.spi)))
            throw ConfigError(p.where, std::string("policy protects with SA ") + std::to_string(p.spi) +
                              ", but no " + (p.direction == esp::Direction::Inbound ? "inbound" : "outbound") +
                              " SA with that SPI is defined");
    }
    for (const auto& r : routes.routes())
        if (!ports.empty() && !port(r.port))
            throw ConfigError(r.where, "route to port " + std::to_string(r.port) + ", which is not configured");
    for (const auto& n : neighbours.entries())
        if (!ports.empty() && !port(n.port))
            throw ConfigError(n.where, "neighbour on port " + std::to_string(n.port) + ", which is not configured");
}

void GatewayConfig::wipe_keys()
{
    // Done here rather than through SaConfig::wipe() so this model stays free
    // of the ESP library's objects.
    for (auto& s : sas) {
        explicit_bzero(s.sa.key.data(), s.sa.key.size());
        explicit_bzero(s.sa.salt.data(), s.sa.salt.size());
    }
}

}  // namespace ipsecgw::gateway
