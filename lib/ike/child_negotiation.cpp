#include "ike/child_negotiation.hpp"

#include "ike/ike_sa.hpp"
#include "ike/traffic_selectors.hpp"

namespace ipsecgw::ike {

Bytes spi_bytes(std::uint32_t spi) {
    Bytes b;
    Writer(b).u32(spi);
    return b;
}

std::uint32_t spi_value(ByteView spi) {
    if (spi.size() != 4) return 0;
    Reader r(spi);
    return r.u32();
}

std::vector<Suite> without_pfs(std::vector<Suite> suites) {
    std::vector<Suite> out;
    for (auto& s : suites) {
        s.dh = DhId::None;
        if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
    return out;
}

SaPayload esp_proposals(const std::vector<Suite>& suites, std::uint32_t spi_in) {
    SaPayload sa;
    std::uint8_t n = 1;
    for (const auto& s : suites) sa.proposals.push_back(to_proposal(s, ProtocolId::Esp, n++, spi_bytes(spi_in)));
    return sa;
}

std::variant<NotifyType, ChildChoice> choose_child(const IkeSa& sa, const Message& m, const std::vector<Suite>& suites,
                                                   const std::vector<TrafficSelector>* ts_i_override) {
    auto* sa_payload = m.find<SaPayload>(PayloadType::SecurityAssociation);
    auto* tsi = m.find<TsPayload>(PayloadType::TsInitiator);
    auto* tsr = m.find<TsPayload>(PayloadType::TsResponder);
    if (!sa_payload || !tsi || !tsr) return NotifyType::InvalidSyntax;
    auto sel = select_proposal(suites, *sa_payload, ProtocolId::Esp);
    if (!sel) return NotifyType::NoProposalChosen;
    ChildChoice c;
    c.suite = sel->suite;
    c.reply = sel->proposal;
    c.peer_spi = spi_value(sel->proposal.spi);
    if (c.peer_spi == 0) return NotifyType::InvalidSyntax;
    c.ts_i = narrow(tsi->selectors, ts_i_override ? *ts_i_override : sa.cfg.child.remote_ts);
    c.ts_r = narrow(tsr->selectors, sa.cfg.child.local_ts);
    if (c.ts_i.empty() || c.ts_r.empty()) return NotifyType::TsUnacceptable;
    return c;
}

std::unique_ptr<ChildSa> make_child(const IkeSa& sa, const Suite& suite, std::uint32_t spi_in, std::uint32_t spi_out,
                                    bool as_initiator, ByteView g_ir, ByteView ni, ByteView nr,
                                    std::vector<TrafficSelector> ts_i, std::vector<TrafficSelector> ts_r) {
    auto c = std::make_unique<ChildSa>();
    c->spi_in = spi_in;
    c->spi_out = spi_out;
    c->suite = suite;
    c->created_as_initiator = as_initiator;
    c->transport_mode = sa.cfg.child.transport_mode;
    c->keys = derive_child_keys(suite, sa.suite.prf, sa.keys->sk_d, g_ir, ni, nr);
    c->local_ts = as_initiator ? std::move(ts_i) : std::move(ts_r);
    c->remote_ts = as_initiator ? std::move(ts_r) : std::move(ts_i);
    return c;
}

}  // namespace ipsecgw::ike
