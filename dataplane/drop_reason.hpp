// Why the dataplane dropped a packet. The ESP engine's own verdicts come first
// (same numbering as esp::Status), followed by the dataplane's reasons, so a
// single counter array covers both.
#pragma once

#include <cstdint>
#include <string_view>

#include "esp/status.hpp"

namespace ipsecgw::dataplane {

enum class Drop : uint16_t {
    // 0 .. esp::kStatusCount-1: esp::Status values (0 = ok is unused)
    NotIp = esp::kStatusCount,  // not IPv4/IPv6 (and not ARP we answer)
    MalformedIp,                // IP header or length inconsistent with the frame
    MultiSegment,               // chained mbufs are not handled on the fast path
    PolicyDiscard,              // a DISCARD policy matched
    NoPolicy,                   // nothing matched and the default action is DISCARD
    InboundPolicyMismatch,      // decrypted packet outside its SA's selectors (RFC 4301 §5.2)
    CleartextNotAllowed,        // plaintext on an unprotected port without a BYPASS policy
    EspNotForUs,                // ESP to an address that is not the gateway's
    NatTraversal,               // IKE (UDP 500/4500) for the gateway while no control channel takes it
    NoRoute,
    NoNeighbour,
    TtlExpired,
    NoHeadroom,                 // no room for the Ethernet header
    TxFull,                     // the TX queue did not take the packet
    HandoffFull,                // the owning worker's handoff ring was full
    // Not errors, counted with the drops so every report and telemetry shows them:
    Punted,                     // IKE handed to the control core (ControlChannel::punt)
    PuntFull,                   // IKE dropped: the punt ring was full
    NatKeepalive,               // RFC 3948 §2.3 NAT keepalive (one 0xFF byte to UDP 4500)
    Acquire,                    // no SA yet for this traffic: IKE asked to negotiate one
    Count
};

constexpr unsigned kDropCount = static_cast<unsigned>(Drop::Count);

inline Drop drop_of(esp::Status s) { return static_cast<Drop>(static_cast<uint16_t>(s)); }

constexpr std::string_view drop_name(Drop d)
{
    auto v = static_cast<uint16_t>(d);
    if (v < esp::kStatusCount)
        return esp::status_name(static_cast<esp::Status>(v));
    switch (d) {
    case Drop::NotIp: return "not_ip";
    case Drop::MalformedIp: return "malformed_ip";
    case Drop::MultiSegment: return "multi_segment";
    case Drop::PolicyDiscard: return "policy_discard";
    case Drop::NoPolicy: return "no_policy";
    case Drop::InboundPolicyMismatch: return "inbound_policy_mismatch";
    case Drop::CleartextNotAllowed: return "cleartext_not_allowed";
    case Drop::EspNotForUs: return "esp_not_for_us";
    case Drop::NatTraversal: return "nat_traversal";
    case Drop::NoRoute: return "no_route";
    case Drop::NoNeighbour: return "no_neighbour";
    case Drop::TtlExpired: return "ttl_expired";
    case Drop::NoHeadroom: return "no_l2_headroom";
    case Drop::TxFull: return "tx_full";
    case Drop::HandoffFull: return "handoff_full";
    case Drop::Punted: return "punted";
    case Drop::PuntFull: return "punt_full";
    case Drop::NatKeepalive: return "nat_keepalive";
    case Drop::Acquire: return "acquire";
    default: return "unknown";
    }
}

}  // namespace ipsecgw::dataplane
