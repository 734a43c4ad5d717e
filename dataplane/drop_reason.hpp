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

// Punted IKE shares the counter array but is handed on, not dropped: it is
// reported on its own and left out of every drop total.
constexpr bool counts_as_drop(Drop d) { return d != Drop::Punted; }

constexpr Drop drop_of(esp::Status s) { return static_cast<Drop>(static_cast<uint16_t>(s)); }

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

// Per-SA drop counters: the reasons a packet already tied to an SA is
// dropped, folded into a small fixed set so every SA slot stays bounded.
enum class SaDrop : uint8_t {
    Replay,                 // replayed or left of the replay window
    IcvFailure,             // integrity check failed
    BadTrailer,             // bad padding, next header or inner packet after decryption
    SaNotActive,            // SA dead, expired, or its sequence space exhausted
    EncapMismatch,          // ESP-in-UDP / plain ESP / UDP port not what the SA uses
    InboundPolicyMismatch,  // decrypted packet outside the SA's selectors
    HandoffFull,            // the owning worker's handoff ring was full
    Other,                  // anything else (truncated, no room, crypto error, ...)
    Count
};

constexpr unsigned kSaDropCount = static_cast<unsigned>(SaDrop::Count);

constexpr SaDrop sa_drop_of(Drop d)
{
    // On the number: the esp::Status values are not named in Drop.
    constexpr auto v = [](auto x) { return static_cast<uint16_t>(x); };
    switch (v(d)) {
    case v(esp::Status::Replayed):
    case v(esp::Status::OutsideWindow): return SaDrop::Replay;
    case v(esp::Status::IcvFailure): return SaDrop::IcvFailure;
    case v(esp::Status::BadPad):
    case v(esp::Status::BadNextHeader):
    case v(esp::Status::MalformedInner): return SaDrop::BadTrailer;
    case v(esp::Status::SaNotActive):
    case v(esp::Status::SeqExhausted): return SaDrop::SaNotActive;
    case v(esp::Status::EncapMismatch): return SaDrop::EncapMismatch;
    case v(Drop::InboundPolicyMismatch): return SaDrop::InboundPolicyMismatch;
    case v(Drop::HandoffFull): return SaDrop::HandoffFull;
    default: return SaDrop::Other;
    }
}

constexpr std::string_view sa_drop_name(SaDrop d)
{
    switch (d) {
    case SaDrop::Replay: return "replay";
    case SaDrop::IcvFailure: return "icv_failure";
    case SaDrop::BadTrailer: return "bad_trailer";
    case SaDrop::SaNotActive: return "sa_not_active";
    case SaDrop::EncapMismatch: return "encapsulation_mismatch";
    case SaDrop::InboundPolicyMismatch: return "inbound_policy_mismatch";
    case SaDrop::HandoffFull: return "handoff_full";
    case SaDrop::Other: return "other";
    case SaDrop::Count: break;
    }
    return "unknown";
}

}  // namespace ipsecgw::dataplane
