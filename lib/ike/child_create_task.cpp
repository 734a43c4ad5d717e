// CREATE_CHILD_SA for CHILD_SAs, both roles.
#include "ike/child_create_task.hpp"

#include <algorithm>

#include "ike/child_negotiation.hpp"
#include "ike/ike_sa.hpp"
#include "ike/informational_task.hpp"
#include "ike/traffic_selectors.hpp"

namespace ipsecgw::ike {
namespace {

constexpr std::size_t kNonceSize = 32;
constexpr Duration kRetryAfterTemporaryFailure{std::chrono::seconds(10)};

Bytes lowest(const Bytes& a, const Bytes& b) { return std::min(a, b); }

void report(IkeSa& sa, const std::string& why) {
    SaEvent e = sa.event(EventType::Failed);
    e.reason = why;
    sa.core.emit(std::move(e));
}

Bytes group_bytes(DhId g) {
    auto v = static_cast<std::uint16_t>(g);
    return {static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)};
}

// §2.8.1: of two exchanges that rekeyed the same SA, the one that used the
// lowest nonce loses; its initiator deletes the SA it created, and the
// winner's initiator deletes the old SA.
// `old_delete_queued`: our finished rekey already queued the old SA's delete.
void resolve_collision(IkeSa& sa, ChildSa& old, bool old_delete_queued) {
    bool we_lost = old.our_rekey_min_nonce < old.peer_rekey_min_nonce;
    old.state = ChildSa::State::Rekeyed;
    if (we_lost) {
        std::uint32_t old_spi = old.spi_in;
        sa.drop_queued_if([old_spi](const Task& t) {
            auto* d = dynamic_cast<const ChildDeleteTask*>(&t);
            return d && d->spi_in() == old_spi;
        });
        sa.defer_task(std::make_unique<ChildDeleteTask>(old.our_rekey_new_spi_in));
    } else if (!old_delete_queued) {
        sa.defer_task(std::make_unique<ChildDeleteTask>(old.spi_in));
    }
}

}  // namespace

bool ChildCreateTask::ready(IkeSa& sa) {
    if (!sa.established()) return false;
    if (!rekey_spi_in_) return true;
    ChildSa* old = sa.child_by_spi_in(rekey_spi_in_);
    return old && old->state == ChildSa::State::Installed;
}

std::vector<Payload> ChildCreateTask::build_request(IkeSa& sa, TimePoint) {
    const auto& suites = sa.cfg.child.esp_suites;
    if (!spi_in_) spi_in_ = sa.core.allocate_child_spi();
    if (!group_chosen_) group_ = suites.front().dh;
    nonce_ = random_bytes(kNonceSize);
    dh_ = group_ != DhId::None ? DhKeyPair::generate(group_) : nullptr;

    std::vector<Payload> out;
    if (rekey_spi_in_) {
        ChildSa* old = sa.child_by_spi_in(rekey_spi_in_);
        old->state = ChildSa::State::Rekeying;
        ts_i_ = old->local_ts;
        ts_r_ = old->remote_ts;
        out.push_back(make_notify(NotifyType::RekeySa, {}, ProtocolId::Esp, spi_bytes(old->spi_in)));
    } else {
        ts_i_ = sa.cfg.child.local_ts;
        ts_r_ = sa.cfg.child.remote_ts;
    }
    if (sa.cfg.child.transport_mode) out.push_back(make_notify(NotifyType::UseTransportMode));
    std::vector<Suite> offer;
    for (const auto& s : suites)
        if (s.dh == group_) offer.push_back(s);
    if (offer.empty()) offer = suites;
    out.push_back({PayloadType::SecurityAssociation, esp_proposals(offer, spi_in_)});
    out.push_back({PayloadType::Nonce, NoncePayload{nonce_}});
    if (dh_) out.push_back({PayloadType::KeyExchange, KePayload{static_cast<std::uint16_t>(group_), dh_->public_value()}});
    out.push_back({PayloadType::TsInitiator, TsPayload{ts_i_}});
    out.push_back({PayloadType::TsResponder, TsPayload{ts_r_}});
    return out;
}

void ChildCreateTask::on_abort(IkeSa& sa) {
    if (ChildSa* old = rekey_spi_in_ ? sa.child_by_spi_in(rekey_spi_in_) : nullptr)
        old->state = ChildSa::State::Installed;
}

TaskStatus ChildCreateTask::on_response(IkeSa& sa, const Message& m, ByteView, TimePoint now) {
    ChildSa* old = rekey_spi_in_ ? sa.child_by_spi_in(rekey_spi_in_) : nullptr;
    auto give_up = [&](const std::string& why, bool retry_later) {
        report(sa, std::string(name()) + ": " + why);
        if (old) {
            old->state = ChildSa::State::Installed;
            if (retry_later) old->rekey_at = now + kRetryAfterTemporaryFailure;
        }
        return TaskStatus::Done;
    };
    if (auto* ke = m.notify(NotifyType::InvalidKePayload)) {
        if (ke->data.size() == 2 && !group_chosen_) {
            auto wanted = static_cast<DhId>(ke->data[0] << 8 | ke->data[1]);
            const auto& suites = sa.cfg.child.esp_suites;
            if (wanted != group_ &&
                std::any_of(suites.begin(), suites.end(), [&](const Suite& s) { return s.dh == wanted; })) {
                group_ = wanted;
                group_chosen_ = true;
                if (old) old->state = ChildSa::State::Installed;
                return TaskStatus::Again;
            }
        }
        return give_up("peer wants an unacceptable DH group", false);
    }
    if (auto* err = m.error_notify())
        return give_up("peer refused with notify " + std::to_string(err->type),
                       err->type == static_cast<std::uint16_t>(NotifyType::TemporaryFailure));

    auto* sa_payload = m.find<SaPayload>(PayloadType::SecurityAssociation);
    auto* nonce = m.find<NoncePayload>(PayloadType::Nonce);
    auto* tsi = m.find<TsPayload>(PayloadType::TsInitiator);
    auto* tsr = m.find<TsPayload>(PayloadType::TsResponder);
    if (!sa_payload || !nonce || !tsi || !tsr) return give_up("incomplete response", false);
    auto suite = accept_chosen(sa.cfg.child.esp_suites, *sa_payload, ProtocolId::Esp);
    if (!suite || suite->dh != group_) return give_up("responder chose a proposal we did not offer", false);
    SecretBytes g_ir;
    if (dh_) {
        auto* ke = m.find<KePayload>(PayloadType::KeyExchange);
        if (!ke || ke->group != static_cast<std::uint16_t>(group_)) return give_up("missing or wrong KE", false);
        auto shared = dh_->shared_secret(ke->data);
        if (!shared) return give_up("invalid KE", false);
        g_ir = std::move(*shared);
    }
    if (!all_within(tsi->selectors, ts_i_) || !all_within(tsr->selectors, ts_r_))
        return give_up("responder widened the traffic selectors", false);
    std::uint32_t spi_out = spi_value(sa_payload->proposals.front().spi);
    if (!spi_out) return give_up("bad SPI", false);

    auto child = make_child(sa, *suite, spi_in_, spi_out, true, g_ir, nonce_, nonce->data, tsi->selectors,
                            tsr->selectors);
    child->virtual_ip = old ? old->virtual_ip : std::nullopt;
    sa.schedule_child_lifetime(*child, now);
    sa.install_child(std::move(child), rekey_spi_in_, true);
    if (old) {
        old->our_rekey_min_nonce = lowest(nonce_, nonce->data);
        old->our_rekey_new_spi_in = spi_in_;
        if (!old->peer_rekey_min_nonce.empty()) {
            resolve_collision(sa, *old, false);
        } else {
            old->state = ChildSa::State::Rekeyed;
            sa.defer_task(std::make_unique<ChildDeleteTask>(old->spi_in));
        }
    }
    return TaskStatus::Done;
}

Reply ChildCreateTask::respond(IkeSa& sa, const Message& m, ByteView, TimePoint now) {
    auto refuse = [&](NotifyType t, Bytes data = {}) {
        report(sa, "CREATE_CHILD_SA refused: notify " + std::to_string(static_cast<int>(t)));
        return Reply{{make_notify(t, std::move(data))}, {}};
    };
    ChildSa* old = nullptr;
    if (auto* rekey = m.notify(NotifyType::RekeySa)) {
        // The notify names the SPI the peer receives on: our outbound SPI.
        old = sa.child_by_spi_out(spi_value(rekey->spi));
        if (!old || old->state == ChildSa::State::Deleting) return refuse(NotifyType::ChildSaNotFound);
    }
    auto* nonce = m.find<NoncePayload>(PayloadType::Nonce);
    if (!nonce) return refuse(NotifyType::InvalidSyntax);
    auto choice = choose_child(sa, m, sa.cfg.child.esp_suites);
    if (auto* err = std::get_if<NotifyType>(&choice)) return refuse(*err);
    auto& c = std::get<ChildChoice>(choice);

    SecretBytes g_ir;
    std::unique_ptr<DhKeyPair> dh;
    if (c.suite.dh != DhId::None) {
        auto* ke = m.find<KePayload>(PayloadType::KeyExchange);
        if (!ke || ke->group != static_cast<std::uint16_t>(c.suite.dh))
            return refuse(NotifyType::InvalidKePayload, group_bytes(c.suite.dh));
        dh = DhKeyPair::generate(c.suite.dh);
        auto shared = dh->shared_secret(ke->data);
        if (!shared) return refuse(NotifyType::InvalidSyntax);
        g_ir = std::move(*shared);
    }
    Bytes nr = random_bytes(kNonceSize);
    std::uint32_t spi_in = sa.core.allocate_child_spi();
    c.reply.spi = spi_bytes(spi_in);

    Reply r;
    if (sa.cfg.child.transport_mode && m.notify(NotifyType::UseTransportMode))
        r.payloads.push_back(make_notify(NotifyType::UseTransportMode));
    r.payloads.push_back({PayloadType::SecurityAssociation, SaPayload{{c.reply}}});
    r.payloads.push_back({PayloadType::Nonce, NoncePayload{nr}});
    if (dh) r.payloads.push_back({PayloadType::KeyExchange, KePayload{static_cast<std::uint16_t>(c.suite.dh), dh->public_value()}});
    r.payloads.push_back({PayloadType::TsInitiator, TsPayload{c.ts_i}});
    r.payloads.push_back({PayloadType::TsResponder, TsPayload{c.ts_r}});

    auto child = make_child(sa, c.suite, spi_in, c.peer_spi, false, g_ir, nonce->data, nr, c.ts_i, c.ts_r);
    child->virtual_ip = old ? old->virtual_ip : std::nullopt;
    sa.schedule_child_lifetime(*child, now);
    sa.install_child(std::move(child), old ? old->spi_in : 0);
    if (old) {
        old->peer_rekey_min_nonce = lowest(nonce->data, nr);
        old->peer_rekey_new_spi_in = spi_in;
        if (old->state == ChildSa::State::Rekeyed && !old->our_rekey_min_nonce.empty())
            resolve_collision(sa, *old, true);  // our own rekey finished first
        else if (old->state == ChildSa::State::Installed)
            old->state = ChildSa::State::Rekeyed;  // the peer will delete it
        // Rekeying: our request is in flight; its response resolves the collision.
    }
    return r;
}

}  // namespace ipsecgw::ike
