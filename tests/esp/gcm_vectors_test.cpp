// Published AES-GCM test vectors (McGrew & Viega, "The Galois/Counter Mode of
// Operation", test cases 1-4 and 13-16) through the key schedule our SAs hold.
#include <gtest/gtest.h>

#include "esp/sa.hpp"
#include "test_packets.hpp"

using namespace ipsecgw;
using namespace ipsecgw::test;

namespace {
struct Vector {
    const char *key, *iv, *plain, *aad, *cipher, *tag;
};
const Vector kVectors[] = {
    {"00000000000000000000000000000000", "000000000000000000000000", "", "", "", "58e2fccefa7e3061367f1d57a4e7455a"},
    {"00000000000000000000000000000000", "000000000000000000000000", "00000000000000000000000000000000", "",
     "0388dace60b6a392f328c2b971b2fe78", "ab6e47d42cec13bdf53a67b21257bddf"},
    {"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "", "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985",
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000", "", "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"0000000000000000000000000000000000000000000000000000000000000000", "000000000000000000000000",
     "00000000000000000000000000000000", "", "cea7403d4d606b6e074ec5d3baf39d18", "d0d1c8a799996bf0265b98b5d48ab919"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b391aafd255",
     "", "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad",
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2",
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};
}  // namespace

TEST(GcmVectors, SpecificationTestCases)
{
    IMB_MGR* mgr = alloc_mb_mgr(0);
    ASSERT_NE(mgr, nullptr);
    init_mb_mgr_auto(mgr, nullptr);
    for (const Vector& v : kVectors) {
        Bytes key = from_hex(v.key), iv = from_hex(v.iv), plain = from_hex(v.plain), aad = from_hex(v.aad);
        esp::SaConfig c;
        ASSERT_TRUE(c.set_keymat([&] { Bytes km = key; km.insert(km.end(), iv.begin(), iv.begin() + 4); return km; }().data(),
                                 key.size() + 4));
        auto sa = esp::Sa::create(c);
        ASSERT_EQ(Bytes(sa->salt(), sa->salt() + 4), Bytes(iv.begin(), iv.begin() + 4)) << "RFC 4106 salt split";
        Bytes out(plain.size() + 1), tag(16);
        struct gcm_context_data ctx;
        if (key.size() == 32)
            IMB_AES256_GCM_ENC(mgr, &sa->gcm_key(), &ctx, out.data(), plain.data(), plain.size(), iv.data(),
                               aad.data(), aad.size(), tag.data(), 16);
        else
            IMB_AES128_GCM_ENC(mgr, &sa->gcm_key(), &ctx, out.data(), plain.data(), plain.size(), iv.data(),
                               aad.data(), aad.size(), tag.data(), 16);
        out.resize(plain.size());
        EXPECT_EQ(to_hex(out.data(), out.size()), v.cipher);
        EXPECT_EQ(to_hex(tag.data(), 16), v.tag);
    }
    free_mb_mgr(mgr);
}
