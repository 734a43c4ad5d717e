// ESP engine: every mode round-trips, outer headers follow the RFCs, and every
// rejection reason is reached by a packet built to trigger it.
#include <gtest/gtest.h>

#include <set>

#include "esp/esp_engine.hpp"
#include "esp/ip_headers.hpp"
#include "openssl_esp.hpp"

using namespace ipsecgw;
using namespace ipsecgw::esp;
using namespace ipsecgw::test;

namespace {

class EngineTest : public ::testing::TestWithParam<CryptoPath> {
protected:
    EspEngine engine{GetParam()};

    Status encrypt(Buffer& b, Sa* sa)
    {
        Status s;
        engine.encrypt_burst(&b.pkt, &sa, 1, &s);
        return s;
    }
    Status decrypt(Buffer& b, Sa* sa, uint64_t* seq = nullptr)
    {
        Status s;
        engine.decrypt_burst(&b.pkt, &sa, 1, &s, seq);
        return s;
    }
};

struct ModeCase {
    const char* name;
    Mode mode;
    bool inner_v4;
    const char* tsrc;
    const char* tdst;
};

const ModeCase kModes[] = {
    {"tunnel_4in4", Mode::Tunnel, true, "192.0.2.1", "198.51.100.2"},
    {"tunnel_6in6", Mode::Tunnel, false, "2001:db8::1", "2001:db8:1::2"},
    {"tunnel_4in6", Mode::Tunnel, true, "2001:db8::1", "2001:db8:1::2"},
    {"tunnel_6in4", Mode::Tunnel, false, "192.0.2.1", "198.51.100.2"},
    {"transport_v4", Mode::Transport, true, "192.0.2.1", "198.51.100.2"},
    {"transport_v6", Mode::Transport, false, "2001:db8::1", "2001:db8:1::2"},
};

Bytes inner_packet(bool v4, size_t payload)
{
    return v4 ? ipv4_udp("10.0.0.1", "10.0.1.1", payload, 0x2e << 2 | 1)
              : ipv6_udp("fd00::1", "fd00:1::1", payload, 0x2e << 2 | 2);
}

}  // namespace

TEST_P(EngineTest, EveryModeAndSizeRoundTrips)
{
    for (const ModeCase& m : kModes) {
        for (bool aes256 : {false, true}) {
            SaPair sa(sa_config(0x1000, Direction::Outbound, m.mode, aes256, m.tsrc, m.tdst));
            for (size_t size : {0, 1, 2, 3, 4, 5, 100, 1400, 8000}) {
                SCOPED_TRACE(std::string(m.name) + " size " + std::to_string(size));
                Bytes plain = inner_packet(m.inner_v4, size);
                Buffer b(plain);
                ASSERT_EQ(encrypt(b, sa.out.get()), Status::Ok);
                EXPECT_NE(b.bytes(), plain);
                ASSERT_EQ(decrypt(b, sa.in.get()), Status::Ok);
                EXPECT_EQ(b.bytes(), plain);
            }
        }
    }
}

TEST_P(EngineTest, Ipv4TunnelOuterHeader)
{
    auto c = sa_config(0x2000, Direction::Outbound, Mode::Tunnel);
    c.outer_ttl = 77;
    auto sa = Sa::create(c);
    Bytes inner = ipv4_udp("10.0.0.1", "10.0.1.1", 33, 0xb8 | 2 /* EF, ECT(0) */, true, 9);
    Buffer b(inner);
    ASSERT_EQ(encrypt(b, sa.get()), Status::Ok);
    const uint8_t* h = b.pkt.data;
    EXPECT_EQ(h[0], 0x45);
    EXPECT_EQ(h[1], 0xb8 | 2) << "DSCP copied, ECN copied (RFC 6040 normal mode)";
    EXPECT_EQ(uint32_t(h[2] << 8 | h[3]), b.pkt.len);
    EXPECT_EQ(uint16_t(h[4] << 8 | h[5]), 1) << "ID from the sequence number";
    EXPECT_EQ(h[6] & 0x40, 0x40) << "DF copied from inner";
    EXPECT_EQ(h[8], 77);
    EXPECT_EQ(h[9], 50);
    EXPECT_EQ(csum16(h, 20), 0) << "header checksum";
    EXPECT_EQ(Bytes(h + 12, h + 16), Bytes({192, 0, 2, 1}));
    EXPECT_EQ(Bytes(h + 16, h + 20), Bytes({198, 51, 100, 2}));
    // ESP header: SPI, sequence number 1, explicit IV = sequence number.
    EXPECT_EQ(to_hex(h + 20, 16), "00002000000000010000000000000001");
    // Payload 20+8+33 = 61 bytes + 2 trailer -> 1 pad byte to reach 64.
    EXPECT_EQ(b.pkt.len, 20u + 16 + 64 + 16);
}

TEST_P(EngineTest, DfPolicyAndFixedDscp)
{
    struct Case { DfPolicy df; bool inner_df; bool inner_v4; bool expect; };
    for (Case k : {Case{DfPolicy::Copy, false, true, false}, Case{DfPolicy::Copy, true, true, true},
                   Case{DfPolicy::Set, false, true, true}, Case{DfPolicy::Clear, true, true, false},
                   Case{DfPolicy::Copy, false, false, true}}) {
        auto c = sa_config(0x2001, Direction::Outbound, Mode::Tunnel);
        c.df = k.df;
        c.copy_dscp = false;
        c.dscp = 10;
        auto sa = Sa::create(c);
        Buffer b(k.inner_v4 ? ipv4_udp("10.0.0.1", "10.0.1.1", 10, 0xb8 | 1, k.inner_df)
                            : ipv6_udp("fd00::1", "fd00::2", 10, 0xb8 | 1));
        ASSERT_EQ(encrypt(b, sa.get()), Status::Ok);
        EXPECT_EQ(bool(b.pkt.data[6] & 0x40), k.expect);
        EXPECT_EQ(b.pkt.data[1], 10 << 2 | 1) << "fixed DSCP, ECN still copied";
    }
}

TEST_P(EngineTest, Ipv6TunnelOuterHeader)
{
    auto c = sa_config(0x3000, Direction::Outbound, Mode::Tunnel, true, "2001:db8::1", "2001:db8:1::2");
    auto sa = Sa::create(c);
    Bytes inner = ipv4_udp("10.0.0.1", "10.0.1.1", 100, 0x28 << 2 | 3);
    Buffer b(inner);
    ASSERT_EQ(encrypt(b, sa.get()), Status::Ok);
    const uint8_t* h = b.pkt.data;
    EXPECT_EQ(h[0] >> 4, 6);
    EXPECT_EQ(uint8_t((h[0] & 15) << 4 | h[1] >> 4), 0x28 << 2 | 3);
    EXPECT_EQ(uint32_t(h[4] << 8 | h[5]), b.pkt.len - 40);
    EXPECT_EQ(h[6], 50);
    EXPECT_EQ(h[7], 64);
    EXPECT_EQ(net::IpAddress::from_bytes(net::Family::V6, h + 8).to_string(), "2001:db8::1");
    EXPECT_EQ(net::IpAddress::from_bytes(net::Family::V6, h + 24).to_string(), "2001:db8:1::2");
}

TEST_P(EngineTest, TransportKeepsHeadersAndExtensionChain)
{
    // Hop-by-hop and routing stay before ESP; destination options after routing go inside.
    SaPair sa(sa_config(0x4000, Direction::Outbound, Mode::Transport));
    Bytes plain = ipv6_udp("fd00::1", "fd00::2", 50, 0, {0, 43, 60});
    Buffer b(plain);
    ASSERT_EQ(encrypt(b, sa.out.get()), Status::Ok);
    EXPECT_EQ(b.pkt.data[6], 0) << "IPv6 next header still hop-by-hop";
    EXPECT_EQ(b.pkt.data[40], 43) << "hop-by-hop -> routing";
    EXPECT_EQ(b.pkt.data[48], 50) << "routing -> ESP";
    EXPECT_EQ(uint32_t(b.pkt.data[4] << 8 | b.pkt.data[5]), b.pkt.len - 40);
    ASSERT_EQ(decrypt(b, sa.in.get()), Status::Ok);
    EXPECT_EQ(b.bytes(), plain);

    Bytes v4 = ipv4_udp("10.0.0.1", "10.0.1.1", 20);
    Buffer b4(v4);
    ASSERT_EQ(encrypt(b4, sa.out.get()), Status::Ok);
    EXPECT_EQ(b4.pkt.data[9], 50);
    EXPECT_EQ(csum16(b4.pkt.data, 20), 0);
    EXPECT_EQ(Bytes(b4.pkt.data + 12, b4.pkt.data + 20), Bytes(v4.begin() + 12, v4.begin() + 20));
}

TEST_P(EngineTest, L2PaddingIsNotEncrypted)
{
    SaPair sa(sa_config(0x4100, Direction::Outbound, Mode::Tunnel));
    Bytes plain = ipv4_udp("10.0.0.1", "10.0.1.1", 2);  // 30-byte packet in a 46-byte frame payload
    Bytes padded = plain;
    padded.resize(46, 0);
    Buffer b(padded);
    ASSERT_EQ(encrypt(b, sa.out.get()), Status::Ok);
    Bytes esp = b.bytes();
    esp.resize(esp.size() + 10, 0);  // and L2 padding on the way in too
    Buffer r(esp);
    ASSERT_EQ(decrypt(r, sa.in.get()), Status::Ok);
    EXPECT_EQ(r.bytes(), plain);
}

TEST_P(EngineTest, SequenceNumbersAndIvsAreUniqueAndIncreasing)
{
    auto sa = Sa::create(sa_config(0x5000, Direction::Outbound, Mode::Tunnel));
    std::set<std::string> ivs;
    std::vector<Buffer> bufs;
    for (int i = 0; i < 600; ++i)
        bufs.emplace_back(ipv4_udp("10.0.0.1", "10.0.1.1", 10));
    std::vector<Packet> pkts;
    for (auto& b : bufs)
        pkts.push_back(b.pkt);
    std::vector<Sa*> sas(pkts.size(), sa.get());
    std::vector<Status> st(pkts.size());
    engine.encrypt_burst(pkts.data(), sas.data(), uint32_t(pkts.size()), st.data());
    for (size_t i = 0; i < pkts.size(); ++i) {
        ASSERT_EQ(st[i], Status::Ok);
        const uint8_t* esp = pkts[i].data + 20;
        EXPECT_EQ(uint32_t(esp[4] << 24 | esp[5] << 16 | esp[6] << 8 | esp[7]), i + 1);
        ivs.insert(to_hex(esp + 8, 8));
    }
    EXPECT_EQ(ivs.size(), pkts.size());
    EXPECT_EQ(sa->last_seq(), 600u);
}

TEST_P(EngineTest, SequenceExhaustionStopsTheSa)
{
    auto c = sa_config(0x6000, Direction::Outbound, Mode::Tunnel);
    c.initial_seq = UINT32_MAX - 2;
    c.seq_soft_margin = 5;
    auto sa = Sa::create(c);
    EXPECT_FALSE(sa->seq_soft_reached());
    for (int i = 0; i < 2; ++i) {
        Buffer b(ipv4_udp("10.0.0.1", "10.0.1.1", 10));
        EXPECT_EQ(encrypt(b, sa.get()), Status::Ok);
    }
    EXPECT_TRUE(sa->seq_soft_reached());
    EXPECT_EQ(sa->last_seq(), UINT32_MAX);
    EXPECT_EQ(sa->state(), SaState::Exhausted);
    Buffer b(ipv4_udp("10.0.0.1", "10.0.1.1", 10));
    EXPECT_EQ(encrypt(b, sa.get()), Status::SeqExhausted);
    EXPECT_EQ(sa->last_seq(), UINT32_MAX) << "never wraps";

    c.esn = true;
    c.initial_seq = UINT64_MAX - 1;
    auto esn = Sa::create(c);
    Buffer e1(ipv4_udp("10.0.0.1", "10.0.1.1", 10)), e2(ipv4_udp("10.0.0.1", "10.0.1.1", 10));
    EXPECT_EQ(encrypt(e1, esn.get()), Status::Ok);
    EXPECT_EQ(encrypt(e2, esn.get()), Status::SeqExhausted);
}

TEST_P(EngineTest, EsnCrossesTheLowWordBoundary)
{
    auto c = sa_config(0x7000, Direction::Outbound, Mode::Tunnel);
    c.esn = true;
    c.initial_seq = (1ull << 32) - 3;
    SaPair sa(c);
    // Receiver has seen up to just below the boundary.
    // (in two steps: one jump of more than 2^32 - W would be ambiguous)
    for (uint32_t low : {0x80000000u, uint32_t(-10)}) {
        uint64_t full;
        ASSERT_EQ(sa.in->replay().check(low, &full), ReplayVerdict::Ok);
        ASSERT_EQ(sa.in->replay().accept(full), ReplayVerdict::Ok);
    }
    for (uint64_t expect = (1ull << 32) - 2; expect < (1ull << 32) + 3; ++expect) {
        Buffer b(ipv4_udp("10.0.0.1", "10.0.1.1", 40));
        ASSERT_EQ(encrypt(b, sa.out.get()), Status::Ok);
        uint64_t seq = 0;
        ASSERT_EQ(decrypt(b, sa.in.get(), &seq), Status::Ok);
        EXPECT_EQ(seq, expect);
    }
    // The high bits are only in the ICV: a receiver without ESN fails the ICV.
    c.direction = Direction::Inbound;
    c.esn = false;
    auto plain = Sa::create(c);
    Buffer b(ipv4_udp("10.0.0.1", "10.0.1.1", 40));
    ASSERT_EQ(encrypt(b, sa.out.get()), Status::Ok);
    EXPECT_EQ(decrypt(b, plain.get()), Status::IcvFailure);
}

TEST_P(EngineTest, OutboundRejections)
{
    auto sa = Sa::create(sa_config(0x8000, Direction::Outbound, Mode::Tunnel));
    auto in = Sa::create(sa_config(0x8000, Direction::Inbound, Mode::Tunnel));
    Bytes p = ipv4_udp("10.0.0.1", "10.0.1.1", 100);
    { Buffer b(p, 35); EXPECT_EQ(encrypt(b, sa.get()), Status::NoHeadroom); }
    { Buffer b(p, 128, 19); EXPECT_EQ(encrypt(b, sa.get()), Status::NoTailroom); }
    { Buffer b(p, 36, 20); EXPECT_EQ(encrypt(b, sa.get()), Status::Ok) << "exactly enough room"; }
    { Buffer b(p); EXPECT_EQ(encrypt(b, in.get()), Status::BadSpi); }
    { Buffer b(p); EXPECT_EQ(encrypt(b, nullptr), Status::SaNotActive); }
    { Bytes q = p; q[0] = 0x55; Buffer b(q); EXPECT_EQ(encrypt(b, sa.get()), Status::MalformedInner); }
    { Bytes q = p; q[3] += 1; Buffer b(q); EXPECT_EQ(encrypt(b, sa.get()), Status::MalformedInner); }
    { Bytes q(p.begin(), p.begin() + 10); Buffer b(q); EXPECT_EQ(encrypt(b, sa.get()), Status::MalformedInner); }
    { Buffer b(ipv4_udp("10.0.0.1", "10.0.1.1", 65500)); EXPECT_EQ(encrypt(b, sa.get()), Status::TooBig); }
    sa->kill();
    { Buffer b(p); EXPECT_EQ(encrypt(b, sa.get()), Status::SaNotActive); }
}

namespace {

// Builds an inbound tunnel packet with OpenSSL whose plaintext the test controls.
Bytes crafted(const SaConfig& c, uint64_t seq, const Bytes& plain_with_trailer, uint8_t outer_tos = 0)
{
    uint8_t iv[8] = {1, 2, 3, 4, 5, 6, 7, uint8_t(seq)};
    return ipv4_esp("198.51.100.2", "192.0.2.1", openssl_esp_body(c, seq, iv, plain_with_trailer), outer_tos);
}

}  // namespace

TEST_P(EngineTest, InboundRejectionsEachHaveTheirReason)
{
    auto c = sa_config(0x9000, Direction::Inbound, Mode::Tunnel);
    auto sa = Sa::create(c);
    Bytes inner = ipv4_udp("10.0.0.1", "10.0.1.1", 30);
    Bytes good = crafted(c, 1, with_trailer(inner, 4));

    auto expect = [&](const Bytes& pkt, Status want, Sa* s) {
        Buffer b(pkt);
        EXPECT_EQ(decrypt(b, s), want) << status_name(want);
    };
    expect(Bytes(good.begin(), good.begin() + 19), Status::Truncated, sa.get());
    expect(Bytes(good.begin(), good.begin() + 20 + 16 + 4 + 15), Status::Truncated, sa.get());
    { Bytes q = good; q[3] += 4; expect(q, Status::Truncated, sa.get()); }
    { Bytes q = good; q[0] = 0x75; expect(q, Status::MalformedOuter, sa.get()); }
    { Bytes q = good; q[0] = 0x44; expect(q, Status::MalformedOuter, sa.get()); }
    { Bytes q = good; q[10] ^= 1; expect(q, Status::MalformedOuter, sa.get()); }
    { Bytes q = good; q[9] = 6; /* TCP: neither ESP nor UDP */ q[10] = q[11] = 0; uint16_t s = csum16(q.data(), 20); q[10] = uint8_t(s >> 8); q[11] = uint8_t(s);
      expect(q, Status::MalformedOuter, sa.get()); }
    expect(ipv4_esp("198.51.100.2", "192.0.2.1", Bytes(good.begin() + 20, good.end()), 0, 0x2000),
           Status::Fragmented, sa.get());
    expect(good, Status::BadSpi, nullptr);
    { auto other = sa_config(0x9001, Direction::Inbound, Mode::Tunnel); auto s2 = Sa::create(other); expect(good, Status::BadSpi, s2.get()); }
    { auto out = Sa::create(sa_config(0x9000, Direction::Outbound, Mode::Tunnel)); expect(good, Status::BadSpi, out.get()); }
    { Bytes q = good; q.back() ^= 0x80; expect(q, Status::IcvFailure, sa.get()); }
    { Bytes q = good; q[40] ^= 1; expect(q, Status::IcvFailure, sa.get()); }
    { Bytes q = good; q[27] ^= 2; expect(q, Status::IcvFailure, sa.get()); }  // sequence number is authenticated
    { auto k = c; k.key[0] ^= 1; auto wrong = Sa::create(k); expect(good, Status::IcvFailure, wrong.get()); }

    Bytes bad_pad = with_trailer(inner, 4);  // 28+30 = 58 + 2 -> 0 pad; use a 1-pad packet instead
    Bytes in1 = ipv4_udp("10.0.0.1", "10.0.1.1", 31);
    Bytes p1 = with_trailer(in1, 4);
    ASSERT_EQ(p1[p1.size() - 2], 3);
    p1[p1.size() - 4] = 7;  // should be 2
    expect(crafted(c, 2, p1), Status::BadPad, sa.get());
    Bytes p2 = with_trailer(in1, 4);
    p2[p2.size() - 2] = 250;  // longer than the packet
    expect(crafted(c, 3, p2), Status::BadPad, sa.get());
    expect(crafted(c, 4, with_trailer(inner, 17)), Status::BadNextHeader, sa.get());
    expect(crafted(c, 5, with_trailer(inner, 41)), Status::MalformedInner, sa.get());  // says IPv6, is IPv4
    expect(crafted(c, 6, with_trailer(Bytes{}, 59)), Status::DummyPacket, sa.get());
    { Bytes cut = inner; cut.resize(25); expect(crafted(c, 7, with_trailer(cut, 4)), Status::MalformedInner, sa.get()); }
    // RFC 6040: CE outside a Not-ECT packet is dropped; CE over ECT(0) marks the inner CE.
    expect(crafted(c, 8, with_trailer(inner, 4), 3), Status::EcnDrop, sa.get());
    {
        Bytes ect = ipv4_udp("10.0.0.1", "10.0.1.1", 30, 2);
        Buffer b(crafted(c, 9, with_trailer(ect, 4), 3));
        ASSERT_EQ(decrypt(b, sa.get()), Status::Ok);
        EXPECT_EQ(b.pkt.data[1] & 3, 3);
        EXPECT_EQ(csum16(b.pkt.data, 20), 0) << "checksum fixed after ECN change";
    }
    expect(good, Status::Ok, sa.get());
    expect(good, Status::Replayed, sa.get());
    sa->kill();
    expect(crafted(c, 100, with_trailer(inner, 4)), Status::SaNotActive, sa.get());
    (void)bad_pad;
}

TEST_P(EngineTest, TfcPaddingAfterInnerPacketIsRemoved)
{
    auto c = sa_config(0x9100, Direction::Inbound, Mode::Tunnel);
    auto sa = Sa::create(c);
    Bytes inner = ipv4_udp("10.0.0.1", "10.0.1.1", 30);
    Bytes tfc = inner;
    tfc.resize(inner.size() + 40, 0);
    Buffer b(crafted(c, 1, with_trailer(tfc, 4)));
    ASSERT_EQ(decrypt(b, sa.get()), Status::Ok);
    EXPECT_EQ(b.bytes(), inner);
}

TEST_P(EngineTest, ReplayWindowInTheEngine)
{
    auto c = sa_config(0xa000, Direction::Inbound, Mode::Tunnel);
    c.replay_window = 64;
    auto sa = Sa::create(c);
    Bytes body = with_trailer(ipv4_udp("10.0.0.1", "10.0.1.1", 10), 4);
    auto try_seq = [&](uint64_t s) { Buffer b(crafted(c, s, body)); return decrypt(b, sa.get()); };
    EXPECT_EQ(try_seq(100), Status::Ok);
    EXPECT_EQ(try_seq(36), Status::OutsideWindow) << "100 - 64";
    EXPECT_EQ(try_seq(37), Status::Ok) << "oldest number inside the window";
    EXPECT_EQ(try_seq(90), Status::Ok) << "reordered within the window";
    EXPECT_EQ(try_seq(90), Status::Replayed);
    // A forged packet far ahead does not move the window: ICV is checked first.
    Bytes forged = crafted(c, 5000, body);
    forged.back() ^= 1;
    { Buffer b(forged); EXPECT_EQ(decrypt(b, sa.get()), Status::IcvFailure); }
    EXPECT_EQ(try_seq(95), Status::Ok);
    EXPECT_EQ(sa->replay().highest(), 100u);
}

TEST_P(EngineTest, MixedBurstOfSeveralSas)
{
    SaPair a(sa_config(0xb001, Direction::Outbound, Mode::Tunnel));
    SaPair b(sa_config(0xb002, Direction::Outbound, Mode::Transport, true));
    SaPair c6(sa_config(0xb003, Direction::Outbound, Mode::Tunnel, false, "2001:db8::1", "2001:db8::2"));
    std::vector<Buffer> bufs;
    std::vector<Bytes> plains;
    std::vector<SaPair*> owner;
    SaPair* pairs[] = {&a, &b, &c6};
    for (int i = 0; i < 90; ++i) {
        plains.push_back(i % 2 ? ipv4_udp("10.0.0.1", "10.0.1.1", size_t(i * 11)) : ipv6_udp("fd00::1", "fd00::2", size_t(i)));
        bufs.emplace_back(plains.back());
        owner.push_back(pairs[(i / 2) % 3]);
    }
    std::vector<Packet> pk;
    std::vector<Sa*> out, in;
    for (size_t i = 0; i < bufs.size(); ++i) {
        pk.push_back(bufs[i].pkt);
        out.push_back(owner[i]->out.get());
        in.push_back(owner[i]->in.get());
    }
    pk[10].len = 5;  // broken packet in the middle
    std::vector<Status> st(pk.size());
    engine.encrypt_burst(pk.data(), out.data(), uint32_t(pk.size()), st.data());
    for (size_t i = 0; i < pk.size(); ++i)
        EXPECT_EQ(st[i], i == 10 ? Status::MalformedInner : Status::Ok) << i;
    std::swap(in[20], in[21]);  // wrong SA for two packets: their SPIs do not match
    Buffer dup(Bytes(pk[30].data, pk[30].data + pk[30].len));
    pk.push_back(dup.pkt);      // same packet twice in one burst: the second is a replay
    in.push_back(in[30]);
    st.resize(pk.size());
    engine.decrypt_burst(pk.data(), in.data(), uint32_t(pk.size()), st.data());
    for (size_t i = 0; i < bufs.size(); ++i) {
        if (i == 10) {
            EXPECT_EQ(st[i], Status::Truncated);
        } else if ((i == 20 || i == 21) && in[i] != owner[i]->in.get()) {
            EXPECT_EQ(st[i], Status::BadSpi) << i;
        } else {
            ASSERT_EQ(st[i], Status::Ok) << i;
            EXPECT_EQ(Bytes(pk[i].data, pk[i].data + pk[i].len), plains[i]) << i;
        }
    }
    EXPECT_EQ(st.back(), Status::Replayed) << "duplicate decrypted in place, then rejected";
}

TEST(EcnDecap, Rfc6040Table)
{
    // rows: inner Not-ECT, ECT(0), ECT(1), CE; columns: outer Not-ECT, ECT(0), ECT(1), CE
    const int expect[4][4] = {{0, 0, 0, -1}, {2, 2, 1, 3}, {1, 1, 1, 3}, {3, 3, 3, 3}};
    const uint8_t code[4] = {0, 2, 1, 3};
    for (int i = 0; i < 4; ++i)
        for (int o = 0; o < 4; ++o)
            EXPECT_EQ(ecn_decapsulate(code[i], code[o]), expect[i][o]) << i << "," << o;
}

TEST(PeekSpi, FindsTheSpiOrSaysWhy)
{
    auto c = sa_config(0xc0ffee, Direction::Inbound, Mode::Tunnel);
    uint8_t iv[8] = {};
    Bytes pkt = ipv6_esp("2001:db8::2", "2001:db8::1", openssl_esp_body(c, 1, iv, with_trailer({}, 4)));
    Buffer b(pkt);
    uint32_t spi = 0;
    Status why;
    ASSERT_TRUE(peek_spi(b.pkt, &spi, &why));
    EXPECT_EQ(spi, 0xc0ffeeu);
    Buffer t(Bytes(pkt.begin(), pkt.begin() + 30));
    EXPECT_FALSE(peek_spi(t.pkt, &spi, &why));
    EXPECT_EQ(why, Status::Truncated);
}

// The IPv4 shortcut reads the SPI without checking the outer header; the
// engine still refuses the packet the shortcut let through.
TEST(PeekSpi, Ipv4ShortcutLeavesValidationToTheEngine)
{
    EspEngine engine;
    auto c = sa_config(0xc0ffee, Direction::Inbound, Mode::Tunnel);
    auto sa = Sa::create(c);
    uint8_t iv[8] = {};
    Bytes pkt = ipv4_esp("192.0.2.2", "192.0.2.1", openssl_esp_body(c, 1, iv, with_trailer({}, 4)));
    pkt[11] ^= 0x5a;  // break the header checksum
    Buffer b(pkt);
    uint32_t spi = 0;
    Status why;
    ASSERT_TRUE(peek_spi(b.pkt, &spi, &why));
    EXPECT_EQ(spi, 0xc0ffeeu);
    Sa* s = sa.get();
    Status st;
    engine.decrypt_burst(&b.pkt, &s, 1, &st);
    EXPECT_EQ(st, Status::MalformedOuter);
    Buffer t(Bytes(pkt.begin(), pkt.begin() + 27));  // 7 bytes of ESP header: not even an SPI and sequence
    EXPECT_FALSE(peek_spi(t.pkt, &spi, &why));
}

// RFC 3948 UDP encapsulation: every mode round-trips and the UDP header
// follows §2.1 (ports from the SA, length, IPv4 checksum zero, IPv6 checksum
// valid), with the inner packet unchanged.
TEST_P(EngineTest, UdpEncapEveryModeRoundTrips)
{
    for (const ModeCase& m : kModes) {
        auto c = sa_config(0x1100, Direction::Outbound, m.mode, false, m.tsrc, m.tdst);
        c.udp_encap = true;
        c.encap_src_port = 4500;
        c.encap_dst_port = 31337;  // the peer's NAT-mapped port
        SaPair out(c);
        // The receiving side's SA: its local port is the sender's destination.
        c.encap_src_port = 31337;
        c.encap_dst_port = 4500;
        SaPair in(c);
        for (size_t size : {0, 1, 2, 3, 100, 1400}) {
            SCOPED_TRACE(std::string(m.name) + " size " + std::to_string(size));
            Bytes plain = inner_packet(m.inner_v4, size);
            if (m.mode == Mode::Transport)  // transport: the packet's own addresses stay outside
                plain = m.inner_v4 ? ipv4_udp(m.tsrc, m.tdst, size) : ipv6_udp(m.tsrc, m.tdst, size);
            Buffer b(plain);
            ASSERT_EQ(encrypt(b, out.out.get()), Status::Ok);
            const uint8_t* h = b.pkt.data;
            bool v4 = (h[0] >> 4) == 4;
            uint32_t hl = v4 ? 20 : 40;
            EXPECT_EQ(v4 ? h[9] : h[6], 17);
            if (v4) {
                EXPECT_EQ(uint32_t(h[2] << 8 | h[3]), b.pkt.len);
                EXPECT_EQ(csum16(h, 20), 0);
            } else {
                EXPECT_EQ(uint32_t(h[4] << 8 | h[5]) + 40, b.pkt.len);
            }
            const uint8_t* u = h + hl;
            EXPECT_EQ(to_hex(u, 4), "11947a69") << "ports 4500 -> 31337";
            EXPECT_EQ(uint32_t(u[4] << 8 | u[5]), b.pkt.len - hl);
            if (v4)
                EXPECT_EQ(to_hex(u + 6, 2), "0000") << "IPv4: checksum zero (RFC 3948 §2.1)";
            else
                EXPECT_TRUE(udp6_checksum_ok(h, b.pkt.len)) << "IPv6: checksum required";
            EXPECT_EQ(to_hex(u + 8, 4), "00001100") << "SPI right after UDP";
            uint32_t spi = 0;
            Status why;
            ASSERT_TRUE(peek_spi(b.pkt, &spi, &why)) << status_name(why);
            EXPECT_EQ(spi, 0x1100u);
            ASSERT_EQ(decrypt(b, in.in.get()), Status::Ok);
            EXPECT_EQ(b.bytes(), plain);
        }
    }
}

// OpenSSL builds the ESP body; the test wraps it in UDP itself: the engine's
// inbound side must take it from any source port.
TEST_P(EngineTest, UdpEncapInboundFromOpenssl)
{
    for (bool v6 : {false, true}) {
        auto c = sa_config(0x1200, Direction::Inbound, Mode::Tunnel, false, v6 ? "2001:db8::1" : "192.0.2.1",
                           v6 ? "2001:db8:1::2" : "198.51.100.2");
        c.udp_encap = true;
        auto sa = Sa::create(c);
        uint8_t iv[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        Bytes inner = inner_packet(!v6, 77);
        Bytes body = openssl_esp_body(c, 1, iv, with_trailer(inner, v6 ? 41 : 4));
        Bytes esp = v6 ? ipv6_esp("2001:db8::1", "2001:db8:1::2", body) : ipv4_esp("192.0.2.1", "198.51.100.2", body);
        Buffer b(udp_encapsulate(esp, 30093, 4500));
        uint64_t seq = 0;
        ASSERT_EQ(decrypt(b, sa.get(), &seq), Status::Ok) << v6;
        EXPECT_EQ(b.bytes(), inner);
        EXPECT_EQ(seq, 1u);
    }
}

TEST_P(EngineTest, UdpEncapRejections)
{
    auto c = sa_config(0x1300, Direction::Inbound, Mode::Tunnel);
    c.replay_window = 0;
    auto plain_sa = Sa::create(c);
    c.udp_encap = true;
    auto encap_sa = Sa::create(c);
    uint8_t iv[8] = {};
    Bytes esp = ipv4_esp("198.51.100.2", "192.0.2.1",
                         openssl_esp_body(c, 1, iv, with_trailer(ipv4_udp("10.0.0.1", "10.0.0.2", 20), 4)));
    Bytes in_udp = udp_encapsulate(esp, 4500, 4500);
    {
        Buffer b(esp);
        EXPECT_EQ(decrypt(b, encap_sa.get()), Status::EncapMismatch) << "plain ESP to a UDP SA";
    }
    {
        Buffer b(in_udp);
        EXPECT_EQ(decrypt(b, plain_sa.get()), Status::EncapMismatch) << "ESP-in-UDP to a plain SA";
    }
    {
        Buffer b(udp_encapsulate(esp, 4500, 4501));
        EXPECT_EQ(decrypt(b, encap_sa.get()), Status::EncapMismatch) << "wrong destination port";
    }
    {
        Buffer b(in_udp);
        EXPECT_EQ(decrypt(b, encap_sa.get()), Status::Ok) << "the control case";
    }
    auto with_udp_len = [&](uint16_t ulen) {
        Bytes p = in_udp;
        p[24] = uint8_t(ulen >> 8), p[25] = uint8_t(ulen);
        return p;
    };
    for (uint16_t bad : {uint16_t(0), uint16_t(7), uint16_t(in_udp.size() - 20 - 1), uint16_t(in_udp.size() - 20 + 1),
                         uint16_t(0xffff)}) {
        Buffer b(with_udp_len(bad));
        EXPECT_EQ(decrypt(b, encap_sa.get()), Status::MalformedUdp) << bad;
        uint32_t spi;
        Status why;
        EXPECT_FALSE(peek_spi(b.pkt, &spi, &why));
        EXPECT_EQ(why, Status::MalformedUdp);
    }
    {
        // IP says 4 bytes of UDP: the header itself is cut.
        Bytes p(in_udp.begin(), in_udp.begin() + 24);
        p[2] = 0, p[3] = 24, p[10] = p[11] = 0;
        uint16_t ck = csum16(p.data(), 20);
        p[10] = uint8_t(ck >> 8), p[11] = uint8_t(ck);
        Buffer b(p);
        EXPECT_EQ(decrypt(b, encap_sa.get()), Status::MalformedUdp);
    }
}

TEST(PeekSpi, UdpEncapMarkerAndKeepaliveAreNotEsp)
{
    auto c = sa_config(0xc0ffee, Direction::Inbound, Mode::Tunnel);
    uint8_t iv[8] = {};
    Bytes esp = ipv4_esp("198.51.100.2", "192.0.2.1", openssl_esp_body(c, 1, iv, with_trailer({}, 4)));
    uint32_t spi = 0;
    Status why;
    Buffer b(udp_encapsulate(esp, 1234, 4500));
    ASSERT_TRUE(peek_spi(b.pkt, &spi, &why));
    EXPECT_EQ(spi, 0xc0ffeeu);
    // The same datagram carrying IKE: non-ESP marker then an IKE header.
    Bytes ike = ipv4_esp("198.51.100.2", "192.0.2.1", Bytes(4 + 28, 0));
    Buffer i(udp_encapsulate(ike, 4500, 4500));
    EXPECT_FALSE(peek_spi(i.pkt, &spi, &why));
    EXPECT_EQ(why, Status::NotEsp);
    Buffer k(udp_encapsulate(ipv4_esp("198.51.100.2", "192.0.2.1", Bytes{0xff}), 4500, 4500));
    EXPECT_FALSE(peek_spi(k.pkt, &spi, &why));
    EXPECT_EQ(why, Status::NotEsp);
    Buffer s(udp_encapsulate(ipv4_esp("198.51.100.2", "192.0.2.1", Bytes{1, 2, 3, 4, 5}), 4500, 4500));
    EXPECT_FALSE(peek_spi(s.pkt, &spi, &why));
    EXPECT_EQ(why, Status::Truncated);
    Bytes v6 = ipv6_esp("2001:db8::2", "2001:db8::1", openssl_esp_body(c, 1, iv, with_trailer({}, 4)));
    Buffer b6(udp_encapsulate(v6, 1234, 4500));
    ASSERT_TRUE(peek_spi(b6.pkt, &spi, &why));
    EXPECT_EQ(spi, 0xc0ffeeu);
}

TEST(NatT, ClassifiesWhatUdp4500Carries)
{
    const uint8_t keepalive[] = {0xff};
    const uint8_t marker[] = {0, 0, 0, 0, 0x11, 0x22};
    const uint8_t esp[] = {0, 0, 1, 0, 0, 0, 0, 1};
    const uint8_t short_esp[] = {0, 0, 1, 0, 0};
    const uint8_t ff2[] = {0xff, 0xff};
    EXPECT_EQ(classify_nat_t(keepalive, 1), NatTPayload::Keepalive);
    EXPECT_EQ(classify_nat_t(marker, sizeof marker), NatTPayload::Ike);
    EXPECT_EQ(classify_nat_t(esp, sizeof esp), NatTPayload::Esp);
    EXPECT_EQ(classify_nat_t(short_esp, sizeof short_esp), NatTPayload::Malformed);
    EXPECT_EQ(classify_nat_t(ff2, sizeof ff2), NatTPayload::Malformed);
    EXPECT_EQ(classify_nat_t(esp, 0), NatTPayload::Malformed);
}

TEST(StatusNames, AreUniqueAndNamed)
{
    std::set<std::string_view> names;
    for (unsigned i = 0; i < kStatusCount; ++i) {
        auto n = status_name(Status(i));
        EXPECT_NE(n, "unknown");
        names.insert(n);
    }
    EXPECT_EQ(names.size(), kStatusCount);
}

INSTANTIATE_TEST_SUITE_P(Paths, EngineTest, ::testing::Values(CryptoPath::Direct, CryptoPath::JobApi),
                         [](const auto& info) { return info.param == CryptoPath::Direct ? "direct" : "job_api"; });
