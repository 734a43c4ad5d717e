// Inbound SAD: SPI -> SA slot. An open-addressing table built once on the
// control side and never written afterwards, so workers read it without locks
// or atomics; a new table replaces it by publishing a new pointer.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace ipsecgw::dataplane {

class SadTable {
public:
    static constexpr uint32_t kNone = UINT32_MAX;

    // entries: (SPI, slot). SPIs must be distinct.
    explicit SadTable(const std::vector<std::pair<uint32_t, uint32_t>>& entries);

    uint32_t find(uint32_t spi) const
    {
        for (uint32_t i = hash(spi) & mask_;; i = (i + 1) & mask_) {
            const Entry& e = table_[i];
            if (e.slot == kNone || e.spi == spi)
                return e.slot;  // kNone when the probe reached an empty cell
        }
    }

private:
    struct Entry {
        uint32_t spi = 0;
        uint32_t slot = kNone;
    };
    // SPIs can be sequential or random; a multiplicative hash spreads both.
    static uint32_t hash(uint32_t spi) { return (spi * 0x9e3779b1u) >> 7; }

    std::vector<Entry> table_;
    uint32_t mask_ = 0;
};

}  // namespace ipsecgw::dataplane
