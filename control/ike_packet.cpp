#include "control/ike_packet.hpp"

namespace ipsecgw::control {
namespace {

constexpr uint8_t kUdp = 17;
constexpr size_t kMarker = 4;

uint16_t get16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
void put16(uint8_t* p, uint16_t v)
{
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}

uint32_t sum16(const uint8_t* p, size_t n, uint32_t acc = 0)
{
    for (size_t i = 0; i + 1 < n; i += 2)
        acc += get16(p + i);
    if (n & 1)
        acc += static_cast<uint32_t>(p[n - 1]) << 8;
    return acc;
}

uint16_t fold(uint32_t acc)
{
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(~acc);
}

// Writes IP + UDP headers for `payload` (already at out[hdr..]).
bool frame(const ike::Endpoint& local, const ike::Endpoint& remote, const std::vector<uint8_t>& payload,
           std::vector<uint8_t>& out)
{
    size_t alen = local.address.size();
    if ((alen != 4 && alen != 16) || remote.address.size() != alen)
        return false;
    size_t ip_hdr = alen == 4 ? 20 : 40;
    size_t udp_len = 8 + payload.size();
    if (udp_len > 0xffff - ip_hdr)
        return false;
    out.assign(ip_hdr + udp_len, 0);
    uint8_t* ip = out.data();
    uint8_t* udp = ip + ip_hdr;
    std::copy(payload.begin(), payload.end(), udp + 8);
    put16(udp, local.port);
    put16(udp + 2, remote.port);
    put16(udp + 4, static_cast<uint16_t>(udp_len));
    uint32_t pseudo = sum16(local.address.data(), alen) + sum16(remote.address.data(), alen) + kUdp +
                      static_cast<uint32_t>(udp_len);
    if (alen == 4) {
        ip[0] = 0x45;
        put16(ip + 2, static_cast<uint16_t>(ip_hdr + udp_len));
        ip[8] = 64;
        ip[9] = kUdp;
        std::copy(local.address.begin(), local.address.end(), ip + 12);
        std::copy(remote.address.begin(), remote.address.end(), ip + 16);
        put16(ip + 10, fold(sum16(ip, 20)));
    } else {
        ip[0] = 0x60;
        put16(ip + 4, static_cast<uint16_t>(udp_len));
        ip[6] = kUdp;
        ip[7] = 64;
        std::copy(local.address.begin(), local.address.end(), ip + 8);
        std::copy(remote.address.begin(), remote.address.end(), ip + 24);
    }
    uint16_t c = fold(sum16(udp, udp_len, pseudo));
    put16(udp + 6, c == 0 ? 0xffff : c);  // 0 means "no checksum"
    return true;
}

}  // namespace

const char* to_string(IkePacketError e)
{
    switch (e) {
        case IkePacketError::None: return "ok";
        case IkePacketError::Truncated: return "truncated";
        case IkePacketError::BadIpHeader: return "bad IP header";
        case IkePacketError::Fragment: return "IP fragment";
        case IkePacketError::NotUdp: return "not UDP";
        case IkePacketError::BadUdpLength: return "bad UDP length";
        case IkePacketError::NotIkePort: return "not an IKE port";
        case IkePacketError::NoMarker: return "port 4500 without non-ESP marker";
        case IkePacketError::Empty: return "no IKE message";
    }
    return "?";
}

IkePacketError parse_ike_packet(const uint8_t* p, size_t len, ike::Datagram& out)
{
    if (len < 1)
        return IkePacketError::Truncated;
    size_t ip_hdr = 0, ip_total = 0, alen = 0;
    const uint8_t *src = nullptr, *dst = nullptr;
    if ((p[0] >> 4) == 4) {
        if (len < 20)
            return IkePacketError::Truncated;
        ip_hdr = static_cast<size_t>(p[0] & 0x0f) * 4;
        ip_total = get16(p + 2);
        if (ip_hdr < 20 || ip_total < ip_hdr)
            return IkePacketError::BadIpHeader;
        if (ip_total > len || ip_hdr > len)
            return IkePacketError::Truncated;
        if ((get16(p + 6) & 0x3fff) != 0)  // MF or an offset
            return IkePacketError::Fragment;
        if (p[9] != kUdp)
            return IkePacketError::NotUdp;
        alen = 4, src = p + 12, dst = p + 16;
    } else if ((p[0] >> 4) == 6) {
        if (len < 40)
            return IkePacketError::Truncated;
        ip_hdr = 40;
        ip_total = 40 + static_cast<size_t>(get16(p + 4));
        if (ip_total > len)
            return IkePacketError::Truncated;
        if (p[6] != kUdp)
            return IkePacketError::NotUdp;
        alen = 16, src = p + 8, dst = p + 24;
    } else {
        return IkePacketError::BadIpHeader;
    }
    if (ip_total - ip_hdr < 8)
        return IkePacketError::Truncated;
    const uint8_t* udp = p + ip_hdr;
    size_t udp_len = get16(udp + 4);
    if (udp_len < 8 || udp_len > ip_total - ip_hdr)
        return IkePacketError::BadUdpLength;
    uint16_t sport = get16(udp), dport = get16(udp + 2);
    const uint8_t* msg = udp + 8;
    size_t msg_len = udp_len - 8;
    if (dport == ike::kIkeNatTPort) {
        if (msg_len < kMarker || msg[0] || msg[1] || msg[2] || msg[3])
            return IkePacketError::NoMarker;
        msg += kMarker;
        msg_len -= kMarker;
    } else if (dport != ike::kIkePort) {
        return IkePacketError::NotIkePort;
    }
    if (msg_len == 0)
        return IkePacketError::Empty;
    out.local = {ike::Bytes(dst, dst + alen), dport};
    out.remote = {ike::Bytes(src, src + alen), sport};
    out.data.assign(msg, msg + msg_len);
    return IkePacketError::None;
}

bool build_ike_packet(const ike::Datagram& d, std::vector<uint8_t>& out)
{
    std::vector<uint8_t> payload;
    payload.reserve(d.data.size() + kMarker);
    if (d.local.port == ike::kIkeNatTPort)
        payload.assign(kMarker, 0);
    payload.insert(payload.end(), d.data.begin(), d.data.end());
    return frame(d.local, d.remote, payload, out);
}

bool build_nat_keepalive(const ike::Endpoint& local, const ike::Endpoint& remote, std::vector<uint8_t>& out)
{
    return frame(local, remote, {0xff}, out);
}

}  // namespace ipsecgw::control
