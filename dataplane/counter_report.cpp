#include "dataplane/counter_report.hpp"

#include <cinttypes>

namespace ipsecgw::dataplane {

SaTotals sa_totals(const std::vector<LcoreCounters*>& lcores, uint32_t slot)
{
    SaTotals t;
    for (const auto* c : lcores) {
        t.packets += c->sas[slot].packets.get();
        t.bytes += c->sas[slot].bytes.get();
        for (unsigned d = 0; d < kSaDropCount; ++d)
            t.drops[d] += c->sas[slot].drops[d].get();
    }
    return t;
}

uint64_t SaTotals::drops_total() const
{
    uint64_t n = 0;
    for (uint64_t d : drops)
        n += d;
    return n;
}

void print_counters(FILE* out, const GatewayTables& t, const std::vector<LcoreCounters*>& lcores, const char* title)
{
    std::fprintf(out, "=== %s ===\n", title);
    std::fprintf(out, "%-6s %-12s %14s %16s %14s %16s\n", "port", "role", "rx_packets", "rx_bytes", "tx_packets",
                 "tx_bytes");
    for (unsigned p = 0; p < kMaxPorts; ++p) {
        if (!t.ports[p].enabled)
            continue;
        uint64_t v[4] = {0, 0, 0, 0};
        for (const auto* c : lcores) {
            v[0] += c->ports[p].rx_packets.get();
            v[1] += c->ports[p].rx_bytes.get();
            v[2] += c->ports[p].tx_packets.get();
            v[3] += c->ports[p].tx_bytes.get();
        }
        std::fprintf(out, "%-6u %-12s %14" PRIu64 " %16" PRIu64 " %14" PRIu64 " %16" PRIu64 "\n", p,
                     t.ports[p].role == gateway::PortRole::Protected ? "protected" : "unprotected", v[0], v[1], v[2],
                     v[3]);
    }
    std::fprintf(out, "%-16s %-4s %10s %-8s %14s %16s\n", "sa", "dir", "spi", "state", "packets", "bytes");
    for (uint32_t i = 0; i < t.sas.size(); ++i) {
        const auto& s = t.sas[i];
        if (!s.sa)
            continue;
        SaTotals tot = sa_totals(lcores, i);
        const char* state = s.sa->state() == esp::SaState::Active ? "active"
                            : s.sa->state() == esp::SaState::Dead ? "dead"
                                                                  : "exhausted";
        std::fprintf(out, "%-16s %-4s %10u %-8s %14" PRIu64 " %16" PRIu64 "\n", s.name.c_str(),
                     s.sa->direction() == esp::Direction::Inbound ? "in" : "out", s.sa->spi(), state, tot.packets,
                     tot.bytes);
    }
    // Per-SA drops get their own section (5 columns) so the SA table above
    // keeps its layout for the tools that read it.
    std::fprintf(out, "sa drops:\n");
    for (uint32_t i = 0; i < t.sas.size(); ++i) {
        const auto& s = t.sas[i];
        if (!s.sa)
            continue;
        SaTotals tot = sa_totals(lcores, i);
        for (unsigned d = 0; d < kSaDropCount; ++d) {
            if (!tot.drops[d])
                continue;
            auto name = sa_drop_name(static_cast<SaDrop>(d));
            std::fprintf(out, "%-16s %-4s %10u %-24.*s %14" PRIu64 "\n", s.name.c_str(),
                         s.sa->direction() == esp::Direction::Inbound ? "in" : "out", s.sa->spi(), int(name.size()),
                         name.data(), tot.drops[d]);
        }
    }
    std::fprintf(out, "drops:\n");
    uint64_t total = 0;
    for (unsigned d = 1; d < kDropCount; ++d) {
        if (!counts_as_drop(static_cast<Drop>(d)))
            continue;
        uint64_t v = 0;
        for (const auto* c : lcores)
            v += c->drops[d].get();
        if (v) {
            auto name = drop_name(static_cast<Drop>(d));
            std::fprintf(out, "  %-26.*s %14" PRIu64 "\n", int(name.size()), name.data(), v);
            total += v;
        }
    }
    std::fprintf(out, "  %-26s %14" PRIu64 "\n", "total", total);
    uint64_t punted = 0;
    for (const auto* c : lcores)
        punted += c->drops[static_cast<unsigned>(Drop::Punted)].get();
    if (punted)
        std::fprintf(out, "to the control core:\n  %-26s %14" PRIu64 "\n", "punted", punted);
    std::fflush(out);
}

}  // namespace ipsecgw::dataplane
