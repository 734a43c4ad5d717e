// SA lifetimes (RFC 4301 §4.4.2.1) enforced from the control side: it sums
// the workers' per-SA counters periodically; a soft limit raises an event
// (printed once; IKE rekeying hooks in here), a hard limit kills the SA so the
// ESP engine refuses it. Workers never check lifetimes per packet, so a hard
// byte/packet limit may be overshot by what passes in one polling period.
// It follows the tables the workers use (a pointer the control thread swaps);
// an SA's age counts from when the monitor first saw it in its slot.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdio>
#include <vector>

#include "dataplane/gateway_tables.hpp"
#include "dataplane/lcore_counters.hpp"

namespace ipsecgw::dataplane {

class LifetimeMonitor {
public:
    LifetimeMonitor(const std::atomic<const GatewayTables*>& live, const std::vector<LcoreCounters*>& lcores,
                    FILE* log);
    void poll();

private:
    struct State {
        const esp::Sa* who = nullptr;  // the SA this state belongs to (slots are reused)
        std::chrono::steady_clock::time_point since;
        bool soft_reported = false;
        bool hard_reached = false;
        bool seq_soft_reported = false;
    };
    const std::atomic<const GatewayTables*>& live_;
    const std::vector<LcoreCounters*>& lcores_;
    FILE* log_;
    std::vector<State> state_;
};

}  // namespace ipsecgw::dataplane
