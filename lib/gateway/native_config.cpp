#include "gateway/native_config.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "gateway/config_lines.hpp"
#include "gateway/connection_config.hpp"
#include "gateway/sa_keying.hpp"
#include "gateway/value_parsers.hpp"

namespace ipsecgw::gateway {
namespace {

std::string str(std::string_view s) { return std::string(s); }

class Cursor {
public:
    explicit Cursor(const ConfigLine& l) : l_(l) {}
    bool done() const { return i_ >= l_.tokens.size(); }
    std::string_view next() { return l_.tokens[i_++]; }
    std::string_view value(std::string_view k)
    {
        if (done())
            fail("'" + str(k) + "' needs a value");
        return next();
    }
    uint64_t number(std::string_view k, uint64_t max)
    {
        auto v = parse_uint(value(k), max);
        if (!v)
        {
            std::string msg(k);
            msg.append(" expects a number up to ").append(std::to_string(max));
            fail(msg);
        }
        return *v;
    }
    [[noreturn]] void fail(const std::string& why) const { throw ConfigError(l_.where, why); }
    const SourceLocation& where() const { return l_.where; }

private:
    const ConfigLine& l_;
    size_t i_ = 1;  // after the keyword
};

esp::Direction parse_direction(Cursor& c, std::string_view what)
{
    auto d = c.value(what);
    if (d == "in")
        return esp::Direction::Inbound;
    if (d == "out")
        return esp::Direction::Outbound;
    c.fail(str(what) + ": expected 'in' or 'out', got '" + str(d) + "'");
}

std::optional<uint16_t> protocol_number(std::string_view p)
{
    if (p == "tcp")
        return 6;
    if (p == "udp")
        return 17;
    if (p == "icmp")
        return 1;
    if (p == "icmpv6" || p == "ipv6-icmp")
        return 58;
    if (p == "sctp")
        return 132;
    if (p == "esp")
        return 50;
    if (auto v = parse_uint(p, 255))
        return static_cast<uint16_t>(*v);
    return std::nullopt;
}

void lifetime_pair(Cursor& c, std::string_view k, uint64_t& soft, uint64_t& hard)
{
    auto r = parse_range(c.value(k), UINT64_MAX);
    if (!r)
        c.fail(str(k) + " expects SOFT:HARD (or one number for both)");
    soft = r->first, hard = r->second;
}

struct PendingKeyRef {
    size_t sa_index;
    std::string key_name;
    SourceLocation where;
};
struct PendingProtect {
    size_t policy_index;  // into policies
    std::string sa_name;
};

class NativeParser {
public:
    NativeParser(const std::string& dir, bool world_readable)
        : dir_(dir), world_readable_(world_readable), ike_(dir) {}

    GatewayConfig run(const ConfigLines& lines)
    {
        for (const auto& l : lines.lines()) {
            Cursor c(l);
            auto kw = l.tokens[0];
            if (kw == "port")
                port(c);
            else if (kw == "default-policy")
                default_policy(c);
            else if (kw == "key-file")
                key_file(c);
            else if (kw == "sa")
                sa(c);
            else if (kw == "policy")
                policy(c);
            else if (kw == "route")
                route(c);
            else if (kw == "neighbour" || kw == "neighbor")
                neighbour(c);
            else if (!ike_.statement(l))
                c.fail("unknown statement '" + str(kw) +
                       "' (expected port, default-policy, key-file, sa, policy, route, neighbour, "
                       "conn, ike-secrets or ike-cookie-threshold)");
        }
        resolve_keys();
        cfg_.ike = ike_.finish();
        for (auto& pp : protects_) {
            Policy& p = policies_[pp.policy_index];
            auto it = sa_by_name_.find(pp.sa_name);
            if (it == sa_by_name_.end())
                throw ConfigError(p.where, "policy protects with unknown SA '" + pp.sa_name + "'");
            const SaEntry& s = cfg_.sas[it->second];
            if (s.sa.direction != p.direction)
                throw ConfigError(p.where, "policy direction differs from SA '" + pp.sa_name + "' direction");
            p.spi = s.sa.spi;
        }
        for (auto& p : policies_)
            cfg_.spd.add(std::move(p));
        cfg_.validate();
        return std::move(cfg_);
    }

private:
    void port(Cursor& c)
    {
        PortConfig p;
        p.where = c.where();
        p.id = static_cast<uint16_t>(c.number("port", 65535));
        auto role = c.value("port");
        if (role == "protected")
            p.role = PortRole::Protected;
        else if (role == "unprotected")
            p.role = PortRole::Unprotected;
        else
            c.fail("port: role must be 'protected' or 'unprotected', got '" + str(role) + "'");
        while (!c.done()) {
            auto k = c.next();
            if (k != "address")
                c.fail("port: unexpected '" + str(k) + "'");
            auto a = net::IpAddress::parse(c.value(k));
            if (!a)
                c.fail("port: bad address");
            p.addresses.push_back(*a);
        }
        cfg_.ports.push_back(std::move(p));
    }

    void default_policy(Cursor& c)
    {
        auto v = c.value("default-policy");
        if (v == "discard")
            cfg_.spd.default_action = PolicyAction::Discard;
        else if (v == "bypass")
            cfg_.spd.default_action = PolicyAction::Bypass;
        else
            c.fail("default-policy must be 'discard' or 'bypass'");
        if (!c.done())
            c.fail("default-policy: unexpected '" + str(c.next()) + "'");
    }

    void key_file(Cursor& c)
    {
        if (!key_file_.empty())
            c.fail("key-file given twice");
        std::string p = str(c.value("key-file"));
        key_file_ = (p.empty() || p[0] == '/' || dir_.empty()) ? p : dir_ + "/" + p;
        key_file_where_ = c.where();
    }

    void sa(Cursor& c)
    {
        SaEntry e;
        e.where = c.where();
        e.name = str(c.value("sa"));
        if (sa_by_name_.count(e.name))
            c.fail("sa '" + e.name + "' defined twice");
        e.sa.direction = parse_direction(c, "sa");
        std::optional<net::IpAddress> local, remote;
        std::vector<uint8_t> keymat;
        keymat.reserve(64);
        bool have_spi = false, have_key = false, have_mode = false;
        std::string key_ref;
        try {
            while (!c.done()) {
                auto k = c.next();
                if (k == "spi") {
                    e.sa.spi = static_cast<uint32_t>(c.number(k, UINT32_MAX));
                    if (e.sa.spi < 256)
                        c.fail("sa: SPI values 0..255 are reserved (RFC 4303 §2.1)");
                    have_spi = true;
                } else if (k == "aead") {
                    auto a = c.value(k);
                    if (a == "aes128gcm16" || a == "aes-128-gcm")
                        e.sa.aead = esp::Aead::AesGcm128;
                    else if (a == "aes256gcm16" || a == "aes-256-gcm")
                        e.sa.aead = esp::Aead::AesGcm256;
                    else
                        c.fail("sa: unsupported aead '" + str(a) + "' (aes128gcm16 or aes256gcm16)");
                } else if (k == "key") {
                    if (world_readable_)
                        c.fail("sa: inline key in a world-readable file (chmod o-rwx, or use key-file)");
                    if (!parse_key_bytes(c.value(k), keymat))
                        c.fail("sa: malformed key (hex digits)");
                    have_key = true;
                } else if (k == "key-ref") {
                    key_ref = str(c.value(k));
                    have_key = true;
                } else if (k == "mode") {
                    auto m = c.value(k);
                    if (m == "tunnel")
                        e.sa.mode = esp::Mode::Tunnel;
                    else if (m == "transport")
                        e.sa.mode = esp::Mode::Transport;
                    else
                        c.fail("sa: mode must be 'tunnel' or 'transport'");
                    have_mode = true;
                } else if (k == "local" || k == "remote") {
                    auto a = net::IpAddress::parse(c.value(k));
                    if (!a)
                        c.fail("sa: bad " + str(k) + " address");
                    (k == "local" ? local : remote) = *a;
                } else if (k == "esn") {
                    e.sa.esn = true;
                } else if (k == "replay-window") {
                    e.sa.replay_window = static_cast<uint32_t>(c.number(k, esp::kMaxReplayWindow));
                } else if (k == "encap") {
                    if (c.value(k) != "udp")
                        c.fail("sa: encap must be 'udp' (RFC 3948)");
                    e.sa.udp_encap = true;
                } else if (k == "encap-sport" || k == "encap-dport") {
                    auto port = static_cast<uint16_t>(c.number(k, 65535));
                    if (port == 0)
                        c.fail("sa: " + str(k) + " must not be 0");
                    (k == "encap-sport" ? e.sa.encap_src_port : e.sa.encap_dst_port) = port;
                } else if (k == "ttl") {
                    e.sa.outer_ttl = static_cast<uint8_t>(c.number(k, 255));
                } else if (k == "lifetime-packets") {
                    lifetime_pair(c, k, e.lifetime.soft_packets, e.lifetime.hard_packets);
                } else if (k == "lifetime-bytes") {
                    lifetime_pair(c, k, e.lifetime.soft_bytes, e.lifetime.hard_bytes);
                } else if (k == "lifetime-seconds") {
                    lifetime_pair(c, k, e.lifetime.soft_seconds, e.lifetime.hard_seconds);
                } else {
                    c.fail("sa: unknown option '" + str(k) + "'");
                }
            }
            if (!have_spi)
                c.fail("sa: missing spi");
            if (!have_key)
                c.fail("sa: missing key or key-ref");
            if (!have_mode)
                c.fail("sa: missing mode");
            if (e.sa.mode == esp::Mode::Tunnel) {
                if (!local || !remote)
                    c.fail("sa: tunnel mode needs local and remote addresses");
                if (local->family != remote->family)
                    c.fail("sa: local and remote are of different address families");
                bool out = e.sa.direction == esp::Direction::Outbound;
                e.sa.tunnel_src = out ? *local : *remote;
                e.sa.tunnel_dst = out ? *remote : *local;
            }
            if (key_ref.empty() && !apply_keymat(e.sa, keymat))
                c.fail("sa: key must be " + std::to_string(esp::key_bytes(e.sa.aead) + 4) +
                       " bytes (AES key followed by the 4-byte salt)");
            wipe_bytes(keymat);
        } catch (...) {
            wipe_bytes(keymat);
            e.sa.key.fill(0);
            throw;
        }
        if (!key_ref.empty())
            key_refs_.push_back({cfg_.sas.size(), key_ref, e.where});
        sa_by_name_[e.name] = cfg_.sas.size();
        cfg_.sas.push_back(std::move(e));
    }

    void policy(Cursor& c)
    {
        Policy p;
        p.where = c.where();
        p.name = str(c.value("policy"));
        p.direction = parse_direction(c, "policy");
        std::optional<net::Family> family;
        std::optional<net::IpPrefix> src, dst;
        bool have_action = false;
        std::string sa_name;
        while (!c.done()) {
            auto k = c.next();
            if (k == "priority") {
                p.priority = static_cast<uint32_t>(c.number(k, 0x1fffffff));
            } else if (k == "family") {
                auto f = c.value(k);
                if (f == "ipv4")
                    family = net::Family::V4;
                else if (f == "ipv6")
                    family = net::Family::V6;
                else
                    c.fail("policy: family must be ipv4 or ipv6");
            } else if (k == "src" || k == "dst") {
                auto v = parse_prefix(c.value(k), false);
                if (!v)
                    c.fail("policy: bad " + str(k) + " prefix (host bits set?)");
                (k == "src" ? src : dst) = *v;
            } else if (k == "proto") {
                auto v = c.value(k);
                if (v == "any") {
                    p.selector.proto_lo = 0, p.selector.proto_hi = 255;
                } else {
                    auto n = protocol_number(v);
                    if (!n)
                        c.fail("policy: unknown protocol '" + str(v) + "'");
                    p.selector.proto_lo = p.selector.proto_hi = *n;
                }
            } else if (k == "sport" || k == "dport") {
                auto r = parse_range(c.value(k), 65535);
                if (!r)
                    c.fail("policy: " + str(k) + " expects PORT or LO-HI");
                PortRange pr{static_cast<uint16_t>(r->first), static_cast<uint16_t>(r->second)};
                (k == "sport" ? p.selector.sport : p.selector.dport) = pr;
            } else if (k == "protect" || k == "bypass" || k == "discard") {
                if (have_action)
                    c.fail("policy: more than one action");
                have_action = true;
                if (k == "protect") {
                    p.action = PolicyAction::Protect;
                    sa_name = str(c.value(k));
                } else {
                    p.action = k == "bypass" ? PolicyAction::Bypass : PolicyAction::Discard;
                }
            } else {
                c.fail("policy: unknown option '" + str(k) + "'");
            }
        }
        if (!have_action)
            c.fail("policy: missing action (protect SA, bypass or discard)");
        std::vector<net::Family> families;
        for (const auto* pre : {&src, &dst})
            if (*pre) {
                if (family && *family != (*pre)->addr.family)
                    c.fail("policy: prefixes and family disagree");
                family = (*pre)->addr.family;
            }
        if (family)
            families.push_back(*family);
        else
            families = {net::Family::V4, net::Family::V6};
        for (auto f : families) {
            Policy q = p;
            q.selector.family = f;
            q.selector.src = src ? *src : net::IpPrefix{net::IpAddress{f, {}}, 0};
            q.selector.dst = dst ? *dst : net::IpPrefix{net::IpAddress{f, {}}, 0};
            if (!sa_name.empty())
                protects_.push_back({policies_.size(), sa_name});
            policies_.push_back(std::move(q));
        }
    }

    void route(Cursor& c)
    {
        Route r;
        r.where = c.where();
        auto p = parse_prefix(c.value("route"), false);
        if (!p)
            c.fail("route: bad prefix (host bits set?)");
        r.prefix = *p;
        bool have_port = false;
        while (!c.done()) {
            auto k = c.next();
            if (k == "port") {
                r.port = static_cast<uint16_t>(c.number(k, 65535));
                have_port = true;
            } else if (k == "via") {
                auto a = net::IpAddress::parse(c.value(k));
                if (!a || a->family != r.prefix.addr.family)
                    c.fail("route: bad via address");
                r.via = *a;
            } else {
                c.fail("route: unknown option '" + str(k) + "'");
            }
        }
        if (!have_port)
            c.fail("route: missing port");
        cfg_.routes.add(std::move(r));
    }

    void neighbour(Cursor& c)
    {
        Neighbour n;
        n.where = c.where();
        auto who = c.value("neighbour");
        if (who != "default") {
            auto a = net::IpAddress::parse(who);
            if (!a)
                c.fail("neighbour: expected an address or 'default'");
            n.address = *a;
        }
        bool have_port = false, have_mac = false;
        while (!c.done()) {
            auto k = c.next();
            if (k == "port") {
                n.port = static_cast<uint16_t>(c.number(k, 65535));
                have_port = true;
            } else if (k == "mac") {
                auto m = parse_mac(c.value(k));
                if (!m)
                    c.fail("neighbour: bad MAC address");
                n.mac = *m;
                have_mac = true;
            } else {
                c.fail("neighbour: unknown option '" + str(k) + "'");
            }
        }
        if (!have_port || !have_mac)
            c.fail("neighbour: needs port and mac");
        cfg_.neighbours.add(std::move(n));
    }

    void resolve_keys()
    {
        if (key_refs_.empty())
            return;
        if (key_file_.empty())
            throw ConfigError(key_refs_.front().where, "sa uses key-ref but no key-file is configured");
        if (is_world_readable(key_file_))
            throw ConfigError(key_file_where_, "key file " + key_file_ + " is world-readable (chmod o-rwx)");
        ConfigLines keys(key_file_, read_config_file(key_file_));
        std::map<std::string, const ConfigLine*> by_name;
        for (const auto& l : keys.lines()) {
            if (l.tokens.size() != 2)
                throw ConfigError(l.where, "key file lines are 'NAME HEX'");
            if (!by_name.emplace(str(l.tokens[0]), &l).second)
                throw ConfigError(l.where, "key '" + str(l.tokens[0]) + "' defined twice");
        }
        std::vector<uint8_t> keymat;
        keymat.reserve(64);
        for (const auto& ref : key_refs_) {
            auto it = by_name.find(ref.key_name);
            if (it == by_name.end())
                throw ConfigError(ref.where, "key '" + ref.key_name + "' not found in " + key_file_);
            SaEntry& e = cfg_.sas[ref.sa_index];
            bool ok = parse_key_bytes(it->second->tokens[1], keymat) && apply_keymat(e.sa, keymat);
            wipe_bytes(keymat);
            if (!ok)
                throw ConfigError(it->second->where, "key '" + ref.key_name + "' must be " +
                                  std::to_string(esp::key_bytes(e.sa.aead) + 4) +
                                  " hex bytes (AES key followed by the 4-byte salt)");
        }
    }

    std::string dir_;
    bool world_readable_;
    ConnectionParser ike_;  // conn, ike-secrets, ike-cookie-threshold
    GatewayConfig cfg_;
    std::vector<Policy> policies_;
    std::vector<PendingProtect> protects_;
    std::vector<PendingKeyRef> key_refs_;
    std::map<std::string, size_t> sa_by_name_;
    std::string key_file_;
    SourceLocation key_file_where_;
};

}  // namespace

bool is_world_readable(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw ConfigError({path, 0}, std::string("cannot stat: ") + std::strerror(errno));
    return (st.st_mode & S_IROTH) != 0;
}

GatewayConfig parse_native_config(const std::string& file_name, std::string text, const std::string& dir,
                                  bool world_readable)
{
    ConfigLines lines(file_name, std::move(text));
    NativeParser parser(dir, world_readable);
    return parser.run(lines);
}

GatewayConfig load_native_config(const std::string& path)
{
    bool wr = is_world_readable(path);
    auto slash = path.rfind('/');
    std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
    return parse_native_config(path, read_config_file(path), dir, wr);
}

}  // namespace ipsecgw::gateway
