// Aggregates the per-lcore counters on read and prints them: per port, per
// SA, and every non-zero drop reason by name. Never prints key material.
#pragma once

#include <cstdio>
#include <vector>

#include "dataplane/gateway_tables.hpp"
#include "dataplane/lcore_counters.hpp"

namespace ipsecgw::dataplane {

struct SaTotals {
    uint64_t packets = 0, bytes = 0;
    uint64_t drops[kSaDropCount] = {};  // by SaDrop
    uint64_t drops_total() const;
};

SaTotals sa_totals(const std::vector<LcoreCounters*>& lcores, uint32_t slot);
void print_counters(FILE* out, const GatewayTables& t, const std::vector<LcoreCounters*>& lcores, const char* title);

}  // namespace ipsecgw::dataplane
