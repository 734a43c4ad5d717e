// A worker lcore: polls its (port, queue) pairs in bursts and runs each burst
// to completion: classify, SPD, ESP, route, transmit. It owns one ESP engine
// and one TX queue on every port; it writes only its own counters.
#pragma once

#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>
#include <rte_ring.h>

#include <atomic>
#include <cstdint>
#include <vector>

#include "dataplane/control_channel.hpp"
#include "dataplane/gateway_tables.hpp"
#include "dataplane/lcore_counters.hpp"
#include "dataplane/trace.hpp"
#include "esp/esp_engine.hpp"

namespace ipsecgw::dataplane {

constexpr uint16_t kBurst = 32;

struct RxQueue {
    uint16_t port;
    uint16_t queue;
};

struct WorkerPlan {
    unsigned lcore = 0;
    uint16_t index = 0;     // position among the workers (SaSlot::owner values)
    uint16_t tx_queue = 0;  // this worker's TX queue index on every port
    std::vector<RxQueue> rx;
};

class Worker {
public:
    // handoff[i]: ring into which other workers put inbound ESP for the SAs
    // worker i owns (empty with a single worker). live: the current tables,
    // re-read once per polling round; rcu: this worker reports a quiescent
    // state (as reader plan.index) after every round, when it holds nothing
    // from the tables (null: tables never change). channel: where IKE is
    // punted and sequence-number events posted; worker 0 also sends its tx
    // packets (null: IKE is dropped as nat_traversal, no events).
    Worker(const std::atomic<const GatewayTables*>& live, WorkerPlan plan, LcoreCounters& counters,
           const std::atomic<bool>& stop, const std::vector<rte_ring*>& handoff, rte_rcu_qsbr* rcu = nullptr,
           Tracer* tracer = nullptr, const ControlChannel* channel = nullptr);
    // Polls until stop is set, then flushes what it holds.
    void run();

private:
    void handle_burst(uint16_t port, rte_mbuf** pkts, uint16_t n);
    void outbound(rte_mbuf** pkts, uint32_t n, const AclResult* res);
    void inbound_plain(rte_mbuf** pkts, uint32_t n, const AclResult* res);
    void inbound_esp(rte_mbuf** pkts, uint32_t n, bool handed_off);
    void check_inner(rte_mbuf** pkts, const uint32_t* slots, uint32_t n);
    void encrypt(rte_mbuf** pkts, esp::Sa** sas, const uint32_t* slots, uint32_t n);
    void forward(rte_mbuf* m, bool decrement_ttl);
    void send_to(rte_mbuf* m, uint16_t port, const rte_ether_addr* mac);
    void punt(rte_mbuf* m);
    void acquire(uint32_t policy_index);
    void send_control_tx();
    void report_seq_events(esp::Sa* const* sas, const uint32_t* slots, uint32_t n);
    void post_event(WorkerEventType type, esp::Sa& sa, uint32_t slot);
    bool answer_arp(uint16_t port, rte_mbuf* m);
    bool answer_neighbour_solicitation(uint16_t port, rte_mbuf* m, uint8_t* ip, uint32_t len);
    void enqueue_tx(uint16_t port, rte_mbuf* m);
    void flush_tx(uint16_t port, bool final);
    void flush_all(bool final);
    void drop(rte_mbuf* m, Drop why);
    void drop(rte_mbuf* m, Drop why, uint32_t slot);

    const std::atomic<const GatewayTables*>& live_;
    const GatewayTables* t_;
    rte_rcu_qsbr* rcu_;
    Tracer* tracer_;
    bool tracing_ = false;  // tracer_ armed, sampled once per polling round
    WorkerPlan plan_;
    LcoreCounters& c_;
    const std::atomic<bool>& stop_;
    const std::vector<rte_ring*>& handoff_;
    const ControlChannel* channel_;
    static constexpr uint32_t kAcquireSlots = 64;
    uint64_t acquire_sent_[kAcquireSlots] = {};  // TSC of the last acquire per policy index (mod 64)
    esp::EspEngine engine_;

    struct TxBuffer {
        uint16_t n = 0;
        rte_mbuf* pkts[kBurst];
    };
    TxBuffer tx_[kMaxPorts];
    uint32_t tx_dirty_ = 0;  // bitmask of ports with queued packets
};

}  // namespace ipsecgw::dataplane
