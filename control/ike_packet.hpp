// IKE datagrams <-> the IP packets the workers punt and transmit (Ethernet
// already stripped / added by them). Checks every length before reading:
// punted packets come straight from the wire.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ike/engine_types.hpp"

namespace ipsecgw::control {

enum class IkePacketError : uint8_t {
    None,
    Truncated,      // shorter than its headers say
    BadIpHeader,    // version, header length, total length
    Fragment,       // IP fragments are not reassembled here
    NotUdp,         // IPv6 extension headers included
    BadUdpLength,
    NotIkePort,     // destination neither 500 nor 4500
    NoMarker,       // port 4500 without the non-ESP marker (ESP or a keepalive)
    Empty,          // no IKE message after the headers
};
const char* to_string(IkePacketError e);

// Fills `out` (local = destination, remote = source, data = the IKE message
// without the marker).
IkePacketError parse_ike_packet(const uint8_t* p, size_t len, ike::Datagram& out);

// IPv4 or IPv6 (by the endpoints' address size) + UDP + [marker when the
// local port is 4500] + message; IP and UDP checksums computed. False when
// the addresses are not both 4 or both 16 bytes or the message is too big.
bool build_ike_packet(const ike::Datagram& d, std::vector<uint8_t>& out);
// RFC 3948 §2.3 NAT-keepalive: UDP with the single byte 0xFF.
bool build_nat_keepalive(const ike::Endpoint& local, const ike::Endpoint& remote, std::vector<uint8_t>& out);

}  // namespace ipsecgw::control
