#include "esp/ip_headers.hpp"

namespace ipsecgw::esp {

void ipv4_set_checksum(uint8_t* hdr)
{
    uint32_t ihl = (hdr[0] & 0x0f) * 4u;
    store16(hdr + 10, 0);
    store16(hdr + 10, ipv4_header_checksum(hdr, ihl));
}

void ip_set_ecn(uint8_t* hdr, uint8_t ecn)
{
    if ((hdr[0] >> 4) == 4) {
        hdr[1] = uint8_t((hdr[1] & 0xfc) | ecn);
        ipv4_set_checksum(hdr);
    } else {
        ipv6_set_tclass(hdr, uint8_t((ip_tos(hdr) & 0xfc) | ecn));
    }
}

int ecn_decapsulate(uint8_t inner, uint8_t outer)
{
    constexpr uint8_t kNotEct = 0, kEct1 = 1, kCe = 3;
    if (inner == kNotEct)
        return outer == kCe ? -1 : kNotEct;
    if (inner == kCe || outer == kCe)
        return kCe;
    if (outer == kEct1)  // ECT(0) inner with ECT(1) outer becomes ECT(1)
        return kEct1;
    return inner;
}

namespace {

// Walks extension headers while `keep(type)` says they stay before ESP.
template <class Keep>
bool walk_v6(const uint8_t* pkt, uint32_t len, uint32_t* nh_field, uint32_t* at, Keep keep)
{
    if (len < kIpv6Header)
        return false;
    uint32_t field = 6, off = kIpv6Header;
    bool routing_seen = false;
    for (int hops = 0; hops < 16; ++hops) {  // bounded: no chain is this long
        uint8_t type = pkt[field];
        bool is_ext = type == 0 || type == 43 || type == 44 || type == 60;
        if (!is_ext || !keep(type, routing_seen, pkt, len, off))
            break;
        if (off + 8 > len)
            return false;
        uint32_t ext_len = type == 44 ? 8 : (pkt[off + 1] + 1u) * 8;
        if (off + ext_len > len)
            return false;
        routing_seen |= type == 43;
        field = off;
        off += ext_len;
    }
    *nh_field = field;
    *at = off;
    return true;
}

bool has_later_routing(const uint8_t* pkt, uint32_t len, uint32_t off)
{
    // A destination options header stays before ESP only if a routing header follows it.
    if (off + 8 > len)
        return false;
    return pkt[off] == 43;
}

}  // namespace

bool ipv6_find_esp_insert(const uint8_t* pkt, uint32_t len, uint32_t* nh_field, uint32_t* insert_at)
{
    return walk_v6(pkt, len, nh_field, insert_at,
                   [](uint8_t type, bool routing_seen, const uint8_t* p, uint32_t l, uint32_t off) {
                       if (type != 60)
                           return true;
                       return !routing_seen && has_later_routing(p, l, off);
                   });
}

bool ipv6_find_esp(const uint8_t* pkt, uint32_t len, uint32_t* nh_field, uint32_t* esp_at)
{
    // A fragment header ends the walk: ESP behind it is a fragment, not ours to decrypt.
    if (!walk_v6(pkt, len, nh_field, esp_at,
                 [](uint8_t type, bool, const uint8_t*, uint32_t, uint32_t) { return type != 44; }))
        return false;
    return pkt[*nh_field] == kProtoEsp;
}

bool ipv6_find_esp_or_udp(const uint8_t* pkt, uint32_t len, uint32_t* nh_field, uint32_t* at)
{
    if (!walk_v6(pkt, len, nh_field, at,
                 [](uint8_t type, bool, const uint8_t*, uint32_t, uint32_t) { return type != 44; }))
        return false;
    return pkt[*nh_field] == kProtoEsp || pkt[*nh_field] == kProtoUdp;
}

}  // namespace ipsecgw::esp
