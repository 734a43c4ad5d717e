// The packet path between the workers and the control core. Workers never
// block on it: a full ring means a counted drop, never a wait.
//
//  punt:   workers -> control. IKE datagrams addressed to the gateway (UDP 500,
//          and UDP 4500 starting with the 4-byte zero non-ESP marker). The
//          mbuf's data starts at the outer IP header (Ethernet stripped),
//          m->port is the port it arrived on. Multi-producer, single-consumer.
//          The control core frees what it dequeues.
//  tx:     control -> worker 0. IP packets the control core originates (IKE
//          replies, NAT keepalives): data starts at the IP header, IP and UDP
//          checksums are final, at least RTE_PKTMBUF_HEADROOM of headroom.
//          Worker 0 routes them like forwarded traffic (no TTL decrement) and
//          transmits them. Multi-producer, single-consumer.
//  events: workers -> control. WorkerEvent records (sequence numbers near
//          exhaustion or exhausted), posted once per SA and condition; and
//          acquires (traffic for a `start trap` connection without SAs),
//          at most one per policy and worker every 100 ms.
//  pool:   where the control core allocates its tx mbufs.
#pragma once

#include <rte_mempool.h>
#include <rte_ring.h>

#include <cstdint>

namespace ipsecgw::dataplane {

enum class WorkerEventType : uint8_t {
    SeqSoft,       // an outbound SA has fewer than its soft margin of sequence numbers left
    SeqExhausted,  // an outbound SA ran out of sequence numbers: it sends nothing more
    Acquire,       // a packet hit an ACQUIRE policy (sa_slot = its policy index, spi = 0)
};

struct WorkerEvent {
    WorkerEventType type;
    uint16_t worker;
    uint32_t sa_slot;  // GatewayTables::sas index
    uint32_t spi;
};

static_assert(sizeof(WorkerEvent) % 4 == 0, "rte_ring_elem needs a multiple of 4 bytes");

// UDP ports of IKE (RFC 7296 §2) and of IKE/ESP after NAT detection (RFC 3948).
constexpr uint16_t kIkePort = 500;
constexpr uint16_t kNatTPort = 4500;

struct ControlChannel {
    rte_ring* punt = nullptr;
    rte_ring* tx = nullptr;
    rte_ring* events = nullptr;  // elements are WorkerEvent (rte_ring_elem API, esize 12)
    rte_mempool* pool = nullptr;
};

}  // namespace ipsecgw::dataplane
