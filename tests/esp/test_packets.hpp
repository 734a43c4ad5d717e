// Test helpers: packet builders and buffers with head/tail room, shared by the
// ESP engine tests. Builders write headers byte by byte from the RFCs, so the
// tests do not reuse the engine's own header code.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "esp/esp_engine.hpp"
#include "esp/sa.hpp"
#include "net/ip_address.hpp"

namespace ipsecgw::test {

using Bytes = std::vector<uint8_t>;

inline Bytes from_hex(const std::string& h)
{
    Bytes b;
    for (size_t i = 0; i + 1 < h.size(); i += 2)
        b.push_back(uint8_t(std::stoul(h.substr(i, 2), nullptr, 16)));
    return b;
}

inline std::string to_hex(const uint8_t* p, size_t n)
{
    static const char* d = "0123456789abcdef";
    std::string s;
    for (size_t i = 0; i < n; ++i)
        s += d[p[i] >> 4], s += d[p[i] & 15];
    return s;
}

inline uint16_t csum16(const uint8_t* p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += uint32_t(p[i] << 8 | p[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
}

// IPv4 + UDP packet with `payload` bytes of pattern data.
inline Bytes ipv4_udp(const char* src, const char* dst, size_t payload, uint8_t tos = 0,
                      bool df = true, uint8_t ttl = 64, uint8_t fill = 0)
{
    Bytes b(20 + 8 + payload);
    size_t tot = b.size();
    b[0] = 0x45, b[1] = tos, b[2] = uint8_t(tot >> 8), b[3] = uint8_t(tot);
    b[4] = 0x12, b[5] = 0x34, b[6] = df ? 0x40 : 0, b[8] = ttl, b[9] = 17;
    auto s = net::IpAddress::parse(src), d = net::IpAddress::parse(dst);
    std::memcpy(&b[12], s->bytes.data(), 4);
    std::memcpy(&b[16], d->bytes.data(), 4);
    uint16_t c = csum16(b.data(), 20);
    b[10] = uint8_t(c >> 8), b[11] = uint8_t(c);
    b[20] = 0x04, b[21] = 0xd2, b[22] = 0x16, b[23] = 0x2e;  // ports 1234 -> 5678
    b[24] = uint8_t((8 + payload) >> 8), b[25] = uint8_t(8 + payload);
    for (size_t i = 0; i < payload; ++i)
        b[28 + i] = uint8_t(fill + i * 7);
    return b;
}

// IPv6 + UDP packet; `ext` is an extension header chain (types) placed first.
inline Bytes ipv6_udp(const char* src, const char* dst, size_t payload, uint8_t tclass = 0,
                      std::vector<uint8_t> ext = {}, uint8_t hlim = 64)
{
    size_t ext_len = ext.size() * 8;
    Bytes b(40 + ext_len + 8 + payload);
    b[0] = uint8_t(0x60 | tclass >> 4), b[1] = uint8_t(tclass << 4);
    size_t plen = b.size() - 40;
    b[4] = uint8_t(plen >> 8), b[5] = uint8_t(plen);
    b[6] = ext.empty() ? 17 : ext[0];
    b[7] = hlim;
    auto s = net::IpAddress::parse(src), d = net::IpAddress::parse(dst);
    std::memcpy(&b[8], s->bytes.data(), 16);
    std::memcpy(&b[24], d->bytes.data(), 16);
    for (size_t i = 0; i < ext.size(); ++i) {
        uint8_t* h = &b[40 + i * 8];
        h[0] = i + 1 < ext.size() ? ext[i + 1] : 17;  // next header
        h[1] = 0;                                      // 8 bytes long
        if (ext[i] == 0 || ext[i] == 60)
            h[2] = 1, h[3] = 4;  // PadN option covering the rest
    }
    size_t u = 40 + ext_len;
    b[u] = 0x04, b[u + 1] = 0xd2, b[u + 2] = 0x16, b[u + 3] = 0x2e;
    b[u + 4] = uint8_t((8 + payload) >> 8), b[u + 5] = uint8_t(8 + payload);
    for (size_t i = 0; i < payload; ++i)
        b[u + 8 + i] = uint8_t(i * 13);
    return b;
}

// A packet in a buffer with generous room before and after it.
struct Buffer {
    static constexpr uint32_t kHead = 128, kTail = 128;
    Bytes store;
    esp::Packet pkt;

    explicit Buffer(const Bytes& bytes, uint32_t head = kHead, uint32_t tail = kTail)
        : store(head + bytes.size() + tail, 0xee)
    {
        std::memcpy(store.data() + head, bytes.data(), bytes.size());
        pkt = {store.data() + head, uint32_t(bytes.size()), head, tail};
    }
    Bytes bytes() const { return Bytes(pkt.data, pkt.data + pkt.len); }
};

inline esp::SaConfig sa_config(uint32_t spi, esp::Direction dir, esp::Mode mode, bool aes256 = false,
                               const char* tsrc = "192.0.2.1", const char* tdst = "198.51.100.2")
{
    esp::SaConfig c;
    c.spi = spi;
    c.direction = dir;
    c.mode = mode;
    c.aead = aes256 ? esp::Aead::AesGcm256 : esp::Aead::AesGcm128;
    for (unsigned i = 0; i < 32; ++i)
        c.key[i] = uint8_t(0x10 + i * 3);
    c.salt = {0xde, 0xad, 0xbe, 0xef};
    c.tunnel_src = *net::IpAddress::parse(tsrc);
    c.tunnel_dst = *net::IpAddress::parse(tdst);
    return c;
}

// An outbound SA and its inbound twin with the same keys.
struct SaPair {
    std::unique_ptr<esp::Sa> out, in;
    explicit SaPair(esp::SaConfig c)
    {
        c.direction = esp::Direction::Outbound;
        out = esp::Sa::create(c);
        c.direction = esp::Direction::Inbound;
        in = esp::Sa::create(c);
    }
};

}  // namespace ipsecgw::test
