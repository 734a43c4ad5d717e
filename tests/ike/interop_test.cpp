// Messages produced by a real strongSwan peer (tests/ike/data, made by
// tests/ike/capture_strongswan.sh): every one parses with our codec, every SK
// payload opens with our SK cipher under keys we derive ourselves from the
// logged DH shared secret, our SKEYSEED/SK_*/KEYMAT agree with the values
// strongSwan logged, both peers' PSK AUTH payloads verify with our code, and
// so do strongSwan's RFC 7427 signatures (ECDSA and RSA certificates).
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <ostream>
#include <sstream>
#include <string>

#include "ike/certificate_auth.hpp"
#include "ike/dh.hpp"
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
    Bytes ca;                  // CA certificate (DER), certificate captures only
    std::int64_t time_ms = 0;  // capture time (Unix ms), certificate captures only
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
        } else if (kind == "ca") {
            std::string h;
            ls >> h;
            c.ca = hex(h);
        } else if (kind == "time") {
            ls >> c.time_ms;
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

// One capture and what strongSwan negotiated in it.
struct CaptureCase {
    const char* file;
    Suite ike;
    Suite esp;              // dh: PFS group of the CHILD_SA rekey (None: no PFS)
    std::size_t ke_size;    // bytes of KE data
    std::size_t proposals;  // IKE proposals A offered
};

std::ostream& operator<<(std::ostream& os, const CaptureCase& c) { return os << c.file; }

const CaptureCase kCases[] = {
    // The kit's configuration: aes128gcm16-prfsha256-ecp256 (and -modp2048
    // offered second), ESP aes128gcm16 without PFS.
    {"strongswan_psk_gcm128.txt", {EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::Ecp256, false},
     {EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::None, false}, 64, 2},
    // aes256-sha256-prfsha384-curve25519, ESP aes256-sha256-curve25519 (PFS).
    {"strongswan_psk_cbc256.txt",
     {EncrId::AesCbc, 256, IntegId::HmacSha2_256_128, PrfId::HmacSha2_384, DhId::Curve25519, false},
     {EncrId::AesCbc, 256, IntegId::HmacSha2_256_128, PrfId::HmacSha2_256, DhId::Curve25519, false}, 32, 1},
};

// Message layout of every capture (tests/ike/capture_strongswan.sh):
//   0/1 IKE_SA_INIT, 2/3 IKE_AUTH, 4/5 CHILD_SA rekey, 6/7 the old CHILD_SA
//   deleted, 8/9 IKE SA rekey, 10/11 the old IKE SA deleted; on the new IKE
//   SA: 12/13 CHILD_SA deleted, 14/15 IKE SA deleted. A sends every request.
constexpr std::size_t kMessages = 16;
constexpr std::size_t kFirstOnNewSa = 12;
constexpr const char* kA = "10.99.0.1";

class StrongswanCapture : public ::testing::TestWithParam<CaptureCase> {
protected:
    void SetUp() override {
        cap = load(GetParam().file);
        ASSERT_EQ(cap.messages.size(), kMessages);
        for (auto& m : cap.messages) {
            auto r = parse_message(m.data);
            ASSERT_TRUE(r.ok()) << to_string(r.error);
            parsed.push_back(std::move(r));
        }
    }

    PrfId prf() const { return GetParam().ike.prf; }
    const Suite& ike_suite() const { return GetParam().ike; }
    const Suite& esp_suite() const { return GetParam().esp; }

    // The decrypted inner chain of message i, protected by `keys` (those of
    // the IKE SA it belongs to; the direction from the Initiator flag).
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

    const Bytes& ni() const { return parsed[0].message.find<NoncePayload>(PayloadType::Nonce)->data; }
    const Bytes& nr() const { return parsed[1].message.find<NoncePayload>(PayloadType::Nonce)->data; }

    // The first IKE SA's keys, derived by us from the logged shared secret.
    IkeKeys sa1_keys() const {
        const auto& h = parsed[1].message.header;
        return derive_ike_keys(ike_suite(), ni(), nr(), cap.key("g_ir", 0), h.spi_i, h.spi_r);
    }

    void expect_ike_keys(const IkeKeys& k, std::size_t n) const {
        SCOPED_TRACE("IKE SA #" + std::to_string(n));
        EXPECT_EQ(bytes(k.sk_d), cap.key("sk_d", n));
        EXPECT_EQ(bytes(k.sk_ei), cap.key("sk_ei", n));
        EXPECT_EQ(bytes(k.sk_er), cap.key("sk_er", n));
        EXPECT_EQ(bytes(k.sk_pi), cap.key("sk_pi", n));
        EXPECT_EQ(bytes(k.sk_pr), cap.key("sk_pr", n));
        if (ike_suite().aead()) {
            EXPECT_TRUE(k.sk_ai.empty());
            EXPECT_TRUE(k.sk_ar.empty());
        } else {
            EXPECT_EQ(bytes(k.sk_ai), cap.key("sk_ai", n));
            EXPECT_EQ(bytes(k.sk_ar), cap.key("sk_ar", n));
        }
    }

    // CHILD_SA n's KEYMAT = prf+(SK_d, [g^ir |] Ni | Nr) agrees with strongSwan's.
    void expect_child_keys(std::size_t n, const IkeKeys& keys, ByteView g_ir, ByteView child_ni, ByteView child_nr) {
        SCOPED_TRACE("CHILD_SA #" + std::to_string(n));
        EXPECT_EQ(concat(concat(g_ir, child_ni), child_nr), cap.key("child_seed", n));
        const auto child = derive_child_keys(esp_suite(), prf(), keys.sk_d, g_ir, child_ni, child_nr);
        EXPECT_EQ(bytes(child.encr_i), cap.key("child_encr_i", n));
        EXPECT_EQ(bytes(child.encr_r), cap.key("child_encr_r", n));
        if (esp_suite().aead()) {
            EXPECT_TRUE(child.integ_i.empty());
            EXPECT_TRUE(child.integ_r.empty());
        } else {
            EXPECT_EQ(bytes(child.integ_i), cap.key("child_integ_i", n));
            EXPECT_EQ(bytes(child.integ_r), cap.key("child_integ_r", n));
        }
    }

    Capture cap;
    std::vector<ParseResult> parsed;
};

bool has_transform(const Proposal& p, TransformType type, std::uint16_t id, std::optional<std::uint16_t> bits = {}) {
    for (const auto& t : p.transforms)
        if (t.type == type && t.id == id && (!bits || t.key_length() == bits)) return true;
    return false;
}

}  // namespace

TEST_P(StrongswanCapture, EveryMessageParsesWithTheExpectedHeader) {
    const ExchangeType expected[kMessages] = {
        ExchangeType::IkeSaInit,     ExchangeType::IkeSaInit,     ExchangeType::IkeAuth,
        ExchangeType::IkeAuth,       ExchangeType::CreateChildSa, ExchangeType::CreateChildSa,
        ExchangeType::Informational, ExchangeType::Informational, ExchangeType::CreateChildSa,
        ExchangeType::CreateChildSa, ExchangeType::Informational, ExchangeType::Informational,
        ExchangeType::Informational, ExchangeType::Informational, ExchangeType::Informational,
        ExchangeType::Informational,
    };
    const std::uint32_t mid[kMessages] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 0, 0, 1, 1};
    for (std::size_t i = 0; i < kMessages; ++i) {
        const auto& h = parsed[i].message.header;
        SCOPED_TRACE(i);
        EXPECT_EQ(h.exchange, expected[i]);
        EXPECT_EQ(h.message_id, mid[i]);
        EXPECT_EQ(h.length, cap.messages[i].data.size());
        EXPECT_EQ(h.is_response(), i % 2 == 1);
        EXPECT_EQ(h.from_initiator(), cap.messages[i].src == kA);  // A stays the initiator after the rekey
        EXPECT_EQ(h.spi_i, parsed[i < kFirstOnNewSa ? 0 : kFirstOnNewSa].message.header.spi_i);
        if (i >= 2) {
            EXPECT_EQ(parsed[i].message.payloads.size(), 1u) << "only SK";
        }
        // Re-encoding the unencrypted part gives the same bytes.
        EXPECT_EQ(build_message(h, parsed[i].message.payloads), cap.messages[i].data);
    }
}

TEST_P(StrongswanCapture, IkeSaInitContents) {
    const auto& req = parsed[0].message;
    const auto& rsp = parsed[1].message;
    ASSERT_NE(req.find<SaPayload>(PayloadType::SecurityAssociation), nullptr);
    EXPECT_EQ(req.find<SaPayload>(PayloadType::SecurityAssociation)->proposals.size(), GetParam().proposals);
    const auto* chosen = rsp.find<SaPayload>(PayloadType::SecurityAssociation);
    ASSERT_NE(chosen, nullptr);
    ASSERT_EQ(chosen->proposals.size(), 1u);
    const auto& p = chosen->proposals[0];
    const Suite& s = ike_suite();
    EXPECT_EQ(p.number, 1);
    EXPECT_TRUE(has_transform(p, TransformType::Encryption, static_cast<std::uint16_t>(s.encr), s.encr_key_bits));
    EXPECT_TRUE(has_transform(p, TransformType::Prf, static_cast<std::uint16_t>(s.prf)));
    EXPECT_TRUE(has_transform(p, TransformType::DhGroup, static_cast<std::uint16_t>(s.dh)));
    if (!s.aead()) {
        EXPECT_TRUE(has_transform(p, TransformType::Integrity, static_cast<std::uint16_t>(s.integ)));
    }
    for (const auto* m : {&req, &rsp}) {
        const auto* ke = m->find<KePayload>(PayloadType::KeyExchange);
        ASSERT_NE(ke, nullptr);
        EXPECT_EQ(ke->group, static_cast<std::uint16_t>(s.dh));
        EXPECT_EQ(ke->data.size(), GetParam().ke_size);
        // Our DH accepts strongSwan's public value encoding (and it is a
        // valid point / non-degenerate value).
        EXPECT_TRUE(DhKeyPair::generate(s.dh)->shared_secret(ke->data).has_value());
        ASSERT_NE(m->find<NoncePayload>(PayloadType::Nonce), nullptr);
        EXPECT_GE(m->find<NoncePayload>(PayloadType::Nonce)->data.size(), 16u);
        EXPECT_NE(m->notify(NotifyType::NatDetectionSourceIp), nullptr);
        EXPECT_NE(m->notify(NotifyType::NatDetectionDestinationIp), nullptr);
        EXPECT_NE(m->notify(NotifyType::Ikev2FragmentationSupported), nullptr);
    }
    // NAT_DETECTION_DESTINATION_IP is honest (kernel-libipsec fakes only the
    // source hash): each side hashed the address it sent to, as we do.
    const auto spi_i = rsp.header.spi_i;
    EXPECT_EQ(req.notify(NotifyType::NatDetectionDestinationIp)->data,
              nat_detection_hash(spi_i, 0, Endpoint{{10, 99, 0, 2}, 500}));
    EXPECT_EQ(rsp.notify(NotifyType::NatDetectionDestinationIp)->data,
              nat_detection_hash(spi_i, rsp.header.spi_r, Endpoint{{10, 99, 0, 1}, 500}));
}

TEST_P(StrongswanCapture, KeyDerivationMatchesStrongswan) {
    // SKEYSEED = prf(Ni | Nr, g^ir), then SK_* = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
    EXPECT_EQ(bytes(Prf(prf())(concat(ni(), nr()), cap.key("g_ir", 0))), cap.key("skeyseed", 0));
    expect_ike_keys(sa1_keys(), 0);
}

TEST_P(StrongswanCapture, IkeAuthDecryptsAndBothPskAuthsVerify) {
    const auto keys = sa1_keys();
    const Message auth_req = open(2, keys);
    const Message auth_rsp = open(3, keys);
    const auto& init_req = cap.messages[0].data;
    const auto& init_rsp = cap.messages[1].data;
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
    const Bytes octets_i = signed_octets(prf(), init_req, nr(), keys.sk_pi, *idi);
    EXPECT_TRUE(psk_auth_verify(prf(), psk, octets_i, auth_i->data));
    EXPECT_EQ(bytes(psk_auth_data(prf(), psk, octets_i)), auth_i->data);

    const auto* idr = auth_rsp.find<IdPayload>(PayloadType::IdResponder);
    const auto* auth_r = auth_rsp.find<AuthPayload>(PayloadType::Authentication);
    ASSERT_NE(idr, nullptr);
    ASSERT_NE(auth_r, nullptr);
    EXPECT_EQ(idr->data, plain(std::string("gw-b.test")));
    EXPECT_EQ(auth_r->data.size(), prf_output_size(prf()));
    // Responder: RealMessage2 | NonceIData | prf(SK_pr, IDr').
    const Bytes octets_r = signed_octets(prf(), init_rsp, ni(), keys.sk_pr, *idr);
    EXPECT_TRUE(psk_auth_verify(prf(), psk, octets_r, auth_r->data));

    // And they fail with anything else.
    EXPECT_FALSE(psk_auth_verify(prf(), plain(std::string("wrong-psk")), octets_i, auth_i->data));
    EXPECT_FALSE(psk_auth_verify(prf(), psk, octets_r, auth_i->data));
    EXPECT_FALSE(psk_auth_verify(prf(), psk, signed_octets(prf(), init_req, nr(), keys.sk_pr, *idi), auth_i->data));
    EXPECT_FALSE(psk_auth_verify(prf(), psk, signed_octets(prf(), init_req, ni(), keys.sk_pi, *idi), auth_i->data));

    // The first CHILD_SA's KEYMAT: no KE in IKE_AUTH, the IKE_SA_INIT nonces.
    expect_child_keys(0, keys, {}, ni(), nr());
}

TEST_P(StrongswanCapture, TamperedSkPayloadIsRejected) {
    const auto keys = sa1_keys();
    const Bytes& msg = cap.messages[2].data;
    const std::size_t off = parsed[2].encrypted_offset;
    ASSERT_TRUE(open_message(msg, off, PayloadType::Encrypted, keys.initiator_sk()));
    for (std::size_t pos : {std::size_t{20}, off + 6, msg.size() / 2, msg.size() - 1}) {
        SCOPED_TRACE(pos);
        Bytes bad = msg;
        bad[pos] ^= 0x01;  // message ID, IV, ciphertext, ICV
        EXPECT_FALSE(open_message(bad, off, PayloadType::Encrypted, keys.initiator_sk()));
    }
    // The other direction's keys.
    EXPECT_FALSE(open_message(msg, off, PayloadType::Encrypted, keys.responder_sk()));
}

TEST_P(StrongswanCapture, ChildSaRekeyAndDelete) {
    const auto keys = sa1_keys();
    const Message req = open(4, keys);
    const Message rsp = open(5, keys);
    const auto* rekey = req.notify(NotifyType::RekeySa);
    ASSERT_NE(rekey, nullptr);
    EXPECT_EQ(rekey->protocol, ProtocolId::Esp);
    EXPECT_EQ(rekey->spi.size(), 4u);
    const auto* nonce_i = req.find<NoncePayload>(PayloadType::Nonce);
    const auto* nonce_r = rsp.find<NoncePayload>(PayloadType::Nonce);
    ASSERT_TRUE(nonce_i && nonce_r);
    const auto* ke_i = req.find<KePayload>(PayloadType::KeyExchange);
    const auto* ke_r = rsp.find<KePayload>(PayloadType::KeyExchange);
    Bytes g_ir;
    if (esp_suite().dh == DhId::None) {
        EXPECT_EQ(ke_i, nullptr) << "no PFS";
        EXPECT_EQ(ke_r, nullptr);
    } else {
        ASSERT_TRUE(ke_i && ke_r);
        EXPECT_EQ(ke_r->group, static_cast<std::uint16_t>(esp_suite().dh));
        // With PFS the KEYMAT seed starts with the new g^ir.
        const Bytes& seed = cap.key("child_seed", 1);
        const std::size_t nonces = nonce_i->data.size() + nonce_r->data.size();
        ASSERT_GT(seed.size(), nonces);
        g_ir.assign(seed.begin(), seed.end() - static_cast<std::ptrdiff_t>(nonces));
        EXPECT_EQ(g_ir.size(), GetParam().ke_size);
    }
    expect_child_keys(1, keys, g_ir, nonce_i->data, nonce_r->data);

    // Then the old CHILD_SA is deleted: one ESP SPI each way, and the one A
    // deletes is the one it named in REKEY_SA.
    for (std::size_t i : {6u, 7u}) {
        const Message m = open(i, keys);
        const auto* d = m.find<DeletePayload>(PayloadType::Delete);
        ASSERT_NE(d, nullptr) << i;
        EXPECT_EQ(d->protocol, ProtocolId::Esp);
        ASSERT_EQ(d->spis.size(), 1u);
        if (i == 6) {
            EXPECT_EQ(d->spis[0], rekey->spi);
        }
    }
}

TEST_P(StrongswanCapture, IkeSaRekeyKeysMatchAndNewSaDecrypts) {
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
    EXPECT_EQ(spi_i, parsed[kFirstOnNewSa].message.header.spi_i);
    EXPECT_EQ(spi_r, parsed[kFirstOnNewSa].message.header.spi_r);
    ASSERT_TRUE(req.find<KePayload>(PayloadType::KeyExchange) && rsp.find<KePayload>(PayloadType::KeyExchange));
    EXPECT_EQ(rsp.find<KePayload>(PayloadType::KeyExchange)->group, static_cast<std::uint16_t>(ike_suite().dh));

    const auto& rekey_ni = req.find<NoncePayload>(PayloadType::Nonce)->data;
    const auto& rekey_nr = rsp.find<NoncePayload>(PayloadType::Nonce)->data;
    // SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr).
    EXPECT_EQ(bytes(Prf(prf())(old_keys.sk_d, concat(concat(cap.key("g_ir", 1), rekey_ni), rekey_nr))),
              cap.key("skeyseed", 1));
    const auto keys =
        derive_rekeyed_ike_keys(ike_suite(), prf(), old_keys.sk_d, cap.key("g_ir", 1), rekey_ni, rekey_nr, spi_i, spi_r);
    expect_ike_keys(keys, 1);

    // The old IKE SA is deleted on it: Delete of protocol IKE, empty answer.
    const Message del = open(10, old_keys);
    const auto* d = del.find<DeletePayload>(PayloadType::Delete);
    ASSERT_NE(d, nullptr);
    EXPECT_EQ(d->protocol, ProtocolId::Ike);
    EXPECT_TRUE(open(11, old_keys).payloads.empty());

    // Everything afterwards is on the new SA; the old keys no longer open it.
    for (std::size_t i = kFirstOnNewSa; i < kMessages; ++i) {
        SCOPED_TRACE(i);
        open(i, keys);
        EXPECT_FALSE(open_message(cap.messages[i].data, parsed[i].encrypted_offset, PayloadType::Encrypted,
                                  parsed[i].message.header.from_initiator() ? old_keys.initiator_sk()
                                                                           : old_keys.responder_sk()));
    }
    const Message m12 = open(12, keys);
    const auto* child_del = m12.find<DeletePayload>(PayloadType::Delete);
    ASSERT_NE(child_del, nullptr);
    EXPECT_EQ(child_del->protocol, ProtocolId::Esp);
    const Message m14 = open(14, keys);
    const auto* ike_del = m14.find<DeletePayload>(PayloadType::Delete);
    ASSERT_NE(ike_del, nullptr);
    EXPECT_EQ(ike_del->protocol, ProtocolId::Ike);
}

// Our responder accepts strongSwan's real IKE_SA_INIT request (its proposals,
// KE and status notifies) and answers with the proposal strongSwan preferred.
TEST_P(StrongswanCapture, EngineAnswersStrongswansIkeSaInit) {
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
    EXPECT_EQ(sa->proposals[0].number, 1);
    ASSERT_NE(m.find<KePayload>(PayloadType::KeyExchange), nullptr);
    EXPECT_EQ(m.find<KePayload>(PayloadType::KeyExchange)->group, static_cast<std::uint16_t>(ike_suite().dh));
    EXPECT_EQ(m.find<KePayload>(PayloadType::KeyExchange)->data.size(), GetParam().ke_size);
    // Our own NAT detection hashes are the honest ones.
    ASSERT_NE(m.notify(NotifyType::NatDetectionSourceIp), nullptr);
    EXPECT_EQ(m.notify(NotifyType::NatDetectionSourceIp)->data,
              nat_detection_hash(m.header.spi_i, m.header.spi_r, b.local));
    // strongSwan's faked NAT_DETECTION_SOURCE_IP puts it behind a NAT for us.
    auto st = engine.status();
    ASSERT_EQ(st.size(), 1u);
    EXPECT_TRUE(st[0].udp_encapsulation);
}

INSTANTIATE_TEST_SUITE_P(Captures, StrongswanCapture, ::testing::ValuesIn(kCases),
                         [](const auto& info) { return std::string(info.param.ike.aead() ? "Gcm128" : "Cbc256"); });

// X.509 authentication from strongSwan (capture "cert"): A signs with an
// ECDSA P-256 certificate, B with an RSA-2048 one (RFC 7427 method 14, as
// strongSwan uses it once both sent SIGNATURE_HASH_ALGORITHMS), both issued
// by one CA. Our chain validation and signature check accept both, and
// strongSwan's CERTREQ names the CA by the same SubjectPublicKeyInfo hash
// that we send.
TEST(StrongswanCertificates, SignatureAuthVerifiesAndCertReqHashesAgree) {
    const Capture cap = load("strongswan_cert_ecdsa_rsa.txt");
    ASSERT_EQ(cap.messages.size(), 6u);  // IKE_SA_INIT, IKE_AUTH, IKE SA delete
    ASSERT_FALSE(cap.ca.empty());
    ASSERT_GT(cap.time_ms, 0);
    std::vector<ParseResult> parsed;
    for (const auto& m : cap.messages) {
        parsed.push_back(parse_message(m.data));
        ASSERT_TRUE(parsed.back().ok());
    }
    const Suite suite{EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::Ecp256, false};
    const PrfId prf = suite.prf;
    const auto& ni = parsed[0].message.find<NoncePayload>(PayloadType::Nonce)->data;
    const auto& nr = parsed[1].message.find<NoncePayload>(PayloadType::Nonce)->data;
    const auto& h = parsed[1].message.header;
    const IkeKeys keys = derive_ike_keys(suite, ni, nr, cap.key("g_ir", 0), h.spi_i, h.spi_r);
    EXPECT_EQ(bytes(keys.sk_pi), cap.key("sk_pi", 0));
    EXPECT_EQ(bytes(keys.sk_pr), cap.key("sk_pr", 0));

    // CERTREQ in the IKE_SA_INIT response: the CA's key hash, as we make it.
    const Bytes ca_hash = ca_key_hashes({cap.ca});
    ASSERT_EQ(ca_hash.size(), 20u);
    const auto* creq = parsed[1].message.find<CertReqPayload>(PayloadType::CertificateRequest);
    ASSERT_NE(creq, nullptr);
    EXPECT_EQ(creq->encoding, kCertX509Signature);
    EXPECT_EQ(creq->authorities, ca_hash);

    auto open = [&](std::size_t i, const SkKeys& dir) {
        const auto* sk = parsed[i].message.find<EncryptedPayload>(PayloadType::Encrypted);
        EXPECT_NE(sk, nullptr);
        auto plaintext = open_message(cap.messages[i].data, parsed[i].encrypted_offset, PayloadType::Encrypted, dir);
        EXPECT_TRUE(plaintext);
        if (!sk || !plaintext) return Message{};
        auto inner = parse_payload_chain(sk->first_inner, Bytes(plaintext->begin(), plaintext->end()));
        EXPECT_TRUE(inner.ok());
        return inner.message;
    };
    auto certs = [](const Message& m) {
        std::vector<Bytes> chain;
        for (const auto& p : m.payloads)
            if (const auto* c = std::get_if<CertPayload>(&p.body)) {
                EXPECT_EQ(c->encoding, kCertX509Signature);
                chain.push_back(c->data);
            }
        return chain;
    };
    const Message req = open(2, keys.initiator_sk());
    const Message rsp = open(3, keys.responder_sk());

    // The initiator's CERTREQ inside IKE_AUTH names the same CA.
    const auto* creq_i = req.find<CertReqPayload>(PayloadType::CertificateRequest);
    ASSERT_NE(creq_i, nullptr);
    EXPECT_EQ(creq_i->authorities, ca_hash);

    const std::vector<Bytes> trusted{cap.ca};
    struct Side {
        const Message* m;
        PayloadType id_type;
        const Bytes* real_message;
        const Bytes* peer_nonce;
        const SecretBytes* sk_p;
        const char* name;
    };
    for (const Side& side : {Side{&req, PayloadType::IdInitiator, &cap.messages[0].data, &nr, &keys.sk_pi, "gw-a.test"},
                             Side{&rsp, PayloadType::IdResponder, &cap.messages[1].data, &ni, &keys.sk_pr, "gw-b.test"}}) {
        SCOPED_TRACE(side.name);
        const auto* id = side.m->find<IdPayload>(side.id_type);
        const auto* auth = side.m->find<AuthPayload>(PayloadType::Authentication);
        ASSERT_TRUE(id && auth);
        EXPECT_EQ(id->data, plain(std::string(side.name)));
        EXPECT_EQ(auth->method, AuthMethod::DigitalSignature);
        const auto chain = certs(*side.m);
        ASSERT_EQ(chain.size(), 1u);
        const Bytes octets = signed_octets(prf, *side.real_message, *side.peer_nonce, *side.sk_p, *id);
        EXPECT_TRUE(verify_digital_signature(chain, trusted, cap.time_ms, *id, auth->data, octets));
        // Not for other octets, another identity, another anchor, or before
        // the certificates were issued.
        Bytes other = octets;
        other.back() ^= 1;
        EXPECT_FALSE(verify_digital_signature(chain, trusted, cap.time_ms, *id, auth->data, other));
        EXPECT_FALSE(verify_digital_signature(chain, trusted, cap.time_ms, IdPayload{IdType::Fqdn, plain(std::string("gw-x.test"))},
                                              auth->data, octets));
        EXPECT_FALSE(verify_digital_signature(chain, {chain[0]}, cap.time_ms, *id, auth->data, octets));
        EXPECT_FALSE(verify_digital_signature(chain, trusted, cap.time_ms - 2 * 86'400'000LL, *id, auth->data, octets));
    }
    // The two signatures are of different kinds: ECDSA for A, RSA for B.
    const auto* auth_i = req.find<AuthPayload>(PayloadType::Authentication);
    const auto* auth_r = rsp.find<AuthPayload>(PayloadType::Authentication);
    ASSERT_TRUE(auth_i && auth_r && !auth_i->data.empty() && !auth_r->data.empty());
    const Bytes ecdsa_sha256_oid{0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    const Bytes rsa_sha256_oid{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b};
    auto contains = [](const Bytes& hay, const Bytes& needle) {
        return std::search(hay.begin(), hay.begin() + 1 + hay[0], needle.begin(), needle.end()) != hay.begin() + 1 + hay[0];
    };
    EXPECT_TRUE(contains(auth_i->data, ecdsa_sha256_oid));
    EXPECT_TRUE(contains(auth_r->data, rsa_sha256_oid));
}
