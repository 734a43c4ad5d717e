// HMAC through the OpenSSL 3 EVP_MAC interface.
#include "ike/prf.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace ipsecgw::ike {

SecretBytes hmac(const char* digest, ByteView key, ByteView data) {
    static EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);  // fetched once, never freed
    if (!mac) throw std::runtime_error("HMAC unavailable");
    std::unique_ptr<EVP_MAC_CTX, decltype(&EVP_MAC_CTX_free)> ctx(EVP_MAC_CTX_new(mac), EVP_MAC_CTX_free);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, const_cast<char*>(digest), 0),
        OSSL_PARAM_construct_end(),
    };
    static const std::uint8_t kEmpty = 0;  // HMAC accepts a zero-length key, not a null one
    const std::uint8_t* k = key.empty() ? &kEmpty : key.data();
    SecretBytes out(EVP_MAX_MD_SIZE);
    std::size_t len = 0;
    if (!ctx || EVP_MAC_init(ctx.get(), k, key.size(), params) != 1 ||
        EVP_MAC_update(ctx.get(), data.data(), data.size()) != 1 ||
        EVP_MAC_final(ctx.get(), out.data(), &len, out.size()) != 1)
        throw std::runtime_error("HMAC failed");
    out.resize(len);
    return out;
}

SecretBytes Prf::operator()(ByteView key, ByteView data) const { return hmac(prf_digest_name(id_), key, data); }

SecretBytes Prf::plus(ByteView key, ByteView seed, std::size_t length) const {
    // The counter is one octet, so prf+ yields at most 255 blocks.
    if (length > 255 * size()) throw std::length_error("prf+ output too long");
    SecretBytes out;
    SecretBytes block;
    SecretBytes input;
    for (std::uint8_t n = 1; out.size() < length; ++n) {
        input.assign(block.begin(), block.end());
        input.insert(input.end(), seed.begin(), seed.end());
        input.push_back(n);
        block = (*this)(key, input);
        out.insert(out.end(), block.begin(), block.end());
    }
    out.resize(length);
    return out;
}

}  // namespace ipsecgw::ike
