// IKE_AUTH, both roles, with the first CHILD_SA.
#include "ike/ike_auth_task.hpp"

#include "ike/authenticator.hpp"
#include "ike/certificate_auth.hpp"
#include "ike/child_negotiation.hpp"
#include "ike/ike_sa.hpp"
#include "ike/psk_auth.hpp"
#include "ike/traffic_selectors.hpp"

namespace ipsecgw::ike {
namespace {

bool id_acceptable(const PeerConfig& cfg, const IdPayload& id) {
    return cfg.remote_id.data.empty() || cfg.remote_id == id;
}

void established(IkeSa& sa, TimePoint now) {
    sa.state = IkeSa::State::Established;
    sa.schedule_ike_lifetime(now);
    SaEvent e = sa.event(EventType::IkeEstablished);
    sa.core.emit(std::move(e));
}

void child_failed(IkeSa& sa, const std::string& why) {
    SaEvent e = sa.event(EventType::Failed);
    e.reason = "CHILD_SA not created: " + why;
    sa.core.emit(std::move(e));
}

std::vector<TrafficSelector> any_ipv4() { return {ts_from_prefix(Bytes{0, 0, 0, 0}, 0)}; }

}  // namespace

std::vector<Payload> IkeAuthTask::build_request(IkeSa& sa, TimePoint) {
    std::vector<Payload> out;
    out.push_back({PayloadType::IdInitiator, sa.cfg.local_id});
    for (auto& p : certificate_payloads(sa)) out.push_back(std::move(p));
    if (sa.cfg.certificate)
        out.push_back({PayloadType::CertificateRequest,
                       CertReqPayload{kCertX509Signature, ca_key_hashes(sa.cfg.certificate->trusted_cas_der)}});
    if (!sa.cfg.remote_id.data.empty()) out.push_back({PayloadType::IdResponder, sa.cfg.remote_id});
    Bytes octets = signed_octets(sa.suite.prf, sa.init_request_raw, sa.nr, sa.keys->sk_pi, sa.cfg.local_id);
    auto auth = build_auth(sa, octets);
    if (auth) out.push_back({PayloadType::Authentication, *auth});
    if (sa.cfg.request_virtual_ip)
        out.push_back({PayloadType::Configuration,
                       CpPayload{CfgType::Request, {{static_cast<std::uint16_t>(CfgAttr::InternalIp4Address), {}}}}});
    if (!sa.core.has_other_ike_sa(sa)) out.push_back(make_notify(NotifyType::InitialContact));
    if (sa.cfg.child.transport_mode) out.push_back(make_notify(NotifyType::UseTransportMode));
    if (child_spi_in_ == 0) child_spi_in_ = sa.core.allocate_child_spi();
    out.push_back({PayloadType::SecurityAssociation, esp_proposals(without_pfs(sa.cfg.child.esp_suites), child_spi_in_)});
    out.push_back({PayloadType::TsInitiator,
                   TsPayload{sa.cfg.request_virtual_ip ? any_ipv4() : sa.cfg.child.local_ts}});
    out.push_back({PayloadType::TsResponder, TsPayload{sa.cfg.child.remote_ts}});
    return out;
}

TaskStatus IkeAuthTask::on_response(IkeSa& sa, const Message& m, ByteView, TimePoint now) {
    auto fail = [&](const std::string& why) {
        SaEvent e = sa.event(EventType::Failed);
        e.reason = "IKE_AUTH: " + why;
        sa.core.emit(std::move(e));
        sa.terminate(why, false);
        return TaskStatus::Done;
    };
    auto* idr = m.find<IdPayload>(PayloadType::IdResponder);
    auto* auth = m.find<AuthPayload>(PayloadType::Authentication);
    if (!idr || !auth) {
        auto* err = m.error_notify();
        return fail(err ? "peer refused with notify " + std::to_string(err->type) : "incomplete response");
    }
    if (!id_acceptable(sa.cfg, *idr)) return fail("unexpected responder identity");
    Bytes octets = signed_octets(sa.suite.prf, sa.init_response_raw, sa.ni, sa.keys->sk_pr, *idr);
    if (!verify_auth(sa, m, *idr, *auth, octets, now)) return fail("responder AUTH does not verify");
    sa.peer_id = *idr;
    established(sa, now);
    if (m.notify(NotifyType::InitialContact)) sa.core.initial_contact(sa);

    // The IKE SA stands even if the CHILD_SA was refused (§1.2).
    if (auto* err = m.error_notify()) {
        child_failed(sa, "notify " + std::to_string(err->type));
        return TaskStatus::Done;
    }
    auto* sa_payload = m.find<SaPayload>(PayloadType::SecurityAssociation);
    auto* tsi = m.find<TsPayload>(PayloadType::TsInitiator);
    auto* tsr = m.find<TsPayload>(PayloadType::TsResponder);
    if (!sa_payload || !tsi || !tsr) {
        child_failed(sa, "response lacks SA/TS");
        return TaskStatus::Done;
    }
    auto suite = accept_chosen(without_pfs(sa.cfg.child.esp_suites), *sa_payload, ProtocolId::Esp);
    std::vector<TrafficSelector> offered_i = sa.cfg.request_virtual_ip ? any_ipv4() : sa.cfg.child.local_ts;
    if (!suite || !all_within(tsi->selectors, offered_i) || !all_within(tsr->selectors, sa.cfg.child.remote_ts)) {
        child_failed(sa, "responder's choice is not one we offered");
        return TaskStatus::Done;
    }
    if (auto* cp = m.find<CpPayload>(PayloadType::Configuration))
        for (const auto& a : cp->attributes)
            if (a.type == static_cast<std::uint16_t>(CfgAttr::InternalIp4Address) && a.value.size() >= 4)
                sa.virtual_ip = Bytes(a.value.begin(), a.value.begin() + 4);
    auto child = make_child(sa, *suite, child_spi_in_, spi_value(sa_payload->proposals.front().spi), true, {}, sa.ni,
                            sa.nr, tsi->selectors, tsr->selectors);
    child->virtual_ip = sa.virtual_ip;
    sa.schedule_child_lifetime(*child, now);
    sa.install_child(std::move(child), 0, true);
    return TaskStatus::Done;
}

Reply IkeAuthTask::respond(IkeSa& sa, const Message& m, ByteView, TimePoint now) {
    // Every refusal is also an event, so the operator sees why a peer was
    // turned away (the reason names the notify sent).
    auto refuse = [&](NotifyType t, const char* why) {
        SaEvent e = sa.event(EventType::Failed);
        e.reason = std::string("IKE_AUTH: ") + why + ": sent notify " + std::to_string(static_cast<int>(t));
        sa.core.emit(std::move(e));
        return Reply{{make_notify(t)}, [&sa] { sa.terminate("IKE_AUTH refused", false); }};
    };
    auto* idi = m.find<IdPayload>(PayloadType::IdInitiator);
    auto* auth = m.find<AuthPayload>(PayloadType::Authentication);
    if (!idi || !auth)  // no EAP support
        return refuse(NotifyType::AuthenticationFailed, "no AUTH payload (EAP is not supported)");
    if (!id_acceptable(sa.cfg, *idi)) return refuse(NotifyType::AuthenticationFailed, "unexpected initiator identity");
    if (auto* idr = m.find<IdPayload>(PayloadType::IdResponder); idr && !(*idr == sa.cfg.local_id))
        return refuse(NotifyType::AuthenticationFailed, "initiator asked for another responder identity");
    Bytes peer_octets = signed_octets(sa.suite.prf, sa.init_request_raw, sa.nr, sa.keys->sk_pi, *idi);
    if (!verify_auth(sa, m, *idi, *auth, peer_octets, now))
        return refuse(NotifyType::AuthenticationFailed, "initiator AUTH does not verify");
    Bytes octets = signed_octets(sa.suite.prf, sa.init_response_raw, sa.ni, sa.keys->sk_pr, sa.cfg.local_id);
    auto our_auth = build_auth(sa, octets);
    if (!our_auth) return refuse(NotifyType::AuthenticationFailed, "cannot build our AUTH payload");

    Reply r;
    r.payloads.push_back({PayloadType::IdResponder, sa.cfg.local_id});
    for (auto& p : certificate_payloads(sa)) r.payloads.push_back(std::move(p));
    r.payloads.push_back({PayloadType::Authentication, *our_auth});
    sa.peer_id = *idi;
    established(sa, now);
    if (m.notify(NotifyType::InitialContact)) sa.core.initial_contact(sa);

    // Remote access: hand out a virtual IP and narrow TSi to it.
    std::vector<TrafficSelector> vip_ts;
    auto* cp = m.find<CpPayload>(PayloadType::Configuration);
    if (cp && cp->cfg_type == CfgType::Request && !sa.cfg.virtual_ip_pool.empty()) {
        sa.virtual_ip = sa.cfg.virtual_ip_pool.front();
        vip_ts.push_back(ts_single_address(*sa.virtual_ip));
        r.payloads.push_back({PayloadType::Configuration,
                              CpPayload{CfgType::Reply,
                                        {{static_cast<std::uint16_t>(CfgAttr::InternalIp4Address), *sa.virtual_ip}}}});
    } else if (cp && cp->cfg_type == CfgType::Request) {
        r.payloads.push_back(make_notify(NotifyType::InternalAddressFailure));
        child_failed(sa, "no virtual IP to assign");
        return r;
    }
    auto choice = choose_child(sa, m, without_pfs(sa.cfg.child.esp_suites), vip_ts.empty() ? nullptr : &vip_ts);
    if (auto* err = std::get_if<NotifyType>(&choice)) {
        r.payloads.push_back(make_notify(*err));
        child_failed(sa, "notify " + std::to_string(static_cast<int>(*err)));
        return r;
    }
    auto& c = std::get<ChildChoice>(choice);
    std::uint32_t spi_in = sa.core.allocate_child_spi();
    c.reply.spi = spi_bytes(spi_in);
    if (sa.cfg.child.transport_mode && m.notify(NotifyType::UseTransportMode))
        r.payloads.push_back(make_notify(NotifyType::UseTransportMode));
    r.payloads.push_back({PayloadType::SecurityAssociation, SaPayload{{c.reply}}});
    r.payloads.push_back({PayloadType::TsInitiator, TsPayload{c.ts_i}});
    r.payloads.push_back({PayloadType::TsResponder, TsPayload{c.ts_r}});
    auto child = make_child(sa, c.suite, spi_in, c.peer_spi, false, {}, sa.ni, sa.nr, c.ts_i, c.ts_r);
    child->virtual_ip = sa.virtual_ip;
    sa.schedule_child_lifetime(*child, now);
    sa.install_child(std::move(child), 0);
    return r;
}

}  // namespace ipsecgw::ike
