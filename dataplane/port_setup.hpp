// Bringing ethdev ports up for the workers: one mbuf pool, the RX queues the
// queue plan names (RSS over IP addresses when a port has several, which also
// keeps each inbound SA's ESP on one queue), one TX queue per worker.
#pragma once

#include <rte_ether.h>
#include <rte_mempool.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ipsecgw::dataplane {

struct PortPlan {
    uint16_t port = 0;
    uint16_t rx_queues = 1;
    uint16_t tx_queues = 1;
};

struct PortSettings {
    uint32_t frame_size = 0;  // -j; 0 = default
    uint32_t mtu = 0;
    uint64_t rx_offload = 0;
    uint64_t tx_offload = 0;
    bool promiscuous = false;
};

// Throws std::runtime_error naming the port and the failing call.
rte_mempool* create_packet_pool(uint32_t nb_mbufs, uint32_t frame_size);
void start_port(const PortPlan& plan, const PortSettings& s, rte_mempool* pool, std::vector<std::string>& warnings,
                rte_ether_addr* mac);
void stop_port(uint16_t port);
// Waits (bounded) until every port reports link up, so the first packets are
// not lost to a link still coming up (memif peers, NICs after reset).
// Returns the ports still down at the deadline.
std::vector<uint16_t> wait_for_links(const std::vector<uint16_t>& ports, unsigned max_ms);

}  // namespace ipsecgw::dataplane
