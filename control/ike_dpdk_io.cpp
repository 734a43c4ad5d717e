#include "control/ike_dpdk_io.hpp"

#include <rte_mbuf.h>
#include <rte_ring.h>

#include <cstring>

namespace ipsecgw::control {

bool IkeDpdkIo::receive(ike::Datagram& out)
{
    // Bounded: packets that do not parse are freed and counted, the next is tried.
    for (int tries = 0; tries < 64 && ch_.punt; ++tries) {
        void* obj = nullptr;
        if (rte_ring_dequeue(ch_.punt, &obj) != 0)
            return false;
        auto* m = static_cast<rte_mbuf*>(obj);
        uint32_t len = rte_pktmbuf_pkt_len(m);
        rx_buf_.resize(len);
        // Linearises chained mbufs; nullptr only if the chain is shorter than pkt_len.
        const void* data = len ? rte_pktmbuf_read(m, 0, len, rx_buf_.data()) : nullptr;
        IkePacketError e = IkePacketError::Truncated;
        if (data)
            e = parse_ike_packet(static_cast<const uint8_t*>(data), len, out);
        rte_pktmbuf_free(m);
        if (e == IkePacketError::None) {
            ++counters_.received;
            return true;
        }
        ++counters_.malformed;
    }
    return false;
}

void IkeDpdkIo::transmit(const std::vector<uint8_t>& packet)
{
    rte_mbuf* m = ch_.pool ? rte_pktmbuf_alloc(ch_.pool) : nullptr;
    if (!m) {
        ++counters_.no_mbuf;
        return;
    }
    char* p = rte_pktmbuf_append(m, static_cast<uint16_t>(packet.size()));
    if (!p || packet.size() > UINT16_MAX) {
        // Larger than one mbuf: IKE fragments (RFC 7383) keep messages small.
        rte_pktmbuf_free(m);
        ++counters_.unbuildable;
        return;
    }
    std::memcpy(p, packet.data(), packet.size());
    if (rte_ring_enqueue(ch_.tx, m) != 0) {
        rte_pktmbuf_free(m);
        ++counters_.tx_ring_full;
        return;
    }
    ++counters_.sent;
}

void IkeDpdkIo::send(const ike::Datagram& d)
{
    if (!build_ike_packet(d, tx_buf_)) {
        ++counters_.unbuildable;
        return;
    }
    transmit(tx_buf_);
}

void IkeDpdkIo::send_keepalive(const ike::Endpoint& local, const ike::Endpoint& remote)
{
    if (!build_nat_keepalive(local, remote, tx_buf_)) {
        ++counters_.unbuildable;
        return;
    }
    ++counters_.keepalives;
    transmit(tx_buf_);
}

}  // namespace ipsecgw::control
