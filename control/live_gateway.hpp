// Live changes to a running gateway, owned by the control thread.
//
// The control thread keeps the configuration model (gateway::GatewayConfig,
// keys wiped) and the tables the workers use. A change (sa/policy/route/
// neighbour add or delete, reload) is applied to a copy of the model, the
// copy is validated whole, a new GatewayTables version is built from it
// (sharing the live SA objects, and the SPD or routes when they did not
// change) and published with one pointer swap. Workers pick it up at their
// next polling round. The old version is retired to the RCU domain and freed
// only after every worker reported a quiescent state; an SA dropped by the
// change dies with the last version holding it (esp::Sa's destructor wipes
// its key), and its counter slot is zeroed and reused only then. Any error
// leaves the running state untouched.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "control/protocol.hpp"
#include "control/rcu.hpp"
#include "control/sa_installer.hpp"
#include "dataplane/gateway_tables.hpp"
#include "dataplane/lcore_counters.hpp"
#include "gateway/gateway_config.hpp"

namespace ipsecgw::control {

constexpr uint32_t kSaSlots = 16384;  // per-lcore SA counter slots (LcoreCounters capacity)

class LiveGateway : public SaInstaller {
public:
    using Loader = std::function<gateway::GatewayConfig()>;  // reads the configuration file again

    // initial: the first tables (built from model, whose keys are wiped).
    LiveGateway(std::unique_ptr<dataplane::GatewayTables> initial, gateway::GatewayConfig model,
                const std::vector<dataplane::LcoreCounters*>& counters, uint16_t workers, Loader reload);
    ~LiveGateway() override;  // workers must have stopped
    LiveGateway(const LiveGateway&) = delete;
    LiveGateway& operator=(const LiveGateway&) = delete;

    const std::atomic<const dataplane::GatewayTables*>& live() const { return live_; }
    const dataplane::GatewayTables& tables() const { return *live_.load(std::memory_order_relaxed); }
    const gateway::GatewayConfig& model() const { return model_; }
    RcuDomain& rcu() { return rcu_; }
    uint64_t version() const { return version_; }

    // Control loop: frees what has passed its grace period.
    void poll() { rcu_.reclaim(); }

    // Programmatic change (the IKE service): see SaInstaller.
    uint64_t apply_change(SaChange change) override;
    bool sa_counters(const std::string& name, uint64_t& packets, uint64_t& bytes) const override;

    // Registers sa.add/del, policy.add/del, route.add/del, neighbor.add/del, reload.
    void register_commands(Dispatcher& d);

private:
    struct Change;
    void apply(gateway::GatewayConfig next, std::vector<uint32_t> slots, bool rebuild_spd, bool rebuild_routes,
               std::vector<uint32_t> released);
    uint32_t take_slot();

    Json sa_add(const Request& r);
    Json sa_del(const Request& r);
    Json policy_add(const Request& r);
    Json policy_del(const Request& r);
    Json route_add(const Request& r);
    Json route_del(const Request& r);
    Json neighbor_add(const Request& r);
    Json neighbor_del(const Request& r);
    Json reload(const Request& r);

    std::vector<uint32_t> free_slots_;  // declared before rcu_: retire callbacks push here
    uint32_t next_slot_ = 0;
    const std::vector<dataplane::LcoreCounters*>& counters_;
    uint16_t workers_;
    Loader loader_;
    gateway::GatewayConfig model_;
    std::vector<uint32_t> slots_;  // slot of model_.sas[i]
    uint64_t version_ = 0;
    std::atomic<const dataplane::GatewayTables*> live_;
    RcuDomain rcu_;
};

}  // namespace ipsecgw::control
