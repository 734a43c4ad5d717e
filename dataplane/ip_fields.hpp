// Reading and rewriting the few IP header fields the dataplane needs, on raw
// packet bytes (network byte order). Inline: these run per packet.
#pragma once

#include <cstdint>
#include <cstring>

#include "dataplane/spd_classifier.hpp"

namespace ipsecgw::dataplane {

constexpr uint8_t kProtoEsp = 50;
constexpr uint8_t kProtoUdp = 17;
constexpr uint8_t kProtoTcp = 6;
constexpr uint8_t kProtoSctp = 132;
constexpr uint8_t kProtoIcmp6 = 58;

inline uint16_t load16(const uint8_t* p) { return uint16_t(p[0] << 8 | p[1]); }
inline uint32_t load32(const uint8_t* p)
{
    uint32_t v;
    std::memcpy(&v, p, 4);
    return __builtin_bswap32(v);  // network to host order (x86)
}

inline bool has_ports(uint8_t proto) { return proto == kProtoUdp || proto == kProtoTcp || proto == kProtoSctp; }

// Length of the IP packet at p according to its header, 0 if the header is
// invalid or does not fit in `avail` bytes.
inline uint32_t ip_packet_length(const uint8_t* p, uint32_t avail)
{
    if (avail < 20)
        return 0;
    unsigned version = p[0] >> 4;
    if (version == 4) {
        unsigned ihl = (p[0] & 15u) * 4;
        uint32_t total = load16(p + 2);
        return ihl >= 20 && total >= ihl && total <= avail ? total : 0;
    }
    if (version == 6 && avail >= 40) {
        uint32_t total = 40u + load16(p + 4);
        return total <= avail ? total : 0;
    }
    return 0;
}

// Fills the classifier key; the packet was validated by ip_packet_length.
// Ports are read only from the first fragment of a port-carrying protocol.
inline void fill_key4(const uint8_t* p, uint32_t len, AclKey4* k)
{
    unsigned ihl = (p[0] & 15u) * 4;
    k->proto = p[9];
    std::memcpy(&k->src, p + 12, 4);
    std::memcpy(&k->dst, p + 16, 4);
    bool first_fragment = (load16(p + 6) & 0x1fff) == 0;
    if (has_ports(k->proto) && first_fragment && len >= ihl + 4) {
        std::memcpy(&k->sport, p + ihl, 2);
        std::memcpy(&k->dport, p + ihl + 2, 2);
    } else {
        k->sport = k->dport = 0;
    }
}

// IPv6: extension headers are not walked; the next header is the protocol.
inline void fill_key6(const uint8_t* p, uint32_t len, AclKey6* k)
{
    k->proto = p[6];
    std::memcpy(k->src, p + 8, 16);
    std::memcpy(k->dst, p + 24, 16);
    if (has_ports(k->proto) && len >= 44) {
        std::memcpy(&k->sport, p + 40, 2);
        std::memcpy(&k->dport, p + 42, 2);
    } else {
        k->sport = k->dport = 0;
    }
}

// Forwarding step on the packet the gateway routes: TTL / hop limit minus one
// (IPv4 checksum updated incrementally, RFC 1624). False when it would expire.
inline bool decrement_ttl(uint8_t* p)
{
    if ((p[0] >> 4) == 4) {
        if (p[8] <= 1)
            return false;
        p[8]--;
        // TTL is the high byte of its 16-bit word: the sum changes by 0x0100.
        uint32_t sum = uint32_t(load16(p + 10)) + 0x0100;
        sum = (sum & 0xffff) + (sum >> 16);
        p[10] = uint8_t(sum >> 8), p[11] = uint8_t(sum);
        return true;
    }
    if (p[7] <= 1)
        return false;
    p[7]--;
    return true;
}

}  // namespace ipsecgw::dataplane
