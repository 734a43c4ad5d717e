// EVP_PKEY based key agreement. IKE wire formats: MODP public values and
// shared secrets zero-padded to the prime's length; ECP public values x|y
// without the SEC1 0x04 prefix, shared secret x only; X25519 raw 32 bytes.
#include "ike/dh.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/dh.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <stdexcept>

namespace ipsecgw::ike {
namespace {

enum class Family { Modp, Ecp, X25519, Unknown };

Family family(DhId g) {
    switch (g) {
        case DhId::Modp2048:
        case DhId::Modp3072: return Family::Modp;
        case DhId::Ecp256:
        case DhId::Ecp384: return Family::Ecp;
        case DhId::Curve25519: return Family::X25519;
        default: return Family::Unknown;
    }
}

const char* group_name(DhId g) {
    switch (g) {
        case DhId::Modp2048: return "modp_2048";
        case DhId::Modp3072: return "modp_3072";
        case DhId::Ecp256: return "P-256";
        case DhId::Ecp384: return "P-384";
        default: return nullptr;
    }
}

using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)>;
using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)>;
using Params = std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)>;
using Bignum = std::unique_ptr<BIGNUM, decltype(&BN_clear_free)>;

const char* key_type(Family f) { return f == Family::Modp ? "DH" : f == Family::Ecp ? "EC" : "X25519"; }

// Builds an EVP_PKEY from parameters for MODP/ECP (private part optional).
EVP_PKEY* pkey_from_params(DhId g, ByteView priv, ByteView pub_wire) {
    Family f = family(g);
    ParamBld bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    Bignum pub_bn(nullptr, BN_clear_free);
    Bignum priv_bn(nullptr, BN_clear_free);
    Bytes sec1;
    if (!bld || !OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group_name(g), 0))
        return nullptr;
    if (f == Family::Modp) {
        pub_bn.reset(BN_bin2bn(pub_wire.data(), static_cast<int>(pub_wire.size()), nullptr));
        if (!pub_bn || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, pub_bn.get())) return nullptr;
    } else {
        sec1.push_back(0x04);
        sec1.insert(sec1.end(), pub_wire.begin(), pub_wire.end());
        if (!OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size()))
            return nullptr;
    }
    if (!priv.empty()) {
        priv_bn.reset(BN_bin2bn(priv.data(), static_cast<int>(priv.size()), nullptr));
        if (!priv_bn || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_PRIV_KEY, priv_bn.get())) return nullptr;
    }
    Params params(OSSL_PARAM_BLD_to_param(bld.get()), OSSL_PARAM_free);
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type(f), nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* key = nullptr;
    if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
        EVP_PKEY_fromdata(ctx.get(), &key, priv.empty() ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR, params.get()) != 1)
        return nullptr;
    return key;
}

EVP_PKEY* peer_key(DhId g, ByteView wire) {
    if (wire.size() != dh_public_size(g)) return nullptr;
    if (family(g) == Family::X25519)
        return EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, nullptr, wire.data(), wire.size());
    return pkey_from_params(g, {}, wire);
}

Bytes wire_public(DhId g, EVP_PKEY* key) {
    Bytes out(dh_public_size(g));
    switch (family(g)) {
        case Family::Modp: {
            BIGNUM* bn = nullptr;
            if (EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_PUB_KEY, &bn) != 1) throw std::runtime_error("DH pub");
            int ok = BN_bn2binpad(bn, out.data(), static_cast<int>(out.size()));
            BN_free(bn);
            if (ok < 0) throw std::runtime_error("DH pub size");
            break;
        }
        case Family::Ecp: {
            Bytes sec1(out.size() + 1);
            std::size_t len = 0;
            if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, sec1.data(), sec1.size(), &len) != 1 ||
                len != sec1.size() || sec1[0] != 0x04)
                throw std::runtime_error("EC pub");
            std::copy(sec1.begin() + 1, sec1.end(), out.begin());
            break;
        }
        case Family::X25519: {
            std::size_t len = out.size();
            if (EVP_PKEY_get_raw_public_key(key, out.data(), &len) != 1 || len != out.size())
                throw std::runtime_error("X25519 pub");
            break;
        }
        case Family::Unknown: throw std::invalid_argument("unsupported DH group");
    }
    return out;
}

}  // namespace

std::size_t dh_public_size(DhId g) {
    switch (g) {
        case DhId::Modp2048: return 256;
        case DhId::Modp3072: return 384;
        case DhId::Ecp256: return 64;
        case DhId::Ecp384: return 96;
        case DhId::Curve25519: return 32;
        default: return 0;
    }
}

DhKeyPair::DhKeyPair(DhId g, EVP_PKEY* key) : group_(g), key_(key), public_value_(wire_public(g, key)) {}

DhKeyPair::~DhKeyPair() { EVP_PKEY_free(key_); }  // OpenSSL clears private key material on free

std::unique_ptr<DhKeyPair> DhKeyPair::generate(DhId g) {
    Family f = family(g);
    if (f == Family::Unknown) throw std::invalid_argument("unsupported DH group");
    EVP_PKEY* key = nullptr;
    if (f == Family::X25519) {
        key = EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519");
    } else {
        PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, key_type(f), nullptr), EVP_PKEY_CTX_free);
        OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>(group_name(g)), 0),
            OSSL_PARAM_construct_end(),
        };
        if (ctx && EVP_PKEY_keygen_init(ctx.get()) == 1 && EVP_PKEY_CTX_set_params(ctx.get(), params) == 1)
            EVP_PKEY_generate(ctx.get(), &key);
    }
    if (!key) throw std::runtime_error("DH key generation failed");
    return std::unique_ptr<DhKeyPair>(new DhKeyPair(g, key));
}

std::unique_ptr<DhKeyPair> DhKeyPair::from_private(DhId g, ByteView priv, ByteView pub) {
    EVP_PKEY* key = family(g) == Family::X25519
                        ? EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, nullptr, priv.data(), priv.size())
                        : pkey_from_params(g, priv, pub);
    if (!key) return nullptr;
    return std::unique_ptr<DhKeyPair>(new DhKeyPair(g, key));
}

std::optional<SecretBytes> DhKeyPair::shared_secret(ByteView peer_public) const {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> peer(peer_key(group_, peer_public), EVP_PKEY_free);
    if (!peer) return std::nullopt;
    PkeyCtx ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_, nullptr), EVP_PKEY_CTX_free);
    if (!ctx || EVP_PKEY_derive_init(ctx.get()) != 1) return std::nullopt;
    // g^ir for MODP is the full prime length, leading zeros kept (RFC 7296 §2.14).
    if (family(group_) == Family::Modp && EVP_PKEY_CTX_set_dh_pad(ctx.get(), 1) != 1) return std::nullopt;
    // derive_set_peer_ex with validation: point on curve / 1 < y < p-1.
    if (EVP_PKEY_derive_set_peer_ex(ctx.get(), peer.get(), 1) != 1) return std::nullopt;
    std::size_t len = 0;
    if (EVP_PKEY_derive(ctx.get(), nullptr, &len) != 1) return std::nullopt;
    SecretBytes out(len);
    if (EVP_PKEY_derive(ctx.get(), out.data(), &len) != 1) return std::nullopt;
    out.resize(len);
    return out;
}

}  // namespace ipsecgw::ike
