// Packet tracing for `gwctl trace N`: the control thread arms a budget of N
// packets; workers record the final decision for each packet (sent out of a
// port, or dropped and why) while the budget lasts, into a ring the control
// thread drains. Off (budget 0), the cost is one relaxed load per polling round.
#pragma once

#include <rte_cycles.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <stdexcept>

namespace ipsecgw::dataplane {

struct TraceRecord {
    uint64_t tsc;
    uint16_t worker;
    uint16_t in_port;
    uint16_t out_port;   // UINT16_MAX: dropped
    uint16_t verdict;    // Drop value when dropped
    uint32_t len;
    uint8_t family;      // 4, 6, 0 (not IP)
    uint8_t proto;
    uint16_t pad;
    uint8_t src[16];
    uint8_t dst[16];
};
static_assert(sizeof(TraceRecord) == 56);

class Tracer {
public:
    static constexpr unsigned kRing = 4096;
    Tracer()
    {
        ring_ = rte_ring_create_elem("gw_trace", sizeof(TraceRecord), kRing, SOCKET_ID_ANY, RING_F_SC_DEQ);
        if (!ring_)
            throw std::runtime_error("cannot create the trace ring");
    }
    ~Tracer() { rte_ring_free(ring_); }
    Tracer(const Tracer&) = delete;
    Tracer& operator=(const Tracer&) = delete;

    // Control thread.
    void arm(int64_t n) { budget_.store(n, std::memory_order_relaxed); }
    int64_t left() const { return std::max<int64_t>(budget_.load(std::memory_order_relaxed), 0); }
    unsigned drain(TraceRecord* out, unsigned max)
    {
        return rte_ring_sc_dequeue_burst_elem(ring_, out, sizeof(TraceRecord), max, nullptr);
    }

    // Workers: armed() once per polling round, maybe_record() only then.
    bool armed() const { return budget_.load(std::memory_order_relaxed) > 0; }
    void maybe_record(const rte_mbuf* m, uint16_t worker, uint16_t out_port, uint16_t verdict)
    {
        if (budget_.load(std::memory_order_relaxed) <= 0)
            return;
        if (budget_.fetch_sub(1, std::memory_order_relaxed) <= 0)
            return;
        TraceRecord r{};
        r.tsc = rte_rdtsc();
        r.worker = worker;
        r.in_port = m->port;
        r.out_port = out_port;
        r.verdict = verdict;
        r.len = m->pkt_len;
        const uint8_t* p = rte_pktmbuf_mtod(m, const uint8_t*);
        uint32_t n = m->data_len;
        // The frame may still carry its Ethernet header or already start at IP.
        if (n >= 14 && ((p[12] == 0x08 && p[13] == 0x00) || (p[12] == 0x86 && p[13] == 0xdd)) && (p[0] >> 4) != 4 &&
            (p[0] >> 4) != 6) {
            p += 14;
            n -= 14;
        } else if (n >= 34 && ((p[12] == 0x08 && p[13] == 0x00) || (p[12] == 0x86 && p[13] == 0xdd)) &&
                   (p[14] >> 4) == ((p[12] == 0x08) ? 4 : 6)) {
            p += 14;
            n -= 14;
        }
        if (n >= 20 && (p[0] >> 4) == 4) {
            r.family = 4;
            r.proto = p[9];
            std::memcpy(r.src, p + 12, 4);
            std::memcpy(r.dst, p + 16, 4);
        } else if (n >= 40 && (p[0] >> 4) == 6) {
            r.family = 6;
            r.proto = p[6];
            std::memcpy(r.src, p + 8, 16);
            std::memcpy(r.dst, p + 24, 16);
        }
        rte_ring_mp_enqueue_elem(ring_, &r, sizeof r);  // full: the record is lost, never waits
    }

private:
    std::atomic<int64_t> budget_{0};
    rte_ring* ring_ = nullptr;
};

}  // namespace ipsecgw::dataplane
