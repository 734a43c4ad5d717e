#include "dataplane/worker.hpp"

#include <rte_arp.h>
#include <rte_ethdev.h>
#include <rte_prefetch.h>

#include <cstring>

#include "dataplane/ip_fields.hpp"
#include "esp/ip_headers.hpp"

namespace ipsecgw::dataplane {
namespace {

constexpr uint16_t kEthLen = sizeof(rte_ether_hdr);

esp::Packet view_of(rte_mbuf* m)
{
    esp::Packet p;
    p.data = rte_pktmbuf_mtod(m, uint8_t*);
    p.len = m->data_len;
    p.headroom = rte_pktmbuf_headroom(m);
    p.tailroom = rte_pktmbuf_tailroom(m);
    return p;
}

// The engine moved data and changed len in place: make the mbuf agree.
void apply_view(rte_mbuf* m, const esp::Packet& p)
{
    m->data_off = static_cast<uint16_t>(p.data - static_cast<uint8_t*>(m->buf_addr));
    m->data_len = static_cast<uint16_t>(p.len);
    m->pkt_len = p.len;
}

// Per-SA packet and byte counts, summed over a run of packets of one SA and
// written once per run rather than once per packet.
class SaTally {
public:
    explicit SaTally(LcoreCounters& c) : c_(c) {}
    ~SaTally() { flush(); }
    SaTally(const SaTally&) = delete;
    SaTally& operator=(const SaTally&) = delete;
    void add(uint32_t slot, uint64_t bytes)
    {
        if (slot != slot_) {
            flush();
            slot_ = slot;
        }
        ++packets_;
        bytes_ += bytes;
    }
    void flush()
    {
        if (packets_ == 0)
            return;
        c_.sas[slot_].packets.add(packets_);
        c_.sas[slot_].bytes.add(bytes_);
        packets_ = bytes_ = 0;
    }

private:
    LcoreCounters& c_;
    uint32_t slot_ = 0;
    uint64_t packets_ = 0, bytes_ = 0;
};

}  // namespace

Worker::Worker(const std::atomic<const GatewayTables*>& live, WorkerPlan plan, LcoreCounters& counters,
               const std::atomic<bool>& stop, const std::vector<rte_ring*>& handoff, rte_rcu_qsbr* rcu,
               Tracer* tracer, const ControlChannel* channel)
    : live_(live),
      t_(live.load()),
      rcu_(rcu),
      tracer_(tracer),
      plan_(std::move(plan)),
      c_(counters),
      stop_(stop),
      handoff_(handoff),
      channel_(channel)
{
}

void Worker::run()
{
    rte_mbuf* pkts[kBurst];
    rte_ring* mine = handoff_.empty() ? nullptr : handoff_[plan_.index];
    if (rcu_)
        rte_rcu_qsbr_thread_online(rcu_, plan_.index);
    while (!stop_.load(std::memory_order_relaxed)) {
        // One version of the tables per round: a change published by the
        // control thread is picked up here, never in the middle of a burst.
        t_ = live_.load(std::memory_order_acquire);
        tracing_ = tracer_ && tracer_->armed();
        for (const RxQueue& q : plan_.rx) {
            uint16_t n = rte_eth_rx_burst(q.port, q.queue, pkts, kBurst);
            if (n)
                handle_burst(q.port, pkts, n);
        }
        if (mine) {
            unsigned n = rte_ring_sc_dequeue_burst(mine, reinterpret_cast<void**>(pkts), kBurst, nullptr);
            if (n)
                inbound_esp(pkts, n, true);
        }
        if (plan_.index == 0 && channel_ && channel_->tx)
            send_control_tx();
        if (tx_dirty_)
            flush_all(false);
        if (rcu_)
            rte_rcu_qsbr_quiescent(rcu_, plan_.index);  // nothing from t_ is held past here
    }
    flush_all(true);
    if (rcu_)
        rte_rcu_qsbr_thread_offline(rcu_, plan_.index);
}

void Worker::drop(rte_mbuf* m, Drop why)
{
    c_.drop(why);
    if (tracing_) [[unlikely]]
        tracer_->maybe_record(m, plan_.index, UINT16_MAX, static_cast<uint16_t>(why));
    rte_pktmbuf_free(m);
}

// A drop with an SA context also counts under the SA's slot (drop path only).
void Worker::drop(rte_mbuf* m, Drop why, uint32_t slot)
{
    if (slot != SadTable::kNone)
        c_.sas[slot].drop(why);
    drop(m, why);
}

void Worker::handle_burst(uint16_t port, rte_mbuf** pkts, uint16_t n)
{
    const PortInfo& pi = t_->ports[port];
    const bool protected_port = pi.role == gateway::PortRole::Protected;
    const esp::Direction dir = protected_port ? esp::Direction::Outbound : esp::Direction::Inbound;

    rte_mbuf* m4[kBurst];
    AclKey4 k4[kBurst];
    const AclKey4* k4p[kBurst];
    uint32_t n4 = 0;
    rte_mbuf* m6[kBurst];
    AclKey6 k6[kBurst];
    const AclKey6* k6p[kBurst];
    uint32_t n6 = 0;
    rte_mbuf* esp_pkts[kBurst];
    uint32_t nesp = 0;

    uint64_t bytes = 0;
    for (uint16_t i = 0; i < n; ++i)
        rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void*));
    for (uint16_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        bytes += m->pkt_len;
        if (m->nb_segs != 1) {
            drop(m, Drop::MultiSegment);
            continue;
        }
        if (m->data_len < kEthLen) {
            drop(m, Drop::MalformedIp);
            continue;
        }
        auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
        uint16_t type = eth->ether_type;
        if (type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
            if (!answer_arp(port, m))
                drop(m, Drop::NotIp);
            continue;
        }
        if (type != RTE_BE16(RTE_ETHER_TYPE_IPV4) && type != RTE_BE16(RTE_ETHER_TYPE_IPV6)) {
            drop(m, Drop::NotIp);
            continue;
        }
        uint8_t* ip = reinterpret_cast<uint8_t*>(eth + 1);
        uint32_t avail = m->data_len - kEthLen;
        uint32_t len = ip_packet_length(ip, avail);
        bool v4 = type == RTE_BE16(RTE_ETHER_TYPE_IPV4);
        if (len == 0 || (ip[0] >> 4) != (v4 ? 4 : 6)) {
            drop(m, Drop::MalformedIp);
            continue;
        }
        if (!v4 && ip[6] == kProtoIcmp6 && answer_neighbour_solicitation(port, m, ip, len))
            continue;
        // Strip Ethernet and any L2 padding: from here on the mbuf is the IP packet.
        if (avail > len)
            rte_pktmbuf_trim(m, static_cast<uint16_t>(avail - len));
        rte_pktmbuf_adj(m, kEthLen);
        if (!protected_port) {
            uint8_t proto = v4 ? ip[9] : ip[6];
            const uint8_t* dst = v4 ? ip + 16 : ip + 24;
            bool for_us = v4 ? t_->esp_for_us4(dst) : t_->esp_for_us6(dst);
            if (proto == kProtoEsp) {
                if (for_us)
                    esp_pkts[nesp++] = m;
                else
                    drop(m, Drop::EspNotForUs);
                continue;
            }
            // IKE and NAT-T to the gateway. Fragments (IPv4 MF or offset)
            // carry no usable UDP header here and take the normal path.
            if (proto == kProtoUdp && for_us && (!v4 || (load16(ip + 6) & 0x3fff) == 0)) {
                unsigned l4 = v4 ? (ip[0] & 15u) * 4 : 40;
                uint16_t dport = len >= l4 + 4 ? load16(ip + l4 + 2) : 0;
                if (dport == kIkePort) {
                    punt(m);
                    continue;
                }
                if (dport == kNatTPort) {
                    // RFC 3948 §2.2: what follows the UDP header says ESP, IKE or keepalive.
                    if (len < l4 + 8 || load16(ip + l4 + 4) != len - l4) {
                        drop(m, drop_of(esp::Status::MalformedUdp));
                        continue;
                    }
                    switch (esp::classify_nat_t(ip + l4 + 8, len - l4 - 8)) {
                    case esp::NatTPayload::Esp: esp_pkts[nesp++] = m; break;
                    case esp::NatTPayload::Ike: punt(m); break;  // the control core strips the marker
                    case esp::NatTPayload::Keepalive: drop(m, Drop::NatKeepalive); break;
                    case esp::NatTPayload::Malformed: drop(m, drop_of(esp::Status::MalformedUdp)); break;
                    }
                    continue;
                }
            }
        }
        if (v4) {
            fill_key4(ip, len, &k4[n4]);
            k4p[n4] = &k4[n4];
            m4[n4++] = m;
        } else {
            fill_key6(ip, len, &k6[n6]);
            k6p[n6] = &k6[n6];
            m6[n6++] = m;
        }
    }
    c_.ports[port].rx_packets.add(n);
    c_.ports[port].rx_bytes.add(bytes);

    AclResult res[kBurst];
    if (n4) {
        t_->spd->classify4(dir, k4p, res, n4);
        protected_port ? outbound(m4, n4, res) : inbound_plain(m4, n4, res);
    }
    if (n6) {
        t_->spd->classify6(dir, k6p, res, n6);
        protected_port ? outbound(m6, n6, res) : inbound_plain(m6, n6, res);
    }
    if (nesp)
        inbound_esp(esp_pkts, nesp, false);
    flush_all(false);
}

void Worker::outbound(rte_mbuf** pkts, uint32_t n, const AclResult* res)
{
    rte_mbuf* enc[kBurst];
    esp::Sa* sas[kBurst];
    uint32_t slots[kBurst];
    uint32_t nenc = 0;
    for (uint32_t i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        gateway::PolicyAction a = t_->default_action;
        uint32_t slot = SadTable::kNone;
        if (res[i]) {
            const CompiledPolicy& p = t_->policies[res[i] - 1];
            a = p.action;
            slot = p.sa_slot;
        }
        if (a == gateway::PolicyAction::Discard) {
            drop(m, res[i] ? Drop::PolicyDiscard : Drop::NoPolicy);
            continue;
        }
        if (a == gateway::PolicyAction::Acquire) [[unlikely]] {
            acquire(res[i] - 1);
            drop(m, Drop::Acquire);
            continue;
        }
        // The gateway forwards the plaintext packet: its TTL drops by one
        // before it is encapsulated (or sent on as is for BYPASS).
        if (!decrement_ttl(rte_pktmbuf_mtod(m, uint8_t*))) {
            drop(m, Drop::TtlExpired);
            continue;
        }
        if (a == gateway::PolicyAction::Bypass) {
            forward(m, false);
            continue;
        }
        enc[nenc] = m;
        sas[nenc] = t_->sas[slot].sa.get();
        slots[nenc++] = slot;
    }
    if (nenc)
        encrypt(enc, sas, slots, nenc);
}

void Worker::encrypt(rte_mbuf** pkts, esp::Sa** sas, const uint32_t* slots, uint32_t n)
{
    esp::Packet views[kBurst];
    esp::Status st[kBurst];
    uint32_t plain_len[kBurst];
    for (uint32_t i = 0; i < n; ++i) {
        views[i] = view_of(pkts[i]);
        plain_len[i] = pkts[i]->pkt_len;
    }
    engine_.encrypt_burst(views, sas, n, st);
    report_seq_events(sas, slots, n);
    SaTally tally(c_);
    for (uint32_t i = 0; i < n; ++i) {
        if (st[i] != esp::Status::Ok) {
            drop(pkts[i], drop_of(st[i]), slots[i]);
            continue;
        }
        apply_view(pkts[i], views[i]);
        tally.add(slots[i], plain_len[i]);
        const SaSlot& slot = t_->sas[slots[i]];
        if (slot.next_mac)
            send_to(pkts[i], slot.next_port, slot.next_mac);
        else
            forward(pkts[i], false);
    }
}

void Worker::inbound_plain(rte_mbuf** pkts, uint32_t n, const AclResult* res)
{
    for (uint32_t i = 0; i < n; ++i) {
        gateway::PolicyAction a = res[i] ? t_->policies[res[i] - 1].action : t_->default_action;
        if (a == gateway::PolicyAction::Bypass)
            forward(pkts[i], true);
        else if (res[i] && a == gateway::PolicyAction::Discard)
            drop(pkts[i], Drop::PolicyDiscard);
        else
            drop(pkts[i], Drop::CleartextNotAllowed);  // PROTECT traffic must arrive as ESP
    }
}

void Worker::inbound_esp(rte_mbuf** all, uint32_t n_all, bool handed_off)
{
    esp::Packet views[kBurst];
    esp::Sa* sas[kBurst] = {};  // zeroed only to quiet -Wmaybe-uninitialized
    uint32_t slots[kBurst];
    esp::Status st[kBurst];
    rte_mbuf* pkts[kBurst];
    uint32_t n = 0;
    // A burst mostly holds runs of one tunnel: the last SPI's slot is kept.
    uint32_t last_spi = 0, last_slot = SadTable::kNone;
    bool have_last = false;
    for (uint32_t i = 0; i < n_all; ++i) {
        rte_mbuf* m = all[i];
        // Built in place: copying a view made of narrow stores with one wide
        // load stalls on store forwarding.
        views[n] = view_of(m);
        uint32_t spi = 0;
        esp::Status why;
        uint32_t slot = SadTable::kNone;
        if (peek_spi(views[n], &spi, &why)) {
            if (!have_last || spi != last_spi) {
                last_spi = spi, last_slot = t_->sad->find(spi), have_last = true;
            }
            slot = last_slot;
        }
        // Each inbound SA's replay window has one writer: its owner worker.
        if (slot != SadTable::kNone && !handed_off && !handoff_.empty() && t_->sas[slot].owner != plan_.index) {
            if (rte_ring_mp_enqueue(handoff_[t_->sas[slot].owner], m) != 0)
                drop(m, Drop::HandoffFull, slot);
            continue;
        }
        slots[n] = slot;
        sas[n] = slot == SadTable::kNone ? nullptr : t_->sas[slot].sa.get();
        pkts[n++] = m;
    }
    if (n == 0)
        return;
    engine_.decrypt_burst(views, sas, n, st);
    rte_mbuf* ok[kBurst];
    uint32_t ok_slots[kBurst];
    uint32_t nok = 0;
    for (uint32_t i = 0; i < n; ++i) {
        if (st[i] != esp::Status::Ok) {
            drop(pkts[i], drop_of(st[i]), slots[i]);
            continue;
        }
        apply_view(pkts[i], views[i]);
        ok[nok] = pkts[i];
        ok_slots[nok++] = slots[i];
    }
    if (nok)
        check_inner(ok, ok_slots, nok);
}

// RFC 4301 §5.2: a decrypted packet must fall within the selectors of the SA
// it arrived on, i.e. the inbound policy that matches it must PROTECT with
// that same SA.
void Worker::check_inner(rte_mbuf** pkts, const uint32_t* slots, uint32_t n)
{
    AclKey4 k4[kBurst];
    const AclKey4* k4p[kBurst];
    AclKey6 k6[kBurst];
    const AclKey6* k6p[kBurst];
    uint32_t idx4[kBurst], idx6[kBurst];
    uint32_t n4 = 0, n6 = 0;
    AclResult res[kBurst];
    SaTally tally(c_);
    for (uint32_t i = 0; i < n; ++i) {
        uint8_t* ip = rte_pktmbuf_mtod(pkts[i], uint8_t*);
        uint32_t len = ip_packet_length(ip, pkts[i]->data_len);
        if (len == 0) {
            drop(pkts[i], Drop::MalformedIp, slots[i]);
            pkts[i] = nullptr;
            continue;
        }
        const SaSlot& s = t_->sas[slots[i]];
        if (s.inner4.valid && (ip[0] >> 4) == 4) {
            if (!s.inner4.matches(load32(ip + 12), load32(ip + 16))) {
                drop(pkts[i], Drop::InboundPolicyMismatch, slots[i]);
                continue;
            }
            tally.add(slots[i], pkts[i]->pkt_len);
            forward(pkts[i], true);
            continue;
        }
        if ((ip[0] >> 4) == 4) {
            fill_key4(ip, len, &k4[n4]);
            k4p[n4] = &k4[n4];
            idx4[n4++] = i;
        } else {
            fill_key6(ip, len, &k6[n6]);
            k6p[n6] = &k6[n6];
            idx6[n6++] = i;
        }
    }
    auto verdict = [&](uint32_t i, AclResult r) {
        rte_mbuf* m = pkts[i];
        const SaSlot& s = t_->sas[slots[i]];
        bool ok = r ? (t_->policies[r - 1].action == gateway::PolicyAction::Protect &&
                       t_->policies[r - 1].sa_slot == slots[i])
                    : !s.has_inbound_policy;
        if (!ok) {
            drop(m, Drop::InboundPolicyMismatch, slots[i]);
            return;
        }
        tally.add(slots[i], m->pkt_len);
        forward(m, true);
    };
    if (n4) {
        t_->spd->classify4(esp::Direction::Inbound, k4p, res, n4);
        for (uint32_t j = 0; j < n4; ++j)
            verdict(idx4[j], res[j]);
    }
    if (n6) {
        t_->spd->classify6(esp::Direction::Inbound, k6p, res, n6);
        for (uint32_t j = 0; j < n6; ++j)
            verdict(idx6[j], res[j]);
    }
}

void Worker::forward(rte_mbuf* m, bool decrement)
{
    uint8_t* ip = rte_pktmbuf_mtod(m, uint8_t*);
    bool v4 = (ip[0] >> 4) == 4;
    if (decrement && !decrement_ttl(ip)) {
        drop(m, Drop::TtlExpired);
        return;
    }
    uint16_t port = 0;
    const rte_ether_addr* mac = nullptr;
    bool no_route = false;
    bool found = v4 ? t_->routes->lookup4(ip + 16, &port, &mac, &no_route)
                    : t_->routes->lookup6(ip + 24, &port, &mac, &no_route);
    if (!found) {
        drop(m, no_route ? Drop::NoRoute : Drop::NoNeighbour);
        return;
    }
    if (port >= kMaxPorts || !t_->ports[port].enabled) {
        drop(m, Drop::NoRoute);
        return;
    }
    send_to(m, port, mac);
}

// Adds the Ethernet header (ether type from the IP version) and queues the
// packet on port.
void Worker::send_to(rte_mbuf* m, uint16_t port, const rte_ether_addr* mac)
{
    bool v4 = (*rte_pktmbuf_mtod(m, uint8_t*) >> 4) == 4;
    auto* eth = reinterpret_cast<rte_ether_hdr*>(rte_pktmbuf_prepend(m, kEthLen));
    if (!eth) {
        drop(m, Drop::NoHeadroom);
        return;
    }
    eth->dst_addr = *mac;
    eth->src_addr = t_->ports[port].mac;
    eth->ether_type = v4 ? RTE_BE16(RTE_ETHER_TYPE_IPV4) : RTE_BE16(RTE_ETHER_TYPE_IPV6);
    enqueue_tx(port, m);
}

// IKE for the control core: the mbuf goes as it is (IP header first, m->port
// the arrival port); the control core frees it.
// Asks the control core for SAs (a `start trap` connection), at most once
// per policy every 100 ms from this worker: the traffic that triggers it
// must not flood the event ring.
void Worker::acquire(uint32_t policy_index)
{
    if (!channel_ || !channel_->events)
        return;
    uint64_t now = rte_get_tsc_cycles();
    uint64_t& last = acquire_sent_[policy_index % kAcquireSlots];
    if (last && now - last < rte_get_tsc_hz() / 10)
        return;
    last = now;
    WorkerEvent ev{WorkerEventType::Acquire, plan_.index, policy_index, 0};
    rte_ring_mp_enqueue_elem(channel_->events, &ev, sizeof ev);  // full: the next packet asks again
}

void Worker::punt(rte_mbuf* m)
{
    if (!channel_ || !channel_->punt) {
        drop(m, Drop::NatTraversal);
        return;
    }
    if (tracing_) [[unlikely]]
        tracer_->maybe_record(m, plan_.index, UINT16_MAX, static_cast<uint16_t>(Drop::Punted));
    if (rte_ring_mp_enqueue(channel_->punt, m) != 0) {
        drop(m, Drop::PuntFull);
        return;
    }
    c_.drop(Drop::Punted);
}

// Worker 0 sends what the control core originates (IKE messages, NAT
// keepalives): routed like forwarded traffic, but the TTL is left alone.
void Worker::send_control_tx()
{
    rte_mbuf* pkts[kBurst];
    unsigned n = rte_ring_sc_dequeue_burst(channel_->tx, reinterpret_cast<void**>(pkts), kBurst, nullptr);
    for (unsigned i = 0; i < n; ++i) {
        rte_mbuf* m = pkts[i];
        if (m->nb_segs != 1 || ip_packet_length(rte_pktmbuf_mtod(m, uint8_t*), m->data_len) == 0) {
            drop(m, Drop::MalformedIp);
            continue;
        }
        forward(m, false);
    }
}

// Sequence-number events, checked once per run of packets of one SA: the
// engine flags the SA (seq_soft_reached, Exhausted state); the first worker
// to see a flag posts it, once per SA.
void Worker::report_seq_events(esp::Sa* const* sas, const uint32_t* slots, uint32_t n)
{
    const esp::Sa* last = nullptr;
    for (uint32_t i = 0; i < n; ++i) {
        esp::Sa* s = sas[i];
        if (s == last || !s)
            continue;
        last = s;
        if (s->state() == esp::SaState::Exhausted) [[unlikely]]
            post_event(WorkerEventType::SeqExhausted, *s, slots[i]);
        else if (s->seq_soft_reached()) [[unlikely]]
            post_event(WorkerEventType::SeqSoft, *s, slots[i]);
    }
}

void Worker::post_event(WorkerEventType type, esp::Sa& sa, uint32_t slot)
{
    if (!channel_ || !channel_->events)
        return;
    auto bit = type == WorkerEventType::SeqSoft ? esp::Sa::kSeqSoftEvent : esp::Sa::kSeqExhaustedEvent;
    if (!sa.claim_seq_event(bit))
        return;
    WorkerEvent ev{type, plan_.index, slot, sa.spi()};
    // A full ring loses the event; the lifetime monitor's polling of the same
    // flags still reports it, only later.
    rte_ring_mp_enqueue_elem(channel_->events, &ev, sizeof ev);
}

// Answers ARP requests for the port's own IPv4 addresses in place (the reply
// leaves on the port the request came in). Anything else is not ours.
bool Worker::answer_arp(uint16_t port, rte_mbuf* m)
{
    const PortInfo& pi = t_->ports[port];
    if (pi.addresses4.empty() || m->data_len < kEthLen + sizeof(rte_arp_hdr))
        return false;
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    auto* arp = reinterpret_cast<rte_arp_hdr*>(eth + 1);
    if (arp->arp_opcode != RTE_BE16(RTE_ARP_OP_REQUEST) || arp->arp_hardware != RTE_BE16(RTE_ARP_HRD_ETHER) ||
        arp->arp_protocol != RTE_BE16(RTE_ETHER_TYPE_IPV4))
        return false;
    uint32_t target = arp->arp_data.arp_tip;
    bool ours = false;
    for (uint32_t a : pi.addresses4)
        ours |= a == target;
    if (!ours)
        return false;
    arp->arp_opcode = RTE_BE16(RTE_ARP_OP_REPLY);
    arp->arp_data.arp_tha = arp->arp_data.arp_sha;
    arp->arp_data.arp_tip = arp->arp_data.arp_sip;
    arp->arp_data.arp_sha = pi.mac;
    arp->arp_data.arp_sip = target;
    eth->dst_addr = eth->src_addr;
    eth->src_addr = pi.mac;
    enqueue_tx(port, m);
    return true;
}

// Answers an ICMPv6 Neighbor Solicitation (RFC 4861 §4.3) for one of the
// port's own IPv6 addresses with a solicited Neighbor Advertisement carrying
// the port's MAC, built in place. Anything else is left to the normal path.
bool Worker::answer_neighbour_solicitation(uint16_t port, rte_mbuf* m, uint8_t* ip, uint32_t len)
{
    constexpr uint32_t kNaLen = 32;  // ICMPv6 header + target + target link-layer option
    const PortInfo& pi = t_->ports[port];
    if (pi.addresses6.empty() || len < 40 + 24 || ip[40] != 135 || ip[41] != 0 || ip[7] != 255)
        return false;
    const uint8_t* target = ip + 48;
    bool ours = false;
    for (const auto& a : pi.addresses6)
        ours |= std::memcmp(a.data(), target, 16) == 0;
    if (!ours || kEthLen + 40 + kNaLen > static_cast<uint32_t>(m->buf_len - m->data_off))
        return false;
    static const uint8_t unspecified[16] = {};
    bool dad = std::memcmp(ip + 8, unspecified, 16) == 0;  // duplicate address detection probe
    uint8_t our_addr[16];
    std::memcpy(our_addr, target, 16);
    // IPv6 header: to the solicitor (or all-nodes for DAD), from the target address.
    if (dad) {
        static const uint8_t all_nodes[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        std::memcpy(ip + 24, all_nodes, 16);
    } else {
        std::memcpy(ip + 24, ip + 8, 16);
    }
    std::memcpy(ip + 8, our_addr, 16);
    ip[4] = 0, ip[5] = kNaLen;
    ip[7] = 255;
    uint8_t* icmp = ip + 40;
    icmp[0] = 136, icmp[1] = 0, icmp[2] = icmp[3] = 0;
    icmp[4] = dad ? 0x20 : 0x60;  // Solicited (unless DAD) and Override
    icmp[5] = icmp[6] = icmp[7] = 0;
    std::memcpy(icmp + 8, our_addr, 16);
    icmp[24] = 2, icmp[25] = 1;  // target link-layer address option, 8 bytes
    std::memcpy(icmp + 26, pi.mac.addr_bytes, 6);
    // Checksum over the pseudo-header (addresses, length, next header) and the message.
    uint32_t sum = 0;
    for (unsigned i = 8; i < 40; i += 2)
        sum += load16(ip + i);
    sum += kNaLen + kProtoIcmp6;
    for (unsigned i = 0; i < kNaLen; i += 2)
        sum += load16(icmp + i);
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    uint16_t ck = static_cast<uint16_t>(~sum);
    icmp[2] = uint8_t(ck >> 8), icmp[3] = uint8_t(ck);
    m->data_len = static_cast<uint16_t>(kEthLen + 40 + kNaLen);
    m->pkt_len = m->data_len;
    auto* eth = rte_pktmbuf_mtod(m, rte_ether_hdr*);
    if (dad)
        eth->dst_addr = rte_ether_addr{{0x33, 0x33, 0, 0, 0, 1}};
    else
        eth->dst_addr = eth->src_addr;
    eth->src_addr = pi.mac;
    enqueue_tx(port, m);
    return true;
}

void Worker::enqueue_tx(uint16_t port, rte_mbuf* m)
{
    TxBuffer& b = tx_[port];
    if (b.n == kBurst)
        flush_tx(port, false);
    if (b.n == kBurst) {  // the queue still takes nothing: drop the newest
        drop(m, Drop::TxFull);
        return;
    }
    if (tracing_) [[unlikely]]
        tracer_->maybe_record(m, plan_.index, port, 0);
    b.pkts[b.n++] = m;
    tx_dirty_ |= 1u << port;
    if (b.n == kBurst)
        flush_tx(port, false);
}

// Sends what the port's buffer holds. What the queue does not take stays
// buffered for the next call (a briefly full ring, a memif peer not yet
// polling) unless this is the final flush, where it is dropped.
void Worker::flush_tx(uint16_t port, bool final)
{
    TxBuffer& b = tx_[port];
    if (b.n == 0)
        return;
    uint32_t len[kBurst];  // read before the driver owns the mbufs
    for (uint16_t i = 0; i < b.n; ++i)
        len[i] = b.pkts[i]->pkt_len;
    uint16_t sent = rte_eth_tx_burst(port, plan_.tx_queue, b.pkts, b.n);
    uint64_t bytes = 0;
    for (uint16_t i = 0; i < sent; ++i)
        bytes += len[i];
    c_.ports[port].tx_packets.add(sent);
    c_.ports[port].tx_bytes.add(bytes);
    uint16_t left = static_cast<uint16_t>(b.n - sent);
    if (final) {
        for (uint16_t i = sent; i < b.n; ++i)
            drop(b.pkts[i], Drop::TxFull);
        left = 0;
    } else if (sent) {
        std::memmove(b.pkts, b.pkts + sent, left * sizeof(rte_mbuf*));
    }
    b.n = left;
    if (left == 0)
        tx_dirty_ &= ~(1u << port);
}

void Worker::flush_all(bool final)
{
    for (uint32_t dirty = tx_dirty_; dirty; dirty &= dirty - 1)
        flush_tx(static_cast<uint16_t>(__builtin_ctz(dirty)), final);
}

}  // namespace ipsecgw::dataplane
