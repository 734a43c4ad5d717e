// OpenSSL EVP AES-GCM as an oracle: for random keys, salts, sequence numbers
// and payload sizes 0-9000 B, both key sizes, with and without ESN, our ESP
// ciphertext and ICV equal OpenSSL's, and our decryption accepts packets whose
// ESP part OpenSSL built.
#include <gtest/gtest.h>

#include <random>

#include "esp/esp_engine.hpp"
#include "openssl_esp.hpp"

using namespace ipsecgw;
using namespace ipsecgw::esp;
using namespace ipsecgw::test;

namespace {

constexpr int kRounds = 400;

SaConfig random_config(std::mt19937_64& rng, Direction dir)
{
    SaConfig c = sa_config(uint32_t(rng()) | 0x100, dir, rng() % 2 ? Mode::Tunnel : Mode::Transport, rng() % 2);
    for (auto& k : c.key)
        k = uint8_t(rng());
    for (auto& s : c.salt)
        s = uint8_t(rng());
    c.esn = rng() % 2;
    c.replay_window = 0;  // random sequence numbers: replay is tested elsewhere
    return c;
}

size_t random_size(std::mt19937_64& rng)
{
    // Mostly small (where padding varies), some up to jumbo.
    return rng() % 3 ? rng() % 200 : rng() % (9000 - 28 + 1);
}

class OracleTest : public ::testing::TestWithParam<CryptoPath> {};

}  // namespace

TEST_P(OracleTest, OurCiphertextEqualsOpenSsls)
{
    std::mt19937_64 rng(1234);
    EspEngine engine(GetParam());
    for (int round = 0; round < kRounds; ++round) {
        SaConfig c = random_config(rng, Direction::Outbound);
        uint64_t seq = c.esn ? rng() >> 1 : uint32_t(rng()) >> 1;
        c.initial_seq = seq - 1;
        if (seq == 0)
            continue;
        auto sa = Sa::create(c);
        Bytes inner = ipv4_udp("10.1.2.3", "10.4.5.6", random_size(rng));
        Buffer b(inner, 128, 128);
        Status st;
        Sa* s = sa.get();
        engine.encrypt_burst(&b.pkt, &s, 1, &st);
        ASSERT_EQ(st, Status::Ok);

        // What OpenSSL makes of the same plaintext, nonce and AAD.
        uint32_t keep = c.mode == Mode::Transport ? 20 : 0;
        uint32_t outer = c.mode == Mode::Tunnel ? 20 : 0;
        Bytes payload(inner.begin() + keep, inner.end());
        Bytes plain = with_trailer(payload, c.mode == Mode::Tunnel ? 4 : 17);
        uint8_t iv8[8];
        for (int i = 0; i < 8; ++i)
            iv8[i] = uint8_t(seq >> (56 - 8 * i));
        Bytes expect = openssl_esp_body(c, seq, iv8, plain);
        Bytes got(b.pkt.data + outer + keep, b.pkt.data + b.pkt.len);
        ASSERT_EQ(got.size(), expect.size()) << "round " << round;
        ASSERT_EQ(to_hex(got.data(), got.size()), to_hex(expect.data(), expect.size())) << "round " << round;
    }
}

TEST_P(OracleTest, WeDecryptWhatOpenSslEncrypts)
{
    std::mt19937_64 rng(5678);
    EspEngine engine(GetParam());
    for (int round = 0; round < kRounds; ++round) {
        SaConfig c = random_config(rng, Direction::Inbound);
        c.mode = Mode::Tunnel;
        uint64_t seq = (c.esn ? rng() >> 34 : uint32_t(rng()) >> 1) + 1;
        auto sa = Sa::create(c);
        // Place the receiver's window so the ESN high bits are inferred right.
        uint64_t full;
        if (seq > 1 && sa->replay().check(uint32_t(seq - 1), &full) == ReplayVerdict::Ok && full == seq - 1)
            sa->replay().accept(full);
        bool v6 = rng() % 2;
        Bytes inner = v6 ? ipv6_udp("fd00::1", "fd00::2", random_size(rng)) : ipv4_udp("10.1.2.3", "10.4.5.6", random_size(rng));
        uint8_t iv8[8];
        for (auto& x : iv8)
            x = uint8_t(rng());  // a random explicit IV is legal for the sender
        Bytes body = openssl_esp_body(c, seq, iv8, with_trailer(inner, v6 ? 41 : 4));
        Bytes pkt = ipv4_esp("198.51.100.2", "192.0.2.1", body);
        Buffer b(pkt);
        Status st;
        Sa* s = sa.get();
        uint64_t got_seq = 0;
        engine.decrypt_burst(&b.pkt, &s, 1, &st, &got_seq);
        ASSERT_EQ(st, Status::Ok) << "round " << round << " seq " << seq << " " << status_name(st);
        EXPECT_EQ(got_seq, seq);
        ASSERT_EQ(b.bytes(), inner) << "round " << round;
    }
}

TEST_P(OracleTest, OpenSslDecryptsWhatWeEncrypt)
{
    std::mt19937_64 rng(91011);
    EspEngine engine(GetParam());
    for (int round = 0; round < kRounds; ++round) {
        SaConfig c = random_config(rng, Direction::Outbound);
        c.mode = Mode::Tunnel;
        auto sa = Sa::create(c);
        Bytes inner = ipv4_udp("10.1.2.3", "10.4.5.6", random_size(rng));
        Buffer b(inner);
        Status st;
        Sa* s = sa.get();
        engine.encrypt_burst(&b.pkt, &s, 1, &st);
        ASSERT_EQ(st, Status::Ok);
        const uint8_t* esp = b.pkt.data + 20;
        uint8_t nonce[12];
        std::memcpy(nonce, c.salt.data(), 4);
        std::memcpy(nonce + 4, esp + 8, 8);
        Bytes plain;
        ASSERT_TRUE(openssl_gcm_decrypt(c.key.data(), key_bytes(c.aead), nonce, esp_aad(c.spi, 1, c.esn), esp + 16,
                                        b.pkt.len - 20 - 16, &plain));
        // The trailer: pad bytes 1, 2, 3 ..., pad length, next header 4, 4-byte aligned.
        ASSERT_GE(plain.size(), 2u);
        EXPECT_EQ(plain.size() % 4, 0u);
        uint8_t pad = plain[plain.size() - 2];
        EXPECT_LE(pad, 3);
        EXPECT_EQ(plain.back(), 4);
        for (uint8_t i = 0; i < pad; ++i)
            EXPECT_EQ(plain[inner.size() + i], i + 1);
        EXPECT_EQ(Bytes(plain.begin(), plain.begin() + long(inner.size())), inner);
    }
}

INSTANTIATE_TEST_SUITE_P(Paths, OracleTest, ::testing::Values(CryptoPath::Direct, CryptoPath::JobApi),
                         [](const auto& info) { return info.param == CryptoPath::Direct ? "direct" : "job_api"; });
