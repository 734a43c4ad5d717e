// Per-packet verdict of the ESP engine: Ok, or the named reason the packet was
// rejected. Every reason has its own counter in the dataplane.
#pragma once

#include <cstdint>
#include <string_view>

namespace ipsecgw::esp {

enum class Status : uint8_t {
    Ok = 0,
    // inbound
    Truncated,           // shorter than its headers, or than the lengths it claims
    MalformedOuter,      // outer IP header invalid (version, IHL, length, neither ESP nor UDP)
    Fragmented,          // outer IP fragment: reassembly is not done here
    BadSpi,              // no SA for the SPI, or SA for another SPI/direction
    Replayed,            // sequence number already received
    OutsideWindow,       // sequence number left of the replay window
    IcvFailure,          // integrity check failed
    BadPad,              // padding bytes not 1, 2, 3 ... (RFC 4303 §2.4)
    BadNextHeader,       // next header does not fit the SA mode / inner packet
    DummyPacket,         // next header 59 (RFC 4303 §2.6): silently dropped
    MalformedInner,      // decrypted inner packet inconsistent
    EcnDrop,             // outer CE on a Not-ECT inner packet (RFC 6040 §4.2)
    MalformedUdp,        // UDP-encapsulated: UDP header truncated or its length disagrees with IP's
    NotEsp,              // UDP-encapsulated IKE (non-ESP marker) or NAT keepalive (RFC 3948 §2.2, §2.3)
    EncapMismatch,       // ESP-in-UDP for a plain SA, plain ESP for a UDP SA, or the wrong UDP port
    // outbound
    SeqExhausted,        // sequence space used up: the SA sends no more
    NoHeadroom,          // buffer cannot take the outer/ESP headers
    NoTailroom,          // buffer cannot take the trailer and ICV
    TooBig,              // result would exceed the IP length field
    // both
    SaNotActive,         // SA removed, expired or exhausted
    CryptoError,         // the crypto library refused the job
    Count
};

constexpr std::string_view status_name(Status s)
{
    switch (s) {
    case Status::Ok: return "ok";
    case Status::Truncated: return "truncated";
    case Status::MalformedOuter: return "malformed_outer";
    case Status::Fragmented: return "fragmented";
    case Status::BadSpi: return "bad_spi";
    case Status::Replayed: return "replayed";
    case Status::OutsideWindow: return "outside_window";
    case Status::IcvFailure: return "icv_failure";
    case Status::BadPad: return "bad_pad";
    case Status::BadNextHeader: return "bad_next_header";
    case Status::DummyPacket: return "dummy_packet";
    case Status::MalformedInner: return "malformed_inner";
    case Status::EcnDrop: return "ecn_drop";
    case Status::MalformedUdp: return "malformed_udp";
    case Status::NotEsp: return "not_esp";
    case Status::EncapMismatch: return "encapsulation_mismatch";
    case Status::SeqExhausted: return "seq_exhausted";
    case Status::NoHeadroom: return "no_headroom";
    case Status::NoTailroom: return "no_tailroom";
    case Status::TooBig: return "too_big";
    case Status::SaNotActive: return "sa_not_active";
    case Status::CryptoError: return "crypto_error";
    case Status::Count: break;
    }
    return "unknown";
}

constexpr unsigned kStatusCount = static_cast<unsigned>(Status::Count);

}  // namespace ipsecgw::esp
