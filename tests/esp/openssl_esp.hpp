// ESP packets built and opened with OpenSSL's EVP AES-GCM: the independent
// implementation our engine is checked against (RFC 4106 nonce and AAD layout
// written here from the RFC, not taken from the engine).
#pragma once

#include <openssl/evp.h>

#include <stdexcept>

#include "test_packets.hpp"

namespace ipsecgw::test {

inline const EVP_CIPHER* gcm_cipher(size_t key_len)
{
    return key_len == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
}

// Returns ciphertext || 16-byte tag.
inline Bytes openssl_gcm_encrypt(const uint8_t* key, size_t key_len, const uint8_t* iv12,
                                 const Bytes& aad, const Bytes& plain)
{
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes out(plain.size() + 16);
    int n = 0, m = 0;
    bool ok = EVP_EncryptInit_ex(ctx, gcm_cipher(key_len), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
              EVP_EncryptInit_ex(ctx, nullptr, nullptr, key, iv12) == 1 &&
              EVP_EncryptUpdate(ctx, nullptr, &n, aad.data(), int(aad.size())) == 1 &&
              EVP_EncryptUpdate(ctx, out.data(), &n, plain.data(), int(plain.size())) == 1 &&
              EVP_EncryptFinal_ex(ctx, out.data() + n, &m) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, out.data() + plain.size()) == 1;
    EVP_CIPHER_CTX_free(ctx);
    if (!ok)
        throw std::runtime_error("OpenSSL GCM encrypt failed");
    return out;
}

// Opens ciphertext || tag; false when the tag does not verify.
inline bool openssl_gcm_decrypt(const uint8_t* key, size_t key_len, const uint8_t* iv12,
                                const Bytes& aad, const uint8_t* ct, size_t len, Bytes* plain)
{
    if (len < 16)
        return false;
    size_t text = len - 16;
    plain->assign(text, 0);
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n = 0, m = 0;
    Bytes tag(ct + text, ct + len);
    bool ok = EVP_DecryptInit_ex(ctx, gcm_cipher(key_len), nullptr, nullptr, nullptr) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) == 1 &&
              EVP_DecryptInit_ex(ctx, nullptr, nullptr, key, iv12) == 1 &&
              EVP_DecryptUpdate(ctx, nullptr, &n, aad.data(), int(aad.size())) == 1 &&
              EVP_DecryptUpdate(ctx, plain->data(), &n, ct, int(text)) == 1 &&
              EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag.data()) == 1 &&
              EVP_DecryptFinal_ex(ctx, plain->data() + n, &m) == 1;
    EVP_CIPHER_CTX_free(ctx);
    return ok;
}

// RFC 4303 §2.4 trailer: 1, 2, 3 ... padding to a 4-byte boundary, pad length, next header.
inline Bytes with_trailer(Bytes payload, uint8_t next_header)
{
    size_t pad = (4 - (payload.size() + 2) % 4) % 4;
    for (size_t i = 0; i < pad; ++i)
        payload.push_back(uint8_t(i + 1));
    payload.push_back(uint8_t(pad));
    payload.push_back(next_header);
    return payload;
}

inline Bytes esp_aad(uint32_t spi, uint64_t seq, bool esn)
{
    Bytes a = {uint8_t(spi >> 24), uint8_t(spi >> 16), uint8_t(spi >> 8), uint8_t(spi)};
    if (esn)
        for (int s = 56; s >= 32; s -= 8)
            a.push_back(uint8_t(seq >> s));
    for (int s = 24; s >= 0; s -= 8)
        a.push_back(uint8_t(seq >> s));
    return a;
}

// ESP header + IV + OpenSSL ciphertext + ICV, for `plain` (payload with trailer).
inline Bytes openssl_esp_body(const esp::SaConfig& c, uint64_t seq, const uint8_t iv8[8], const Bytes& plain)
{
    uint8_t nonce[12];
    std::memcpy(nonce, c.salt.data(), 4);
    std::memcpy(nonce + 4, iv8, 8);
    Bytes ct = openssl_gcm_encrypt(c.key.data(), esp::key_bytes(c.aead), nonce, esp_aad(c.spi, seq, c.esn), plain);
    Bytes body(16 + ct.size());
    const uint8_t hdr[8] = {uint8_t(c.spi >> 24), uint8_t(c.spi >> 16), uint8_t(c.spi >> 8), uint8_t(c.spi),
                            uint8_t(seq >> 24),   uint8_t(seq >> 16),   uint8_t(seq >> 8),   uint8_t(seq)};
    std::memcpy(body.data(), hdr, 8);
    std::memcpy(body.data() + 8, iv8, 8);
    std::memcpy(body.data() + 16, ct.data(), ct.size());
    return body;
}

// Outer IPv4 header (protocol ESP) in front of an ESP body.
inline Bytes ipv4_esp(const char* src, const char* dst, const Bytes& body, uint8_t tos = 0, uint16_t frag = 0)
{
    Bytes b(20);
    size_t tot = 20 + body.size();
    b[0] = 0x45, b[1] = tos, b[2] = uint8_t(tot >> 8), b[3] = uint8_t(tot);
    b[6] = uint8_t(frag >> 8), b[7] = uint8_t(frag), b[8] = 64, b[9] = 50;
    std::memcpy(&b[12], net::IpAddress::parse(src)->bytes.data(), 4);
    std::memcpy(&b[16], net::IpAddress::parse(dst)->bytes.data(), 4);
    uint16_t c = csum16(b.data(), 20);
    b[10] = uint8_t(c >> 8), b[11] = uint8_t(c);
    b.insert(b.end(), body.begin(), body.end());
    return b;
}

inline Bytes ipv6_esp(const char* src, const char* dst, const Bytes& body, uint8_t tclass = 0)
{
    Bytes b(40);
    b[0] = uint8_t(0x60 | tclass >> 4), b[1] = uint8_t(tclass << 4);
    b[4] = uint8_t(body.size() >> 8), b[5] = uint8_t(body.size());
    b[6] = 50, b[7] = 64;
    std::memcpy(&b[8], net::IpAddress::parse(src)->bytes.data(), 16);
    std::memcpy(&b[24], net::IpAddress::parse(dst)->bytes.data(), 16);
    b.insert(b.end(), body.begin(), body.end());
    return b;
}

// RFC 3948 §2.1: turns an IPv4/IPv6 ESP packet (no extension headers) into
// ESP-in-UDP between the given ports. IPv4: UDP checksum zero; IPv6: computed
// here byte by byte over the pseudo-header (RFC 8200 §8.1).
inline Bytes udp_encapsulate(const Bytes& esp_pkt, uint16_t sport, uint16_t dport)
{
    bool v4 = (esp_pkt[0] >> 4) == 4;
    size_t hl = v4 ? 20 : 40;
    Bytes b(esp_pkt.begin(), esp_pkt.begin() + long(hl));
    size_t ulen = 8 + esp_pkt.size() - hl;
    Bytes udp = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8), uint8_t(dport),
                 uint8_t(ulen >> 8), uint8_t(ulen), 0, 0};
    udp.insert(udp.end(), esp_pkt.begin() + long(hl), esp_pkt.end());
    if (v4) {
        size_t tot = hl + ulen;
        b[2] = uint8_t(tot >> 8), b[3] = uint8_t(tot), b[9] = 17, b[10] = b[11] = 0;
        uint16_t c = csum16(b.data(), 20);
        b[10] = uint8_t(c >> 8), b[11] = uint8_t(c);
    } else {
        b[4] = uint8_t(ulen >> 8), b[5] = uint8_t(ulen), b[6] = 17;
        Bytes pseudo(b.begin() + 8, b.begin() + 40);
        pseudo.insert(pseudo.end(), {0, 0, uint8_t(ulen >> 8), uint8_t(ulen), 0, 0, 0, 17});
        pseudo.insert(pseudo.end(), udp.begin(), udp.end());
        if (pseudo.size() % 2)
            pseudo.push_back(0);
        uint16_t c = csum16(pseudo.data(), pseudo.size());
        if (c == 0)
            c = 0xffff;
        udp[6] = uint8_t(c >> 8), udp[7] = uint8_t(c);
    }
    b.insert(b.end(), udp.begin(), udp.end());
    return b;
}

// True when the UDP checksum of an IPv6 packet (UDP right after the fixed
// header) verifies.
inline bool udp6_checksum_ok(const uint8_t* p, size_t len)
{
    size_t ulen = size_t(p[44] << 8 | p[45]);
    if (40 + ulen != len || (p[46] == 0 && p[47] == 0))
        return false;
    Bytes pseudo(p + 8, p + 40);
    pseudo.insert(pseudo.end(), {0, 0, uint8_t(ulen >> 8), uint8_t(ulen), 0, 0, 0, 17});
    pseudo.insert(pseudo.end(), p + 40, p + len);
    if (pseudo.size() % 2)
        pseudo.push_back(0);
    return csum16(pseudo.data(), pseudo.size()) == 0;
}

}  // namespace ipsecgw::test
