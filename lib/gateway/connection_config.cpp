#include "gateway/connection_config.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>

#include "esp/sa_config.hpp"
#include "gateway/pem_files.hpp"
#include "gateway/sa_keying.hpp"
#include "gateway/value_parsers.hpp"
#include "ike/traffic_selectors.hpp"

namespace ipsecgw::gateway {
namespace {

std::string str(std::string_view s) { return std::string(s); }

std::vector<std::string_view> split(std::string_view text, char sep)
{
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (true) {
        size_t e = text.find(sep, pos);
        out.push_back(text.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos));
        if (e == std::string_view::npos)
            return out;
        pos = e + 1;
    }
}

struct Encr {
    ike::EncrId id;
    uint16_t bits;
};

std::optional<Encr> encr_keyword(std::string_view k)
{
    static const std::map<std::string_view, Encr> table = {
        {"aes128gcm16", {ike::EncrId::AesGcm16, 128}}, {"aes128gcm", {ike::EncrId::AesGcm16, 128}},
        {"aes256gcm16", {ike::EncrId::AesGcm16, 256}}, {"aes256gcm", {ike::EncrId::AesGcm16, 256}},
        {"aes128", {ike::EncrId::AesCbc, 128}},        {"aes192", {ike::EncrId::AesCbc, 192}},
        {"aes256", {ike::EncrId::AesCbc, 256}},
    };
    auto it = table.find(k);
    return it == table.end() ? std::nullopt : std::optional<Encr>(it->second);
}

std::optional<ike::DhId> dh_keyword(std::string_view k)
{
    static const std::map<std::string_view, ike::DhId> table = {
        {"modp2048", ike::DhId::Modp2048}, {"modp3072", ike::DhId::Modp3072},   {"ecp256", ike::DhId::Ecp256},
        {"ecp384", ike::DhId::Ecp384},     {"x25519", ike::DhId::Curve25519}, {"curve25519", ike::DhId::Curve25519},
    };
    auto it = table.find(k);
    return it == table.end() ? std::nullopt : std::optional<ike::DhId>(it->second);
}

std::optional<ike::PrfId> prf_keyword(std::string_view k)
{
    if (k == "prfsha256")
        return ike::PrfId::HmacSha2_256;
    if (k == "prfsha384")
        return ike::PrfId::HmacSha2_384;
    if (k == "prfsha512")
        return ike::PrfId::HmacSha2_512;
    return std::nullopt;
}

std::optional<ike::IntegId> integ_keyword(std::string_view k)
{
    if (k == "sha256" || k == "sha2_256")
        return ike::IntegId::HmacSha2_256_128;
    if (k == "sha384" || k == "sha2_384")
        return ike::IntegId::HmacSha2_384_192;
    if (k == "sha512" || k == "sha2_512")
        return ike::IntegId::HmacSha2_512_256;
    return std::nullopt;
}

// PRF strongSwan derives from an integrity algorithm when none is named.
ike::PrfId prf_for(ike::IntegId i)
{
    switch (i) {
        case ike::IntegId::HmacSha2_384_192: return ike::PrfId::HmacSha2_384;
        case ike::IntegId::HmacSha2_512_256: return ike::PrfId::HmacSha2_512;
        default: return ike::PrfId::HmacSha2_256;
    }
}

constexpr size_t kMaxSuites = 32;

// One proposal: every combination of the algorithms it lists.
void expand(std::string_view proposal, bool esp, std::vector<ike::Suite>& out)
{
    std::vector<Encr> encrs;
    std::vector<ike::IntegId> integs;
    std::vector<ike::PrfId> prfs;
    std::vector<ike::DhId> dhs;
    bool esn = false;
    if (proposal.empty())
        throw std::invalid_argument("empty proposal");
    for (auto a : split(proposal, '-')) {
        if (auto e = encr_keyword(a)) {
            if (esp && e->id != ike::EncrId::AesGcm16)
                throw std::invalid_argument("ESP algorithm '" + str(a) +
                                            "' not supported by the dataplane (aes128gcm16 or aes256gcm16)");
            encrs.push_back(*e);
        } else if (auto i = integ_keyword(a)) {
            if (esp)
                throw std::invalid_argument("ESP integrity '" + str(a) +
                                            "' not supported (the dataplane does AES-GCM only)");
            integs.push_back(*i);
        } else if (auto p = prf_keyword(a)) {
            if (esp)
                throw std::invalid_argument("'" + str(a) + "' is an IKE PRF, not for ESP");
            prfs.push_back(*p);
        } else if (auto d = dh_keyword(a)) {
            dhs.push_back(*d);
        } else if (esp && (a == "esn" || a == "noesn")) {
            esn = a == "esn";
        } else {
            throw std::invalid_argument("unknown algorithm '" + str(a) + "' in proposal '" + str(proposal) + "'");
        }
    }
    if (encrs.empty())
        throw std::invalid_argument("proposal '" + str(proposal) + "' names no encryption algorithm");
    if (!esp) {
        bool aead = std::all_of(encrs.begin(), encrs.end(), [](const Encr& e) { return e.id == ike::EncrId::AesGcm16; });
        bool cbc = std::none_of(encrs.begin(), encrs.end(), [](const Encr& e) { return e.id == ike::EncrId::AesGcm16; });
        if (!aead && !cbc)
            throw std::invalid_argument("proposal '" + str(proposal) + "' mixes AEAD and CBC: use two proposals");
        if (aead && !integs.empty())
            throw std::invalid_argument("proposal '" + str(proposal) + "': AES-GCM takes no integrity algorithm");
        if (cbc && integs.empty())
            throw std::invalid_argument("proposal '" + str(proposal) + "': AES-CBC needs an integrity algorithm (sha256...)");
        if (prfs.empty()) {
            if (aead)
                throw std::invalid_argument("proposal '" + str(proposal) + "' needs a PRF (prfsha256...)");
            prfs.push_back(prf_for(integs.front()));
        }
        if (dhs.empty())
            throw std::invalid_argument("proposal '" + str(proposal) + "' needs a key exchange (ecp256, modp2048...)");
    }
    if (integs.empty())
        integs.push_back(ike::IntegId::None);
    if (prfs.empty())
        prfs.push_back(ike::PrfId::HmacSha2_256);
    if (dhs.empty())
        dhs.push_back(ike::DhId::None);
    for (const auto& e : encrs)
        for (auto i : integs)
            for (auto p : prfs)
                for (auto d : dhs) {
                    if (out.size() >= kMaxSuites)
                        throw std::invalid_argument("more than " + std::to_string(kMaxSuites) + " algorithm combinations");
                    ike::Suite s;
                    s.encr = e.id;
                    s.encr_key_bits = e.bits;
                    s.integ = i;
                    s.prf = p;
                    s.dh = d;
                    s.esn = esn;
                    if (std::find(out.begin(), out.end(), s) == out.end())
                        out.push_back(s);
                }
}

std::vector<ike::Suite> parse_proposals(std::string_view text, bool esp)
{
    std::vector<ike::Suite> out;
    for (auto p : split(text, ','))
        expand(p, esp, out);
    return out;
}

ike::Bytes address_bytes(const net::IpAddress& a) { return ike::Bytes(a.bytes.begin(), a.bytes.begin() + a.size()); }

ike::IdPayload address_id(const net::IpAddress& a)
{
    return {a.is_v4() ? ike::IdType::Ipv4Addr : ike::IdType::Ipv6Addr, address_bytes(a)};
}

std::vector<net::IpPrefix> parse_prefixes(const ConfigLine& l, std::string_view k, std::string_view text)
{
    std::vector<net::IpPrefix> out;
    for (auto p : split(text, ',')) {
        auto v = parse_prefix(p, false);
        if (!v)
            throw ConfigError(l.where, "conn: bad " + str(k) + " prefix '" + str(p) + "' (host bits set?)");
        out.push_back(*v);
    }
    return out;
}

std::set<net::Family> families(const std::vector<net::IpPrefix>& v)
{
    std::set<net::Family> f;
    for (const auto& p : v)
        f.insert(p.addr.family);
    return f;
}

// Group or others may read it (secrets files must be private to the owner).
bool readable_by_others(const std::string& path)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw ConfigError({path, 0}, std::string("cannot stat: ") + std::strerror(errno));
    return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

}  // namespace

bool IkeConfig::operator==(const IkeConfig& o) const
{
    if (cookie_threshold != o.cookie_threshold || connections.size() != o.connections.size())
        return false;
    for (size_t i = 0; i < connections.size(); ++i)
        if (!(static_cast<const ConnectionDefinition&>(connections[i]) == o.connections[i]))
            return false;
    return true;
}

std::vector<ike::Suite> parse_ike_proposals(std::string_view text) { return parse_proposals(text, false); }
std::vector<ike::Suite> parse_esp_proposals(std::string_view text) { return parse_proposals(text, true); }

std::optional<ike::IdPayload> parse_ike_id(std::string_view text)
{
    auto prefixed = [&](std::string_view p) { return text.substr(0, p.size()) == p; };
    if (text.empty())
        return std::nullopt;
    if (prefixed("fqdn:") && text.size() > 5)
        return ike::IdPayload{ike::IdType::Fqdn, ike::to_bytes(text.substr(5))};
    if (prefixed("email:") && text.size() > 6)
        return ike::IdPayload{ike::IdType::Rfc822Addr, ike::to_bytes(text.substr(6))};
    if (prefixed("ipv4:") || prefixed("ipv6:")) {
        auto a = net::IpAddress::parse(text.substr(5));
        if (!a || (prefixed("ipv4:") != a->is_v4()))
            return std::nullopt;
        return address_id(*a);
    }
    if (prefixed("dn:")) {
        auto der = distinguished_name_der(str(text.substr(3)));
        if (der.empty())
            return std::nullopt;
        return ike::IdPayload{ike::IdType::DerAsn1Dn, der};
    }
    if (auto a = net::IpAddress::parse(text))
        return address_id(*a);
    if (text.find(':') != std::string_view::npos)
        return std::nullopt;  // an unknown prefix, most likely a typo
    if (text.find('@') != std::string_view::npos)
        return ike::IdPayload{ike::IdType::Rfc822Addr, ike::to_bytes(text)};
    return ike::IdPayload{ike::IdType::Fqdn, ike::to_bytes(text)};
}

std::string ike_id_text(const ike::IdPayload& id)
{
    switch (id.type) {
        case ike::IdType::Ipv4Addr:
        case ike::IdType::Ipv6Addr:
            if (id.data.size() == 4 || id.data.size() == 16)
                return net::IpAddress::from_bytes(id.data.size() == 4 ? net::Family::V4 : net::Family::V6, id.data.data())
                    .to_string();
            break;
        case ike::IdType::Fqdn: return "fqdn:" + std::string(id.data.begin(), id.data.end());
        case ike::IdType::Rfc822Addr: return "email:" + std::string(id.data.begin(), id.data.end());
        case ike::IdType::DerAsn1Dn: return "dn:(" + std::to_string(id.data.size()) + " bytes DER)";
        default: break;
    }
    return id.data.empty() ? "any" : "id type " + std::to_string(static_cast<int>(id.type));
}

std::string suite_text(const ike::Suite& s, bool esp)
{
    std::string t = "aes" + std::to_string(s.encr_key_bits) + (s.aead() ? "gcm16" : "");
    if (!s.aead())
        t += s.integ == ike::IntegId::HmacSha2_384_192   ? "-sha384"
             : s.integ == ike::IntegId::HmacSha2_512_256 ? "-sha512"
                                                          : "-sha256";
    if (!esp)
        t += s.prf == ike::PrfId::HmacSha2_384 ? "-prfsha384" : s.prf == ike::PrfId::HmacSha2_512 ? "-prfsha512" : "-prfsha256";
    switch (s.dh) {
        case ike::DhId::Modp2048: t += "-modp2048"; break;
        case ike::DhId::Modp3072: t += "-modp3072"; break;
        case ike::DhId::Ecp256: t += "-ecp256"; break;
        case ike::DhId::Ecp384: t += "-ecp384"; break;
        case ike::DhId::Curve25519: t += "-x25519"; break;
        case ike::DhId::None: break;
    }
    if (esp && s.esn)
        t += "-esn";
    return t;
}

std::vector<IkeSecret> parse_ike_secrets(const std::string& file_name, std::string text)
{
    std::vector<IkeSecret> out;
    struct Wipe {
        std::string& s;
        ~Wipe() { wipe_string(s); }
    } wipe{text};
    size_t pos = 0;
    unsigned line_no = 0;
    while (pos < text.size()) {
        ++line_no;
        size_t nl = text.find('\n', pos);
        std::string_view line(text.data() + pos, (nl == std::string::npos ? text.size() : nl) - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        SourceLocation where{file_name, line_no};
        size_t i = 0;
        auto skip_space = [&] {
            while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                ++i;
        };
        auto word = [&] {
            skip_space();
            size_t b = i;
            while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
                ++i;
            return line.substr(b, i - b);
        };
        skip_space();
        if (i == line.size() || line[i] == '#')
            continue;
        auto kw = word();
        if (kw != "psk")
            throw ConfigError(where, "expected 'psk CONN \"secret\"' or 'psk CONN 0xHEX'");
        auto name = word();
        if (name.empty())
            throw ConfigError(where, "psk: missing connection name");
        skip_space();
        ike::SecretBytes secret;
        secret.reserve(line.size());
        if (i < line.size() && line[i] == '"') {
            ++i;
            bool closed = false;
            for (; i < line.size(); ++i) {
                if (line[i] == '"') {
                    closed = true;
                    ++i;
                    break;
                }
                if (line[i] == '\\' && i + 1 < line.size())
                    ++i;
                secret.push_back(static_cast<uint8_t>(line[i]));
            }
            if (!closed)
                throw ConfigError(where, "psk: missing closing '\"'");
        } else {
            auto v = word();
            if (v.substr(0, 2) != "0x" && v.substr(0, 2) != "0X")
                throw ConfigError(where, "psk: the secret is \"a string\" or 0xHEX");
            std::vector<uint8_t> raw;
            raw.reserve(v.size());
            bool ok = parse_key_bytes(v, raw);
            secret.assign(raw.begin(), raw.end());
            wipe_bytes(raw);
            if (!ok)
                throw ConfigError(where, "psk: malformed hex secret");
        }
        skip_space();
        if (i < line.size() && line[i] != '#')
            throw ConfigError(where, "psk: unexpected text after the secret");
        if (secret.empty())
            throw ConfigError(where, "psk: empty secret");
        for (const auto& o : out)
            if (o.conn == name)
                throw ConfigError(where, "psk for '" + str(name) + "' given twice");
        out.push_back({str(name), std::move(secret), where});
    }
    return out;
}

std::string ConnectionParser::path(std::string_view name) const
{
    std::string p = str(name);
    return (p.empty() || p[0] == '/' || dir_.empty()) ? p : dir_ + "/" + p;
}

bool ConnectionParser::statement(const ConfigLine& line)
{
    auto kw = line.tokens[0];
    if (kw == "conn") {
        conn(line);
    } else if (kw == "ike-secrets") {
        if (line.tokens.size() != 2)
            throw ConfigError(line.where, "ike-secrets FILE");
        if (!secrets_file_.empty())
            throw ConfigError(line.where, "ike-secrets given twice");
        secrets_file_ = path(line.tokens[1]);
        secrets_where_ = line.where;
    } else if (kw == "ike-cookie-threshold") {
        std::optional<uint64_t> v;
        if (line.tokens.size() == 2)
            v = parse_uint(line.tokens[1], 1u << 20);
        if (!v)
            throw ConfigError(line.where, "ike-cookie-threshold N (half-open IKE SAs before COOKIEs are required)");
        out_.cookie_threshold = *v;
    } else {
        return false;
    }
    return true;
}

void ConnectionParser::conn(const ConfigLine& l)
{
    auto fail = [&](const std::string& why) { throw ConfigError(l.where, "conn: " + why); };
    if (l.tokens.size() < 2)
        fail("missing name");
    ConnectionConfig c;
    c.where = l.where;
    c.name = str(l.tokens[1]);
    for (char ch : c.name)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '-' || ch == '_' || ch == '.'))
            fail("name '" + c.name + "' may hold only letters, digits, '-', '_' and '.'");
    std::optional<net::IpAddress> local;
    bool have_remote = false, have_auth = false, have_ike = false, have_esp = false;
    std::optional<std::string> local_id, remote_id, cert, key, ca;
    for (size_t i = 2; i < l.tokens.size(); ++i) {
        auto k = l.tokens[i];
        if (i + 1 >= l.tokens.size())
            fail("'" + str(k) + "' needs a value");
        auto v = l.tokens[++i];
        auto number = [&](uint64_t max) {
            auto n = parse_uint(v, max);
            if (!n)
                fail(str(k) + " expects a number up to " + std::to_string(max));
            return *n;
        };
        try {
            if (k == "local") {
                local = net::IpAddress::parse(v);
                if (!local)
                    fail("bad local address '" + str(v) + "'");
            } else if (k == "remote") {
                have_remote = true;
                if (v != "any") {
                    c.remote = net::IpAddress::parse(v);
                    if (!c.remote)
                        fail("bad remote address '" + str(v) + "' (an address or 'any')");
                }
            } else if (k == "local-id") {
                local_id = str(v);
            } else if (k == "remote-id") {
                remote_id = str(v);
            } else if (k == "auth") {
                have_auth = true;
                if (v == "psk")
                    c.auth = ConnAuth::Psk;
                else if (v == "pubkey")
                    c.auth = ConnAuth::Pubkey;
                else
                    fail("auth must be 'psk' or 'pubkey'");
            } else if (k == "cert") {
                cert = path(v);
            } else if (k == "key") {
                key = path(v);
            } else if (k == "ca") {
                ca = str(v);
            } else if (k == "ike") {
                c.ike_suites = parse_ike_proposals(v);
                have_ike = true;
            } else if (k == "esp") {
                c.esp_suites = parse_esp_proposals(v);
                have_esp = true;
            } else if (k == "local-ts") {
                c.local_ts = parse_prefixes(l, k, v);
            } else if (k == "remote-ts") {
                c.remote_ts = parse_prefixes(l, k, v);
            } else if (k == "mode") {
                if (v != "tunnel" && v != "transport")
                    fail("mode must be 'tunnel' or 'transport'");
                c.transport_mode = v == "transport";
            } else if (k == "start") {
                if (v == "none")
                    c.start = ConnStart::None;
                else if (v == "initiate")
                    c.start = ConnStart::Initiate;
                else if (v == "trap")
                    c.start = ConnStart::Trap;
                else
                    fail("start must be 'none' or 'initiate'");
            } else if (k == "dpd") {
                c.dpd_seconds = static_cast<uint32_t>(number(86400));
            } else if (k == "ike-lifetime") {
                c.ike_lifetime = static_cast<uint32_t>(number(30 * 86400));
            } else if (k == "ike-rekey-margin") {
                c.ike_rekey_margin = static_cast<uint32_t>(number(30 * 86400));
            } else if (k == "child-lifetime") {
                c.child_lifetime = static_cast<uint32_t>(number(30 * 86400));
            } else if (k == "child-rekey-margin") {
                c.child_rekey_margin = static_cast<uint32_t>(number(30 * 86400));
            } else if (k == "child-life-bytes") {
                c.child_life_bytes = number(UINT64_MAX);
            } else if (k == "child-life-packets") {
                c.child_life_packets = number(UINT64_MAX);
            } else if (k == "replay-window") {
                c.replay_window = static_cast<uint32_t>(number(esp::kMaxReplayWindow));
            } else {
                fail("unknown option '" + str(k) + "'");
            }
        } catch (const std::invalid_argument& e) {
            fail(str(k) + ": " + e.what());
        }
    }
    if (!local)
        fail("missing local ADDRESS");
    if (!have_remote)
        fail("missing remote ADDRESS|any");
    if (!have_auth)
        fail("missing auth psk|pubkey");
    if (!have_ike)
        fail("missing ike PROPOSALS");
    if (!have_esp)
        fail("missing esp PROPOSALS");
    if (c.local_ts.empty() || c.remote_ts.empty())
        fail("missing local-ts/remote-ts");
    c.local = *local;
    if (c.remote && c.remote->family != c.local.family)
        fail("local and remote are of different address families");
    if (!c.remote && c.start != ConnStart::None)
        fail(std::string("start ") + (c.start == ConnStart::Trap ? "trap" : "initiate") +
             " needs a remote address (not 'any')");
    if (families(c.local_ts) != families(c.remote_ts))
        fail("local-ts and remote-ts must cover the same address families");
    if (c.transport_mode) {
        for (const auto* ts : {&c.local_ts, &c.remote_ts})
            if (families(*ts) != std::set<net::Family>{c.local.family})
                fail("transport mode: traffic selectors must be of the outer addresses' family");
    }
    if (c.ike_rekey_margin >= c.ike_lifetime || c.child_rekey_margin >= c.child_lifetime)
        fail("a rekey margin must be shorter than its lifetime");
    auto id = [&](const std::optional<std::string>& text, ike::IdPayload& out, const char* what) {
        if (!text)
            return;
        auto v = parse_ike_id(*text);
        if (!v)
            fail(std::string("bad ") + what + " '" + *text + "' (fqdn:, email:, ipv4:, ipv6:, dn: or bare)");
        out = *v;
    };
    c.local_id = address_id(*local);
    id(local_id, c.local_id, "local-id");
    id(remote_id, c.remote_id, "remote-id");
    if (c.auth == ConnAuth::Psk) {
        if (cert || key || ca)
            fail("cert/key/ca belong to auth pubkey");
    } else {
        if (!cert || !key || !ca)
            fail("auth pubkey needs cert FILE key FILE ca FILE[,FILE]");
        auto certs = read_pem_certificates(*cert, l.where);
        c.certificate_der = certs.front();
        c.private_key_der = read_pem_private_key(*key, l.where);
        for (auto f : split(*ca, ','))
            for (auto& der : read_pem_certificates(path(f), l.where))
                c.ca_der.push_back(std::move(der));
    }
    for (const auto& o : out_.connections)
        if (o.name == c.name)
            fail("connection '" + c.name + "' already defined at " + o.where.to_string());
    out_.connections.push_back(std::move(c));
}

IkeConfig ConnectionParser::finish()
{
    std::vector<IkeSecret> secrets;
    if (!secrets_file_.empty()) {
        if (readable_by_others(secrets_file_))
            throw ConfigError(secrets_where_,
                              "secrets file " + secrets_file_ + " is readable by group or others (chmod 600)");
        secrets = parse_ike_secrets(secrets_file_, read_config_file(secrets_file_));
    }
    for (auto& s : secrets) {
        auto it = std::find_if(out_.connections.begin(), out_.connections.end(),
                               [&](const ConnectionConfig& c) { return c.name == s.conn; });
        if (it == out_.connections.end())
            throw ConfigError(s.where, "psk for unknown connection '" + s.conn + "'");
        if (it->auth != ConnAuth::Psk)
            throw ConfigError(s.where, "psk for connection '" + s.conn + "', which uses auth pubkey");
        it->psk = std::move(s.secret);
    }
    for (size_t i = 0; i < out_.connections.size(); ++i) {
        const auto& c = out_.connections[i];
        // The engine picks the first connection matching a new peer: two
        // that accept the same peer and identity would shadow each other.
        for (size_t j = 0; j < i; ++j) {
            const auto& o = out_.connections[j];
            if (o.local == c.local && o.remote == c.remote && o.remote_id == c.remote_id)
                throw ConfigError(c.where, "conn " + c.name + " overlaps conn " + o.name + " (" +
                                               o.where.to_string() +
                                               "): same local, remote and remote-id");
        }
    }
    for (const auto& c : out_.connections)
        if (c.auth == ConnAuth::Psk && c.psk.empty())
            throw ConfigError(c.where, "conn " + c.name + ": auth psk but no psk for it" +
                                           (secrets_file_.empty() ? " (no ike-secrets file configured)"
                                                                  : " in " + secrets_file_));
    return std::move(out_);
}

ike::PeerConfig make_peer_config(const ConnectionConfig& c)
{
    using namespace std::chrono;
    ike::PeerConfig p;
    p.name = c.name;
    p.local = {address_bytes(c.local), ike::kIkePort};
    p.remote = {c.remote ? address_bytes(*c.remote) : ike::Bytes{}, ike::kIkePort};
    p.local_id = c.local_id;
    p.remote_id = c.remote_id;
    if (c.auth == ConnAuth::Psk) {
        p.psk = c.psk;
    } else {
        ike::CertificateAuth a;
        a.certificate_der = c.certificate_der;
        a.private_key_der = c.private_key_der;
        a.trusted_cas_der = c.ca_der;
        p.certificate = std::move(a);
    }
    p.ike_suites = c.ike_suites;
    p.child.esp_suites = c.esp_suites;
    for (const auto& pre : c.local_ts)
        p.child.local_ts.push_back(ike::ts_from_prefix(address_bytes(pre.addr), pre.len));
    for (const auto& pre : c.remote_ts)
        p.child.remote_ts.push_back(ike::ts_from_prefix(address_bytes(pre.addr), pre.len));
    p.child.transport_mode = c.transport_mode;
    p.child.lifetime = {seconds(c.child_lifetime), seconds(c.child_rekey_margin), 0.5};
    p.ike_lifetime = {seconds(c.ike_lifetime), seconds(c.ike_rekey_margin), 0.5};
    p.liveness_interval = seconds(c.dpd_seconds);
    return p;
}

}  // namespace ipsecgw::gateway
