// Encrypt-and-authenticate for the SK payload. The ICV (or GCM AAD) covers
// everything from the IKE header up to the IV, so header and payload lengths
// are final before any crypto runs.
#include "ike/sk_cipher.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <memory>

#include "ike/prf.hpp"

namespace ipsecgw::ike {
namespace {

constexpr std::size_t kGcmIvSize = 8;
constexpr std::size_t kGcmIcvSize = 16;
constexpr std::size_t kCbcIvSize = 16;
constexpr std::size_t kAesBlock = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::size_t iv_size(const Suite& s) { return s.aead() ? kGcmIvSize : kCbcIvSize; }
std::size_t icv_size(const Suite& s) { return s.aead() ? kGcmIcvSize : integ_icv_size(s.integ); }

const EVP_CIPHER* cipher_for(const Suite& s) {
    if (s.aead()) return s.encr_key_bits == 128 ? EVP_aes_128_gcm() : EVP_aes_256_gcm();
    switch (s.encr_key_bits) {
        case 128: return EVP_aes_128_cbc();
        case 192: return EVP_aes_192_cbc();
        default: return EVP_aes_256_cbc();
    }
}

bool keys_fit(const SkKeys& k) {
    if (!supported(k.suite.encr, k.suite.encr_key_bits)) return false;
    if (k.encr.size() != encr_keymat_size(k.suite.encr, k.suite.encr_key_bits)) return false;
    return k.suite.aead() || (integ_key_size(k.suite.integ) != 0 && k.integ.size() == integ_key_size(k.suite.integ));
}

// AES-GCM with nonce = salt | explicit IV. Encrypts or decrypts in place.
bool gcm(bool encrypt, const SkKeys& k, ByteView iv, ByteView aad, std::uint8_t* data, std::size_t len,
         std::uint8_t* tag) {
    std::size_t key_len = k.suite.encr_key_bits / 8;
    std::uint8_t nonce[kGcmSaltSize + kGcmIvSize];
    std::copy(k.encr.begin() + static_cast<std::ptrdiff_t>(key_len), k.encr.end(), nonce);
    std::copy(iv.begin(), iv.end(), nonce + kGcmSaltSize);
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    int out_len = 0;
    if (!ctx || EVP_CipherInit_ex2(ctx.get(), cipher_for(k.suite), nullptr, nullptr, encrypt ? 1 : 0, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, sizeof nonce, nullptr) != 1 ||
        EVP_CipherInit_ex2(ctx.get(), nullptr, k.encr.data(), nonce, encrypt ? 1 : 0, nullptr) != 1 ||
        EVP_CipherUpdate(ctx.get(), nullptr, &out_len, aad.data(), static_cast<int>(aad.size())) != 1)
        return false;
    if (!encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kGcmIcvSize, tag) != 1) return false;
    if (EVP_CipherUpdate(ctx.get(), data, &out_len, data, static_cast<int>(len)) != 1) return false;
    if (EVP_CipherFinal_ex(ctx.get(), data + out_len, &out_len) != 1) return false;  // tag check on decrypt
    if (encrypt && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kGcmIcvSize, tag) != 1) return false;
    return true;
}

bool cbc(bool encrypt, const SkKeys& k, ByteView iv, std::uint8_t* data, std::size_t len) {
    CipherCtx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    int out_len = 0;
    int final_len = 0;
    return ctx &&
           EVP_CipherInit_ex2(ctx.get(), cipher_for(k.suite), k.encr.data(), iv.data(), encrypt ? 1 : 0, nullptr) ==
               1 &&
           EVP_CIPHER_CTX_set_padding(ctx.get(), 0) == 1 &&
           EVP_CipherUpdate(ctx.get(), data, &out_len, data, static_cast<int>(len)) == 1 &&
           EVP_CipherFinal_ex(ctx.get(), data + out_len, &final_len) == 1;
}

Bytes seal(Header header, PayloadType payload_type, PayloadType next_field, ByteView extra, ByteView plain,
           const SkKeys& k) {
    if (!keys_fit(k)) throw std::invalid_argument("SK keys do not match suite");
    const Suite& s = k.suite;
    std::size_t block = s.aead() ? 1 : kAesBlock;
    std::size_t pad = (block - (plain.size() + 1) % block) % block;
    std::size_t ct_len = plain.size() + pad + 1;
    std::size_t payload_len = kGenericHeaderSize + extra.size() + iv_size(s) + ct_len + icv_size(s);
    header.next_payload = payload_type;
    header.length = static_cast<std::uint32_t>(kHeaderSize + payload_len);

    Bytes out;
    out.reserve(header.length);
    Writer w(out);
    header.encode(w);
    w.u8(static_cast<std::uint8_t>(next_field));
    w.u8(0);
    w.u16(static_cast<std::uint16_t>(payload_len));
    w.bytes(extra);
    std::size_t aad_end = out.size();
    Bytes iv = random_bytes(iv_size(s));
    w.bytes(iv);
    std::size_t ct_start = out.size();
    w.bytes(plain);
    w.zeros(pad);
    w.u8(static_cast<std::uint8_t>(pad));
    std::size_t icv_start = out.size();
    w.zeros(icv_size(s));

    bool ok;
    if (s.aead()) {
        ok = gcm(true, k, iv, ByteView(out).first(aad_end), out.data() + ct_start, ct_len, out.data() + icv_start);
    } else {
        ok = cbc(true, k, iv, out.data() + ct_start, ct_len);
        if (ok) {
            SecretBytes mac = hmac(integ_digest_name(s.integ), k.integ, ByteView(out).first(icv_start));
            std::copy(mac.begin(), mac.begin() + static_cast<std::ptrdiff_t>(icv_size(s)), out.begin() + icv_start);
        }
    }
    if (!ok) throw std::runtime_error("SK encryption failed");
    return out;
}

}  // namespace

std::size_t sk_overhead(const Suite& s) {
    return kGenericHeaderSize + iv_size(s) + (s.aead() ? 1 : kAesBlock) + icv_size(s);
}

Bytes seal_message(Header header, PayloadType first_inner, ByteView inner_chain, const SkKeys& keys) {
    return seal(header, PayloadType::Encrypted, first_inner, {}, inner_chain, keys);
}

Bytes seal_fragment(Header header, std::uint16_t number, std::uint16_t total, PayloadType first_inner,
                    ByteView chunk, const SkKeys& keys) {
    Bytes extra;
    Writer w(extra);
    w.u16(number);
    w.u16(total);
    return seal(header, PayloadType::EncryptedFragment, number == 1 ? first_inner : PayloadType::None, extra, chunk,
                keys);
}

std::optional<SecretBytes> open_message(ByteView msg, std::size_t offset, PayloadType type, const SkKeys& k) {
    if (!keys_fit(k)) return std::nullopt;
    const Suite& s = k.suite;
    std::size_t extra = type == PayloadType::EncryptedFragment ? 4 : 0;
    std::size_t iv_start = offset + kGenericHeaderSize + extra;
    if (offset < kHeaderSize || iv_start > msg.size()) return std::nullopt;
    std::size_t body = msg.size() - iv_start;
    if (body < iv_size(s) + icv_size(s) + 1) return std::nullopt;
    std::size_t ct_start = iv_start + iv_size(s);
    std::size_t icv_start = msg.size() - icv_size(s);
    std::size_t ct_len = icv_start - ct_start;
    if (!s.aead() && ct_len % kAesBlock != 0) return std::nullopt;

    SecretBytes plain(msg.begin() + static_cast<std::ptrdiff_t>(ct_start),
                      msg.begin() + static_cast<std::ptrdiff_t>(icv_start));
    ByteView iv = msg.subspan(iv_start, iv_size(s));
    if (s.aead()) {
        std::uint8_t tag[kGcmIcvSize];
        std::copy(msg.begin() + static_cast<std::ptrdiff_t>(icv_start), msg.end(), tag);
        if (!gcm(false, k, iv, msg.first(iv_start), plain.data(), plain.size(), tag)) return std::nullopt;
    } else {
        // Check the ICV before touching the ciphertext.
        SecretBytes mac = hmac(integ_digest_name(s.integ), k.integ, msg.first(icv_start));
        if (CRYPTO_memcmp(mac.data(), msg.data() + icv_start, icv_size(s)) != 0) return std::nullopt;
        if (!cbc(false, k, iv, plain.data(), plain.size())) return std::nullopt;
    }
    std::size_t pad = plain.back();
    if (pad + 1 > plain.size()) return std::nullopt;
    plain.resize(plain.size() - pad - 1);
    return plain;
}

}  // namespace ipsecgw::ike
