// The gateway's control commands: what the control socket can see and do in
// a running ipsecgw. Handlers run on the control thread only (the thread that
// polls the ControlServer), so they never race with each other; they read
// worker counters (relaxed atomics, one writer each) and never block a worker.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "control/protocol.hpp"
#include "dataplane/gateway_tables.hpp"
#include "dataplane/lcore_counters.hpp"
#include "dataplane/trace.hpp"
#include "gateway/gateway_config.hpp"

namespace ipsecgw::control {

struct GatewayView {
    // The tables the workers use now, and the configuration they were built
    // from (keys wiped); both change when the control thread applies a change.
    std::function<const dataplane::GatewayTables&()> tables;
    std::function<const gateway::GatewayConfig*()> config;
    const std::vector<dataplane::LcoreCounters*>* counters = nullptr;  // one per worker
    std::vector<unsigned> worker_lcores;                                // same order as counters
    unsigned control_lcore = 0;
    bool control_is_thread = false;                                    // control runs beside a worker
    std::string config_path;
    std::atomic<bool>* stop = nullptr;                                 // set by "shutdown"
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
    std::string version = "0.1.0";
    dataplane::Tracer* tracer = nullptr;  // "trace" answers not_supported without one
};

// Registers show.*, shutdown, log-level, and the change commands (which
// answer not_supported until live updates exist).
void register_gateway_commands(Dispatcher& d, GatewayView& view);

}  // namespace ipsecgw::control
