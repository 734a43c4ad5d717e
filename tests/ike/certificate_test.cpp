// X.509 AUTH (RFC 7427 with RSA and ECDSA) and chain validation. The PKI is
// made here with OpenSSL at test time, at a fixed validity epoch.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ike/certificate_auth.hpp"
#include "ike/message.hpp"
#include "two_engines.hpp"

using namespace ike_test;

namespace {

constexpr time_t kEpoch = 1'700'000'000;  // certificates are valid for a year from here
constexpr std::int64_t kNowMs = (kEpoch + 86'400) * 1000LL;

struct Identity {
    EVP_PKEY* key = nullptr;
    X509* cert = nullptr;
    ~Identity() {
        X509_free(cert);
        EVP_PKEY_free(key);
    }
    Bytes cert_der() const {
        unsigned char* p = nullptr;
        int n = i2d_X509(cert, &p);
        Bytes out(p, p + n);
        OPENSSL_free(p);
        return out;
    }
    Bytes key_der() const {
        unsigned char* p = nullptr;
        int n = i2d_PrivateKey(key, &p);
        Bytes out(p, p + n);
        OPENSSL_free(p);
        return out;
    }
    Bytes subject_der() const {
        unsigned char* p = nullptr;
        int n = i2d_X509_NAME(X509_get_subject_name(cert), &p);
        Bytes out(p, p + n);
        OPENSSL_free(p);
        return out;
    }
};

void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    ASSERT_NE(ext, nullptr);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

// key_spec: "RSA" or an EC curve name.
std::unique_ptr<Identity> make_identity(const std::string& cn, const std::string& key_spec, const Identity* issuer,
                                        bool ca, const char* san) {
    auto id = std::make_unique<Identity>();
    id->key = key_spec == "RSA" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048))
                                : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", key_spec.c_str());
    id->cert = X509_new();
    X509_set_version(id->cert, 2);
    static long serial = 1;
    ASN1_INTEGER_set(X509_get_serialNumber(id->cert), serial++);
    time_t epoch = kEpoch;
    X509_time_adj_ex(X509_getm_notBefore(id->cert), 0, 0, &epoch);
    X509_time_adj_ex(X509_getm_notAfter(id->cert), 365, 0, &epoch);
    X509_NAME* name = X509_get_subject_name(id->cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, reinterpret_cast<const unsigned char*>("ipsecgw test"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
    X509_set_issuer_name(id->cert, issuer ? X509_get_subject_name(issuer->cert) : name);
    X509_set_pubkey(id->cert, id->key);
    if (ca) {
        add_ext(id->cert, issuer ? issuer->cert : nullptr, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(id->cert, issuer ? issuer->cert : nullptr, NID_key_usage, "critical,keyCertSign,cRLSign");
    }
    if (san) add_ext(id->cert, issuer ? issuer->cert : nullptr, NID_subject_alt_name, san);
    X509_sign(id->cert, issuer ? issuer->key : id->key, EVP_sha256());
    return id;
}

struct Pki {
    std::unique_ptr<Identity> root = make_identity("Root CA", "P-256", nullptr, true, nullptr);
    std::unique_ptr<Identity> intermediate = make_identity("Intermediate CA", "P-384", root.get(), true, nullptr);
    std::unique_ptr<Identity> a = make_identity("a.example", "RSA", root.get(), false, "DNS:a.example");
    std::unique_ptr<Identity> b = make_identity("b.example", "P-384", intermediate.get(), false, "DNS:b.example");
    std::unique_ptr<Identity> other_root = make_identity("Other CA", "P-256", nullptr, true, nullptr);
};

Pki& pki() {
    static Pki p;  // RSA key generation is slow; make the PKI once
    return p;
}

void use_certificates(TwoEngines& t) {
    Pki& p = pki();
    t.ca.psk.clear();
    t.cb.psk.clear();
    t.ca.certificate = CertificateAuth{p.a->cert_der(), to_secret(p.a->key_der()), {}, {p.root->cert_der()}};
    t.cb.certificate = CertificateAuth{p.b->cert_der(), to_secret(p.b->key_der()), {p.intermediate->cert_der()}, {p.root->cert_der()}};
    t.now = TimePoint(kNowMs);
}

}  // namespace

TEST(CertificateAuth, SignAndVerifyDirectly) {
    Pki& p = pki();
    CertificateAuth a{p.a->cert_der(), to_secret(p.a->key_der()), {}, {}};
    Bytes octets = to_bytes("signed octets");
    auto sig = sign_digital_signature(a, octets);
    ASSERT_TRUE(sig);
    IdPayload id{IdType::Fqdn, to_bytes("a.example")};
    std::vector<Bytes> chain{p.a->cert_der()};
    std::vector<Bytes> roots{p.root->cert_der()};
    EXPECT_TRUE(verify_digital_signature(chain, roots, kNowMs, id, *sig, octets));
    EXPECT_FALSE(verify_digital_signature(chain, roots, kNowMs, id, *sig, to_bytes("other octets")));
    EXPECT_FALSE(verify_digital_signature(chain, {p.other_root->cert_der()}, kNowMs, id, *sig, octets));
    EXPECT_FALSE(verify_digital_signature(chain, roots, kNowMs, {IdType::Fqdn, to_bytes("b.example")}, *sig, octets));
    EXPECT_FALSE(verify_digital_signature(chain, roots, (kEpoch + 400 * 86'400) * 1000LL, id, *sig, octets));  // expired
    EXPECT_FALSE(verify_digital_signature(chain, roots, (kEpoch - 86'400) * 1000LL, id, *sig, octets));  // not yet valid
    EXPECT_TRUE(verify_digital_signature(chain, roots, kNowMs, {IdType::DerAsn1Dn, p.a->subject_der()}, *sig, octets));
    // Declared ECDSA over an RSA key.
    Bytes ecdsa_sha256 = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
    Bytes wrong{static_cast<std::uint8_t>(ecdsa_sha256.size())};
    wrong.insert(wrong.end(), ecdsa_sha256.begin(), ecdsa_sha256.end());
    wrong.insert(wrong.end(), sig->begin() + 1 + (*sig)[0], sig->end());
    EXPECT_FALSE(verify_digital_signature(chain, roots, kNowMs, id, wrong, octets));
    EXPECT_FALSE(verify_digital_signature(chain, roots, kNowMs, id, Bytes{200}, octets));
}

TEST(CertificateAuth, RsaAndEcdsaPeersWithIntermediateEstablish) {
    TwoEngines t;
    use_certificates(t);
    std::uint64_t h = t.connect();
    ASSERT_TRUE(t.a.status(h));
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeEstablished), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::ChildInstalled), 1u);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::ChildInstalled), 1u);
}

TEST(CertificateAuth, DistinguishedNameIdentity) {
    TwoEngines t;
    use_certificates(t);
    t.ca.local_id = {IdType::DerAsn1Dn, pki().a->subject_der()};
    t.cb.remote_id = t.ca.local_id;
    t.connect();
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeEstablished), 1u);
}

TEST(CertificateAuth, UntrustedExpiredOrMisnamedPeersAreRefused) {
    {
        TwoEngines t;
        use_certificates(t);
        t.cb.certificate->trusted_cas_der = {pki().other_root->cert_der()};
        t.connect();
        EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 0u);
        EXPECT_TRUE(t.b.status().empty());
    }
    {
        TwoEngines t;
        use_certificates(t);
        t.now = TimePoint((kEpoch + 400 * 86'400) * 1000LL);
        t.connect();
        EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 0u);
    }
    {
        TwoEngines t;
        use_certificates(t);
        t.ca.local_id = {IdType::Fqdn, to_bytes("mallory.example")};
        t.cb.remote_id = {};
        t.connect();
        EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeEstablished), 0u);
    }
    {
        // The responder's certificate fails at the initiator: B's chain lacks the intermediate.
        TwoEngines t;
        use_certificates(t);
        t.cb.certificate->intermediates_der.clear();
        t.connect();
        EXPECT_EQ(TwoEngines::count(t.ev_a, EventType::IkeEstablished), 0u);
        EXPECT_GE(TwoEngines::count(t.ev_a, EventType::Failed), 1u);
    }
}

// CERTREQ (§3.7): the Certification Authority field is the SHA-1 hash of each
// trusted CA's SubjectPublicKeyInfo, concatenated. The expected values are
// computed here from the CA key itself (i2d_PUBKEY), not from the certificate.
TEST(CertificateAuth, CertReqCarriesCaKeyHashes) {
    Pki& p = pki();
    auto spki_sha1 = [](EVP_PKEY* key) {
        unsigned char* der = nullptr;
        int n = i2d_PUBKEY(key, &der);
        unsigned char md[EVP_MAX_MD_SIZE];
        std::size_t md_len = 0;
        EXPECT_EQ(EVP_Q_digest(nullptr, "SHA1", nullptr, der, static_cast<std::size_t>(n), md, &md_len), 1);
        OPENSSL_free(der);
        return Bytes(md, md + md_len);
    };
    Bytes root = spki_sha1(p.root->key);
    Bytes other = spki_sha1(p.other_root->key);
    ASSERT_EQ(root.size(), 20u);
    Bytes both = root;
    both.insert(both.end(), other.begin(), other.end());
    EXPECT_EQ(ca_key_hashes({p.root->cert_der(), Bytes{0x30, 0x03, 0x02, 0x01, 0x00}, p.other_root->cert_der()}), both);
    EXPECT_TRUE(ca_key_hashes({}).empty());

    // On the wire: B's IKE_SA_INIT response asks for certificates under its
    // trusted root, and the exchange still completes.
    TwoEngines t;
    use_certificates(t);
    t.connect();
    ASSERT_FALSE(t.wire_b_to_a.empty());
    auto r = parse_message(t.wire_b_to_a[0].data);
    ASSERT_TRUE(r.ok());
    auto* creq = r.message.find<CertReqPayload>(PayloadType::CertificateRequest);
    ASSERT_NE(creq, nullptr);
    EXPECT_EQ(creq->encoding, kCertX509Signature);
    EXPECT_EQ(creq->authorities, root);
    EXPECT_EQ(TwoEngines::count(t.ev_b, EventType::IkeEstablished), 1u);
}
