// Two engines complete every exchange with each other over an in-process
// link: IKE_SA_INIT, IKE_AUTH, CREATE_CHILD_SA (new, rekey with and without
// PFS, IKE rekey), INFORMATIONAL (delete, liveness).
#include <gtest/gtest.h>

#include "ike/message.hpp"
#include "two_engines.hpp"

using namespace ike_test;

namespace {

// Every CHILD_SA on A has a mirror on B: SPIs crossed, keys crossed, TS mirrored.
void expect_matching_children(const Engine& a, const Engine& b, std::size_t expected) {
    std::vector<ChildSaInfo> ca, cb;
    for (const auto& s : a.status())
        if (s.state == std::string("established")) ca.insert(ca.end(), s.children.begin(), s.children.end());
    for (const auto& s : b.status())
        if (s.state == std::string("established")) cb.insert(cb.end(), s.children.begin(), s.children.end());
    ASSERT_EQ(ca.size(), expected);
    ASSERT_EQ(cb.size(), expected);
    for (const auto& x : ca) {
        auto it = std::find_if(cb.begin(), cb.end(), [&](const ChildSaInfo& y) { return y.spi_in == x.spi_out; });
        ASSERT_NE(it, cb.end());
        EXPECT_EQ(it->spi_out, x.spi_in);
        EXPECT_EQ(it->suite, x.suite);
        EXPECT_EQ(it->encr_in, x.encr_out);
        EXPECT_EQ(it->encr_out, x.encr_in);
        EXPECT_EQ(it->integ_in, x.integ_out);
        EXPECT_EQ(it->integ_out, x.integ_in);
        EXPECT_EQ(it->local_ts, x.remote_ts);
        EXPECT_EQ(it->remote_ts, x.local_ts);
        EXPECT_FALSE(x.encr_out.empty());
        EXPECT_NE(x.encr_in, x.encr_out);
    }
}

std::size_t established_ike(const Engine& e) {
    auto all = e.status();
    return static_cast<std::size_t>(std::count_if(all.begin(), all.end(), [](const auto& s) {
        return s.state == std::string("established");
    }));
}

}  // namespace

struct SuitePair {
    Suite ike;
    Suite esp;
};

class EstablishSuites : public ::testing::TestWithParam<SuitePair> {};

TEST_P(EstablishSuites, PskEstablishesMatchingSas) {
    TwoEngines t;
    t.ca.ike_suites = t.cb.ike_suites = {GetParam().ike};
    t.ca.child.esp_suites = t.cb.child.esp_suites = {GetParam().esp};
    std::uint64_t h = t.connect();
    ASSERT_NE(h, 0u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeEstablished), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildInstalled), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildInstalled), 1u);
    expect_matching_children(t.a, t.b, 1);
    auto st = t.a.status(h);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->suite, GetParam().ike);
    EXPECT_FALSE(st->udp_encapsulation);
    // Two messages each way: IKE_SA_INIT and IKE_AUTH.
    EXPECT_EQ(t.wire_a_to_b.size(), 2u);
    EXPECT_EQ(t.wire_b_to_a.size(), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    AllGroupsAndCiphers, EstablishSuites,
    ::testing::Values(SuitePair{gcm256(DhId::Curve25519), gcm128(DhId::None)},
                      SuitePair{gcm128(DhId::Ecp256), gcm256(DhId::None)},
                      SuitePair{cbc_sha512(DhId::Ecp384), cbc_sha256(DhId::None)},
                      SuitePair{cbc_sha256(DhId::Modp2048), cbc_sha512(DhId::None)},
                      SuitePair{gcm256(DhId::Modp3072), cbc_sha256(DhId::None)}));

TEST(Exchanges, WrongPskFailsAuthenticationOnBothSides) {
    TwoEngines t;
    t.cb.psk = to_secret(to_bytes("something else"));
    t.connect();
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 0u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeEstablished), 0u);
    EXPECT_GE(TwoEngines::count(t.ev_a, EventType::Failed), 1u);
    EXPECT_GE(TwoEngines::count(t.ev_b, EventType::Failed), 1u);
    EXPECT_TRUE(t.a.status().empty());
    EXPECT_TRUE(t.b.status().empty());
}

TEST(Exchanges, UnexpectedIdentityIsRefused) {
    TwoEngines t;
    t.cb.remote_id = {IdType::Fqdn, to_bytes("someone.else")};
    t.connect();
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 0u);
    EXPECT_TRUE(t.b.status().empty());
}

TEST(Exchanges, NoCommonIkeProposal) {
    TwoEngines t;
    t.ca.ike_suites = {cbc_sha256()};
    t.connect();
    ASSERT_EQ(TwoEngines::count(t.ev_a, EventType::Failed), 1u);
    EXPECT_NE(t.ev_a.front().reason.find("14"), std::string::npos);  // NO_PROPOSAL_CHOSEN
    EXPECT_TRUE(t.a.status().empty());
    EXPECT_TRUE(t.b.status().empty());
}

TEST(Exchanges, InvalidKePayloadRetryWithResponderGroup) {
    TwoEngines t;
    t.ca.ike_suites = {gcm256(DhId::Curve25519), gcm256(DhId::Ecp384)};
    t.cb.ike_suites = {gcm256(DhId::Ecp384)};
    std::uint64_t h = t.connect();
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 1u);
    EXPECT_EQ(t.a.status(h)->suite.dh, DhId::Ecp384);
    EXPECT_EQ(t.wire_a_to_b.size(), 3u);  // INIT, INIT again with the right group, AUTH
    expect_matching_children(t.a, t.b, 1);
}

TEST(Exchanges, CookieRequiredAboveHalfOpenThreshold) {
    EngineConfig strict;
    strict.cookie_threshold = 0;  // always demand a cookie
    TwoEngines t(strict);
    t.connect();
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 1u);
    ASSERT_EQ(t.wire_b_to_a.size(), 3u);
    auto first = parse_message(t.wire_b_to_a.front().data);
    ASSERT_TRUE(first.ok());
    EXPECT_EQ(first.message.header.spi_r, 0u);  // stateless cookie reply
    ASSERT_NE(first.message.notify(NotifyType::Cookie), nullptr);
    auto second = parse_message(t.wire_a_to_b[1].data);
    ASSERT_TRUE(second.ok());
    // The cookie comes first in the retried request (§2.6).
    EXPECT_EQ(std::get<NotifyPayload>(second.message.payloads.front().body).type,
              static_cast<std::uint16_t>(NotifyType::Cookie));
    expect_matching_children(t.a, t.b, 1);
}

TEST(Exchanges, TrafficSelectorsAreNarrowed) {
    TwoEngines t;
    t.ca.child.local_ts = {ts_from_prefix(Bytes{10, 1, 0, 0}, 16)};
    t.ca.child.remote_ts = {ts_from_prefix(Bytes{10, 0, 0, 0}, 8)};
    t.cb.child.local_ts = {ts_from_prefix(Bytes{10, 2, 3, 0}, 24, 6, 443, 443)};
    t.cb.child.remote_ts = {ts_from_prefix(Bytes{10, 1, 0, 0}, 16)};
    t.connect();
    expect_matching_children(t.a, t.b, 1);
    auto child = t.a.status().front().children.front();
    ASSERT_EQ(child.remote_ts.size(), 1u);
    EXPECT_EQ(child.remote_ts[0], ts_from_prefix(Bytes{10, 2, 3, 0}, 24, 6, 443, 443));
}

TEST(Exchanges, DisjointTrafficSelectorsKeepIkeSaButNoChild) {
    TwoEngines t;
    t.cb.child.local_ts = {ts_from_prefix(Bytes{172, 16, 0, 0}, 12)};
    t.connect();
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildInstalled), 0u);
    EXPECT_EQ(established_ike(t.a), 1u);
    expect_matching_children(t.a, t.b, 0);
}

TEST(Exchanges, CreateAndRekeyChildWithPfs) {
    TwoEngines t;
    t.ca.child.esp_suites = t.cb.child.esp_suites = {gcm256(DhId::Ecp256)};
    std::uint64_t h = t.connect();
    expect_matching_children(t.a, t.b, 1);
    ASSERT_TRUE(t.a.create_child(h, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 2);
    std::uint32_t old_spi = t.a.status(h)->children.front().spi_in;
    ASSERT_TRUE(t.a.rekey_child(h, old_spi, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 2);
    auto now_children = t.a.status(h)->children;
    for (const auto& c : now_children) EXPECT_NE(c.spi_in, old_spi);
    auto installed = std::find_if(t.ev_a.rbegin(), t.ev_a.rend(), [](const SaEvent& e) { return e.type == EventType::ChildInstalled; });
    EXPECT_EQ(installed->replaces_spi_in, old_spi);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildDeleted), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildDeleted), 1u);
}

TEST(Exchanges, ResponderRekeysChildWithoutPfs) {
    TwoEngines t;
    std::uint64_t h = t.connect();
    std::uint64_t hb = t.b.status().front().handle;
    std::uint32_t old_spi = t.b.status(hb)->children.front().spi_in;
    ASSERT_TRUE(t.b.rekey_child(hb, old_spi, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 1);
    EXPECT_NE(t.b.status(hb)->children.front().spi_in, old_spi);
    EXPECT_TRUE(t.a.status(h));
}

TEST(Exchanges, SimultaneousChildRekeyLeavesOnePair) {
    TwoEngines t;
    std::uint64_t h = t.connect();
    std::uint64_t hb = t.b.status().front().handle;
    ASSERT_TRUE(t.a.rekey_child(h, t.a.status(h)->children.front().spi_in, t.now));
    ASSERT_TRUE(t.b.rekey_child(hb, t.b.status(hb)->children.front().spi_in, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 1);
    // Both rekeyed; one redundant pair and the old pair were deleted.
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildInstalled), 3u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildDeleted), 2u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildDeleted), 2u);
}

TEST(Exchanges, IkeRekeyKeepsChildrenAndHandle) {
    TwoEngines t;
    std::uint64_t h = t.connect();
    auto before = *t.a.status(h);
    ASSERT_TRUE(t.a.rekey_ike(h, t.now));
    t.pump();
    auto after = t.a.status(h);
    ASSERT_TRUE(after);
    EXPECT_NE(after->spi_i, before.spi_i);
    EXPECT_NE(after->spi_r, before.spi_r);
    EXPECT_EQ(t.a.status().size(), 1u);  // the old IKE SA is gone
    EXPECT_EQ(t.b.status().size(), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeRekeyed), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeRekeyed), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildDeleted), 0u);
    expect_matching_children(t.a, t.b, 1);
    // The new IKE SA works: create, rekey and delete a CHILD_SA over it,
    // and rekey it again from the other side.
    ASSERT_TRUE(t.a.create_child(h, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 2);
    std::uint64_t hb = t.b.status().front().handle;
    ASSERT_TRUE(t.b.rekey_ike(hb, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 2);
    ASSERT_TRUE(t.a.delete_child(h, t.a.status(h)->children.front().spi_in, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 1);
}

// Both ends of one IKE SA and its CHILD_SAs agree, and nothing else is left.
void expect_one_matching_ike_sa(const TwoEngines& t) {
    auto sa = t.a.status();
    auto sb = t.b.status();
    ASSERT_EQ(sa.size(), 1u);
    ASSERT_EQ(sb.size(), 1u);
    EXPECT_EQ(sa[0].state, std::string("established"));
    EXPECT_EQ(sb[0].state, std::string("established"));
    EXPECT_EQ(sa[0].spi_i, sb[0].spi_i);
    EXPECT_EQ(sa[0].spi_r, sb[0].spi_r);
    EXPECT_NE(sa[0].initiator, sb[0].initiator);
}

// §2.8.2: both ends rekey the IKE SA at once. Both exchanges complete; the
// one with the lowest nonce loses and its SA is deleted by its creator, the
// winner's initiator deletes the old SA, and the survivor keeps the CHILD_SAs
// and the handle. Over many runs (random nonces) either side's rekey wins.
TEST(Exchanges, SimultaneousIkeRekeyKeepsOneSaByNonce) {
    int a_won = 0, b_won = 0;
    for (int run = 0; run < 16; ++run) {
        SCOPED_TRACE(run);
        TwoEngines t;
        std::uint64_t h = t.connect();
        std::uint64_t hb = t.b.status().front().handle;
        auto before = *t.a.status(h);
        auto child_before = before.children.front().spi_in;
        ASSERT_TRUE(t.a.rekey_ike(h, t.now));
        ASSERT_TRUE(t.b.rekey_ike(hb, t.now));
        t.pump();
        expect_one_matching_ike_sa(t);
        auto after = t.a.status(h);
        ASSERT_TRUE(after);
        ASSERT_TRUE(t.b.status(hb));
        EXPECT_NE(after->spi_i, before.spi_i);
        (after->initiator ? a_won : b_won)++;
        expect_matching_children(t.a, t.b, 1);
        EXPECT_EQ(after->children.front().spi_in, child_before);  // inherited, not re-created
        EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeRekeyed), 1u);
        EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeRekeyed), 1u);
        for (auto* ev : {&t.ev_a, &t.ev_b}) {
            EXPECT_EQ(TwoEngines::count(*ev, EventType::IkeDeleted), 0u);
            EXPECT_EQ(TwoEngines::count(*ev, EventType::ChildDeleted), 0u);
            EXPECT_EQ(TwoEngines::count(*ev, EventType::Failed), 0u);
        }
        // No TEMPORARY_FAILURE either way: request, response, two deletes.
        EXPECT_EQ(t.wire_a_to_b.size() + t.wire_b_to_a.size(), 4u + 8u);
        // The survivor works.
        ASSERT_TRUE(t.b.create_child(hb, t.now));
        t.pump();
        expect_matching_children(t.a, t.b, 2);
        ASSERT_TRUE(t.a.rekey_ike(h, t.now));
        t.pump();
        expect_one_matching_ike_sa(t);
        expect_matching_children(t.a, t.b, 2);
    }
    EXPECT_GT(a_won, 0);
    EXPECT_GT(b_won, 0);
}

// One end's rekey completes before the other's request arrives (RFC 7296
// §2.8.2's special case): the old SA is already being deleted, so the late
// request gets TEMPORARY_FAILURE (§2.25.2) and the peer keeps the SA the
// first rekey made.
TEST(Exchanges, IkeRekeyCollisionWhereOneFinishedFirst) {
    TwoEngines t;
    std::uint64_t h = t.connect();
    std::uint64_t hb = t.b.status().front().handle;
    ASSERT_TRUE(t.b.rekey_ike(hb, t.now));
    ASSERT_TRUE(t.a.rekey_ike(h, t.now));
    auto a_req = t.a.take_datagrams();
    auto b_req = t.b.take_datagrams();
    ASSERT_EQ(a_req.size(), 1u);
    ASSERT_EQ(b_req.size(), 1u);
    t.deliver(a_req, true);           // B answers A's rekey (B's own is in flight)
    auto b_resp = t.b.take_datagrams();
    ASSERT_EQ(b_resp.size(), 1u);
    t.deliver(b_resp, false);         // A's rekey completes; A deletes the old SA
    t.deliver(b_req, false);          // B's late request: TEMPORARY_FAILURE
    t.pump();
    expect_one_matching_ike_sa(t);
    EXPECT_TRUE(t.a.status(h)->initiator);  // A's rekey made it
    expect_matching_children(t.a, t.b, 1);
    for (auto* ev : {&t.ev_a, &t.ev_b}) {
        EXPECT_EQ(TwoEngines::count(*ev, EventType::IkeRekeyed), 1u);
        EXPECT_EQ(TwoEngines::count(*ev, EventType::IkeDeleted), 0u);
        EXPECT_EQ(TwoEngines::count(*ev, EventType::ChildDeleted), 0u);
        EXPECT_EQ(TwoEngines::count(*ev, EventType::Failed), 0u);
    }
    ASSERT_TRUE(t.b.create_child(hb, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 2);
}

// The same with reordering and duplicates between the ends: whatever order
// the deletes, responses and requests arrive in, one SA pair survives.
TEST(Exchanges, SimultaneousIkeRekeyWithReorderingAndDuplicates) {
    for (int run = 0; run < 16; ++run) {
        SCOPED_TRACE(run);
        TwoEngines t;
        std::uint64_t h = t.connect();
        std::uint64_t hb = t.b.status().front().handle;
        t.link.reorder = true;
        t.link.rng.seed(static_cast<unsigned>(run));
        t.link.copies = [&t](const Datagram&, bool) { return 1 + static_cast<int>(t.link.rng() % 2); };
        ASSERT_TRUE(t.a.rekey_ike(h, t.now));
        ASSERT_TRUE(t.b.rekey_ike(hb, t.now));
        t.pump();
        t.advance(std::chrono::seconds(40));  // retransmissions, reaping of leftovers
        expect_one_matching_ike_sa(t);
        expect_matching_children(t.a, t.b, 1);
        for (auto* ev : {&t.ev_a, &t.ev_b}) {
            EXPECT_EQ(TwoEngines::count(*ev, EventType::IkeDeleted), 0u);
            EXPECT_EQ(TwoEngines::count(*ev, EventType::ChildDeleted), 0u);
        }
    }
}

// INITIAL_CONTACT (§3.10.1): A "restarts" (a fresh engine with the same
// configuration) and connects again. Its IKE_AUTH carries INITIAL_CONTACT, so
// B forgets the old IKE SA and its CHILD_SA at once, without a DELETE to the
// peer that no longer knows them. A live engine opening a second IKE SA to
// the same peer does not send it, and both SAs stay.
TEST(Exchanges, InitialContactReplacesTheOldSas) {
    TwoEngines t;
    t.connect();
    ASSERT_EQ(established_ike(t.b), 1u);

    // A second SA from the same (live) engine: no INITIAL_CONTACT.
    t.a.initiate("to-b", t.now);
    t.pump();
    EXPECT_EQ(established_ike(t.a), 2u);
    EXPECT_EQ(established_ike(t.b), 2u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeDeleted), 0u);

    // A restarts.
    Engine a2(EngineConfig{});
    a2.add_peer(t.ca);
    std::uint64_t h2 = a2.initiate("to-b", t.now);
    std::size_t sent_by_b = 0;
    for (int round = 0; round < 10; ++round) {
        for (auto& d : a2.take_datagrams()) t.b.receive(Datagram{d.remote, d.local, d.data}, t.now);
        auto back = t.b.take_datagrams();
        sent_by_b += back.size();
        for (auto& d : back) a2.receive(Datagram{d.remote, d.local, d.data}, t.now);
    }
    t.collect();
    ASSERT_TRUE(a2.status(h2));
    EXPECT_EQ(a2.status(h2)->state, std::string("established"));
    EXPECT_EQ(sent_by_b, 2u);  // IKE_SA_INIT and IKE_AUTH responses, no DELETEs
    auto sas = t.b.status();
    ASSERT_EQ(sas.size(), 1u);
    EXPECT_EQ(sas[0].spi_i, a2.status(h2)->spi_i);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeDeleted), 2u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildDeleted), 2u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildInstalled), 3u);
}

TEST(Exchanges, DeleteIkeSaRemovesEverything) {
    TwoEngines t;
    std::uint64_t h = t.connect();
    ASSERT_TRUE(t.a.delete_ike(h, t.now));
    t.pump();
    EXPECT_TRUE(t.a.status().empty());
    EXPECT_TRUE(t.b.status().empty());
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeDeleted), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeDeleted), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildDeleted), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildDeleted), 1u);
}

TEST(Exchanges, LivenessCheckAndDeadPeerWithBackoff) {
    TwoEngines t;
    std::uint64_t h = t.connect();
    ASSERT_TRUE(t.a.check_liveness(h, t.now));
    t.pump();
    EXPECT_EQ(established_ike(t.a), 1u);
    // Now the peer vanishes.
    t.link.copies = [](const Datagram&, bool) { return 0; };
    TimePoint start = t.now;
    ASSERT_TRUE(t.a.check_liveness(h, t.now));
    t.pump();
    std::size_t sent_before = t.wire_a_to_b.size();
    std::vector<Duration> send_times;
    for (int i = 0; i < 200 && !t.a.status().empty(); ++i) {
        t.advance(Duration(100));
        while (t.wire_a_to_b.size() > sent_before + send_times.size()) send_times.push_back(t.now - start);
    }
    EXPECT_TRUE(t.a.status().empty());
    // Retransmits at 0.5, 1.5, 3.5 s after the first send (timeout doubles), 4 tries in all.
    ASSERT_EQ(send_times.size(), 3u);
    EXPECT_EQ(send_times[0], Duration(500));
    EXPECT_EQ(send_times[1], Duration(1500));
    EXPECT_EQ(send_times[2], Duration(3500));
    EXPECT_EQ(t.now - start, Duration(7500));  // gave up after the last timeout (4 s)
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeDeleted), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildDeleted), 1u);
}

TEST(Exchanges, AutomaticLivenessWhenIdle) {
    TwoEngines t;
    t.ca.liveness_interval = Duration(10'000);
    t.connect();
    std::size_t before = t.wire_a_to_b.size();
    t.advance(Duration(10'500), Duration(500));
    EXPECT_EQ(t.wire_a_to_b.size(), before + 1);
    EXPECT_EQ(established_ike(t.a), 1u);
}

TEST(Exchanges, LifetimesTriggerJitteredRekeysAndHardExpiry) {
    TwoEngines t;
    t.ca.child.lifetime = {Duration(60'000), Duration(20'000), 0.5};
    t.cb.child.lifetime = {Duration(600'000), Duration(20'000), 0.5};  // the initiator rekeys first
    std::uint64_t h = t.connect();
    std::uint32_t first = t.a.status(h)->children.front().spi_in;
    t.advance(Duration(29'000), Duration(1000));
    EXPECT_EQ(t.a.status(h)->children.front().spi_in, first);  // not before lifetime - margin - jitter
    t.advance(Duration(12'000), Duration(1000));
    EXPECT_NE(t.a.status(h)->children.front().spi_in, first);  // by lifetime - margin
    expect_matching_children(t.a, t.b, 1);

    // IKE SA hard expiry deletes it.
    TwoEngines u;
    u.ca.ike_lifetime = {Duration(30'000), Duration(0), 0};
    u.connect();
    u.advance(Duration(31'000), Duration(1000));
    EXPECT_TRUE(u.a.status().empty());
    EXPECT_TRUE(u.b.status().empty());
}

TEST(Exchanges, NatDetectionFloatsToPort4500) {
    TwoEngines t;
    t.link.nat_a = Endpoint{{198, 51, 100, 7}, 0};
    t.cb.remote = {};  // the responder accepts any address
    std::uint64_t h = t.connect();
    auto st = t.a.status(h);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->udp_encapsulation);
    EXPECT_TRUE(t.b.status().front().udp_encapsulation);
    EXPECT_EQ(t.wire_a_to_b.back().local.port, 4500);
    EXPECT_EQ(t.wire_a_to_b.back().remote.port, 4500);
    auto child_b = t.b.status().front().children.front();
    EXPECT_TRUE(child_b.udp_encapsulation);
    EXPECT_EQ(child_b.remote.address, (Bytes{198, 51, 100, 7}));
    EXPECT_EQ(child_b.remote.port, 5500);
    // Later exchanges reach A through the NAT mapping.
    ASSERT_TRUE(t.b.rekey_child(t.b.status().front().handle, child_b.spi_in, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 1);
}

TEST(Exchanges, VirtualIpThroughConfigurationPayload) {
    TwoEngines t;
    t.ca.request_virtual_ip = true;
    t.cb.virtual_ip_pool = {Bytes{10, 1, 0, 77}};
    std::uint64_t h = t.connect();
    auto st = t.a.status(h);
    ASSERT_TRUE(st);
    ASSERT_EQ(st->children.size(), 1u);
    ASSERT_TRUE(st->children.front().virtual_ip);
    EXPECT_EQ(*st->children.front().virtual_ip, (Bytes{10, 1, 0, 77}));
    EXPECT_EQ(st->children.front().local_ts.front(), ts_single_address(Bytes{10, 1, 0, 77}));
    expect_matching_children(t.a, t.b, 1);
}

namespace {
std::size_t fragments_in(const std::vector<Datagram>& wire) {
    std::size_t n = 0;
    for (const auto& d : wire) {
        auto r = parse_message(d.data);
        if (r.ok() && r.message.find<EncryptedFragmentPayload>(PayloadType::EncryptedFragment)) ++n;
    }
    return n;
}
}  // namespace

TEST(Exchanges, LargeMessagesAreFragmentedAndReassembled) {
    TwoEngines t;
    t.ca.fragment_size = t.cb.fragment_size = 200;
    std::uint64_t h = t.connect();
    EXPECT_GE(fragments_in(t.wire_a_to_b), 2u);
    for (const auto& d : t.wire_a_to_b) {
        auto r = parse_message(d.data);
        if (r.message.header.exchange != ExchangeType::IkeSaInit) {
            EXPECT_LE(d.data.size(), 200u);
        }
    }
    expect_matching_children(t.a, t.b, 1);
    // Fragments arriving in any order, some twice.
    t.link.reorder = true;
    t.link.copies = [](const Datagram&, bool) { return 2; };
    ASSERT_TRUE(t.a.create_child(h, t.now));
    t.pump();
    expect_matching_children(t.a, t.b, 2);
}

TEST(Exchanges, NoFragmentationUnlessBothSupportIt) {
    TwoEngines t;
    t.ca.fragment_size = 200;
    t.cb.fragment_size = 0;
    t.connect();
    EXPECT_EQ(fragments_in(t.wire_a_to_b), 0u);
    expect_matching_children(t.a, t.b, 1);
}
