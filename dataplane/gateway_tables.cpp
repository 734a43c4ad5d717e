#include "dataplane/gateway_tables.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <unordered_map>

namespace ipsecgw::dataplane {

GatewayTables::GatewayTables(gateway::GatewayConfig& cfg, const std::string& name)
    : GatewayTables(cfg, name, TablesBuild{})
{
}

GatewayTables::GatewayTables(gateway::GatewayConfig& cfg, const std::string& name, const TablesBuild& how)
{
    std::vector<std::pair<uint32_t, uint32_t>> inbound;
    const GatewayTables* prev = how.previous;
    auto slot_for = [&](size_t i) { return how.sa_slots ? (*how.sa_slots)[i] : static_cast<uint32_t>(i); };
    uint32_t nslots = 0;
    for (size_t i = 0; i < cfg.sas.size(); ++i)
        nslots = std::max(nslots, slot_for(i) + 1);
    sas.resize(nslots);
    for (size_t i = 0; i < cfg.sas.size(); ++i) {
        auto& e = cfg.sas[i];
        uint32_t slot = slot_for(i);
        SaSlot& s = sas[slot];
        if (s.sa)
            throw std::runtime_error("internal error: two SAs in slot " + std::to_string(slot));
        const SaSlot* old = prev && slot < prev->sas.size() ? &prev->sas[slot] : nullptr;
        if (old && old->sa && old->sa->direction() == e.sa.direction && old->sa->spi() == e.sa.spi) {
            s.sa = old->sa;  // the same live SA: sequence numbers, replay window and state carry on
            s.owner = old->owner;
        } else {
            s.sa = esp::Sa::create(e.sa);
            if (!s.sa)
                throw std::runtime_error(e.where.to_string() + ": the ESP engine refused SA '" + e.name + "'");
            s.owner = how.workers > 1 ? static_cast<uint16_t>(slot % how.workers) : 0;
        }
        s.name = e.name;
        s.lifetime = e.lifetime;
        if (e.sa.direction == esp::Direction::Inbound)
            inbound.emplace_back(e.sa.spi, slot);
    }
    cfg.wipe_keys();
    // (direction, SPI) -> slot, so that compiling N policies against N SAs
    // stays linear (IKE installs two policies per CHILD_SA).
    std::unordered_map<uint64_t, uint32_t> slot_by_spi;
    slot_by_spi.reserve(cfg.sas.size());
    auto sa_key = [](esp::Direction d, uint32_t spi) {
        return (static_cast<uint64_t>(d == esp::Direction::Inbound) << 32) | spi;
    };
    for (uint32_t i = 0; i < sas.size(); ++i)
        if (sas[i].sa)
            slot_by_spi.emplace(sa_key(sas[i].sa->direction(), sas[i].sa->spi()), i);
    auto slot_of = [&](esp::Direction d, uint32_t spi) -> uint32_t {
        auto it = slot_by_spi.find(sa_key(d, spi));
        return it == slot_by_spi.end() ? SadTable::kNone : it->second;
    };
    for (const auto& p : cfg.spd.policies()) {
        CompiledPolicy c;
        c.action = p.action;
        if (p.action == gateway::PolicyAction::Protect) {
            c.sa_slot = slot_of(p.direction, p.spi);
            if (c.sa_slot == SadTable::kNone)
                throw std::runtime_error(p.where.to_string() + ": policy refers to a missing SA");
            if (p.direction == esp::Direction::Inbound)
                sas[c.sa_slot].has_inbound_policy = true;
        }
        policies.push_back(c);
    }
    {
        std::vector<uint32_t> sa_of_policy(policies.size());
        for (size_t i = 0; i < policies.size(); ++i)
            sa_of_policy[i] = policies[i].sa_slot;  // kNone (out of range) for non-PROTECT
        std::vector<gateway::InnerCheck4> checks = gateway::inner_checks(cfg.spd, sa_of_policy, sas.size());
        for (size_t i = 0; i < sas.size(); ++i)
            sas[i].inner4 = checks[i];
    }
    default_action = cfg.spd.default_action;
    if (prev && !how.rebuild_spd)
        spd = prev->spd;
    else
        spd = std::make_shared<SpdClassifier>(cfg.spd, name + "spd");
    sad = std::make_unique<SadTable>(inbound);
    if (prev && !how.rebuild_routes)
        routes = prev->routes;
    else
        routes = std::make_shared<RouteLookup>(cfg.routes, cfg.neighbours, name);
    for (const auto& a : cfg.local_addresses()) {
        if (a.is_v4()) {
            uint32_t v;
            std::memcpy(&v, a.bytes.data(), 4);
            local4_.push_back(v);
        } else {
            local6_.push_back(a.bytes);
        }
    }
    for (const auto& p : cfg.ports) {
        if (p.id >= kMaxPorts)
            throw std::runtime_error(p.where.to_string() + ": port id above " + std::to_string(kMaxPorts - 1));
        PortInfo& pi = ports[p.id];
        pi.enabled = true;
        if (prev)
            pi.mac = prev->ports[p.id].mac;
        pi.role = p.role;
        for (const auto& a : p.addresses)
            if (a.is_v4()) {
                uint32_t v;
                std::memcpy(&v, a.bytes.data(), 4);
                pi.addresses4.push_back(v);
            } else {
                pi.addresses6.push_back(a.bytes);
            }
    }
    // Outbound tunnel SAs always send to the same outer destination.
    for (SaSlot& s : sas) {
        if (!s.sa || s.sa->direction() != esp::Direction::Outbound || s.sa->mode() != esp::Mode::Tunnel)
            continue;
        const auto& dst = s.sa->config().tunnel_dst;
        uint16_t port = 0;
        const rte_ether_addr* mac = nullptr;
        bool no_route = false;
        bool found = dst.is_v4() ? routes->lookup4(dst.bytes.data(), &port, &mac, &no_route)
                                 : routes->lookup6(dst.bytes.data(), &port, &mac, &no_route);
        if (found && port < kMaxPorts && ports[port].enabled) {
            s.next_mac = mac;
            s.next_port = port;
        }
    }
}

bool GatewayTables::esp_for_us4(const uint8_t* dst) const
{
    if (local4_.empty())
        return true;
    uint32_t v;
    std::memcpy(&v, dst, 4);
    for (uint32_t a : local4_)
        if (a == v)
            return true;
    return false;
}

bool GatewayTables::esp_for_us6(const uint8_t* dst) const
{
    if (local6_.empty())
        return true;
    for (const auto& a : local6_)
        if (std::memcmp(a.data(), dst, 16) == 0)
            return true;
    return false;
}

}  // namespace ipsecgw::dataplane
