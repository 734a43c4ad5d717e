// Everything a worker reads while forwarding, built from a validated
// gateway::GatewayConfig: live SAs, compiled SPD, inbound SAD, routes, port
// roles and the gateway's own addresses. Workers only read it. The control
// thread changes a running gateway by building a new version (sharing the SA
// objects, and the SPD or routes when they did not change) and publishing it
// with one pointer swap; the old version is freed after an RCU grace period
// (control/rcu.hpp). An SA keeps its slot (its index in `sas`, which indexes
// the per-lcore SA counters) for its whole life; deleted SAs leave empty slots.
#pragma once

#include <rte_ether.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "dataplane/lcore_counters.hpp"
#include "dataplane/route_lookup.hpp"
#include "dataplane/sad_table.hpp"
#include "dataplane/spd_classifier.hpp"
#include "esp/sa.hpp"
#include "gateway/gateway_config.hpp"
#include "gateway/inner_check.hpp"

namespace ipsecgw::dataplane {

struct SaSlot {
    std::shared_ptr<esp::Sa> sa;  // null: free slot (shared by the table versions that hold it)
    std::string name;
    gateway::SaLifetime lifetime;
    bool has_inbound_policy = false;  // inbound: some policy names this SA (else its selectors are "any")
    // Inbound: the worker that owns the replay window. ESP for this SA that
    // reaches another worker is handed to the owner through its ring.
    uint16_t owner = 0;
    // Outbound tunnel SAs: the next hop of the tunnel destination, resolved
    // once per table version (routes and neighbours are part of the version,
    // so it cannot go stale). Null: not resolvable now, the worker routes
    // each packet. The source MAC is read from ports[] at send time, since
    // the first version gets its port MACs after it is built.
    const rte_ether_addr* next_mac = nullptr;
    uint16_t next_port = 0;
    // Inbound: the inner-selector check as prefix compares where that is
    // exact (gateway/inner_check.hpp); not valid: the SPD decides.
    gateway::InnerCheck4 inner4;
};

struct CompiledPolicy {
    gateway::PolicyAction action = gateway::PolicyAction::Discard;
    uint32_t sa_slot = SadTable::kNone;
};

struct PortInfo {
    bool enabled = false;
    gateway::PortRole role = gateway::PortRole::Protected;
    rte_ether_addr mac{};
    std::vector<uint32_t> addresses4;  // network order, for ARP
    std::vector<std::array<uint8_t, 16>> addresses6;  // for neighbour discovery
};

// How to build a later version of the tables.
struct TablesBuild {
    const struct GatewayTables* previous = nullptr;  // SAs (same slot, direction, SPI), SPD, routes, port MACs
    const std::vector<uint32_t>* sa_slots = nullptr;  // slot of cfg.sas[i] (default: i)
    bool rebuild_spd = true;
    bool rebuild_routes = true;
    uint16_t workers = 1;  // new inbound SAs get owner slot % workers
};

class GatewayTables {
public:
    // Creates the SAs from cfg (whose keys are wiped afterwards) and compiles
    // the tables. Needs EAL (rte_acl, rte_lpm). Throws std::runtime_error.
    GatewayTables(gateway::GatewayConfig& cfg, const std::string& name);
    GatewayTables(gateway::GatewayConfig& cfg, const std::string& name, const TablesBuild& how);

    // Local-address test for ESP: true when dst (network order) is ours, or
    // when no local address of that family is configured (ipsec-secgw files
    // with transport-mode SAs name none).
    bool esp_for_us4(const uint8_t* dst) const;
    bool esp_for_us6(const uint8_t* dst) const;

    std::vector<SaSlot> sas;
    std::vector<CompiledPolicy> policies;  // index = gateway::Spd policy index
    gateway::PolicyAction default_action = gateway::PolicyAction::Discard;
    std::shared_ptr<SpdClassifier> spd;
    std::unique_ptr<SadTable> sad;
    std::shared_ptr<RouteLookup> routes;
    PortInfo ports[kMaxPorts];

private:
    std::vector<uint32_t> local4_;
    std::vector<std::array<uint8_t, 16>> local6_;
};

}  // namespace ipsecgw::dataplane
