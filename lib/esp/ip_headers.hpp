// Byte-level helpers for the IPv4/IPv6 headers the ESP engine reads and writes.
// Everything works on unaligned network-order bytes.
#pragma once

#include <cstdint>
#include <cstring>

namespace ipsecgw::esp {

constexpr uint8_t kProtoIpv4 = 4;     // IP-in-IP (next header for tunnelled IPv4)
constexpr uint8_t kProtoIpv6 = 41;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoEsp = 50;
constexpr uint8_t kProtoNone = 59;    // IPv6 no next header: ESP dummy packet
constexpr uint32_t kIpv4MinHeader = 20;
constexpr uint32_t kIpv6Header = 40;
constexpr uint32_t kUdpHeader = 8;

inline uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load32(const uint8_t* p)
{
    return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3];
}
inline void store16(uint8_t* p, uint16_t v) { p[0] = uint8_t(v >> 8), p[1] = uint8_t(v); }
inline void store32(uint8_t* p, uint32_t v)
{
    p[0] = uint8_t(v >> 24), p[1] = uint8_t(v >> 16), p[2] = uint8_t(v >> 8), p[3] = uint8_t(v);
}
inline void store64(uint8_t* p, uint64_t v)
{
    store32(p, uint32_t(v >> 32));
    store32(p + 4, uint32_t(v));
}

// One's-complement sum of native-order 32-bit words; fold with checksum_finish().
// Byte order does not matter to the sum (RFC 1071 §2(B)), only to the final swap.
inline uint64_t checksum_add_words(uint64_t sum, const uint8_t* p, uint32_t words)
{
    for (uint32_t i = 0; i < words; ++i) {
        uint32_t w;
        std::memcpy(&w, p + 4 * i, 4);
        sum += w;
    }
    return sum;
}
// Sum of any number of bytes: a partial last word is padded with zeros, as
// the UDP checksum requires (RFC 768).
inline uint64_t checksum_add_bytes(uint64_t sum, const uint8_t* p, uint32_t len)
{
    sum = checksum_add_words(sum, p, len / 4);
    if (uint32_t rest = len % 4) {
        uint8_t last[4] = {};
        std::memcpy(last, p + len - rest, rest);
        sum = checksum_add_words(sum, last, 1);
    }
    return sum;
}
inline uint16_t checksum_finish(uint64_t sum)
{
    static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "native-order checksum assumes little endian");
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffffffff) + (sum >> 32);
    sum = (sum & 0xffff) + (sum >> 16);
    sum = (sum & 0xffff) + (sum >> 16);
    uint16_t folded = uint16_t(~sum);
    return uint16_t(folded >> 8 | folded << 8);  // as a number in network order
}

// Internet checksum of an IPv4 header (checksum field included as it is):
// 0 when a received header is intact. `len` is a multiple of 4 (IHL * 4).
inline uint16_t ipv4_header_checksum(const uint8_t* hdr, uint32_t len)
{
    if (len == kIpv4MinHeader)  // the common case, unrolled
        return checksum_finish(checksum_add_words(0, hdr, 5));
    return checksum_finish(checksum_add_words(0, hdr, len / 4));
}
// Recomputes and stores the checksum of the IPv4 header at hdr.
void ipv4_set_checksum(uint8_t* hdr);

// Traffic class octet (DSCP << 2 | ECN) of an IPv4 or IPv6 header.
inline uint8_t ip_tos(const uint8_t* hdr)
{
    return (hdr[0] >> 4) == 4 ? hdr[1] : uint8_t((hdr[0] & 0x0f) << 4 | hdr[1] >> 4);
}
inline void ipv6_set_tclass(uint8_t* hdr, uint8_t tc)
{
    hdr[0] = uint8_t((hdr[0] & 0xf0) | tc >> 4);
    hdr[1] = uint8_t((hdr[1] & 0x0f) | (tc & 0x0f) << 4);
}
// Sets the ECN bits of an inner IPv4/IPv6 header, fixing the IPv4 checksum.
void ip_set_ecn(uint8_t* hdr, uint8_t ecn);

// ECN at decapsulation (RFC 6040 §4.2). Returns the inner packet's new ECN
// value, or -1 when the packet must be dropped (outer CE, inner Not-ECT).
int ecn_decapsulate(uint8_t inner_ecn, uint8_t outer_ecn);

// IPv6 extension headers that precede ESP in transport mode (RFC 4303 §3.1.1):
// hop-by-hop, routing, fragment, and destination options before a routing header.
// Finds where ESP goes: *nh_field is the offset of the next-header byte to
// rewrite, *insert_at the offset where ESP starts. False if the chain is malformed.
bool ipv6_find_esp_insert(const uint8_t* pkt, uint32_t len, uint32_t* nh_field, uint32_t* insert_at);
// Finds an ESP header in an IPv6 packet's extension chain; same outputs.
bool ipv6_find_esp(const uint8_t* pkt, uint32_t len, uint32_t* nh_field, uint32_t* esp_at);
// Same walk, for ESP or UDP (ESP-in-UDP): true when the upper-layer header
// found is either; pkt[*nh_field] says which.
bool ipv6_find_esp_or_udp(const uint8_t* pkt, uint32_t len, uint32_t* nh_field, uint32_t* at);

// RFC 3948 §2.2/§2.3: what a UDP datagram to the NAT-T port carries.
enum class NatTPayload : uint8_t { Esp, Ike, Keepalive, Malformed };
// `payload` is the UDP payload, `len` its length.
inline NatTPayload classify_nat_t(const uint8_t* payload, uint32_t len)
{
    if (len == 1 && payload[0] == 0xff)
        return NatTPayload::Keepalive;
    if (len >= 4 && load32(payload) == 0)
        return NatTPayload::Ike;  // non-ESP marker: a zero SPI
    return len >= 8 ? NatTPayload::Esp : NatTPayload::Malformed;  // ESP needs at least SPI + sequence
}

}  // namespace ipsecgw::esp
