// IKE_SA_INIT, both roles.
#include "ike/ike_init_task.hpp"

#include <algorithm>

#include "ike/ike_auth_task.hpp"
#include "ike/certificate_auth.hpp"
#include "ike/ike_sa.hpp"
#include "ike/nat_detection.hpp"

namespace ipsecgw::ike {
namespace {

constexpr std::size_t kNonceSize = 32;
constexpr int kMaxRestarts = 4;  // COOKIE / INVALID_KE_PAYLOAD round trips

Payload nonce_payload(const Bytes& n) { return {PayloadType::Nonce, NoncePayload{n}}; }

// RFC 7427 §4: announces the hashes we accept in digital signatures
// (SHA2-256, SHA2-384, SHA2-512). Without it a peer falls back to the legacy
// RSA/ECDSA methods (1, 9-11), which we do not accept.
Payload signature_hash_algorithms() {
    return make_notify(NotifyType::SignatureHashAlgorithms, Bytes{0, 2, 0, 3, 0, 4});
}

void add_nat_detection(std::vector<Payload>& out, std::uint64_t spi_i, std::uint64_t spi_r, const Endpoint& src,
                       const Endpoint& dst) {
    out.push_back(make_notify(NotifyType::NatDetectionSourceIp, nat_detection_hash(spi_i, spi_r, src)));
    out.push_back(make_notify(NotifyType::NatDetectionDestinationIp, nat_detection_hash(spi_i, spi_r, dst)));
}

// Compares the peer's NAT_DETECTION hashes with the addresses we saw. The
// hashes in a request are computed with SPIr = 0.
void check_nat(IkeSa& sa, const Message& m, std::uint64_t spi_r_in_hash) {
    auto sources = m.notifies_of(NotifyType::NatDetectionSourceIp);
    auto dest = m.notify(NotifyType::NatDetectionDestinationIp);
    if (sources.empty() || !dest) return;  // peer does not do NAT detection
    Bytes peer_hash = nat_detection_hash(sa.spi_i, spi_r_in_hash, sa.remote);
    sa.nat_there = std::none_of(sources.begin(), sources.end(), [&](auto* n) { return n->data == peer_hash; });
    sa.nat_here = dest->data != nat_detection_hash(sa.spi_i, spi_r_in_hash, sa.local);
}

bool our_group(const IkeSa& sa, DhId g) {
    return std::any_of(sa.cfg.ike_suites.begin(), sa.cfg.ike_suites.end(), [&](const Suite& s) { return s.dh == g; });
}

}  // namespace

std::vector<Payload> IkeInitTask::build_request(IkeSa& sa, TimePoint) {
    if (sa.spi_i == 0) sa.spi_i = sa.core.allocate_ike_spi();
    if (group_ == DhId::None) group_ = sa.cfg.ike_suites.front().dh;
    if (!dh_ || dh_->group() != group_) dh_ = DhKeyPair::generate(group_);
    if (sa.ni.empty()) sa.ni = random_bytes(kNonceSize);

    std::vector<Payload> out;
    if (!cookie_.empty()) out.push_back(make_notify(NotifyType::Cookie, cookie_));
    SaPayload proposals;
    std::uint8_t number = 1;
    for (const auto& s : sa.cfg.ike_suites) proposals.proposals.push_back(to_proposal(s, ProtocolId::Ike, number++));
    out.push_back({PayloadType::SecurityAssociation, proposals});
    out.push_back({PayloadType::KeyExchange, KePayload{static_cast<std::uint16_t>(group_), dh_->public_value()}});
    out.push_back(nonce_payload(sa.ni));
    add_nat_detection(out, sa.spi_i, 0, sa.local, sa.remote);
    if (sa.cfg.fragment_size) out.push_back(make_notify(NotifyType::Ikev2FragmentationSupported));
    if (sa.cfg.certificate) out.push_back(signature_hash_algorithms());
    return out;
}

TaskStatus IkeInitTask::on_response(IkeSa& sa, const Message& m, ByteView raw, TimePoint now) {
    auto fail = [&](const std::string& why) {
        SaEvent e = sa.event(EventType::Failed);
        e.reason = "IKE_SA_INIT: " + why;
        sa.core.emit(std::move(e));
        sa.terminate(why, false);
        return TaskStatus::Done;
    };
    if (auto* cookie = m.notify(NotifyType::Cookie)) {
        // §2.6: retry with the cookie first, same message ID.
        if (++restarts_ > kMaxRestarts || cookie->data.empty() || cookie->data.size() > 64)
            return fail("too many COOKIE requests");
        cookie_ = cookie->data;
        return TaskStatus::Again;
    }
    if (auto* ke = m.notify(NotifyType::InvalidKePayload)) {
        // §1.3: the responder names the group it wants.
        if (ke->data.size() != 2) return fail("malformed INVALID_KE_PAYLOAD");
        auto wanted = static_cast<DhId>(ke->data[0] << 8 | ke->data[1]);
        if (++restarts_ > kMaxRestarts || wanted == group_ || !our_group(sa, wanted))
            return fail("peer wants an unacceptable DH group");
        group_ = wanted;
        return TaskStatus::Again;
    }
    if (auto* err = m.error_notify()) return fail("peer refused with notify " + std::to_string(err->type));

    auto* sa_payload = m.find<SaPayload>(PayloadType::SecurityAssociation);
    auto* ke = m.find<KePayload>(PayloadType::KeyExchange);
    auto* nonce = m.find<NoncePayload>(PayloadType::Nonce);
    if (!sa_payload || !ke || !nonce || m.header.spi_r == 0) return fail("incomplete response");
    auto suite = accept_chosen(sa.cfg.ike_suites, *sa_payload, ProtocolId::Ike);
    if (!suite) return fail("responder chose a proposal we did not offer");
    if (suite->dh != group_ || ke->group != static_cast<std::uint16_t>(group_)) return fail("DH group mismatch");
    auto shared = dh_->shared_secret(ke->data);
    if (!shared) return fail("invalid KE payload");

    sa.suite = *suite;
    sa.spi_r = m.header.spi_r;
    sa.nr = nonce->data;
    sa.init_request_raw = sa.last_request_wire();
    sa.init_response_raw.assign(raw.begin(), raw.end());
    sa.keys = derive_ike_keys(sa.suite, sa.ni, sa.nr, *shared, sa.spi_i, sa.spi_r);
    check_nat(sa, m, sa.spi_r);
    sa.fragmentation = sa.cfg.fragment_size && m.notify(NotifyType::Ikev2FragmentationSupported);
    if (sa.udp_encapsulation()) {
        // §2.23: float to port 4500 from IKE_AUTH on.
        sa.local.port = kIkeNatTPort;
        sa.remote.port = kIkeNatTPort;
    }
    sa.queue_task_front(std::make_unique<IkeAuthTask>());
    (void)now;
    return TaskStatus::Done;
}

Reply IkeInitTask::respond(IkeSa& sa, const Message& m, ByteView raw, TimePoint) {
    // Failures keep no state: reply with SPIr = 0 and let the SA die.
    auto refuse = [&](NotifyType t, Bytes data = {}) {
        if (t == NotifyType::NoProposalChosen) {  // a configuration mismatch the operator must see
            SaEvent e = sa.event(EventType::Failed);
            e.reason = "IKE_SA_INIT: no acceptable IKE proposal: sent notify " + std::to_string(static_cast<int>(t));
            sa.core.emit(std::move(e));
        }
        sa.spi_r = 0;
        return Reply{{make_notify(t, std::move(data))}, [&sa] { sa.terminate("IKE_SA_INIT refused", false); }};
    };
    auto* sa_payload = m.find<SaPayload>(PayloadType::SecurityAssociation);
    auto* ke = m.find<KePayload>(PayloadType::KeyExchange);
    auto* nonce = m.find<NoncePayload>(PayloadType::Nonce);
    if (!sa_payload || !ke || !nonce) return refuse(NotifyType::InvalidSyntax);
    auto sel = select_proposal(sa.cfg.ike_suites, *sa_payload, ProtocolId::Ike);
    if (!sel) return refuse(NotifyType::NoProposalChosen);
    DhId group = sel->suite.dh;
    if (ke->group != static_cast<std::uint16_t>(group)) {
        // Prefer the peer's KE group if any proposal we accept uses it.
        for (const auto& s : sa.cfg.ike_suites) {
            if (static_cast<std::uint16_t>(s.dh) != ke->group) continue;
            SaPayload only;
            for (const auto& p : sa_payload->proposals) only.proposals.push_back(p);
            if (auto alt = select_proposal({s}, only, ProtocolId::Ike)) {
                sel = alt;
                group = s.dh;
                break;
            }
        }
    }
    if (ke->group != static_cast<std::uint16_t>(group))
        return refuse(NotifyType::InvalidKePayload,
                      Bytes{static_cast<std::uint8_t>(static_cast<std::uint16_t>(group) >> 8),
                            static_cast<std::uint8_t>(group)});
    auto dh = DhKeyPair::generate(group);
    auto shared = dh->shared_secret(ke->data);
    if (!shared) return refuse(NotifyType::InvalidSyntax);

    sa.suite = sel->suite;
    sa.ni = nonce->data;
    sa.nr = random_bytes(kNonceSize);
    sa.init_request_raw.assign(raw.begin(), raw.end());
    sa.keys = derive_ike_keys(sa.suite, sa.ni, sa.nr, *shared, sa.spi_i, sa.spi_r);
    check_nat(sa, m, 0);

    std::vector<Payload> out;
    out.push_back({PayloadType::SecurityAssociation, SaPayload{{sel->proposal}}});
    out.push_back({PayloadType::KeyExchange, KePayload{static_cast<std::uint16_t>(group), dh->public_value()}});
    out.push_back(nonce_payload(sa.nr));
    add_nat_detection(out, sa.spi_i, sa.spi_r, sa.local, sa.remote);
    if (sa.cfg.fragment_size && m.notify(NotifyType::Ikev2FragmentationSupported)) {
        sa.fragmentation = true;
        out.push_back(make_notify(NotifyType::Ikev2FragmentationSupported));
    }
    if (sa.cfg.certificate && m.notify(NotifyType::SignatureHashAlgorithms))
        out.push_back(signature_hash_algorithms());
    if (sa.cfg.certificate)
        out.push_back({PayloadType::CertificateRequest,
                       CertReqPayload{kCertX509Signature, ca_key_hashes(sa.cfg.certificate->trusted_cas_der)}});
    return Reply{std::move(out), {}};
}

}  // namespace ipsecgw::ike
