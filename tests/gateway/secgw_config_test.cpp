// ipsec-secgw cfg lines: the sample files parse, every supported option maps
// onto the model, unsupported ones fail naming file and line.
#include <gtest/gtest.h>

#include "gateway/secgw_config.hpp"

using namespace ipsecgw;
using namespace ipsecgw::gateway;

namespace {

const char* kBenchCfg = R"(
sp ipv4 out esp protect 5 pri 1 dst 192.168.105.0/24 sport 0:65535 dport 0:65535
sp ipv4 in esp protect 105 pri 1 dst 192.168.115.0/24 sport 0:65535 dport 0:65535
sa out 5 aead_algo aes-128-gcm aead_key 2b:7e:15:16:28:ae:d2:a6:ab:f7:15:88:09:cf:4f:3c:de:ad:be:ef mode ipv4-tunnel src 172.16.1.5 dst 172.16.2.5 type cpu-crypto
sa in 105 aead_algo aes-128-gcm aead_key 2b:7e:15:16:28:ae:d2:a6:ab:f7:15:88:09:cf:4f:3c:de:ad:be:ef mode ipv4-tunnel src 172.16.2.5 dst 172.16.1.5 type cpu-crypto
rt ipv4 dst 172.16.2.5/32 port 1
rt ipv4 dst 192.168.115.0/24 port 0
neigh port 0 02:00:00:00:00:10
neigh port 1 02:00:00:00:00:11
)";

std::string error_of(const std::string& text, SecgwOptions o = {})
{
    try {
        parse_secgw_config("t.cfg", text, o);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST(SecgwConfig, BenchmarkFileParses)
{
    SecgwOptions o;
    o.replay_window = 64;
    auto cfg = parse_secgw_config("gw.cfg", kBenchCfg, o);
    ASSERT_EQ(cfg.sas.size(), 2u);
    const auto& out = cfg.sas[0].sa;
    EXPECT_EQ(out.spi, 5u);
    EXPECT_EQ(out.direction, esp::Direction::Outbound);
    EXPECT_EQ(out.aead, esp::Aead::AesGcm128);
    EXPECT_EQ(out.key[0], 0x2b);
    EXPECT_EQ(out.key[15], 0x3c);
    EXPECT_EQ(out.salt[0], 0xde);
    EXPECT_EQ(out.salt[3], 0xef);
    EXPECT_EQ(out.tunnel_src.to_string(), "172.16.1.5");
    EXPECT_EQ(out.tunnel_dst.to_string(), "172.16.2.5");
    EXPECT_EQ(out.replay_window, 64u);
    EXPECT_EQ(cfg.spd.policies().size(), 2u);
    EXPECT_EQ(cfg.spd.policies()[1].direction, esp::Direction::Inbound);
    EXPECT_EQ(cfg.spd.policies()[1].spi, 105u);
    EXPECT_EQ(cfg.routes.routes().size(), 2u);
    EXPECT_EQ(cfg.neighbours.entries().size(), 2u);
    auto local = cfg.local_addresses();
    ASSERT_EQ(local.size(), 1u);
    EXPECT_EQ(local[0].to_string(), "172.16.1.5");
}

TEST(SecgwConfig, ContinuationJoinsWithoutSpace)
{
    auto cfg = parse_secgw_config("t.cfg",
                                  "sa out 7 aead_algo aes-256-gcm aead_key 01:02:03:04:05:06:07:08:09:0a:0b:0c:0d:0e:0f:10:\\\n"
                                  "11:12:13:14:15:16:17:18:19:1a:1b:1c:1d:1e:1f:20:aa:bb:cc:dd mode transport\n"
                                  "sp ipv6 out esp protect 7 pri 2 dst 0000:0000:0000:0000:5555:5555:0000:0000/96 \\\n"
                                  "sport 0:65535 dport 10:20\n",
                                  {});
    ASSERT_EQ(cfg.sas.size(), 1u);
    EXPECT_EQ(cfg.sas[0].sa.aead, esp::Aead::AesGcm256);
    EXPECT_EQ(cfg.sas[0].sa.key[31], 0x20);
    EXPECT_EQ(cfg.sas[0].sa.salt[3], 0xdd);
    EXPECT_EQ(cfg.sas[0].sa.mode, esp::Mode::Transport);
    const auto& p = cfg.spd.policies()[0];
    EXPECT_EQ(p.selector.family, net::Family::V6);
    EXPECT_EQ(p.selector.dst.len, 96);
    EXPECT_EQ(p.selector.dport.lo, 10);
    EXPECT_EQ(p.selector.dport.hi, 20);
}

TEST(SecgwConfig, EsnOptionAppliesToAllSas)
{
    SecgwOptions o;
    o.esn = true;
    auto cfg = parse_secgw_config("gw.cfg", kBenchCfg, o);
    for (const auto& s : cfg.sas)
        EXPECT_TRUE(s.sa.esn);
}

TEST(SecgwConfig, UnsupportedAlgorithmNamesLine)
{
    auto e = error_of("# comment\n\nsa out 5 cipher_algo aes-128-cbc cipher_key 00:01 auth_algo sha1-hmac mode transport\n");
    EXPECT_NE(e.find("t.cfg:3:"), std::string::npos) << e;
    EXPECT_NE(e.find("cipher_algo"), std::string::npos) << e;
}

TEST(SecgwConfig, Errors)
{
    EXPECT_NE(error_of("sa out 5 aead_algo aes-128-gcm aead_key 01:02 mode transport\n").find("20 bytes"),
              std::string::npos);
    EXPECT_NE(error_of("sa out 5 aead_algo aes-128-gcm aead_key 0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0 mode "
                       "ipv4-tunnel src 1.1.1.1 dst 2.2.2.2 type inline-crypto-offload\n")
                  .find("type"),
              std::string::npos);
    EXPECT_NE(error_of("sa out 5 aead_algo aes-128-gcm aead_key 0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0 mode "
                       "transport udp-encap\n")
                  .find("udp-encap"),
              std::string::npos);
    EXPECT_NE(error_of("sp ipv4 out esp protect 9 pri 1\n").find("no outbound SA"), std::string::npos);
    EXPECT_NE(error_of("sp ipv4 out esp pri 1\n").find("missing action"), std::string::npos);
    EXPECT_NE(error_of("sp ipv4 out esp bypass queue 3\n").find("queue"), std::string::npos);
    EXPECT_NE(error_of("flow ipv4 port 0\n").find("flow"), std::string::npos);
    EXPECT_NE(error_of("bogus\n").find("t.cfg:1: unknown line type 'bogus'"), std::string::npos);
    EXPECT_NE(error_of("rt ipv4 dst 10.0.0.0/8\n").find("needs dst and port"), std::string::npos);
    EXPECT_NE(error_of("neigh port 0 02:00:00:00:00\n").find("MAC"), std::string::npos);
    EXPECT_NE(error_of("sp ipv4 out esp bypass dst 2001:db8::/32\n").find("prefix"), std::string::npos);
}

TEST(SecgwConfig, SampleFilesFailOnlyOnUnsupportedAlgorithms)
{
    // The DPDK samples use CBC/HMAC SAs, which ipsecgw does not implement: the
    // first such line must be the error, with its line number.
    for (const char* f : {"/usr/share/dpdk/examples/ipsec-secgw/ep0.cfg", "/usr/share/dpdk/examples/ipsec-secgw/ep1.cfg"}) {
        try {
            load_secgw_config(f, {});
            ADD_FAILURE() << f << " parsed although it has CBC SAs";
        } catch (const ConfigError& e) {
            EXPECT_NE(std::string(e.what()).find("cipher_algo"), std::string::npos) << e.what();
            EXPECT_GT(e.where().line, 0u);
        }
    }
}
