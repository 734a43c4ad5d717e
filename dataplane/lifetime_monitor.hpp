// SA lifetimes (RFC 4301 §4.4.2.1) enforced from the control side: it sums
// the workers' per-SA counters periodically; a soft limit raises an event
// (printed once, and passed to the listener: IKE rekeying hooks in there), a
// hard limit kills the SA so the ESP engine refuses it. Workers never check
// lifetimes per packet, so a hard byte/packet limit may be overshot by what
// passes in one polling period.
// Sequence-number events (soft margin, exhaustion) come two ways: the
// workers post them on ControlChannel::events as soon as the engine flags an
// SA, and every poll() also looks at the same flags; the listener hears each
// event once per SA either way.
// It follows the tables the workers use (a pointer the control thread swaps);
// an SA's age counts from when the monitor first saw it in its slot.
#pragma once

#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <vector>

#include "dataplane/control_channel.hpp"
#include "dataplane/gateway_tables.hpp"
#include "dataplane/lcore_counters.hpp"

namespace ipsecgw::dataplane {

enum class LifetimeEvent : uint8_t {
    SoftReached,   // soft byte/packet/time lifetime: time to rekey
    HardReached,   // hard lifetime: the SA has been stopped
    SeqSoft,       // outbound: fewer than seq_soft_margin sequence numbers left
    SeqExhausted,  // outbound: no sequence numbers left, the SA sends nothing more
};

const char* lifetime_event_name(LifetimeEvent e);

class LifetimeMonitor {
public:
    // Called on the control thread, from poll(), once per SA and event.
    // `slot` is the SA's index in GatewayTables::sas.
    using Listener = std::function<void(const SaSlot&, uint32_t slot, LifetimeEvent)>;

    LifetimeMonitor(const std::atomic<const GatewayTables*>& live, const std::vector<LcoreCounters*>& lcores,
                    FILE* log);
    void set_listener(Listener l) { listener_ = std::move(l); }
    // Acquires from the workers (WorkerEventType::Acquire): the index of the
    // ACQUIRE policy the traffic matched, in the tables the workers use.
    using AcquireListener = std::function<void(uint32_t policy_index)>;
    void set_acquire_listener(AcquireListener l) { acquire_listener_ = std::move(l); }
    // The workers' event ring (ControlChannel::events), drained by poll().
    void set_event_ring(rte_ring* events) { events_ = events; }
    void poll();

private:
    struct State {
        const esp::Sa* who = nullptr;  // the SA this state belongs to (slots are reused)
        std::chrono::steady_clock::time_point since;
        bool soft_reported = false;
        bool hard_reached = false;
        bool seq_soft_reported = false;
        bool seq_exhausted_reported = false;
    };
    State& state_of(const GatewayTables& t, uint32_t slot, std::chrono::steady_clock::time_point now);
    void report(const SaSlot& s, uint32_t slot, State& st, LifetimeEvent e, const char* detail);
    void drain_events(const GatewayTables& t, std::chrono::steady_clock::time_point now);

    const std::atomic<const GatewayTables*>& live_;
    const std::vector<LcoreCounters*>& lcores_;
    FILE* log_;
    std::vector<State> state_;
    Listener listener_;
    AcquireListener acquire_listener_;
    rte_ring* events_ = nullptr;
};

}  // namespace ipsecgw::dataplane
