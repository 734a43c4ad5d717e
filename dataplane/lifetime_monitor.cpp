#include "dataplane/lifetime_monitor.hpp"

#include "dataplane/counter_report.hpp"

namespace ipsecgw::dataplane {

LifetimeMonitor::LifetimeMonitor(const std::atomic<const GatewayTables*>& live,
                                 const std::vector<LcoreCounters*>& lcores, FILE* log)
    : live_(live), lcores_(lcores), log_(log)
{
}

void LifetimeMonitor::poll()
{
    const GatewayTables& t = *live_.load(std::memory_order_acquire);
    auto now = std::chrono::steady_clock::now();
    if (state_.size() < t.sas.size())
        state_.resize(t.sas.size());
    for (uint32_t i = 0; i < t.sas.size(); ++i) {
        const SaSlot& s = t.sas[i];
        State& st = state_[i];
        if (!s.sa) {
            st = State{};
            continue;
        }
        if (st.who != s.sa.get()) {
            st = State{};
            st.who = s.sa.get();
            st.since = now;
        }
        uint64_t age = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(now - st.since).count());
        if (s.sa->seq_soft_reached() && !st.seq_soft_reported) {
            st.seq_soft_reported = true;
            std::fprintf(log_, "event: SA %s (spi %u) sequence number soft limit reached\n", s.name.c_str(),
                         s.sa->spi());
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
        if (soft && !st.soft_reported) {
            st.soft_reported = true;
            std::fprintf(log_, "event: SA %s (spi %u) soft lifetime reached (%s)\n", s.name.c_str(), s.sa->spi(),
                         soft);
            std::fflush(log_);
        }
        const char* hard = over(tot.packets, l.hard_packets) ? "packets"
                           : over(tot.bytes, l.hard_bytes)   ? "bytes"
                           : over(age, l.hard_seconds)       ? "seconds"
                                                             : nullptr;
        if (hard) {
            s.sa->kill();
            st.hard_reached = true;
            std::fprintf(log_, "event: SA %s (spi %u) hard lifetime reached (%s): stopped\n", s.name.c_str(),
                         s.sa->spi(), hard);
            std::fflush(log_);
        }
    }
}

}  // namespace ipsecgw::dataplane
