// conn / ike-secrets / ike-cookie-threshold lines in the native configuration.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "gateway/native_config.hpp"

using namespace ipsecgw;
using namespace ipsecgw::gateway;

namespace {

class ConnConfigTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        char tmpl[] = "/tmp/connconfXXXXXX";
        ASSERT_NE(mkdtemp(tmpl), nullptr);
        dir = tmpl;
        write("ike.secrets", "# test\npsk net \"interop-test-psk-0123456789\"\n", 0600);
        write("hex.secrets", "psk hex 0x0102030405060708\n", 0600);
    }
    void TearDown() override
    {
        for (const char* f : {"ike.secrets", "hex.secrets", "open.secrets", "gw.conf"})
            std::remove((dir + "/" + f).c_str());
        rmdir(dir.c_str());
    }
    void write(const std::string& name, const std::string& text, mode_t mode)
    {
        std::ofstream(dir + "/" + name) << text;
        chmod((dir + "/" + name).c_str(), mode);
    }
    GatewayConfig parse(const std::string& text) { return parse_native_config("gw.conf", text, dir, false); }
    std::string error(const std::string& text)
    {
        try {
            parse(text);
        } catch (const ConfigError& e) {
            return e.what();
        }
        return "(accepted)";
    }

    std::string dir;
    const std::string net_conn =
        "conn net local 10.99.0.2 remote 10.99.0.1 local-id gw-b.test remote-id fqdn:gw-a.test auth psk \\\n"
        "  ike aes128gcm16-prfsha256-ecp256,aes128gcm16-prfsha256-modp2048 esp aes128gcm16 \\\n"
        "  local-ts 192.168.20.0/24 remote-ts 192.168.10.0/24\n";
};

}  // namespace

TEST_F(ConnConfigTest, InteropResponderConnection)
{
    auto cfg = parse("ike-secrets ike.secrets\nike-cookie-threshold 10\n" + net_conn);
    ASSERT_EQ(cfg.ike.connections.size(), 1u);
    EXPECT_EQ(cfg.ike.cookie_threshold, 10u);
    const auto& c = cfg.ike.connections[0];
    EXPECT_EQ(c.name, "net");
    EXPECT_EQ(c.local.to_string(), "10.99.0.2");
    EXPECT_EQ(c.remote->to_string(), "10.99.0.1");
    EXPECT_EQ(c.local_id.type, ike::IdType::Fqdn);
    EXPECT_EQ(c.local_id.data, ike::to_bytes("gw-b.test"));
    EXPECT_EQ(c.remote_id.data, ike::to_bytes("gw-a.test"));
    EXPECT_EQ(std::string(c.psk.begin(), c.psk.end()), "interop-test-psk-0123456789");
    ASSERT_EQ(c.ike_suites.size(), 2u);
    EXPECT_EQ(c.ike_suites[0].encr, ike::EncrId::AesGcm16);
    EXPECT_EQ(c.ike_suites[0].encr_key_bits, 128);
    EXPECT_EQ(c.ike_suites[0].prf, ike::PrfId::HmacSha2_256);
    EXPECT_EQ(c.ike_suites[0].dh, ike::DhId::Ecp256);
    EXPECT_EQ(c.ike_suites[1].dh, ike::DhId::Modp2048);
    ASSERT_EQ(c.esp_suites.size(), 1u);
    EXPECT_EQ(c.esp_suites[0].dh, ike::DhId::None);
    EXPECT_EQ(c.local_ts.at(0).to_string(), "192.168.20.0/24");
    EXPECT_EQ(c.start, ConnStart::None);
    EXPECT_EQ(c.where.line, 3u);
    auto peer = make_peer_config(c);
    EXPECT_EQ(peer.psk.size(), 27u);
    EXPECT_EQ(peer.child.local_ts.at(0).start_addr, (ike::Bytes{192, 168, 20, 0}));
    EXPECT_EQ(peer.child.local_ts.at(0).end_addr, (ike::Bytes{192, 168, 20, 255}));
    EXPECT_EQ(peer.ike_lifetime.lifetime, std::chrono::hours(4));
    EXPECT_EQ(suite_text(c.ike_suites[1], false), "aes128gcm16-prfsha256-modp2048");
}

TEST_F(ConnConfigTest, OptionsAndDefaults)
{
    auto cfg = parse(
        "ike-secrets hex.secrets\n"
        "conn hex local 2001:db8::1 remote any auth psk ike aes256-sha384-x25519 esp aes256gcm16-ecp384-esn "
        "local-ts 10.1.0.0/16,2001:db8:1::/48 remote-ts 10.2.0.0/16,2001:db8:2::/48 mode tunnel start none "
        "dpd 30 ike-lifetime 7200 ike-rekey-margin 300 child-lifetime 1800 child-rekey-margin 120 "
        "child-life-bytes 1000000 child-life-packets 5000 replay-window 64\n");
    const auto& c = cfg.ike.connections.at(0);
    EXPECT_FALSE(c.remote);
    EXPECT_EQ(c.local_id.type, ike::IdType::Ipv6Addr);  // default: the local address
    EXPECT_TRUE(c.remote_id.data.empty());
    EXPECT_EQ(c.ike_suites.at(0).encr, ike::EncrId::AesCbc);
    EXPECT_EQ(c.ike_suites.at(0).integ, ike::IntegId::HmacSha2_384_192);
    EXPECT_EQ(c.ike_suites.at(0).prf, ike::PrfId::HmacSha2_384);  // from the integrity algorithm
    EXPECT_EQ(c.ike_suites.at(0).dh, ike::DhId::Curve25519);
    EXPECT_EQ(c.esp_suites.at(0).dh, ike::DhId::Ecp384);
    EXPECT_TRUE(c.esp_suites.at(0).esn);
    EXPECT_EQ(c.psk, (ike::SecretBytes{1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_EQ(c.dpd_seconds, 30u);
    EXPECT_EQ(c.child_life_packets, 5000u);
    EXPECT_EQ(c.replay_window, 64u);
    EXPECT_EQ(make_peer_config(c).liveness_interval, std::chrono::seconds(30));
}

TEST_F(ConnConfigTest, Identities)
{
    EXPECT_EQ(parse_ike_id("gw.test")->type, ike::IdType::Fqdn);
    EXPECT_EQ(parse_ike_id("a@b.test")->type, ike::IdType::Rfc822Addr);
    EXPECT_EQ(parse_ike_id("email:a@b.test")->data, ike::to_bytes("a@b.test"));
    EXPECT_EQ(parse_ike_id("192.0.2.1")->type, ike::IdType::Ipv4Addr);
    EXPECT_EQ(parse_ike_id("ipv6:2001:db8::1")->data.size(), 16u);
    EXPECT_EQ(parse_ike_id("dn:C=CH, O=Test, CN=gw")->type, ike::IdType::DerAsn1Dn);
    EXPECT_FALSE(parse_ike_id("ipv4:2001:db8::1"));
    EXPECT_FALSE(parse_ike_id("dn:nonsense"));
    EXPECT_FALSE(parse_ike_id("xyz:foo"));
}

TEST_F(ConnConfigTest, EachErrorNamesItsLine)
{
    const std::string s = "ike-secrets ike.secrets\n";
    auto with = [&](const std::string& from, const std::string& to) {
        std::string t = net_conn;
        auto p = t.find(from);
        EXPECT_NE(p, std::string::npos) << from;
        return s + t.replace(p, from.size(), to);
    };
    EXPECT_NE(error(with("esp aes128gcm16", "esp aes128-sha256")).find("gw.conf:2: conn: esp: ESP algorithm"),
              std::string::npos);
    EXPECT_NE(error(with("esp aes128gcm16", "esp chacha20poly1305")).find("unknown algorithm"), std::string::npos);
    EXPECT_NE(error(with("-ecp256,", "-ecp999,")).find("unknown algorithm 'ecp999'"), std::string::npos);
    EXPECT_NE(error(with("aes128gcm16-prfsha256-ecp256,", "aes128gcm16-ecp256,")).find("needs a PRF"),
              std::string::npos);
    EXPECT_NE(error(with("remote 10.99.0.1", "remote 2001:db8::1")).find("different address families"),
              std::string::npos);
    EXPECT_NE(error(with("remote-ts 192.168.10.0/24", "remote-ts 2001:db8::/32")).find("same address families"),
              std::string::npos);
    EXPECT_NE(error(with("local-ts 192.168.20.0/24", "local-ts 192.168.20.1/24")).find("host bits"),
              std::string::npos);
    EXPECT_NE(error(with("auth psk", "auth eap")).find("auth must be"), std::string::npos);
    EXPECT_NE(error(with("remote 10.99.0.1", "remote any start trap")).find("needs a remote"), std::string::npos);
    EXPECT_NE(error(with("remote 10.99.0.1", "remote any start initiate")).find("needs a remote"),
              std::string::npos);
    EXPECT_NE(error(with("auth psk", "auth psk colour blue")).find("unknown option 'colour'"), std::string::npos);
    EXPECT_NE(error(with("192.168.10.0/24\n", "192.168.10.0/24 dpd\n")).find("'dpd' needs a value"), std::string::npos);
    EXPECT_NE(error(with("auth psk", "auth psk child-lifetime 100 child-rekey-margin 100")).find("rekey margin"),
              std::string::npos);
    EXPECT_NE(error(with("local-id gw-b.test", "local-id bogus:x")).find("bad local-id"), std::string::npos);
    EXPECT_NE(error(with("auth psk", "auth psk cert a.pem")).find("belong to auth pubkey"), std::string::npos);
    EXPECT_NE(error(with("auth psk", "auth pubkey")).find("needs cert FILE key FILE ca"), std::string::npos);
    EXPECT_NE(error(s + net_conn + net_conn).find("gw.conf:5: conn: connection 'net' already defined at gw.conf:2"),
              std::string::npos);
    // Same peer, another name: the second would never be chosen.
    std::string other = net_conn;
    other.replace(other.find("conn net"), 8, "conn hex");
    EXPECT_NE(error(s + net_conn + other).find("overlaps conn net"), std::string::npos);
}

TEST_F(ConnConfigTest, SecretsFileErrors)
{
    EXPECT_NE(error(net_conn).find("auth psk but no psk for it (no ike-secrets file configured)"), std::string::npos);
    write("open.secrets", "psk net \"x\"\n", 0644);
    EXPECT_NE(error("ike-secrets open.secrets\n" + net_conn).find("readable by group or others"), std::string::npos);
    auto secrets_error = [&](const std::string& text) {
        try {
            parse_ike_secrets("s", text);
        } catch (const ConfigError& e) {
            return std::string(e.what());
        }
        return std::string("(accepted)");
    };
    EXPECT_EQ(secrets_error("psk net \"unterminated\n"), "s:1: psk: missing closing '\"'");
    EXPECT_EQ(secrets_error("\n# c\npsk net 0xzz\n"), "s:3: psk: malformed hex secret");
    EXPECT_EQ(secrets_error("key net \"x\"\n"), "s:1: expected 'psk CONN \"secret\"' or 'psk CONN 0xHEX'");
    EXPECT_EQ(secrets_error("psk net plain\n"), "s:1: psk: the secret is \"a string\" or 0xHEX");
    EXPECT_EQ(secrets_error("psk net \"a\"\npsk net \"b\"\n"), "s:2: psk for 'net' given twice");
    EXPECT_EQ(secrets_error("psk net \"a\" extra\n"), "s:1: psk: unexpected text after the secret");
    EXPECT_EQ(secrets_error("psk net \"\"\n"), "s:1: psk: empty secret");
    auto ok = parse_ike_secrets("s", "psk a \"with \\\"quote\\\" and space\" # comment\n");
    EXPECT_EQ(std::string(ok.at(0).secret.begin(), ok.at(0).secret.end()), "with \"quote\" and space");
    write("open.secrets", "psk nobody \"x\"\n", 0600);
    EXPECT_NE(error("ike-secrets open.secrets\n" + net_conn).find("open.secrets:1: psk for unknown connection 'nobody'"),
              std::string::npos);
}

TEST_F(ConnConfigTest, ReloadComparisonIgnoresLineNumbers)
{
    auto a = parse("ike-secrets ike.secrets\n" + net_conn);
    auto b = parse("ike-secrets ike.secrets\n\n# moved\n" + net_conn);
    EXPECT_TRUE(a.ike == b.ike);
    auto c = parse("ike-secrets ike.secrets\n" + net_conn.substr(0, net_conn.size() - 1) + " dpd 30\n");
    EXPECT_FALSE(a.ike == c.ike);
}
