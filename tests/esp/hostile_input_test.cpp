// Hostile input: every truncation and thousands of random corruptions of valid
// ESP packets, and random bytes on the outbound side, in buffers with no spare
// room beyond what the test grants. Under ASan (scripts/test.sh runs it so),
// any read or write outside the buffer fails the test.
#include <gtest/gtest.h>

#include <random>

#include "esp/esp_engine.hpp"
#include "openssl_esp.hpp"

using namespace ipsecgw;
using namespace ipsecgw::esp;
using namespace ipsecgw::test;

namespace {

// A packet copied into a heap block of exactly head + size + tail bytes.
struct TightBuffer {
    std::unique_ptr<uint8_t[]> mem;
    Packet pkt;
    TightBuffer(const Bytes& b, uint32_t head, uint32_t tail) : mem(new uint8_t[head + b.size() + tail])
    {
        if (!b.empty())
            std::memcpy(mem.get() + head, b.data(), b.size());
        pkt = {mem.get() + head, uint32_t(b.size()), head, tail};
    }
};

std::vector<Bytes> valid_inbound(SaConfig& c)
{
    std::vector<Bytes> v;
    uint8_t iv[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    c.mode = Mode::Tunnel;
    v.push_back(ipv4_esp("198.51.100.2", "192.0.2.1", openssl_esp_body(c, 5, iv, with_trailer(ipv4_udp("10.0.0.1", "10.0.0.2", 40), 4))));
    v.push_back(ipv6_esp("2001:db8::2", "2001:db8::1", openssl_esp_body(c, 6, iv, with_trailer(ipv6_udp("fd00::1", "fd00::2", 3), 41))));
    return v;
}

// The same packets as ESP-in-UDP (RFC 3948), for an SA with udp_encap.
std::vector<Bytes> valid_inbound_udp(SaConfig& c)
{
    std::vector<Bytes> v;
    for (const Bytes& p : valid_inbound(c))
        v.push_back(udp_encapsulate(p, 4500, c.encap_src_port));
    return v;
}

}  // namespace

TEST(HostileInput, EveryTruncationIsRejectedCleanly)
{
    EspEngine engine;
    auto c = sa_config(0x77, Direction::Inbound, Mode::Tunnel);
    c.replay_window = 0;
    auto sa = Sa::create(c);
    for (const Bytes& full : valid_inbound(c)) {
        for (size_t len = 0; len <= full.size(); ++len) {
            TightBuffer b(Bytes(full.begin(), full.begin() + long(len)), 0, 0);
            Sa* s = sa.get();
            Status st;
            engine.decrypt_burst(&b.pkt, &s, 1, &st);
            if (len < full.size())
                EXPECT_NE(st, Status::Ok) << len;
            else
                EXPECT_EQ(st, Status::Ok);
            uint32_t spi;
            peek_spi(b.pkt, &spi, &st);
        }
    }
}

TEST(HostileInput, UdpEncapEveryTruncationAndBadLength)
{
    EspEngine engine;
    auto c = sa_config(0x7a, Direction::Inbound, Mode::Tunnel);
    c.replay_window = 0;
    c.udp_encap = true;
    auto sa = Sa::create(c);
    for (const Bytes& full : valid_inbound_udp(c)) {
        bool v4 = (full[0] >> 4) == 4;
        size_t ulen_at = v4 ? 24 : 44;
        for (size_t len = 0; len <= full.size(); ++len) {
            TightBuffer b(Bytes(full.begin(), full.begin() + long(len)), 0, 0);
            Sa* s = sa.get();
            Status st;
            engine.decrypt_burst(&b.pkt, &s, 1, &st);
            if (len < full.size())
                EXPECT_NE(st, Status::Ok) << len;
            else
                EXPECT_EQ(st, Status::Ok);
            uint32_t spi;
            peek_spi(b.pkt, &spi, &st);
        }
        // Every UDP length but the right one is refused by name, not read past.
        for (uint32_t ulen = 0; ulen <= 0xffff; ulen += (ulen < 2048 ? 1 : 251)) {
            Bytes p = full;
            if (ulen == uint32_t(p[ulen_at] << 8 | p[ulen_at + 1]))
                continue;
            p[ulen_at] = uint8_t(ulen >> 8), p[ulen_at + 1] = uint8_t(ulen);
            TightBuffer b(p, 0, 0);
            Sa* s = sa.get();
            Status st;
            engine.decrypt_burst(&b.pkt, &s, 1, &st);
            ASSERT_EQ(st, Status::MalformedUdp) << ulen;
        }
    }
}

TEST(HostileInput, RandomCorruptionNeverEscapesTheBuffer)
{
    EspEngine engine;
    std::mt19937_64 rng(7);
    for (Mode mode : {Mode::Tunnel, Mode::Transport}) {
        auto c = sa_config(0x78, Direction::Inbound, mode);
        c.replay_window = 0;
        c.udp_encap = mode == Mode::Tunnel;  // one mode each way keeps the run short
        auto sa = Sa::create(c);
        std::vector<Bytes> seeds = c.udp_encap ? valid_inbound_udp(c) : valid_inbound(c);
        if (c.udp_encap)
            for (const Bytes& p : valid_inbound(c))
                seeds.push_back(p);  // plain ESP too: the mismatch path
        if (mode == Mode::Transport) {
            uint8_t iv[8] = {};
            Bytes v6 = ipv6_udp("2001:db8::2", "2001:db8::1", 0, 0, {0, 43});
            // Hop-by-hop and routing headers, then ESP carrying UDP.
            Bytes hdr(v6.begin(), v6.begin() + 56), udp(v6.begin() + 56, v6.end());
            hdr[48] = 50;
            Bytes body = openssl_esp_body(c, 3, iv, with_trailer(udp, 17));
            hdr.insert(hdr.end(), body.begin(), body.end());
            uint16_t plen = uint16_t(hdr.size() - 40);
            hdr[4] = uint8_t(plen >> 8), hdr[5] = uint8_t(plen);
            seeds.push_back(hdr);
        }
        for (int round = 0; round < 20000; ++round) {
            Bytes p = seeds[rng() % seeds.size()];
            int flips = 1 + int(rng() % 4);
            for (int f = 0; f < flips; ++f) {
                size_t at = rng() % 3 ? rng() % std::min<size_t>(p.size(), 64) : rng() % p.size();
                p[at] = uint8_t(rng());
            }
            if (rng() % 4 == 0)
                p.resize(rng() % (p.size() + 1));
            TightBuffer b(p, uint32_t(rng() % 3), uint32_t(rng() % 3));
            Sa* s = sa.get();
            Status st;
            engine.decrypt_burst(&b.pkt, &s, 1, &st);
            ASSERT_LT(unsigned(st), kStatusCount);
            if (st == Status::Ok) {  // only possible if nothing authenticated was touched
                ASSERT_GE(b.pkt.data, b.mem.get());
                ASSERT_LE(b.pkt.data + b.pkt.len, b.mem.get() + p.size() + 4);
            }
        }
    }
}

TEST(HostileInput, RandomBytesOutbound)
{
    EspEngine engine;
    std::mt19937_64 rng(8);
    for (Mode mode : {Mode::Tunnel, Mode::Transport}) {
        auto oc = sa_config(0x79, Direction::Outbound, mode, false, "2001:db8::1", "2001:db8::2");
        oc.udp_encap = true;
        auto encap_sa = Sa::create(oc);
        auto sa = Sa::create(sa_config(0x79, Direction::Outbound, mode));
        for (int round = 0; round < 20000; ++round) {
            Bytes p = rng() % 2 ? ipv4_udp("10.0.0.1", "10.0.0.2", rng() % 100) : ipv6_udp("fd00::1", "fd00::2", rng() % 100, 0, {0});
            for (int f = 0; f < 3; ++f)
                p[rng() % std::min<size_t>(p.size(), 56)] = uint8_t(rng());
            TightBuffer b(p, uint32_t(rng() % 80), uint32_t(rng() % 40));
            Sa* s = round % 2 ? sa.get() : encap_sa.get();
            Status st;
            engine.encrypt_burst(&b.pkt, &s, 1, &st);
            ASSERT_LT(unsigned(st), kStatusCount);
        }
    }
}
