// Messages produced by a real strongSwan peer (tests/ike/data, made by
// tests/ike/capture_strongswan.sh): every one parses with our codec, every SK
// payload opens with our SK cipher under keys we derive ourselves from the
// logged DH shared secret, our SKEYSEED/SK_*/KEYMAT agree with the values
// strongSwan logged, and both peers' PSK AUTH payloads verify with our code.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "ike/engine.hpp"
#include "ike/traffic_selectors.hpp"
#include "ike/keymat.hpp"
#include "ike/message.hpp"
#include "ike/nat_detection.hpp"
#include "ike/prf.hpp"
#include "ike/psk_auth.hpp"
#include "ike/sk_cipher.hpp"
#include "test_util.hpp"

#ifndef IKE_TEST_DATA_DIR
#error "IKE_TEST_DATA_DIR must name tests/ike/data"
#endif

using namespace ipsecgw::ike;
using ike_test::hex;
using ike_test::plain;

namespace {

struct CapturedMessage {
    std::string src, dst;
    std::uint16_t sport = 0, dport = 0;
    Bytes data;
};

struct Capture {
    std::string psk;
    std::vector<CapturedMessage> messages;
    std::multimap<std::string, Bytes> keys_by_name;  // in log order per name

    // The n-th (0-based) logged value of `name`.
    Bytes key(const std::string& name, std::size_t n = 0) const {
        auto [b, e] = keys_by_name.equal_range(name);
        for (auto it = b; it != e; ++it, --n)
            if (n == 0) return it->second;
        ADD_FAILURE() << "no key " << name << " #" << n;
        return {};
    }
};

Capture load(const std::string& file) {
    Capture c;
    std::ifstream in(std::string(IKE_TEST_DATA_DIR) + "/" + file);
    EXPECT_TRUE(in.good()) << file;
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ls(line);
        std::string kind;
        ls >> kind;
        if (kind == "psk") {
            ls >> c.psk;
        } else if (kind == "msg") {
            CapturedMessage m;
            std::string h;
            ls >> m.src >> m.sport >> m.dst >> m.dport >> h;
            m.data = hex(h);
            c.messages.push_back(std::move(m));
        } else if (kind == "key") {
            std::string name, h;
            ls >> name >> h;
            c.keys_by_name.emplace(name, hex(h));
        }
    }
    return c;
}

Bytes bytes(const SecretBytes& s) { return Bytes(s.begin(), s.end()); }

std::uint64_t spi_value(const Bytes& b) {
    std::uint64_t v = 0;
    for (auto x : b) v = v << 8 | x;
    return v;
}

Bytes concat(ByteView a, ByteView b) {
    Bytes out(a.begin(), a.end());
    out.insert(out.end(), b.begin(), b.end());
    return out;
}

// What strongSwan negotiated: aes128gcm16-prfsha256-ecp256, ESP aes128gcm16.
Suite ike_suite() { return {EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::Ecp256, false}; }
Suite esp_suite() { return {EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::None, false}; }

constexpr const char* kA = "10.99.0.1";  // strongSwan A: initiated everything

class StrongswanCapture : public ::testing::Test {
protected:
    void SetUp() override {
        cap = load("strongswan_psk_gcm128.txt");
        ASSERT_EQ(cap.messages.size(), 18u);
        for (auto& m : cap.messages) {
            auto r = parse_message(m.data);
            ASSERT_TRUE(r.ok()) << to_string(r.error);
            parsed.push_back(std::move(r));
        }
    }

    // The decrypted inner chain of message i, protected by `keys` (the keys
    // of the IKE SA it belongs to; direction from the IKE SA initiator flag).
    Message open(std::size_t i, const IkeKeys& keys) {
        const auto& r = parsed.at(i);
        const auto* sk = r.message.find<EncryptedPayload>(PayloadType::Encrypted);
        EXPECT_NE(sk, nullptr) << "message " << i;
        if (!sk) return {};
        auto dir = r.message.header.from_initiator() ? keys.initiator_sk() : keys.responder_sk();
        auto plaintext = open_message(cap.messages[i].data, r.encrypted_offset, PayloadType::Encrypted, dir);
        EXPECT_TRUE(plaintext.has_value()) << "message " << i << " did not open";
        if (!plaintext) return {};
        auto inner = parse_payload_chain(sk->first_inner, Bytes(plaintext->begin(), plaintext->end()));
        EXPECT_TRUE(inner.ok()) << "message " << i << ": " << to_string(inner.error);
        return inner.message;
    }

    // SA1 keys derived by us from the logged shared secret.
    IkeKeys sa1_keys() const {
        const auto& req = parsed[0].message;
        const auto& rsp = parsed[1].message;
        return derive_ike_keys(ike_suite(), req.find<NoncePayload>(PayloadType::Nonce)->data,
                               rsp.find<NoncePayload>(PayloadType::Nonce)->data, cap.key("g_ir", 0),
                               rsp.header.spi_i, rsp.header.spi_r);
    }

    Capture cap;
    std::vector<ParseResult> parsed;
};

void expect_keys(const Capture& cap, const IkeKeys& k, std::size_t n) {
    EXPECT_EQ(bytes(k.sk_d), cap.key("sk_d", n));
    EXPECT_EQ(bytes(k.sk_ei), cap.key("sk_ei", n));
    EXPECT_EQ(bytes(k.sk_er), cap.key("sk_er", n));
    EXPECT_EQ(bytes(k.sk_pi), cap.key("sk_pi", n));
    EXPECT_EQ(bytes(k.sk_pr), cap.key("sk_pr", n));
    EXPECT_TRUE(k.sk_ai.empty());
    EXPECT_TRUE(k.sk_ar.empty());
}

}  // namespace

TEST_F(StrongswanCapture, EveryMessageParsesWithTheExpectedHeader) {
    const ExchangeType expected[] = {
        ExchangeType::IkeSaInit,     ExchangeType::IkeSaInit,     ExchangeType::IkeAuth,
        ExchangeType::IkeAuth,       ExchangeType::CreateChildSa, ExchangeType::CreateChildSa,
        ExchangeType::Informational, ExchangeType::Informational, ExchangeType::CreateChildSa,
        ExchangeType::CreateChildSa, ExchangeType::Informational, ExchangeType::Informational,
        ExchangeType::Informational, ExchangeType::Informational, ExchangeType::Informational,
        ExchangeType::Informational, ExchangeType::Informational, ExchangeType::Informational,
    };
    for (std::size_t i = 0; i < parsed.size(); ++i) {
        const auto& h = parsed[i].message.header;
        SCOPED_TRACE(i);
        EXPECT_EQ(h.exchange, expected[i]);
        EXPECT_EQ(h.length, cap.messages[i].data.size());
        EXPECT_EQ(h.is_response(), i % 2 == 1 || i == 13);  // #12 is B's request, #13 A's answer
        EXPECT_EQ(h.spi_i, parsed[i < 12 ? 0 : 12].message.header.spi_i);
        if (i >= 2) {
            EXPECT_EQ(parsed[i].message.payloads.size(), 1u) << "only SK";
        }
        // Re-encoding the unencrypted part gives the same bytes.
        EXPECT_EQ(build_message(h, parsed[i].message.payloads), cap.messages[i].data);
    }
}

TEST_F(StrongswanCapture, IkeSaInitContents) {
    const auto& req = parsed[0].message;
    const auto& rsp = parsed[1].message;
    ASSERT_NE(req.find<SaPayload>(PayloadType::SecurityAssociation), nullptr);
    // Two proposals offered (ECP-256, MODP-2048), one chosen: ECP-256.
    EXPECT_EQ(req.find<SaPayload>(PayloadType::SecurityAssociation)->proposals.size(), 2u);
    const auto* chosen = rsp.find<SaPayload>(PayloadType::SecurityAssociation);
    ASSERT_NE(chosen, nullptr);
    ASSERT_EQ(chosen->proposals.size(), 1u);
    bool gcm128 = false, ecp256 = false, sha256 = false;
    for (const auto& t : chosen->proposals[0].transforms) {
        if (t.type == TransformType::Encryption && t.id == 20 && t.key_length() == 128) gcm128 = true;
        if (t.type == TransformType::DhGroup && t.id == 19) ecp256 = true;
        if (t.type == TransformType::Prf && t.id == 5) sha256 = true;
    }
    EXPECT_TRUE(gcm128 && ecp256 && sha256);
    for (const auto* m : {&req, &rsp}) {
        const auto* ke = m->find<KePayload>(PayloadType::KeyExchange);
        ASSERT_NE(ke, nullptr);
        EXPECT_EQ(ke->group, 19);
        EXPECT_EQ(ke->data.size(), 64u);
        ASSERT_NE(m->find<NoncePayload>(PayloadType::Nonce), nullptr);
        EXPECT_GE(m->find<NoncePayload>(PayloadType::Nonce)->data.size(), 16u);
        EXPECT_NE(m->notify(NotifyType::NatDetectionSourceIp), nullptr);
        EXPECT_NE(m->notify(NotifyType::NatDetectionDestinationIp), nullptr);
    }
    // NAT_DETECTION_DESTINATION_IP is honest (kernel-libipsec fakes only the
    // source hash): each side hashed the address it sent to, as we do.
    const auto spi_i = rsp.header.spi_i;
    EXPECT_EQ(req.notify(NotifyType::NatDetectionDestinationIp)->data,
              nat_detection_hash(spi_i, 0, Endpoint{{10, 99, 0, 2}, 500}));
    EXPECT_EQ(rsp.notify(NotifyType::NatDetectionDestinationIp)->data,
              nat_detection_hash(spi_i, rsp.header.spi_r, Endpoint{{10, 99, 0, 1}, 500}));
}

TEST_F(StrongswanCapture, KeyDerivationMatchesStrongswan) {
    const auto& req = parsed[0].message;
    const auto& rsp = parsed[1].message;
    const auto& ni = req.find<NoncePayload>(PayloadType::Nonce)->data;
    const auto& nr = rsp.find<NoncePayload>(PayloadType::Nonce)->data;
    EXPECT_EQ(bytes(Prf(PrfId::HmacSha2_256)(concat(ni, nr), cap.key("g_ir", 0))), cap.key("skeyseed", 0));
    expect_keys(cap, sa1_keys(), 0);
}

TEST_F(StrongswanCapture, IkeAuthDecryptsAndBothPskAuthsVerify) {
    const auto keys = sa1_keys();
    const Message auth_req = open(2, keys);
    const Message auth_rsp = open(3, keys);
    const auto& init_req = cap.messages[0].data;
    const auto& init_rsp = cap.messages[1].data;
    const auto& ni = parsed[0].message.find<NoncePayload>(PayloadType::Nonce)->data;
    const auto& nr = parsed[1].message.find<NoncePayload>(PayloadType::Nonce)->data;
    const Bytes psk = plain(cap.psk);

    const auto* idi = auth_req.find<IdPayload>(PayloadType::IdInitiator);
    const auto* auth_i = auth_req.find<AuthPayload>(PayloadType::Authentication);
    ASSERT_NE(idi, nullptr);
    ASSERT_NE(auth_i, nullptr);
    EXPECT_EQ(idi->type, IdType::Fqdn);
    EXPECT_EQ(idi->data, plain(std::string("gw-a.test")));
    EXPECT_EQ(auth_i->method, AuthMethod::SharedKeyMic);
    EXPECT_NE(auth_req.notify(NotifyType::InitialContact), nullptr);
    EXPECT_NE(auth_req.find<SaPayload>(PayloadType::SecurityAssociation), nullptr);
    ASSERT_NE(auth_req.find<TsPayload>(PayloadType::TsInitiator), nullptr);
    const auto& tsi = auth_req.find<TsPayload>(PayloadType::TsInitiator)->selectors;
    ASSERT_FALSE(tsi.empty());
    EXPECT_EQ(tsi[0].start_addr, (Bytes{192, 168, 10, 0}));
    EXPECT_EQ(tsi[0].end_addr, (Bytes{192, 168, 10, 255}));

    // Initiator: RealMessage1 | NonceRData | prf(SK_pi, IDi').
    const Bytes octets_i = signed_octets(PrfId::HmacSha2_256, init_req, nr, keys.sk_pi, *idi);
    EXPECT_TRUE(psk_auth_verify(PrfId::HmacSha2_256, psk, octets_i, auth_i->data));
    EXPECT_EQ(bytes(psk_auth_data(PrfId::HmacSha2_256, psk, octets_i)), auth_i->data);

    const auto* idr = auth_rsp.find<IdPayload>(PayloadType::IdResponder);
    const auto* auth_r = auth_rsp.find<AuthPayload>(PayloadType::Authentication);
    ASSERT_NE(idr, nullptr);
    ASSERT_NE(auth_r, nullptr);
    EXPECT_EQ(idr->data, plain(std::string("gw-b.test")));
    // Responder: RealMessage2 | NonceIData | prf(SK_pr, IDr').
    const Bytes octets_r = signed_octets(PrfId::HmacSha2_256, init_rsp, ni, keys.sk_pr, *idr);
    EXPECT_TRUE(psk_auth_verify(PrfId::HmacSha2_256, psk, octets_r, auth_r->data));

    // And they fail with anything else.
    EXPECT_FALSE(psk_auth_verify(PrfId::HmacSha2_256, plain(std::string("wrong-psk")), octets_i, auth_i->data));
    EXPECT_FALSE(psk_auth_verify(PrfId::HmacSha2_256, psk, octets_r, auth_i->data));
    const Bytes swapped = signed_octets(PrfId::HmacSha2_256, init_req, nr, keys.sk_pr, *idi);
    EXPECT_FALSE(psk_auth_verify(PrfId::HmacSha2_256, psk, swapped, auth_i->data));

    // First CHILD_SA: KEYMAT = prf+(SK_d, Ni | Nr), AES-GCM key + salt each way.
    const auto child = derive_child_keys(esp_suite(), PrfId::HmacSha2_256, keys.sk_d, {}, ni, nr);
    EXPECT_EQ(bytes(child.encr_i), cap.key("child_encr_i", 0));
    EXPECT_EQ(bytes(child.encr_r), cap.key("child_encr_r", 0));
    EXPECT_TRUE(child.integ_i.empty());
}

TEST_F(StrongswanCapture, TamperedSkPayloadIsRejected) {
    const auto keys = sa1_keys();
    for (std::size_t pos : {std::size_t{40}, cap.messages[2].data.size() - 1}) {
        Bytes bad = cap.messages[2].data;
        bad[pos] ^= 0x01;
        EXPECT_FALSE(open_message(bad, parsed[2].encrypted_offset, PayloadType::Encrypted, keys.initiator_sk()));
    }
    // Wrong direction's keys.
    EXPECT_FALSE(open_message(cap.messages[2].data, parsed[2].encrypted_offset, PayloadType::Encrypted,
                              keys.responder_sk()));
    // A header byte is authenticated data too.
    Bytes bad = cap.messages[2].data;
    bad[20] ^= 0x01;  // message ID
    EXPECT_FALSE(open_message(bad, parsed[2].encrypted_offset, PayloadType::Encrypted, keys.initiator_sk()));
}

TEST_F(StrongswanCapture, ChildSaRekeyAndDelete) {
    const auto keys = sa1_keys();
    const Message req = open(4, keys);
    const Message rsp = open(5, keys);
    const auto* rekey = req.notify(NotifyType::RekeySa);
    ASSERT_NE(rekey, nullptr);
    EXPECT_EQ(rekey->protocol, ProtocolId::Esp);
    EXPECT_EQ(rekey->spi.size(), 4u);
    EXPECT_EQ(req.find<KePayload>(PayloadType::KeyExchange), nullptr) << "no PFS";
    ASSERT_NE(req.find<NoncePayload>(PayloadType::Nonce), nullptr);
    ASSERT_NE(rsp.find<NoncePayload>(PayloadType::Nonce), nullptr);
    const auto child = derive_child_keys(esp_suite(), PrfId::HmacSha2_256, keys.sk_d, {},
                                         req.find<NoncePayload>(PayloadType::Nonce)->data,
                                         rsp.find<NoncePayload>(PayloadType::Nonce)->data);
    EXPECT_EQ(bytes(child.encr_i), cap.key("child_encr_i", 1));
    EXPECT_EQ(bytes(child.encr_r), cap.key("child_encr_r", 1));

    // Then the old CHILD_SA is deleted: one ESP SPI each way.
    for (std::size_t i : {6u, 7u}) {
        const Message m = open(i, keys);
        const auto* d = m.find<DeletePayload>(PayloadType::Delete);
        ASSERT_NE(d, nullptr) << i;
        EXPECT_EQ(d->protocol, ProtocolId::Esp);
        ASSERT_EQ(d->spis.size(), 1u);
    }
}

TEST_F(StrongswanCapture, IkeSaRekeyKeysMatchAndNewSaDecrypts) {
    const auto old_keys = sa1_keys();
    const Message req = open(8, old_keys);
    const Message rsp = open(9, old_keys);
    const auto* sa_i = req.find<SaPayload>(PayloadType::SecurityAssociation);
    const auto* sa_r = rsp.find<SaPayload>(PayloadType::SecurityAssociation);
    ASSERT_TRUE(sa_i && sa_r);
    ASSERT_EQ(sa_r->proposals.size(), 1u);
    EXPECT_EQ(sa_r->proposals[0].protocol, ProtocolId::Ike);
    ASSERT_EQ(sa_r->proposals[0].spi.size(), 8u);
    // The new SA's SPIs are the proposals' SPIs; the chosen proposal number
    // says which of the initiator's it was.
    const Proposal* offered = nullptr;
    for (const auto& p : sa_i->proposals)
        if (p.number == sa_r->proposals[0].number) offered = &p;
    ASSERT_NE(offered, nullptr);
    const std::uint64_t spi_i = spi_value(offered->spi);
    const std::uint64_t spi_r = spi_value(sa_r->proposals[0].spi);
    EXPECT_EQ(spi_i, parsed[12].message.header.spi_i);
    EXPECT_EQ(spi_r, parsed[12].message.header.spi_r);
    ASSERT_TRUE(req.find<KePayload>(PayloadType::KeyExchange) && rsp.find<KePayload>(PayloadType::KeyExchange));
    EXPECT_EQ(rsp.find<KePayload>(PayloadType::KeyExchange)->group, 19);

    const auto& ni = req.find<NoncePayload>(PayloadType::Nonce)->data;
    const auto& nr = rsp.find<NoncePayload>(PayloadType::Nonce)->data;
    // SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr).
    Bytes seed = concat(cap.key("g_ir", 1), ni);
    seed = concat(seed, nr);
    EXPECT_EQ(bytes(Prf(PrfId::HmacSha2_256)(old_keys.sk_d, seed)), cap.key("skeyseed", 1));
    const auto keys = derive_rekeyed_ike_keys(ike_suite(), PrfId::HmacSha2_256, old_keys.sk_d,
                                              cap.key("g_ir", 1), ni, nr, spi_i, spi_r);
    expect_keys(cap, keys, 1);

    // The old IKE SA is deleted on it (#10, #11: Delete of protocol IKE, empty answer).
    const Message del = open(10, old_keys);
    const auto* d = del.find<DeletePayload>(PayloadType::Delete);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->protocol, ProtocolId::Ike);
    EXPECT_TRUE(open(11, old_keys).payloads.empty());

    // Everything afterwards is on the new SA: A stays its initiator.
    for (std::size_t i = 12; i < cap.messages.size(); ++i) {
        SCOPED_TRACE(i);
        EXPECT_EQ(parsed[i].message.header.from_initiator(), cap.messages[i].src == kA);
        open(i, keys);
    }
    const Message m14 = open(14, keys);
    const auto* child_del = m14.find<DeletePayload>(PayloadType::Delete);
    ASSERT_NE(child_del, nullptr);
    EXPECT_EQ(child_del->protocol, ProtocolId::Esp);
    const Message m16 = open(16, keys);
    const auto* ike_del = m16.find<DeletePayload>(PayloadType::Delete);
    ASSERT_NE(ike_del, nullptr);
    EXPECT_EQ(ike_del->protocol, ProtocolId::Ike);
}

// Our responder accepts strongSwan's real IKE_SA_INIT request (its proposals,
// KE and status notifies) and answers with the ECP-256 proposal it offered.
TEST_F(StrongswanCapture, EngineAnswersStrongswansIkeSaInit) {
    Engine engine(EngineConfig{});
    PeerConfig b;
    b.name = "gw-a";
    b.local = {{10, 99, 0, 2}, 500};
    b.remote = {{10, 99, 0, 1}, 500};
    b.local_id = {IdType::Fqdn, plain(std::string("gw-b.test"))};
    b.remote_id = {IdType::Fqdn, plain(std::string("gw-a.test"))};
    b.psk = to_secret(plain(cap.psk));
    b.ike_suites = {ike_suite()};
    b.child.esp_suites = {esp_suite()};
    b.child.local_ts = {ts_from_prefix(Bytes{192, 168, 20, 0}, 24)};
    b.child.remote_ts = {ts_from_prefix(Bytes{192, 168, 10, 0}, 24)};
    engine.add_peer(b);
    engine.receive({b.local, b.remote, cap.messages[0].data}, TimePoint{1000});
    auto out = engine.take_datagrams();
    ASSERT_EQ(out.size(), 1u);
    auto r = parse_message(out[0].data);
    ASSERT_TRUE(r.ok());
    const auto& m = r.message;
    EXPECT_TRUE(m.header.is_response());
    EXPECT_EQ(m.header.spi_i, parsed[0].message.header.spi_i);
    EXPECT_EQ(m.error_notify(), nullptr);
    const auto* sa = m.find<SaPayload>(PayloadType::SecurityAssociation);
    ASSERT_NE(sa, nullptr);
    ASSERT_EQ(sa->proposals.size(), 1u);
    EXPECT_EQ(sa->proposals[0].number, 1);  // strongSwan's first: aes128gcm16-prfsha256-ecp256
    ASSERT_NE(m.find<KePayload>(PayloadType::KeyExchange), nullptr);
    EXPECT_EQ(m.find<KePayload>(PayloadType::KeyExchange)->group, 19);
    // strongSwan's faked NAT_DETECTION_SOURCE_IP makes us see it behind a NAT,
    // and our own hashes are the honest ones.
    EXPECT_EQ(m.notify(NotifyType::NatDetectionSourceIp)->data,
              nat_detection_hash(m.header.spi_i, m.header.spi_r, b.local));
}
