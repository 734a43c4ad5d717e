// Counters written by exactly one worker lcore and read by the control side.
// Each lcore's block is cache-line aligned so workers never share a line; a
// counter is a relaxed atomic so the reader sees whole values, while the
// writer's increment compiles to a plain add (no lock prefix).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/drop_reason.hpp"

namespace ipsecgw::dataplane {

constexpr unsigned kMaxPorts = 32;

struct Counter {
    std::atomic<uint64_t> v{0};
    void add(uint64_t n) { v.store(v.load(std::memory_order_relaxed) + n, std::memory_order_relaxed); }
    uint64_t get() const { return v.load(std::memory_order_relaxed); }
};

struct alignas(64) PortCounters {
    Counter rx_packets, rx_bytes, tx_packets, tx_bytes;
};

struct alignas(64) SaCounters {
    Counter packets, bytes;  // successfully processed (plaintext bytes)
    // Drops of packets already tied to this SA, by SaDrop bucket. Written
    // only on the drop path: a separate cache line from packets/bytes, so the
    // forwarding path never touches it.
    alignas(64) Counter drops[kSaDropCount];

    void drop(Drop d) { drops[static_cast<unsigned>(sa_drop_of(d))].add(1); }
    // Zeroes the slot for its next SA (no worker writes it any more).
    void clear()
    {
        packets.v.store(0, std::memory_order_relaxed);
        bytes.v.store(0, std::memory_order_relaxed);
        for (auto& d : drops)
            d.v.store(0, std::memory_order_relaxed);
    }
};

struct alignas(64) LcoreCounters {
    PortCounters ports[kMaxPorts];
    Counter drops[kDropCount];
    std::unique_ptr<SaCounters[]> sas;  // indexed by SA slot

    explicit LcoreCounters(size_t n_sas) : sas(new SaCounters[n_sas]) {}
    void drop(Drop d, uint64_t n = 1) { drops[static_cast<unsigned>(d)].add(n); }
};

}  // namespace ipsecgw::dataplane
