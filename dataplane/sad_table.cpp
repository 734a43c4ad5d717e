#include "dataplane/sad_table.hpp"

namespace ipsecgw::dataplane {

SadTable::SadTable(const std::vector<std::pair<uint32_t, uint32_t>>& entries)
{
    uint32_t cap = 16;
    while (cap < entries.size() * 2 + 1)  // load <= 1/2 and at least one empty cell
        cap *= 2;
    table_.assign(cap, Entry{});
    mask_ = cap - 1;
    for (const auto& [spi, slot] : entries) {
        uint32_t i = hash(spi) & mask_;
        while (table_[i].slot != kNone && table_[i].spi != spi)
            i = (i + 1) & mask_;
        table_[i] = {spi, slot};
    }
}

}  // namespace ipsecgw::dataplane
