#include "dataplane/port_setup.hpp"

#include <rte_ethdev.h>
#include <rte_cycles.h>
#include <rte_mbuf.h>

#include <stdexcept>

namespace ipsecgw::dataplane {
namespace {

constexpr uint16_t kRxDesc = 1024;
constexpr uint16_t kTxDesc = 1024;

void check(int rc, uint16_t port, const char* what)
{
    if (rc < 0)
        throw std::runtime_error("port " + std::to_string(port) + ": " + what + " failed: " + rte_strerror(-rc));
}

}  // namespace

rte_mempool* create_packet_pool(uint32_t nb_mbufs, uint32_t frame_size)
{
    uint32_t room = RTE_MBUF_DEFAULT_BUF_SIZE;
    if (frame_size + RTE_PKTMBUF_HEADROOM > room)
        room = frame_size + RTE_PKTMBUF_HEADROOM;
    if (room > UINT16_MAX)
        throw std::runtime_error("-j: frame size too large");
    rte_mempool* mp = rte_pktmbuf_pool_create("ipsecgw_pkts", nb_mbufs, 256, 0, static_cast<uint16_t>(room),
                                              static_cast<int>(rte_socket_id()));
    if (!mp)
        throw std::runtime_error(std::string("cannot create the mbuf pool: ") + rte_strerror(rte_errno));
    return mp;
}

void start_port(const PortPlan& plan, const PortSettings& s, rte_mempool* pool, std::vector<std::string>& warnings,
                rte_ether_addr* mac)
{
    uint16_t port = plan.port;
    rte_eth_dev_info info{};
    check(rte_eth_dev_info_get(port, &info), port, "rte_eth_dev_info_get");
    rte_eth_conf conf{};
    conf.rxmode.offloads = s.rx_offload & info.rx_offload_capa;
    conf.txmode.offloads = s.tx_offload & info.tx_offload_capa;
    if (conf.rxmode.offloads != s.rx_offload || conf.txmode.offloads != s.tx_offload)
        warnings.push_back("port " + std::to_string(port) + ": offloads it does not support were left off");
    if (plan.rx_queues > 1) {
        conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
        // Addresses only: every packet of a tunnel (same outer src/dst) lands
        // on one queue, so each inbound SA's replay window has one writer.
        conf.rx_adv_conf.rss_conf.rss_hf = RTE_ETH_RSS_IP & info.flow_type_rss_offloads;
    }
    if (plan.rx_queues > info.max_rx_queues || plan.tx_queues > info.max_tx_queues)
        throw std::runtime_error("port " + std::to_string(port) + " (" + info.driver_name + ") supports " +
                                 std::to_string(info.max_rx_queues) + " RX / " + std::to_string(info.max_tx_queues) +
                                 " TX queues; the plan needs " + std::to_string(plan.rx_queues) + " / " +
                                 std::to_string(plan.tx_queues));
    check(rte_eth_dev_configure(port, plan.rx_queues, plan.tx_queues, &conf), port, "rte_eth_dev_configure");
    uint16_t rxd = kRxDesc, txd = kTxDesc;
    check(rte_eth_dev_adjust_nb_rx_tx_desc(port, &rxd, &txd), port, "adjusting descriptor counts");
    int socket = rte_eth_dev_socket_id(port);
    if (socket < 0)
        socket = static_cast<int>(rte_socket_id());
    for (uint16_t q = 0; q < plan.rx_queues; ++q) {
        rte_eth_rxconf rxc = info.default_rxconf;
        rxc.offloads = conf.rxmode.offloads;
        check(rte_eth_rx_queue_setup(port, q, rxd, static_cast<unsigned>(socket), &rxc, pool), port, "RX queue setup");
    }
    for (uint16_t q = 0; q < plan.tx_queues; ++q) {
        rte_eth_txconf txc = info.default_txconf;
        txc.offloads = conf.txmode.offloads;
        check(rte_eth_tx_queue_setup(port, q, txd, static_cast<unsigned>(socket), &txc), port, "TX queue setup");
    }
    if (s.mtu) {
        int rc = rte_eth_dev_set_mtu(port, static_cast<uint16_t>(s.mtu));
        if (rc < 0)
            warnings.push_back("port " + std::to_string(port) + ": cannot set MTU " + std::to_string(s.mtu));
    }
    check(rte_eth_dev_start(port), port, "rte_eth_dev_start");
    if (s.promiscuous && rte_eth_promiscuous_enable(port) != 0)
        warnings.push_back("port " + std::to_string(port) + ": promiscuous mode not available");
    check(rte_eth_macaddr_get(port, mac), port, "rte_eth_macaddr_get");
}

std::vector<uint16_t> wait_for_links(const std::vector<uint16_t>& ports, unsigned max_ms)
{
    std::vector<uint16_t> down;
    for (unsigned waited = 0;; waited += 50) {
        down.clear();
        for (uint16_t p : ports) {
            rte_eth_link link{};
            if (rte_eth_link_get_nowait(p, &link) != 0 || link.link_status != RTE_ETH_LINK_UP)
                down.push_back(p);
        }
        if (down.empty() && waited > 0)
            rte_delay_ms(200);  // a link that just came up (memif) may not take packets at once
        if (down.empty() || waited >= max_ms)
            return down;
        rte_delay_ms(50);
    }
}

void stop_port(uint16_t port)
{
    rte_eth_dev_stop(port);
    rte_eth_dev_close(port);
}

}  // namespace ipsecgw::dataplane
