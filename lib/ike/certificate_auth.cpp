#include "ike/certificate_auth.hpp"

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace ipsecgw::ike {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;

struct SignatureAlgorithm {
    Bytes algorithm_identifier;  // DER AlgorithmIdentifier (RFC 7427 Appendix A)
    const char* digest;
    int key_type;  // EVP_PKEY_RSA or EVP_PKEY_EC
};

const std::vector<SignatureAlgorithm>& algorithms() {
    static const std::vector<SignatureAlgorithm> all = {
        // sha256WithRSAEncryption, sha384WithRSAEncryption, sha512WithRSAEncryption
        {{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b, 0x05, 0x00}, "SHA256", EVP_PKEY_RSA},
        {{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c, 0x05, 0x00}, "SHA384", EVP_PKEY_RSA},
        {{0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d, 0x05, 0x00}, "SHA512", EVP_PKEY_RSA},
        // ecdsa-with-SHA256, -SHA384, -SHA512
        {{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02}, "SHA256", EVP_PKEY_EC},
        {{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03}, "SHA384", EVP_PKEY_EC},
        {{0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04}, "SHA512", EVP_PKEY_EC},
    };
    return all;
}

X509Ptr parse_cert(ByteView der) {
    const unsigned char* p = der.data();
    return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
}

// Picks the digest by key: SHA-256 for RSA and P-256, SHA-384 for P-384 and up.
const SignatureAlgorithm* algorithm_for(EVP_PKEY* key) {
    bool ec = EVP_PKEY_is_a(key, "EC");
    const char* digest = ec && EVP_PKEY_get_bits(key) > 256 ? "SHA384" : "SHA256";
    for (const auto& a : algorithms())
        if (a.key_type == (ec ? EVP_PKEY_EC : EVP_PKEY_RSA) && std::string(a.digest) == digest) return &a;
    return nullptr;
}

bool certificate_names(X509* cert, const IdPayload& id) {
    std::string text(id.data.begin(), id.data.end());
    switch (id.type) {
        case IdType::Fqdn: return X509_check_host(cert, text.data(), text.size(), X509_CHECK_FLAG_NO_WILDCARDS, nullptr) == 1;
        case IdType::Rfc822Addr: return X509_check_email(cert, text.data(), text.size(), 0) == 1;
        case IdType::Ipv4Addr:
        case IdType::Ipv6Addr: return X509_check_ip(cert, id.data.data(), id.data.size(), 0) == 1;
        case IdType::DerAsn1Dn: {
            unsigned char* der = nullptr;
            int len = i2d_X509_NAME(X509_get_subject_name(cert), &der);
            bool same = len > 0 && static_cast<std::size_t>(len) == id.data.size() &&
                        std::equal(id.data.begin(), id.data.end(), der);
            OPENSSL_free(der);
            return same;
        }
        default: return false;
    }
}

bool validate_chain(X509* leaf, const std::vector<Bytes>& chain, const std::vector<Bytes>& trusted,
                    std::int64_t unix_time_ms) {
    std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(X509_STORE_new(), X509_STORE_free);
    std::unique_ptr<STACK_OF(X509), void (*)(STACK_OF(X509)*)> untrusted(
        sk_X509_new_null(), [](STACK_OF(X509)* s) { sk_X509_pop_free(s, X509_free); });
    if (!store || !untrusted) return false;
    for (const auto& der : trusted) {
        X509Ptr ca = parse_cert(der);
        if (!ca || X509_STORE_add_cert(store.get(), ca.get()) != 1) return false;
    }
    for (std::size_t i = 1; i < chain.size(); ++i) {
        X509Ptr c = parse_cert(chain[i]);
        if (!c || !sk_X509_push(untrusted.get(), c.get())) return false;
        c.release();
    }
    std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(X509_STORE_CTX_new(), X509_STORE_CTX_free);
    if (!ctx || X509_STORE_CTX_init(ctx.get(), store.get(), leaf, untrusted.get()) != 1) return false;
    // Validity is judged at the engine's notion of now, not the system clock.
    X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx.get()), static_cast<time_t>(unix_time_ms / 1000));
    return X509_verify_cert(ctx.get()) == 1;
}

}  // namespace

Bytes ca_key_hashes(const std::vector<Bytes>& cas_der) {
    Bytes out;
    for (const auto& der : cas_der) {
        X509Ptr cert = parse_cert(der);
        if (!cert) continue;
        unsigned char* spki = nullptr;
        int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert.get()), &spki);
        if (len <= 0) continue;
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int md_len = 0;
        bool ok = EVP_Digest(spki, static_cast<std::size_t>(len), md, &md_len, EVP_sha1(), nullptr) == 1;
        OPENSSL_free(spki);
        if (ok && md_len == 20) out.insert(out.end(), md, md + md_len);
    }
    return out;
}

std::optional<Bytes> sign_digital_signature(const CertificateAuth& ours, ByteView octets) {
    const unsigned char* p = ours.private_key_der.data();
    PkeyPtr key(d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(ours.private_key_der.size())), EVP_PKEY_free);
    if (!key) return std::nullopt;
    const SignatureAlgorithm* alg = algorithm_for(key.get());
    if (!alg) return std::nullopt;
    MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t sig_len = 0;
    if (!ctx || EVP_DigestSignInit_ex(ctx.get(), nullptr, alg->digest, nullptr, nullptr, key.get(), nullptr) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &sig_len, octets.data(), octets.size()) != 1)
        return std::nullopt;
    Bytes sig(sig_len);
    if (EVP_DigestSign(ctx.get(), sig.data(), &sig_len, octets.data(), octets.size()) != 1) return std::nullopt;
    sig.resize(sig_len);
    Bytes out;
    out.push_back(static_cast<std::uint8_t>(alg->algorithm_identifier.size()));
    out.insert(out.end(), alg->algorithm_identifier.begin(), alg->algorithm_identifier.end());
    out.insert(out.end(), sig.begin(), sig.end());
    return out;
}

bool verify_digital_signature(const std::vector<Bytes>& chain, const std::vector<Bytes>& trusted_cas,
                              std::int64_t unix_time_ms, const IdPayload& peer_id, ByteView auth_data,
                              ByteView octets) {
    if (chain.empty() || trusted_cas.empty() || auth_data.empty()) return false;
    X509Ptr leaf = parse_cert(chain.front());
    if (!leaf || !validate_chain(leaf.get(), chain, trusted_cas, unix_time_ms)) return false;
    if (!certificate_names(leaf.get(), peer_id)) return false;

    std::size_t alg_len = auth_data[0];
    if (auth_data.size() < 1 + alg_len + 1) return false;
    ByteView alg_id = auth_data.subspan(1, alg_len);
    ByteView signature = auth_data.subspan(1 + alg_len);
    EVP_PKEY* key = X509_get0_pubkey(leaf.get());
    if (!key) return false;
    for (const auto& a : algorithms()) {
        if (!std::equal(alg_id.begin(), alg_id.end(), a.algorithm_identifier.begin(), a.algorithm_identifier.end()))
            continue;
        if (EVP_PKEY_get_base_id(key) != a.key_type) return false;  // algorithm must fit the key
        MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
        return ctx && EVP_DigestVerifyInit_ex(ctx.get(), nullptr, a.digest, nullptr, nullptr, key, nullptr) == 1 &&
               EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), octets.data(), octets.size()) == 1;
    }
    return false;  // unknown signature algorithm
}

}  // namespace ipsecgw::ike
