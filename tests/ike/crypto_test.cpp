// Known-answer tests (RFC 4231, RFC 7748, RFC 5903) and RFC 7296 key
// derivation cross-checked against an independent computation written here
// directly on OpenSSL primitives.
#include <gtest/gtest.h>
#include <openssl/evp.h>

#include "ike/dh.hpp"
#include "ike/keymat.hpp"
#include "ike/prf.hpp"
#include "ike/psk_auth.hpp"
#include "ike/sk_cipher.hpp"
#include "test_util.hpp"

using namespace ipsecgw::ike;
using ike_test::hex;
using ike_test::plain;

namespace {

// Independent HMAC via the one-shot EVP_Q_mac.
Bytes ref_hmac(const char* digest, ByteView key, ByteView data) {
    std::uint8_t out[EVP_MAX_MD_SIZE];
    std::size_t len = 0;
    EXPECT_NE(EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, key.data(), key.size(), data.data(), data.size(),
                        out, sizeof out, &len),
              nullptr);
    return Bytes(out, out + len);
}

// prf+ written out literally from RFC 7296 §2.13.
Bytes ref_prf_plus(const char* digest, ByteView key, ByteView seed, std::size_t len) {
    Bytes out, t;
    for (int n = 1; out.size() < len; ++n) {
        Bytes in = t;
        in.insert(in.end(), seed.begin(), seed.end());
        in.push_back(static_cast<std::uint8_t>(n));
        t = ref_hmac(digest, key, in);
        out.insert(out.end(), t.begin(), t.end());
    }
    out.resize(len);
    return out;
}

Bytes be64(std::uint64_t v) {
    Bytes b(8);
    for (int i = 7; i >= 0; --i, v >>= 8) b[i] = static_cast<std::uint8_t>(v);
    return b;
}

Bytes slice(const Bytes& b, std::size_t from, std::size_t n) { return Bytes(b.begin() + from, b.begin() + from + n); }

}  // namespace

TEST(Hmac, Rfc4231TestCase1) {
    Bytes key(20, 0x0b);
    Bytes data = to_bytes("Hi There");
    EXPECT_EQ(plain(hmac("SHA256", key, data)), hex("b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"));
    EXPECT_EQ(plain(hmac("SHA384", key, data)),
              hex("afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6"));
    EXPECT_EQ(plain(hmac("SHA512", key, data)),
              hex("87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
                  "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"));
}

TEST(Hmac, Rfc4231TestCase2ThroughPrf) {
    Bytes key = to_bytes("Jefe");
    Bytes data = to_bytes("what do ya want for nothing?");
    EXPECT_EQ(plain(Prf(PrfId::HmacSha2_256)(key, data)),
              hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"));
    EXPECT_EQ(plain(Prf(PrfId::HmacSha2_512)(key, data)),
              hex("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                  "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"));
}

TEST(Dh, X25519Rfc7748) {
    auto alice = DhKeyPair::from_private(DhId::Curve25519,
                                         hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"), {});
    auto bob = DhKeyPair::from_private(DhId::Curve25519,
                                       hex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"), {});
    ASSERT_TRUE(alice && bob);
    EXPECT_EQ(alice->public_value(), hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"));
    EXPECT_EQ(bob->public_value(), hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"));
    Bytes shared = hex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    EXPECT_EQ(plain(*alice->shared_secret(bob->public_value())), shared);
    EXPECT_EQ(plain(*bob->shared_secret(alice->public_value())), shared);
    // An all-zero result (low-order point) must be refused.
    EXPECT_FALSE(alice->shared_secret(Bytes(32, 0)).has_value());
}

TEST(Dh, Ecp256Rfc5903) {
    Bytes gi = hex("DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
                   "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3");
    Bytes gr = hex("D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
                   "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB");
    auto i = DhKeyPair::from_private(DhId::Ecp256, hex("C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"), gi);
    auto r = DhKeyPair::from_private(DhId::Ecp256, hex("C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"), gr);
    ASSERT_TRUE(i && r);
    EXPECT_EQ(i->public_value(), gi);
    Bytes girx = hex("D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE");
    EXPECT_EQ(plain(*i->shared_secret(gr)), girx);
    EXPECT_EQ(plain(*r->shared_secret(gi)), girx);
    Bytes off_curve = gr;
    off_curve.back() ^= 1;
    EXPECT_FALSE(i->shared_secret(off_curve).has_value());
}

TEST(Dh, Ecp384Rfc5903) {
    Bytes gi = hex("667842D7D180AC2CDE6F74F37551F55755C7645C20EF73E31634FE72B4C55EE6DE3AC808ACB4BDB4C88732AEE95F41AA"
                   "9482ED1FC0EEB9CAFC4984625CCFC23F65032149E0E144ADA024181535A0F38EEB9FCFF3C2C947DAE69B4C634573A81C");
    Bytes gr = hex("E558DBEF53EECDE3D3FCCFC1AEA08A89A987475D12FD950D83CFA41732BC509D0D1AC43A0336DEF96FDA41D0774A3571"
                   "DCFBEC7AACF3196472169E838430367F66EEBE3C6E70C416DD5F0C68759DD1FFF83FA40142209DFF5EAAD96DB9E6386C");
    auto i = DhKeyPair::from_private(
        DhId::Ecp384,
        hex("099F3C7034D4A2C699884D73A375A67F7624EF7C6B3C0F160647B67414DCE655E35B538041E649EE3FAEF896783AB194"), gi);
    ASSERT_TRUE(i);
    EXPECT_EQ(plain(*i->shared_secret(gr)),
              hex("11187331C279962D93D604243FD592CB9D0A926F422E47187521287E7156C5C4D603135569B9E9D09CF5D4A270F59746"));
}

class DhGroups : public ::testing::TestWithParam<DhId> {};

TEST_P(DhGroups, BothSidesAgreeAndBadValuesAreRefused) {
    DhId g = GetParam();
    auto a = DhKeyPair::generate(g);
    auto b = DhKeyPair::generate(g);
    EXPECT_EQ(a->public_value().size(), dh_public_size(g));
    auto sa = a->shared_secret(b->public_value());
    auto sb = b->shared_secret(a->public_value());
    ASSERT_TRUE(sa && sb);
    EXPECT_EQ(*sa, *sb);
    if (g == DhId::Modp2048 || g == DhId::Modp3072) {
        EXPECT_EQ(sa->size(), dh_public_size(g));
    }
    EXPECT_FALSE(a->shared_secret(Bytes(dh_public_size(g) - 1, 1)).has_value());
    if (g != DhId::Curve25519) {
        Bytes one(dh_public_size(g), 0);
        one.back() = 1;  // y = 1 (MODP) / not a curve point (ECP)
        EXPECT_FALSE(a->shared_secret(one).has_value());
    }
}

INSTANTIATE_TEST_SUITE_P(AllGroups, DhGroups,
                         ::testing::Values(DhId::Modp2048, DhId::Modp3072, DhId::Ecp256, DhId::Ecp384,
                                           DhId::Curve25519));

TEST(Prf, PlusMatchesLiteralDefinition) {
    Bytes key = hex("000102030405060708090a0b0c0d0e0f");
    Bytes seed = to_bytes("seed material");
    for (auto [id, digest] : {std::pair{PrfId::HmacSha2_256, "SHA256"}, std::pair{PrfId::HmacSha2_384, "SHA384"},
                              std::pair{PrfId::HmacSha2_512, "SHA512"}}) {
        for (std::size_t len : {1u, 32u, 33u, 200u, 500u})
            EXPECT_EQ(plain(Prf(id).plus(key, seed, len)), ref_prf_plus(digest, key, seed, len));
    }
    EXPECT_THROW(Prf(PrfId::HmacSha2_256).plus(key, seed, 256 * 32), std::length_error);
}

struct SuiteCase {
    Suite suite;
    const char* digest;
};

class KeyDerivation : public ::testing::TestWithParam<SuiteCase> {};

TEST_P(KeyDerivation, IkeKeysMatchIndependentComputation) {
    const Suite& s = GetParam().suite;
    const char* dg = GetParam().digest;
    Bytes ni = random_bytes(32), nr = random_bytes(32), gir = random_bytes(256);
    std::uint64_t spi_i = 0x1122334455667788, spi_r = 0x99aabbccddeeff00;
    IkeKeys k = derive_ike_keys(s, ni, nr, gir, spi_i, spi_r);

    Bytes skeyseed = ref_hmac(dg, concat({ni, nr}), gir);
    std::size_t d = skeyseed.size();
    std::size_t a = s.aead() ? 0 : integ_key_size(s.integ);
    std::size_t e = s.encr_key_bits / 8 + (s.aead() ? 4 : 0);
    Bytes all = ref_prf_plus(dg, skeyseed, concat({ni, nr, be64(spi_i), be64(spi_r)}), 3 * d + 2 * a + 2 * e);
    std::size_t p = 0;
    EXPECT_EQ(plain(k.sk_d), slice(all, p, d)); p += d;
    EXPECT_EQ(plain(k.sk_ai), slice(all, p, a)); p += a;
    EXPECT_EQ(plain(k.sk_ar), slice(all, p, a)); p += a;
    EXPECT_EQ(plain(k.sk_ei), slice(all, p, e)); p += e;
    EXPECT_EQ(plain(k.sk_er), slice(all, p, e)); p += e;
    EXPECT_EQ(plain(k.sk_pi), slice(all, p, d)); p += d;
    EXPECT_EQ(plain(k.sk_pr), slice(all, p, d));

    // IKE SA rekey: SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr).
    Bytes ni2 = random_bytes(32), nr2 = random_bytes(32), gir2 = random_bytes(64);
    IkeKeys k2 = derive_rekeyed_ike_keys(s, s.prf, k.sk_d, gir2, ni2, nr2, 5, 6);
    Bytes seed2 = ref_hmac(dg, plain(k.sk_d), concat({gir2, ni2, nr2}));
    Bytes all2 = ref_prf_plus(dg, seed2, concat({ni2, nr2, be64(5), be64(6)}), d);
    EXPECT_EQ(plain(k2.sk_d), all2);

    // CHILD_SA keys, without and with PFS.
    Suite esp = s;
    esp.dh = DhId::None;
    for (bool pfs : {false, true}) {
        Bytes g = pfs ? random_bytes(32) : Bytes{};
        ChildKeys c = derive_child_keys(esp, s.prf, k.sk_d, g, ni2, nr2);
        Bytes km = ref_prf_plus(dg, plain(k.sk_d), concat({g, ni2, nr2}), 2 * (e + a));
        EXPECT_EQ(plain(c.encr_i), slice(km, 0, e));
        EXPECT_EQ(plain(c.integ_i), slice(km, e, a));
        EXPECT_EQ(plain(c.encr_r), slice(km, e + a, e));
        EXPECT_EQ(plain(c.integ_r), slice(km, 2 * e + a, a));
    }
}

TEST_P(KeyDerivation, SkPayloadRoundTripAndTamperRejection) {
    const Suite& s = GetParam().suite;
    IkeKeys k = derive_ike_keys(s, random_bytes(32), random_bytes(32), random_bytes(32), 1, 2);
    Header h;
    h.spi_i = 1;
    h.spi_r = 2;
    h.exchange = ExchangeType::IkeAuth;
    h.flags = header_flags::kInitiator;
    h.message_id = 1;
    for (std::size_t len : {0u, 1u, 15u, 16u, 17u, 300u}) {
        Bytes inner = random_bytes(len);
        Bytes wire = seal_message(h, PayloadType::IdInitiator, inner, k.initiator_sk());
        ParseResult r = parse_message(wire);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.message.find<EncryptedPayload>(PayloadType::Encrypted)->first_inner, PayloadType::IdInitiator);
        auto opened = open_message(wire, r.encrypted_offset, PayloadType::Encrypted, k.initiator_sk());
        ASSERT_TRUE(opened);
        EXPECT_EQ(plain(*opened), inner);
        // Wrong direction's keys, a flipped bit anywhere (header included), a cut ICV.
        EXPECT_FALSE(open_message(wire, r.encrypted_offset, PayloadType::Encrypted, k.responder_sk()));
        for (std::size_t pos : {std::size_t{19}, wire.size() / 2, wire.size() - 1}) {
            Bytes bad = wire;
            bad[pos] ^= 0x01;
            EXPECT_FALSE(open_message(bad, r.encrypted_offset, PayloadType::Encrypted, k.initiator_sk())) << pos;
        }
        EXPECT_FALSE(open_message(ByteView(wire).first(wire.size() - 1), r.encrypted_offset, PayloadType::Encrypted,
                                  k.initiator_sk()));
    }
    Bytes frag = seal_fragment(h, 2, 3, PayloadType::None, Bytes(50, 7), k.responder_sk());
    ParseResult r = parse_message(frag);
    ASSERT_TRUE(r.ok());
    auto opened = open_message(frag, r.encrypted_offset, PayloadType::EncryptedFragment, k.responder_sk());
    ASSERT_TRUE(opened);
    EXPECT_EQ(plain(*opened), Bytes(50, 7));
    frag[r.encrypted_offset + 5] ^= 1;  // fragment number is authenticated
    EXPECT_FALSE(open_message(frag, r.encrypted_offset, PayloadType::EncryptedFragment, k.responder_sk()));
}

INSTANTIATE_TEST_SUITE_P(
    Suites, KeyDerivation,
    ::testing::Values(SuiteCase{{EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::Ecp256}, "SHA256"},
                      SuiteCase{{EncrId::AesGcm16, 256, IntegId::None, PrfId::HmacSha2_384, DhId::Ecp384}, "SHA384"},
                      SuiteCase{{EncrId::AesCbc, 128, IntegId::HmacSha2_256_128, PrfId::HmacSha2_256, DhId::Modp2048}, "SHA256"},
                      SuiteCase{{EncrId::AesCbc, 256, IntegId::HmacSha2_384_192, PrfId::HmacSha2_384, DhId::Curve25519}, "SHA384"},
                      SuiteCase{{EncrId::AesCbc, 256, IntegId::HmacSha2_512_256, PrfId::HmacSha2_512, DhId::Curve25519}, "SHA512"}));

TEST(SkPayload, GcmMatchesIndependentDecryption) {
    Suite s{EncrId::AesGcm16, 256, IntegId::None, PrfId::HmacSha2_256, DhId::Curve25519};
    SkKeys k{s, to_secret(random_bytes(36)), {}};
    Header h;
    Bytes inner = to_bytes("inner payload chain bytes");
    Bytes wire = seal_message(h, PayloadType::Notify, inner, k);
    // RFC 5282: nonce = salt | 8-byte IV; AAD = header + SK generic header.
    std::size_t iv_at = kHeaderSize + 4;
    Bytes nonce = concat({ByteView(k.encr).subspan(32, 4), ByteView(wire).subspan(iv_at, 8)});
    std::size_t ct_len = wire.size() - iv_at - 8 - 16;
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    Bytes pt(ct_len);
    int n = 0;
    ASSERT_EQ(EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr), 1);
    ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr), 1);
    ASSERT_EQ(EVP_DecryptInit_ex(ctx, nullptr, nullptr, k.encr.data(), nonce.data()), 1);
    ASSERT_EQ(EVP_DecryptUpdate(ctx, nullptr, &n, wire.data(), static_cast<int>(iv_at)), 1);
    ASSERT_EQ(EVP_DecryptUpdate(ctx, pt.data(), &n, wire.data() + iv_at + 8, static_cast<int>(ct_len)), 1);
    ASSERT_EQ(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, wire.data() + wire.size() - 16), 1);
    EXPECT_EQ(EVP_DecryptFinal_ex(ctx, pt.data() + n, &n), 1);
    EVP_CIPHER_CTX_free(ctx);
    EXPECT_EQ(pt.back(), 0);  // pad length
    pt.pop_back();
    EXPECT_EQ(pt, inner);
}

TEST(PskAuth, MatchesIndependentComputation) {
    Bytes psk = to_bytes("a shared secret");
    Bytes msg = random_bytes(300), nonce = random_bytes(32), skp = random_bytes(32);
    IdPayload id{IdType::Fqdn, to_bytes("peer.example.org")};
    Bytes octets = signed_octets(PrfId::HmacSha2_256, msg, nonce, skp, id);
    Bytes id_body = concat({Bytes{2, 0, 0, 0}, to_bytes("peer.example.org")});
    EXPECT_EQ(octets, concat({msg, nonce, ref_hmac("SHA256", skp, id_body)}));
    Bytes expected = ref_hmac("SHA256", ref_hmac("SHA256", psk, to_bytes("Key Pad for IKEv2")), octets);
    EXPECT_EQ(plain(psk_auth_data(PrfId::HmacSha2_256, psk, octets)), expected);
    EXPECT_TRUE(psk_auth_verify(PrfId::HmacSha2_256, psk, octets, expected));
    expected[0] ^= 1;
    EXPECT_FALSE(psk_auth_verify(PrfId::HmacSha2_256, psk, octets, expected));
}
