// IKE SA rekey, both roles. The new IKE SA takes over the CHILD_SAs and the
// handle; the old one is deleted by the rekey initiator.
#include "ike/ike_rekey_task.hpp"

#include "ike/ike_sa.hpp"
#include "ike/informational_task.hpp"

namespace ipsecgw::ike {
namespace {

constexpr std::size_t kNonceSize = 32;
constexpr Duration kRetryAfterFailure{std::chrono::seconds(10)};

Bytes spi8(std::uint64_t spi) {
    Bytes b;
    Writer(b).u64(spi);
    return b;
}

std::uint64_t spi8_value(ByteView b) {
    if (b.size() != 8) return 0;
    Reader r(b);
    return r.u64();
}

// Moves everything the successor inherits and hands it to the engine.
void hand_over(IkeSa& old, std::unique_ptr<IkeSa> next, TimePoint now) {
    next->state = IkeSa::State::Established;
    next->local = old.local;
    next->remote = old.remote;
    next->nat_here = old.nat_here;
    next->nat_there = old.nat_there;
    next->virtual_ip = old.virtual_ip;
    next->fragmentation = old.fragmentation;
    next->children = std::move(old.children);
    old.children.clear();
    next->schedule_ike_lifetime(now);
    old.state = IkeSa::State::Rekeyed;
    old.superseded_at = now;
    SaEvent e = next->event(EventType::IkeRekeyed);
    old.core.emit(std::move(e));
    old.core.adopt(std::move(next));
}

// §2.8.2: the new IKE SA that lost a rekey collision. It inherits nothing
// and is already superseded: the engine keeps it only to exchange its
// DELETE (sent by whoever created it) and reaps it quietly otherwise.
IkeSa& park_redundant(IkeSa& old, std::unique_ptr<IkeSa> next, TimePoint now) {
    IkeSa& ref = *next;
    next->local = old.local;
    next->remote = old.remote;
    next->nat_here = old.nat_here;
    next->nat_there = old.nat_there;
    next->fragmentation = old.fragmentation;
    next->state = IkeSa::State::Rekeyed;
    next->superseded_at = now;
    old.core.adopt(std::move(next));
    return ref;
}

Bytes lowest(const Bytes& a, const Bytes& b) { return std::min(a, b); }

}  // namespace

void IkeRekeyTask::settle_for_peer_rekey(IkeSa& sa, TimePoint now) {
    if (!sa.peer_rekey || sa.state != IkeSa::State::Established) return;
    hand_over(sa, std::move(sa.peer_rekey), now);
    sa.peer_rekey_min_nonce.clear();
}

bool IkeRekeyTask::ready(IkeSa& sa) { return sa.established(); }

std::vector<Payload> IkeRekeyTask::build_request(IkeSa& sa, TimePoint) {
    if (!new_spi_) new_spi_ = sa.core.allocate_ike_spi();
    nonce_ = random_bytes(kNonceSize);
    dh_ = DhKeyPair::generate(sa.suite.dh);
    SaPayload proposals;
    std::uint8_t n = 1;
    for (const auto& s : sa.cfg.ike_suites)
        if (s.dh == sa.suite.dh) proposals.proposals.push_back(to_proposal(s, ProtocolId::Ike, n++, spi8(new_spi_)));
    return {{PayloadType::SecurityAssociation, proposals},
            {PayloadType::Nonce, NoncePayload{nonce_}},
            {PayloadType::KeyExchange, KePayload{static_cast<std::uint16_t>(sa.suite.dh), dh_->public_value()}}};
}

TaskStatus IkeRekeyTask::on_response(IkeSa& sa, const Message& m, ByteView, TimePoint now) {
    auto give_up = [&](const std::string& why) {
        if (sa.peer_rekey) {
            // Ours failed (TEMPORARY_FAILURE: the peer had finished its own
            // rekey first) but the peer's succeeded: that one is kept.
            settle_for_peer_rekey(sa, now);
            return TaskStatus::Done;
        }
        SaEvent e = sa.event(EventType::Failed);
        e.reason = "IKE rekey: " + why;
        sa.core.emit(std::move(e));
        sa.rekey_at = now + kRetryAfterFailure;
        return TaskStatus::Done;
    };
    if (auto* err = m.error_notify()) return give_up("peer refused with notify " + std::to_string(err->type));
    auto* sa_payload = m.find<SaPayload>(PayloadType::SecurityAssociation);
    auto* nonce = m.find<NoncePayload>(PayloadType::Nonce);
    auto* ke = m.find<KePayload>(PayloadType::KeyExchange);
    if (!sa_payload || !nonce || !ke) return give_up("incomplete response");
    auto suite = accept_chosen(sa.cfg.ike_suites, *sa_payload, ProtocolId::Ike);
    std::uint64_t peer_spi = spi8_value(sa_payload->proposals.front().spi);
    if (!suite || suite->dh != sa.suite.dh || ke->group != static_cast<std::uint16_t>(suite->dh) || !peer_spi)
        return give_up("unacceptable choice");
    auto shared = dh_->shared_secret(ke->data);
    if (!shared) return give_up("invalid KE");

    auto next = std::make_unique<IkeSa>(sa.core, sa.handle, sa.cfg, true, now);
    next->spi_i = new_spi_;
    next->spi_r = peer_spi;
    next->suite = *suite;
    next->ni = nonce_;
    next->nr = nonce->data;
    next->keys = derive_rekeyed_ike_keys(*suite, sa.suite.prf, sa.keys->sk_d, *shared, nonce_, nonce->data, new_spi_,
                                         peer_spi);
    if (sa.peer_rekey) {
        // §2.8.2 collision: both rekeys completed. The exchange with the
        // lowest of the four nonces loses; the node that created the losing
        // SA deletes it, the other new SA inherits the CHILD_SAs, and the
        // winning exchange's initiator deletes the old SA.
        bool we_lost = lowest(nonce_, nonce->data) < sa.peer_rekey_min_nonce;
        std::unique_ptr<IkeSa> theirs = std::move(sa.peer_rekey);
        sa.peer_rekey_min_nonce.clear();
        if (we_lost) {
            hand_over(sa, std::move(theirs), now);
            IkeSa& redundant = park_redundant(sa, std::move(next), now);
            redundant.queue_task(std::make_unique<IkeDeleteTask>(), now);
            return TaskStatus::Done;  // the peer deletes the old SA
        }
        park_redundant(sa, std::move(theirs), now);  // the peer deletes it
    }
    hand_over(sa, std::move(next), now);
    sa.defer_task(std::make_unique<IkeDeleteTask>());
    return TaskStatus::Done;
}

Reply IkeRekeyTask::respond(IkeSa& sa, const Message& m, ByteView, TimePoint now) {
    auto refuse = [](NotifyType t, Bytes data = {}) { return Reply{{make_notify(t, std::move(data))}, {}}; };
    // Simultaneous IKE rekeys (§2.8.2): with our own request in flight we
    // answer as usual but keep the new SA aside until our response tells
    // which of the two survives. (An SA we already rekeyed is no longer
    // Established, and the caller answers TEMPORARY_FAILURE, §2.25.2.)
    bool collision = sa.active_task() && std::string_view(sa.active_task()->name()) == "ike_rekey";
    if (collision && sa.peer_rekey) return refuse(NotifyType::TemporaryFailure);
    auto* sa_payload = m.find<SaPayload>(PayloadType::SecurityAssociation);
    auto* nonce = m.find<NoncePayload>(PayloadType::Nonce);
    auto* ke = m.find<KePayload>(PayloadType::KeyExchange);
    if (!sa_payload || !nonce || !ke) return refuse(NotifyType::InvalidSyntax);
    auto sel = select_proposal(sa.cfg.ike_suites, *sa_payload, ProtocolId::Ike);
    if (!sel) return refuse(NotifyType::NoProposalChosen);
    std::uint64_t peer_spi = spi8_value(sel->proposal.spi);
    if (!peer_spi) return refuse(NotifyType::InvalidSyntax);
    if (ke->group != static_cast<std::uint16_t>(sel->suite.dh)) {
        auto g = static_cast<std::uint16_t>(sel->suite.dh);
        return refuse(NotifyType::InvalidKePayload, {static_cast<std::uint8_t>(g >> 8), static_cast<std::uint8_t>(g)});
    }
    auto dh = DhKeyPair::generate(sel->suite.dh);
    auto shared = dh->shared_secret(ke->data);
    if (!shared) return refuse(NotifyType::InvalidSyntax);
    Bytes nr = random_bytes(kNonceSize);
    std::uint64_t our_spi = sa.core.allocate_ike_spi();

    auto next = std::make_shared<std::unique_ptr<IkeSa>>(std::make_unique<IkeSa>(sa.core, sa.handle, sa.cfg, false, now));
    IkeSa& n = **next;
    n.spi_i = peer_spi;
    n.spi_r = our_spi;
    n.suite = sel->suite;
    n.ni = nonce->data;
    n.nr = nr;
    n.keys = derive_rekeyed_ike_keys(sel->suite, sa.suite.prf, sa.keys->sk_d, *shared, nonce->data, nr, peer_spi,
                                     our_spi);
    Proposal reply = sel->proposal;
    reply.spi = spi8(our_spi);
    Reply r;
    r.payloads = {{PayloadType::SecurityAssociation, SaPayload{{reply}}},
                  {PayloadType::Nonce, NoncePayload{nr}},
                  {PayloadType::KeyExchange, KePayload{static_cast<std::uint16_t>(sel->suite.dh), dh->public_value()}}};
    if (collision) {
        Bytes min_nonce = lowest(nonce->data, nr);
        r.after_send = [&sa, next, now, min_nonce] {
            if (sa.state != IkeSa::State::Established) return;
            sa.peer_rekey = std::move(*next);
            sa.peer_rekey_min_nonce = min_nonce;
        };
        return r;
    }
    r.after_send = [&sa, next, now] { hand_over(sa, std::move(*next), now); };
    return r;
}

}  // namespace ipsecgw::ike
