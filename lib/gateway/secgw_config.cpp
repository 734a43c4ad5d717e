#include "gateway/secgw_config.hpp"

#include <sys/stat.h>

#include "gateway/config_lines.hpp"
#include "gateway/sa_keying.hpp"
#include "gateway/value_parsers.hpp"

namespace ipsecgw::gateway {
namespace {

using Tokens = std::vector<std::string_view>;

class LineCursor {
public:
    explicit LineCursor(const ConfigLine& l) : line_(l) {}
    bool done() const { return i_ >= line_.tokens.size(); }
    std::string_view next() { return line_.tokens[i_++]; }
    std::string_view value(std::string_view keyword)
    {
        if (done())
            fail("'" + std::string(keyword) + "' needs a value");
        return next();
    }
    [[noreturn]] void fail(const std::string& why) const { throw ConfigError(line_.where, why); }
    const SourceLocation& where() const { return line_.where; }
    void skip(size_t n) { i_ += n; }

private:
    const ConfigLine& line_;
    size_t i_ = 0;
};

std::string str(std::string_view s) { return std::string(s); }

void parse_sp(LineCursor& c, GatewayConfig& cfg)
{
    Policy p;
    p.where = c.where();
    c.skip(1);
    auto fam = c.value("sp");
    if (fam == "ipv4")
        p.selector.family = net::Family::V4;
    else if (fam == "ipv6")
        p.selector.family = net::Family::V6;
    else
        c.fail("sp: expected ipv4 or ipv6, got '" + str(fam) + "'");
    auto dir = c.value("sp");
    if (dir == "in")
        p.direction = esp::Direction::Inbound;
    else if (dir == "out")
        p.direction = esp::Direction::Outbound;
    else
        c.fail("sp: expected in or out, got '" + str(dir) + "'");
    bool have_action = false;
    while (!c.done()) {
        auto k = c.next();
        if (k == "esp") {
            continue;
        } else if (k == "protect" || k == "bypass" || k == "discard") {
            if (have_action)
                c.fail("sp: more than one of protect/bypass/discard");
            have_action = true;
            if (k == "protect") {
                p.action = PolicyAction::Protect;
                auto spi = parse_uint(c.value(k), UINT32_MAX);
                if (!spi)
                    c.fail("sp: protect needs an SA index (SPI)");
                p.spi = static_cast<uint32_t>(*spi);
            } else {
                p.action = k == "bypass" ? PolicyAction::Bypass : PolicyAction::Discard;
            }
        } else if (k == "pri") {
            auto v = parse_uint(c.value(k), INT32_MAX);
            if (!v)
                c.fail("sp: bad priority");
            p.priority = static_cast<uint32_t>(*v);
        } else if (k == "src" || k == "dst") {
            auto v = parse_prefix(c.value(k), true);
            if (!v || v->addr.family != p.selector.family)
                c.fail("sp: bad " + str(k) + " prefix for " + str(fam));
            (k == "src" ? p.selector.src : p.selector.dst) = *v;
        } else if (k == "proto") {
            auto v = parse_range(c.value(k), 255);
            if (!v)
                c.fail("sp: proto expects from:to (0..255)");
            p.selector.proto_lo = static_cast<uint16_t>(v->first);
            p.selector.proto_hi = static_cast<uint16_t>(v->second);
        } else if (k == "sport" || k == "dport") {
            auto v = parse_range(c.value(k), 65535);
            if (!v)
                c.fail("sp: " + str(k) + " expects from:to");
            PortRange r{static_cast<uint16_t>(v->first), static_cast<uint16_t>(v->second)};
            (k == "sport" ? p.selector.sport : p.selector.dport) = r;
        } else {
            c.fail("sp: unsupported option '" + str(k) + "'");
        }
    }
    if (!have_action)
        c.fail("sp: missing action (protect SPI, bypass or discard)");
    // An empty prefix means "any" in the model; give it the rule's family.
    if (p.selector.src.len == 0)
        p.selector.src.addr.family = p.selector.family;
    if (p.selector.dst.len == 0)
        p.selector.dst.addr.family = p.selector.family;
    cfg.spd.add(std::move(p));
}

void parse_sa(LineCursor& c, GatewayConfig& cfg, const SecgwOptions& opts, std::vector<std::string>* warnings)
{
    SaEntry e;
    e.where = c.where();
    e.sa.replay_window = opts.replay_window;
    e.sa.esn = opts.esn;
    c.skip(1);
    auto dir = c.value("sa");
    if (dir == "in")
        e.sa.direction = esp::Direction::Inbound;
    else if (dir == "out")
        e.sa.direction = esp::Direction::Outbound;
    else
        c.fail("sa: expected in or out, got '" + str(dir) + "'");
    auto spi = parse_uint(c.value("sa"), UINT32_MAX);
    if (!spi || *spi == 0)
        c.fail("sa: bad SPI");
    e.sa.spi = static_cast<uint32_t>(*spi);
    e.name = std::string(dir) + "-" + std::to_string(e.sa.spi);
    bool have_algo = false, have_mode = false;
    net::Family tunnel_family = net::Family::None;
    std::vector<uint8_t> keymat;
    keymat.reserve(64);
    try {
        while (!c.done()) {
            auto k = c.next();
            if (k == "aead_algo") {
                auto a = c.value(k);
                if (a == "aes-128-gcm")
                    e.sa.aead = esp::Aead::AesGcm128;
                else if (a == "aes-256-gcm")
                    e.sa.aead = esp::Aead::AesGcm256;
                else
                    c.fail("sa: unsupported aead_algo '" + str(a) + "' (supported: aes-128-gcm, aes-256-gcm)");
                if (c.done() || c.next() != "aead_key")
                    c.fail("sa: aead_algo must be followed by aead_key");
                if (!parse_key_bytes(c.value("aead_key"), keymat))
                    c.fail("sa: malformed aead_key");
                have_algo = true;
            } else if (k == "cipher_algo" || k == "auth_algo") {
                c.fail("sa: unsupported " + str(k) + " (ipsecgw supports aead_algo aes-128-gcm and aes-256-gcm)");
            } else if (k == "mode") {
                auto m = c.value(k);
                if (m == "ipv4-tunnel")
                    e.sa.mode = esp::Mode::Tunnel, tunnel_family = net::Family::V4;
                else if (m == "ipv6-tunnel")
                    e.sa.mode = esp::Mode::Tunnel, tunnel_family = net::Family::V6;
                else if (m == "transport")
                    e.sa.mode = esp::Mode::Transport;
                else
                    c.fail("sa: unsupported mode '" + str(m) + "'");
                have_mode = true;
            } else if (k == "src" || k == "dst") {
                auto a = net::IpAddress::parse(c.value(k));
                if (!a)
                    c.fail("sa: bad " + str(k) + " address");
                (k == "src" ? e.sa.tunnel_src : e.sa.tunnel_dst) = *a;
            } else if (k == "type") {
                auto t = c.value(k);
                if (t != "no-offload" && t != "cpu-crypto" && t != "lookaside-none")
                    c.fail("sa: unsupported type '" + str(t) +
                           "' (ipsecgw runs ESP in software: no-offload, cpu-crypto, lookaside-none)");
            } else if (k == "port_id") {
                c.value(k);
                if (warnings)
                    warnings->push_back(e.where.to_string() + ": sa: port_id ignored (no inline offload)");
            } else if (k == "telemetry") {
                // Per-SA counters are always kept.
            } else if (k == "esn") {
                e.sa.esn = true;
            } else {
                c.fail("sa: unsupported option '" + str(k) + "'");
            }
        }
        if (!have_algo)
            c.fail("sa: missing aead_algo/aead_key");
        if (!have_mode)
            c.fail("sa: missing mode");
        if (e.sa.mode == esp::Mode::Tunnel &&
            (e.sa.tunnel_src.family != tunnel_family || e.sa.tunnel_dst.family != tunnel_family))
            c.fail("sa: tunnel mode needs src and dst of the tunnel's address family");
        if (!apply_keymat(e.sa, keymat))
            c.fail("sa: aead_key must be " + std::to_string(esp::key_bytes(e.sa.aead) + 4) +
                   " bytes (key and 4-byte salt)");
        wipe_bytes(keymat);
    } catch (...) {
        wipe_bytes(keymat);
        e.sa.key.fill(0);
        e.sa.salt.fill(0);
        throw;
    }
    cfg.sas.push_back(std::move(e));
}

void parse_rt(LineCursor& c, GatewayConfig& cfg)
{
    Route r;
    r.where = c.where();
    c.skip(1);
    auto fam = c.value("rt");
    if (fam != "ipv4" && fam != "ipv6")
        c.fail("rt: expected ipv4 or ipv6, got '" + str(fam) + "'");
    bool have_dst = false, have_port = false;
    while (!c.done()) {
        auto k = c.next();
        if (k == "dst") {
            auto p = parse_prefix(c.value(k), true);
            if (!p || (p->addr.is_v4() != (fam == "ipv4")))
                c.fail("rt: bad dst prefix for " + str(fam));
            r.prefix = *p;
            have_dst = true;
        } else if (k == "port") {
            auto v = parse_uint(c.value(k), 65535);
            if (!v)
                c.fail("rt: bad port");
            r.port = static_cast<uint16_t>(*v);
            have_port = true;
        } else {
            c.fail("rt: unsupported option '" + str(k) + "'");
        }
    }
    if (!have_dst || !have_port)
        c.fail("rt: needs dst and port");
    cfg.routes.add(std::move(r));
}

void parse_neigh(LineCursor& c, GatewayConfig& cfg)
{
    Neighbour n;
    n.where = c.where();
    c.skip(1);
    if (c.done() || c.next() != "port")
        c.fail("neigh: expected 'neigh port N MAC'");
    auto v = parse_uint(c.value("port"), 65535);
    if (!v)
        c.fail("neigh: bad port");
    n.port = static_cast<uint16_t>(*v);
    auto mac = parse_mac(c.value("neigh"));
    if (!mac)
        c.fail("neigh: bad MAC address");
    n.mac = *mac;
    if (!c.done())
        c.fail("neigh: unexpected '" + str(c.next()) + "'");
    cfg.neighbours.add(std::move(n));
}

}  // namespace

GatewayConfig parse_secgw_config(const std::string& file_name, std::string text, const SecgwOptions& opts,
                                 std::vector<std::string>* warnings)
{
    ConfigLines lines(file_name, std::move(text));
    GatewayConfig cfg;
    for (const auto& l : lines.lines()) {
        LineCursor c(l);
        auto kw = l.tokens[0];
        if (kw == "sp")
            parse_sp(c, cfg);
        else if (kw == "sa")
            parse_sa(c, cfg, opts, warnings);
        else if (kw == "rt")
            parse_rt(c, cfg);
        else if (kw == "neigh")
            parse_neigh(c, cfg);
        else if (kw == "flow")
            c.fail("flow rules (hardware flow steering) are not supported");
        else
            c.fail("unknown line type '" + str(kw) + "' (expected sp, sa, rt or neigh)");
    }
    cfg.validate();
    return cfg;
}

GatewayConfig load_secgw_config(const std::string& path, const SecgwOptions& opts,
                                std::vector<std::string>* warnings)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) && warnings)
        warnings->push_back(path + ": holds keys but is world-readable (chmod o-r)");
    return parse_secgw_config(path, read_config_file(path), opts, warnings);
}

}  // namespace ipsecgw::gateway
