#include "dataplane/lifetime_monitor.hpp"

#include "dataplane/counter_report.hpp"

namespace ipsecgw::dataplane {

const char* lifetime_event_name(LifetimeEvent e)
{
    switch (e) {
    case LifetimeEvent::SoftReached: return "soft";
    case LifetimeEvent::HardReached: return "hard";
    case LifetimeEvent::SeqSoft: return "seq_soft";
    case LifetimeEvent::SeqExhausted: return "seq_exhausted";
    }
    return "unknown";
}

LifetimeMonitor::LifetimeMonitor(const std::atomic<const GatewayTables*>& live,
                                 const std::vector<LcoreCounters*>& lcores, FILE* log)
    : live_(live), lcores_(lcores), log_(log)
{
}

LifetimeMonitor::State& LifetimeMonitor::state_of(const GatewayTables& t, uint32_t slot,
                                                  std::chrono::steady_clock::time_point now)
{
    if (state_.size() < t.sas.size())
        state_.resize(t.sas.size());
    State& st = state_[slot];
    const esp::Sa* sa = t.sas[slot].sa.get();
    if (st.who != sa) {
        st = State{};
        st.who = sa;
        st.since = now;
    }
    return st;
}

void LifetimeMonitor::report(const SaSlot& s, uint32_t slot, State& st, LifetimeEvent e, const char* detail)
{
    bool* done = nullptr;
    switch (e) {
    case LifetimeEvent::SoftReached: done = &st.soft_reported; break;
    case LifetimeEvent::HardReached: done = &st.hard_reached; break;
    case LifetimeEvent::SeqSoft: done = &st.seq_soft_reported; break;
    case LifetimeEvent::SeqExhausted: done = &st.seq_exhausted_reported; break;
    }
    if (*done)
        return;
    *done = true;
    switch (e) {
    case LifetimeEvent::SoftReached:
        std::fprintf(log_, "event: SA %s (spi %u) soft lifetime reached (%s)\n", s.name.c_str(), s.sa->spi(), detail);
        break;
    case LifetimeEvent::HardReached:
        std::fprintf(log_, "event: SA %s (spi %u) hard lifetime reached (%s): stopped\n", s.name.c_str(),
                     s.sa->spi(), detail);
        break;
    case LifetimeEvent::SeqSoft:
        std::fprintf(log_, "event: SA %s (spi %u) sequence number soft limit reached\n", s.name.c_str(), s.sa->spi());
        break;
    case LifetimeEvent::SeqExhausted:
        std::fprintf(log_, "event: SA %s (spi %u) sequence numbers exhausted: stopped\n", s.name.c_str(),
                     s.sa->spi());
        break;
    }
    std::fflush(log_);
    if (listener_)
        listener_(s, slot, e);
}

// Worker events name a slot and the SPI seen then: an event for an SA that
// has since left its slot is stale and ignored.
void LifetimeMonitor::drain_events(const GatewayTables& t, std::chrono::steady_clock::time_point now)
{
    if (!events_)
        return;
    WorkerEvent ev[32];
    for (int round = 0; round < 8; ++round) {  // bounded: at most 256 per poll
        unsigned n = rte_ring_sc_dequeue_burst_elem(events_, ev, sizeof(WorkerEvent), 32, nullptr);
        for (unsigned i = 0; i < n; ++i) {
            if (ev[i].type == WorkerEventType::Acquire) {
                if (acquire_listener_ && ev[i].sa_slot < t.policies.size() &&
                    t.policies[ev[i].sa_slot].action == gateway::PolicyAction::Acquire)
                    acquire_listener_(ev[i].sa_slot);
                continue;
            }
            if (ev[i].sa_slot >= t.sas.size())
                continue;
            const SaSlot& s = t.sas[ev[i].sa_slot];
            if (!s.sa || s.sa->spi() != ev[i].spi || s.sa->direction() != esp::Direction::Outbound)
                continue;
            State& st = state_of(t, ev[i].sa_slot, now);
            report(s, ev[i].sa_slot, st,
                   ev[i].type == WorkerEventType::SeqSoft ? LifetimeEvent::SeqSoft : LifetimeEvent::SeqExhausted,
                   "");
        }
        if (n < 32)
            break;
    }
}

void LifetimeMonitor::poll()
{
    const GatewayTables& t = *live_.load(std::memory_order_acquire);
    auto now = std::chrono::steady_clock::now();
    if (state_.size() < t.sas.size())
        state_.resize(t.sas.size());
    drain_events(t, now);
    for (uint32_t i = 0; i < t.sas.size(); ++i) {
        const SaSlot& s = t.sas[i];
        if (!s.sa) {
            state_[i] = State{};
            continue;
        }
        State& st = state_of(t, i, now);
        uint64_t age = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now - st.since).count());
        if (s.sa->direction() == esp::Direction::Outbound) {
            if (s.sa->seq_soft_reached())
                report(s, i, st, LifetimeEvent::SeqSoft, "");
            if (s.sa->state() == esp::SaState::Exhausted)
                report(s, i, st, LifetimeEvent::SeqExhausted, "");
        }
        const gateway::SaLifetime& l = s.lifetime;
        if (!l.any() || st.hard_reached)
            continue;
        SaTotals tot = sa_totals(lcores_, i);
        auto over = [](uint64_t v, uint64_t limit) { return limit != 0 && v >= limit; };
        const char* soft = over(tot.packets, l.soft_packets) ? "packets"
                           : over(tot.bytes, l.soft_bytes)   ? "bytes"
                           : over(age, l.soft_seconds)       ? "seconds"
                                                             : nullptr;
        if (soft)
            report(s, i, st, LifetimeEvent::SoftReached, soft);
        const char* hard = over(tot.packets, l.hard_packets) ? "packets"
                           : over(tot.bytes, l.hard_bytes)   ? "bytes"
                           : over(age, l.hard_seconds)       ? "seconds"
                                                             : nullptr;
        if (hard) {
            s.sa->kill();
            report(s, i, st, LifetimeEvent::HardReached, hard);
        }
    }
}

}  // namespace ipsecgw::dataplane
