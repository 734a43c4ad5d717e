// Pieces of CHILD_SA negotiation shared by IKE_AUTH and CREATE_CHILD_SA:
// ESP proposals, the responder's choice, and TS narrowing.
#pragma once

#include <memory>
#include <variant>

#include "ike/child_sa.hpp"
#include "ike/message.hpp"

namespace ipsecgw::ike {

class IkeSa;

Bytes spi_bytes(std::uint32_t spi);
std::uint32_t spi_value(ByteView spi);  // 0 if not 4 bytes

// The first CHILD_SA (in IKE_AUTH) never does a key exchange.
std::vector<Suite> without_pfs(std::vector<Suite> suites);
SaPayload esp_proposals(const std::vector<Suite>& suites, std::uint32_t spi_in);

struct ChildChoice {
    Suite suite;
    Proposal reply;  // our single proposal, with our SPI filled in by the caller
    std::uint32_t peer_spi = 0;
    std::vector<TrafficSelector> ts_i, ts_r;  // narrowed, in the initiator's view
};

// Responder: picks a proposal and narrows TSi/TSr against our policy
// (TSi against our remote selectors, TSr against our local ones).
// `ts_i_override` replaces our remote selectors (a virtual IP we assigned).
std::variant<NotifyType, ChildChoice> choose_child(const IkeSa& sa, const Message& request,
                                                   const std::vector<Suite>& suites,
                                                   const std::vector<TrafficSelector>* ts_i_override = nullptr);

// Builds the ChildSa once keys are known. `as_initiator`: we initiated the
// exchange that creates it (decides which keys are ours).
std::unique_ptr<ChildSa> make_child(const IkeSa& sa, const Suite& suite, std::uint32_t spi_in, std::uint32_t spi_out,
                                    bool as_initiator, ByteView g_ir, ByteView ni, ByteView nr,
                                    std::vector<TrafficSelector> ts_i, std::vector<TrafficSelector> ts_r);

}  // namespace ipsecgw::ike
