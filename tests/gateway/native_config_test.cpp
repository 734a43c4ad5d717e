// The native configuration format: every statement, keys inline or from a key
// file, permissions, and errors that name the file and line.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "gateway/native_config.hpp"

using namespace ipsecgw;
using namespace ipsecgw::gateway;

namespace {

const char* kKey128 = "000102030405060708090a0b0c0d0e0fcafebabe";

std::string site_a()
{
    return std::string(R"(# site A
port 0 protected
port 1 unprotected address 172.16.1.5 address 2001:db8:1::5
default-policy discard
sa to-b out spi 0x1001 aead aes128gcm16 key )") + kKey128 + R"( mode tunnel local 172.16.1.5 remote 172.16.2.5 \
   lifetime-packets 1000:2000 lifetime-seconds 60:120
sa from-b in spi 0x2001 aead aes128gcm16 key )" + kKey128 + R"( mode tunnel local 172.16.1.5 remote 172.16.2.5 replay-window 128 esn
policy out-b out priority 10 src 10.1.0.0/16 dst 10.2.0.0/16 protect to-b
policy in-b in priority 10 src 10.2.0.0/16 dst 10.1.0.0/16 protect from-b
policy dns out priority 20 dst 10.2.0.53/32 proto udp dport 53 bypass
policy ping in priority 5 proto icmp discard
route 10.1.0.0/16 port 0 via 10.1.0.1
route 172.16.2.0/24 port 1
neighbour 10.1.0.1 port 0 mac 02:00:00:00:01:01
neighbour default port 1 mac 02:00:00:00:02:02
)";
}

std::string error_of(const std::string& text, bool world_readable = false)
{
    try {
        parse_native_config("n.conf", text, ".", world_readable);
    } catch (const ConfigError& e) {
        return e.what();
    }
    return "";
}

struct TempDir {
    std::string path;
    TempDir()
    {
        char tmpl[] = "/tmp/gwcfgXXXXXX";
        path = mkdtemp(tmpl);
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
    std::string write(const std::string& name, const std::string& text, mode_t mode)
    {
        std::string p = path + "/" + name;
        std::ofstream(p) << text;
        chmod(p.c_str(), mode);
        return p;
    }
};

}  // namespace

TEST(NativeConfig, FullSiteParses)
{
    auto cfg = parse_native_config("a.conf", site_a(), ".", false);
    ASSERT_EQ(cfg.ports.size(), 2u);
    EXPECT_EQ(cfg.ports[1].role, PortRole::Unprotected);
    EXPECT_EQ(cfg.ports[1].addresses.size(), 2u);
    ASSERT_EQ(cfg.sas.size(), 2u);
    EXPECT_EQ(cfg.sas[0].sa.spi, 0x1001u);
    EXPECT_EQ(cfg.sas[0].sa.tunnel_src.to_string(), "172.16.1.5");
    EXPECT_EQ(cfg.sas[0].sa.tunnel_dst.to_string(), "172.16.2.5");
    EXPECT_EQ(cfg.sas[0].lifetime.soft_packets, 1000u);
    EXPECT_EQ(cfg.sas[0].lifetime.hard_seconds, 120u);
    EXPECT_EQ(cfg.sas[0].sa.salt[0], 0xca);
    // Inbound SA: the tunnel runs from remote to local.
    EXPECT_EQ(cfg.sas[1].sa.tunnel_src.to_string(), "172.16.2.5");
    EXPECT_EQ(cfg.sas[1].sa.tunnel_dst.to_string(), "172.16.1.5");
    EXPECT_EQ(cfg.sas[1].sa.replay_window, 128u);
    EXPECT_TRUE(cfg.sas[1].sa.esn);
    // The ICMP policy has no prefixes: one rule per family.
    EXPECT_EQ(cfg.spd.policies().size(), 5u);
    EXPECT_EQ(cfg.spd.policies()[0].spi, 0x1001u);
    EXPECT_EQ(cfg.routes.routes().size(), 2u);
    EXPECT_EQ(cfg.neighbours.resolve(0, *net::IpAddress::parse("10.1.0.1")).value()[5], 0x01);
    EXPECT_EQ(cfg.neighbours.resolve(1, *net::IpAddress::parse("172.16.2.9")).value()[5], 0x02);
}

TEST(NativeConfig, InlineKeyInWorldReadableFileIsRefused)
{
    auto e = error_of(site_a(), true);
    EXPECT_NE(e.find("n.conf:5:"), std::string::npos) << e;
    EXPECT_NE(e.find("world-readable"), std::string::npos) << e;
}

TEST(NativeConfig, KeysFromKeyFile)
{
    TempDir d;
    d.write("keys", std::string("# keys\nk1 ") + kKey128 + "\n", 0600);
    auto conf = d.write("gw.conf",
                        "key-file keys\nsa s out spi 300 aead aes128gcm16 key-ref k1 mode transport\n", 0644);
    auto cfg = load_native_config(conf);
    ASSERT_EQ(cfg.sas.size(), 1u);
    EXPECT_EQ(cfg.sas[0].sa.key[1], 0x01);
    EXPECT_EQ(cfg.sas[0].sa.salt[3], 0xbe);
}

TEST(NativeConfig, WorldReadableKeyFileIsRefused)
{
    TempDir d;
    d.write("keys", std::string("k1 ") + kKey128 + "\n", 0644);
    auto conf = d.write("gw.conf", "key-file keys\nsa s out spi 300 aead aes128gcm16 key-ref k1 mode transport\n", 0600);
    try {
        load_native_config(conf);
        FAIL() << "accepted a world-readable key file";
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("gw.conf:1:"), std::string::npos) << e.what();
    }
}

TEST(NativeConfig, MissingKeyNamed)
{
    TempDir d;
    d.write("keys", std::string("k1 ") + kKey128 + "\n", 0600);
    auto conf = d.write("gw.conf", "key-file keys\nsa s out spi 300 aead aes128gcm16 key-ref k2 mode transport\n", 0600);
    try {
        load_native_config(conf);
        FAIL();
    } catch (const ConfigError& e) {
        EXPECT_NE(std::string(e.what()).find("gw.conf:2: key 'k2' not found"), std::string::npos) << e.what();
    }
}

TEST(NativeConfig, ErrorsCarryLine)
{
    EXPECT_NE(error_of("port 0 protected\nport 0 unprotected\n").find("n.conf:2: port 0 already defined"),
              std::string::npos);
    EXPECT_NE(error_of("policy p out dst 10.0.0.0/8 protect nosuch\n").find("n.conf:1: policy protects with unknown SA"),
              std::string::npos);
    EXPECT_NE(error_of("route 10.0.0.1/8 port 0\n").find("host bits"), std::string::npos);
    EXPECT_NE(error_of(std::string("sa s out spi 300 aead aes128gcm16 key ") + kKey128 + " mode tunnel\n")
                  .find("local and remote"),
              std::string::npos);
    EXPECT_NE(error_of("sa s out spi 300 aead aes128gcm16 key 0011 mode transport\n").find("20 bytes"),
              std::string::npos);
    EXPECT_NE(error_of("sa s out spi 3 aead aes128gcm16 key 0011 mode transport\n").find("reserved"),
              std::string::npos);
    EXPECT_NE(error_of("frobnicate\n").find("n.conf:1: unknown statement 'frobnicate'"), std::string::npos);
    EXPECT_NE(error_of("policy p out src 10.0.0.0/8 dst 2001:db8::/32 bypass\n").find("disagree"), std::string::npos);
    EXPECT_NE(error_of(std::string("sa s out spi 300 aead aes128gcm16 key ") + kKey128 +
                       " mode transport lifetime-packets 10:5\n")
                  .find("lifetime-packets"),
              std::string::npos);
    EXPECT_NE(error_of("port 0 protected\nroute 10.0.0.0/8 port 3\n").find("n.conf:2:"), std::string::npos);
}
