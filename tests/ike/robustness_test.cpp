// Loss, duplication and reordering between the engines, and hostile
// datagrams thrown at a responder.
#include <gtest/gtest.h>

#include "ike/message.hpp"
#include "two_engines.hpp"

using namespace ike_test;

namespace {

std::vector<ChildSaInfo> live_children(const Engine& e) {
    std::vector<ChildSaInfo> out;
    for (const auto& s : e.status())
        if (s.state == std::string("established")) out.insert(out.end(), s.children.begin(), s.children.end());
    return out;
}

bool mirrored(const Engine& a, const Engine& b) {
    auto ca = live_children(a), cb = live_children(b);
    if (ca.size() != cb.size()) return false;
    for (const auto& x : ca) {
        auto it = std::find_if(cb.begin(), cb.end(), [&](const ChildSaInfo& y) { return y.spi_in == x.spi_out; });
        if (it == cb.end() || it->spi_out != x.spi_in || it->encr_in != x.encr_out || it->encr_out != x.encr_in)
            return false;
    }
    return true;
}

Datagram to_b(const TwoEngines& t, Bytes data) { return Datagram{t.eb, t.ea, std::move(data)}; }

}  // namespace

class LossyLink : public ::testing::TestWithParam<int> {};

TEST_P(LossyLink, ExchangesCompleteOrFailCleanly) {
    TwoEngines t;
    t.ca.retransmit = t.cb.retransmit = {Duration(500), 1.5, 8};
    t.ca.child.esp_suites = t.cb.child.esp_suites = {gcm128(DhId::Curve25519)};
    t.link.rng.seed(static_cast<unsigned>(GetParam()));
    t.link.reorder = true;
    auto& rng = t.link.rng;
    t.link.copies = [&rng](const Datagram&, bool) {
        unsigned r = rng() % 10;
        return r < 2 ? 0 : r < 4 ? 2 : 1;  // 20 % lost, 20 % duplicated
    };
    std::uint64_t h = t.connect();
    t.advance(Duration(30'000), Duration(250));
    if (!t.a.status(h)) {
        // Gave up: the initiator said so, within the retry limit.
        EXPECT_GE(TwoEngines::count(t.ev_a, EventType::Failed), 1u);
        return;
    }
    ASSERT_TRUE(mirrored(t.a, t.b));
    ASSERT_TRUE(t.a.rekey_child(h, live_children(t.a).front().spi_in, t.now));
    t.advance(Duration(30'000), Duration(250));
    ASSERT_TRUE(t.a.rekey_ike(h, t.now));
    t.advance(Duration(30'000), Duration(250));
    ASSERT_TRUE(t.a.create_child(h, t.now));
    t.advance(Duration(30'000), Duration(250));
    if (t.a.status(h)) {
        EXPECT_TRUE(mirrored(t.a, t.b));
        EXPECT_EQ(live_children(t.a).size(), 2u);
    } else {
        EXPECT_GE(TwoEngines::count(t.ev_a, EventType::Failed), 1u);
    }
    ASSERT_TRUE(!t.a.status(h) || t.a.delete_ike(h, t.now));
    t.advance(Duration(30'000), Duration(250));
    EXPECT_TRUE(t.a.status().empty());
}

INSTANTIATE_TEST_SUITE_P(Seeds, LossyLink, ::testing::Range(1, 13));

TEST(Robustness, DuplicatedRequestGetsCachedResponse) {
    TwoEngines t;
    t.link.copies = [](const Datagram&, bool a_to_b) { return a_to_b ? 2 : 1; };
    t.connect();
    EXPECT_TRUE(mirrored(t.a, t.b));
    ASSERT_EQ(t.wire_b_to_a.size(), 4u);
    EXPECT_EQ(t.wire_b_to_a[0].data, t.wire_b_to_a[1].data);  // IKE_SA_INIT response resent as is
    EXPECT_EQ(t.wire_b_to_a[2].data, t.wire_b_to_a[3].data);  // IKE_AUTH response resent as is
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildInstalled), 1u);
}

TEST(Robustness, TamperedIcvIsSilentlyDropped) {
    TwoEngines t;
    t.configure();
    t.a.initiate("to-b", t.now);
    t.pump(2);  // IKE_SA_INIT both ways; IKE_AUTH request now waits at A
    auto pending = t.a.take_datagrams();
    ASSERT_EQ(pending.size(), 1u);
    Bytes bad = pending[0].data;
    bad[bad.size() - 3] ^= 0x40;
    t.b.receive(to_b(t, bad), t.now);
    EXPECT_TRUE(t.b.take_datagrams().empty());
    EXPECT_EQ(t.b.status().front().state, "connecting");
    // The genuine message still works afterwards.
    t.b.receive(to_b(t, pending[0].data), t.now);
    t.pump();
    EXPECT_TRUE(mirrored(t.a, t.b));
    EXPECT_EQ(live_children(t.a).size(), 1u);
}

TEST(Robustness, WrongMessageIdUnknownSpiAndReflectionAreDropped) {
    TwoEngines t;
    std::uint64_t h = t.connect();
    Bytes auth_request = t.wire_a_to_b[1].data;
    // Same request again: answered from the cache, nothing re-processed.
    t.b.receive(to_b(t, auth_request), t.now);
    auto again = t.b.take_datagrams();
    ASSERT_EQ(again.size(), 1u);
    EXPECT_EQ(again[0].data, t.wire_b_to_a[1].data);
    // A message ID from the future is dropped without an answer.
    Bytes future = auth_request;
    future[23] = 7;
    t.b.receive(to_b(t, future), t.now);
    EXPECT_TRUE(t.b.take_datagrams().empty());
    // Unknown SPI: no state touched; the only answer is INVALID_IKE_SPI
    // (tested below), never anything protected.
    Bytes unknown = auth_request;
    unknown[8] ^= 0xff;
    t.b.receive(to_b(t, unknown), t.now);
    for (auto& d : t.b.take_datagrams()) {
        auto r = parse_message(d.data);
        ASSERT_TRUE(r.ok());
        ASSERT_EQ(r.message.payloads.size(), 1u);
        EXPECT_NE(r.message.notify(NotifyType::InvalidIkeSpi), nullptr);
    }
    // B's own response reflected back to it.
    t.b.receive(to_b(t, t.wire_b_to_a[1].data), t.now);
    EXPECT_TRUE(t.b.take_datagrams().empty());
    t.pump();
    EXPECT_TRUE(t.a.status(h));
    EXPECT_TRUE(mirrored(t.a, t.b));
}

// §1.5, §2.21.4: a request for an IKE SA we do not know gets an unprotected
// INVALID_IKE_SPI with the SPIs, exchange and message ID copied, sent back
// to its source; responses never get one; the answers are rate-limited.
TEST(Robustness, UnknownSpiRequestGetsRateLimitedInvalidIkeSpi) {
    TwoEngines t;
    t.connect();
    Bytes request = t.wire_a_to_b[1].data;  // IKE_AUTH request, MID 1
    request[8] ^= 0xff;                     // SPIr no longer B's
    auto h = parse_header(request);
    ASSERT_TRUE(h);
    Datagram in = to_b(t, request);
    t.b.receive(in, t.now);
    auto out = t.b.take_datagrams();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].remote, in.remote);
    EXPECT_EQ(out[0].local, in.local);
    auto r = parse_message(out[0].data);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.message.header.spi_i, h->spi_i);
    EXPECT_EQ(r.message.header.spi_r, h->spi_r);
    EXPECT_EQ(r.message.header.exchange, h->exchange);
    EXPECT_EQ(r.message.header.message_id, h->message_id);
    EXPECT_TRUE(r.message.header.is_response());
    EXPECT_FALSE(r.message.header.from_initiator());
    ASSERT_EQ(r.message.payloads.size(), 1u);  // unprotected: no SK
    ASSERT_NE(r.message.notify(NotifyType::InvalidIkeSpi), nullptr);
    EXPECT_LE(out[0].data.size(), request.size());

    // A response with an unknown SPI is never answered.
    Bytes response = t.wire_b_to_a[1].data;
    response[0] ^= 0xff;
    for (int i = 0; i < 3; ++i) t.b.receive(to_b(t, response), t.now);
    EXPECT_TRUE(t.b.take_datagrams().empty());

    // Rate limit: ten a second (default), then silence until the next second.
    for (int i = 0; i < 50; ++i) t.b.receive(in, t.now);
    EXPECT_EQ(t.b.take_datagrams().size(), 9u);
    t.now += Duration(1000);
    for (int i = 0; i < 50; ++i) t.b.receive(in, t.now);
    EXPECT_EQ(t.b.take_datagrams().size(), 10u);

    // The answer means nothing to A's real SA: unprotected, so dropped.
    t.a.receive(Datagram{t.ea, t.eb, out[0].data}, t.now);
    EXPECT_EQ(t.a.status().size(), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeDeleted), 0u);

    // Configured off: silence.
    TwoEngines quiet(EngineConfig{.invalid_spi_replies_per_second = 0});
    quiet.connect();
    Bytes q = quiet.wire_a_to_b[1].data;
    q[8] ^= 0xff;
    quiet.b.receive(to_b(quiet, q), quiet.now);
    EXPECT_TRUE(quiet.b.take_datagrams().empty());
}

TEST(Robustness, MalformedInitRequests) {
    TwoEngines t;
    t.configure();
    t.a.initiate("to-b", t.now);
    Bytes init = t.a.take_datagrams().front().data;

    // Truncated, oversized, garbage: silence and no state.
    t.b.receive(to_b(t, Bytes(init.begin(), init.begin() + 40)), t.now);
    Bytes huge(70'000, 0);
    std::copy(init.begin(), init.end(), huge.begin());
    t.b.receive(to_b(t, huge), t.now);
    t.b.receive(to_b(t, Bytes(5, 0xff)), t.now);
    Bytes bad_len = init;
    bad_len[kHeaderSize + 2] = 0xff;
    t.b.receive(to_b(t, bad_len), t.now);
    EXPECT_TRUE(t.b.take_datagrams().empty());
    EXPECT_EQ(t.b.half_open_count(), 0u);

    // Major version 3: INVALID_MAJOR_VERSION.
    Bytes v3 = init;
    v3[17] = 0x30;
    t.b.receive(to_b(t, v3), t.now);
    auto out = t.b.take_datagrams();
    ASSERT_EQ(out.size(), 1u);
    auto r = parse_message(out[0].data);
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r.message.notify(NotifyType::InvalidMajorVersion), nullptr);

    // An unknown payload marked critical: UNSUPPORTED_CRITICAL_PAYLOAD naming it.
    Bytes crit = init;
    std::size_t last = kHeaderSize;
    for (std::size_t off = kHeaderSize; off < crit.size();) {  // find the last payload
        last = off;
        off += static_cast<std::size_t>(crit[off + 2] << 8 | crit[off + 3]);
    }
    crit[last] = 0xc8;  // next payload: type 200
    Bytes extra = {0, 0x80, 0, 6, 1, 2};
    crit.insert(crit.end(), extra.begin(), extra.end());
    crit[27] = static_cast<std::uint8_t>(crit.size());
    crit[26] = static_cast<std::uint8_t>(crit.size() >> 8);
    t.b.receive(to_b(t, crit), t.now);
    out = t.b.take_datagrams();
    ASSERT_EQ(out.size(), 1u);
    r = parse_message(out[0].data);
    ASSERT_TRUE(r.ok());
    auto* n = r.message.notify(NotifyType::UnsupportedCriticalPayload);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->data, Bytes{200});
    // The same with the critical bit clear is simply skipped and answered.
    crit[crit.size() - 5] = 0;
    t.b.receive(to_b(t, crit), t.now);
    out = t.b.take_datagrams();
    ASSERT_EQ(out.size(), 1u);
    r = parse_message(out[0].data);
    ASSERT_TRUE(r.ok());
    EXPECT_NE(r.message.find<KePayload>(PayloadType::KeyExchange), nullptr);
}

TEST(Robustness, HalfOpenSasExpire) {
    TwoEngines t;
    t.configure();
    t.a.initiate("to-b", t.now);
    t.b.receive(to_b(t, t.a.take_datagrams().front().data), t.now);
    EXPECT_EQ(t.b.half_open_count(), 1u);
    t.now += Duration(31'000);
    t.b.tick(t.now);
    EXPECT_EQ(t.b.half_open_count(), 0u);
}

TEST(Robustness, LostFragmentIsRecoveredByRetransmission) {
    TwoEngines t;
    t.ca.fragment_size = t.cb.fragment_size = 200;
    int seen = 0;
    t.link.copies = [&seen](const Datagram& d, bool a_to_b) {
        auto r = parse_message(d.data);
        bool fragment = r.ok() && r.message.find<EncryptedFragmentPayload>(PayloadType::EncryptedFragment);
        return a_to_b && fragment && seen++ == 1 ? 0 : 1;  // drop the second fragment once
    };
    t.connect();
    EXPECT_TRUE(live_children(t.a).empty());
    t.advance(Duration(1000));
    EXPECT_TRUE(mirrored(t.a, t.b));
    EXPECT_EQ(live_children(t.a).size(), 1u);
}
