// IKE packet parse/build: round trips, checksums that verify, and hostile
// input (every truncation, wrong lengths, fragments, missing marker).
#include <gtest/gtest.h>

#include "control/ike_packet.hpp"

using namespace ipsecgw;
using namespace ipsecgw::control;

namespace {

ike::Datagram datagram(size_t alen, uint16_t local_port)
{
    ike::Datagram d;
    d.local = {ike::Bytes(alen, 1), local_port};
    d.remote = {ike::Bytes(alen, 2), local_port};
    d.local.address[alen - 1] = 9;
    for (int i = 0; i < 60; ++i)
        d.data.push_back(static_cast<uint8_t>(i * 7 + 1));
    return d;
}

// One's-complement sum over the pseudo-header and UDP segment: 0xffff when valid.
uint16_t udp_check(const std::vector<uint8_t>& p)
{
    bool v4 = (p[0] >> 4) == 4;
    size_t hdr = v4 ? 20 : 40, alen = v4 ? 4 : 16;
    const uint8_t* src = p.data() + (v4 ? 12 : 8);
    const uint8_t* dst = src + alen;
    uint32_t acc = 0;
    auto add = [&](const uint8_t* b, size_t n) {
        for (size_t i = 0; i < n; i += 2)
            acc += static_cast<uint32_t>(b[i] << 8 | (i + 1 < n ? b[i + 1] : 0));
    };
    add(src, alen);
    add(dst, alen);
    size_t udp_len = p.size() - hdr;
    acc += 17 + static_cast<uint32_t>(udp_len);
    add(p.data() + hdr, udp_len);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<uint16_t>(acc);
}

}  // namespace

TEST(IkePacket, RoundTripIpv4AndIpv6WithAndWithoutMarker)
{
    for (size_t alen : {4, 16})
        for (uint16_t port : {500, 4500}) {
            auto d = datagram(alen, port);
            std::vector<uint8_t> pkt;
            ASSERT_TRUE(build_ike_packet(d, pkt));
            size_t hdr = alen == 4 ? 20 : 40;
            EXPECT_EQ(pkt.size(), hdr + 8 + (port == 4500 ? 4 : 0) + d.data.size());
            EXPECT_EQ(udp_check(pkt), 0xffff);
            if (alen == 4) {
                uint32_t acc = 0;
                for (size_t i = 0; i < 20; i += 2)
                    acc += static_cast<uint32_t>(pkt[i] << 8 | pkt[i + 1]);
                while (acc >> 16)
                    acc = (acc & 0xffff) + (acc >> 16);
                EXPECT_EQ(acc, 0xffffu);
            }
            // What the peer receives: swap the roles of the addresses.
            ike::Datagram back;
            ASSERT_EQ(parse_ike_packet(pkt.data(), pkt.size(), back), IkePacketError::None);
            EXPECT_EQ(back.data, d.data);
            EXPECT_EQ(back.remote, d.local);
            EXPECT_EQ(back.local.address, d.remote.address);
            EXPECT_EQ(back.local.port, port);
            // Every truncation is refused without reading past the end.
            for (size_t n = 0; n < pkt.size(); ++n) {
                std::vector<uint8_t> cut(pkt.begin(), pkt.begin() + static_cast<long>(n));
                ike::Datagram x;
                EXPECT_NE(parse_ike_packet(cut.data(), cut.size(), x), IkePacketError::None) << n;
            }
        }
}

TEST(IkePacket, HostileHeadersAreRefused)
{
    auto d = datagram(4, 500);
    d.local.port = 40000;
    d.remote.port = 500;  // a packet to our port 500
    std::vector<uint8_t> good;
    ASSERT_TRUE(build_ike_packet(d, good));
    ike::Datagram x;
    ASSERT_EQ(parse_ike_packet(good.data(), good.size(), x), IkePacketError::None);
    auto mutate = [&](auto f) {
        auto p = good;
        f(p);
        return parse_ike_packet(p.data(), p.size(), x);
    };
    EXPECT_EQ(mutate([](auto& p) { p[0] = 0x44; }), IkePacketError::BadIpHeader);       // IHL 16 bytes
    EXPECT_NE(mutate([](auto& p) { p[0] = 0x4f; }), IkePacketError::None);              // IHL 60: UDP misplaced
    EXPECT_EQ(mutate([](auto& p) { p[0] = 0x55; }), IkePacketError::BadIpHeader);       // version 5
    EXPECT_EQ(mutate([](auto& p) { p[2] = 0xff; }), IkePacketError::Truncated);         // total length too big
    EXPECT_EQ(mutate([](auto& p) { p[2] = 0, p[3] = 10; }), IkePacketError::BadIpHeader);
    EXPECT_EQ(mutate([](auto& p) { p[6] = 0x20; }), IkePacketError::Fragment);          // MF
    EXPECT_EQ(mutate([](auto& p) { p[7] = 0x01; }), IkePacketError::Fragment);          // offset
    EXPECT_EQ(mutate([](auto& p) { p[9] = 6; }), IkePacketError::NotUdp);
    EXPECT_EQ(mutate([](auto& p) { p[24] = 0xff; }), IkePacketError::BadUdpLength);     // UDP length > IP
    EXPECT_EQ(mutate([](auto& p) { p[24] = 0, p[25] = 7; }), IkePacketError::BadUdpLength);
    EXPECT_EQ(mutate([](auto& p) { p[24] = 0, p[25] = 8; }), IkePacketError::Empty);
    EXPECT_EQ(mutate([](auto& p) { p[22] = 0, p[23] = 53; }), IkePacketError::NotIkePort);
    // Port 4500 without the marker is ESP (or a keepalive), not IKE.
    EXPECT_EQ(mutate([](auto& p) { p[22] = 0x11, p[23] = 0x94; }), IkePacketError::NoMarker);
    // Trailing bytes after the IP total length (Ethernet padding) are ignored.
    auto padded = good;
    padded.resize(padded.size() + 6, 0xee);
    ASSERT_EQ(parse_ike_packet(padded.data(), padded.size(), x), IkePacketError::None);
    EXPECT_EQ(x.data, d.data);
    EXPECT_EQ(parse_ike_packet(good.data(), 0, x), IkePacketError::Truncated);
}

TEST(IkePacket, KeepaliveIsOneFfByteFrom4500)
{
    ike::Endpoint local{{10, 0, 0, 1}, 4500}, remote{{192, 0, 2, 2}, 4500};
    std::vector<uint8_t> pkt;
    ASSERT_TRUE(build_nat_keepalive(local, remote, pkt));
    ASSERT_EQ(pkt.size(), 29u);
    EXPECT_EQ(pkt[28], 0xff);
    EXPECT_EQ(pkt[20] << 8 | pkt[21], 4500);
    EXPECT_EQ(udp_check(pkt), 0xffff);
    ike::Endpoint bad{{1, 2, 3}, 500};
    EXPECT_FALSE(build_nat_keepalive(bad, remote, pkt));
}
