#include "control/ike_service.hpp"

#include <algorithm>
#include <cctype>
#include <cinttypes>

namespace ipsecgw::control {
namespace {

using ike::TimePoint;

constexpr size_t kMaxDatagramsPerPoll = 256;  // the rest waits for the next round
constexpr size_t kMaxPoliciesPerChild = 64;

net::IpAddress to_address(const ike::Bytes& b)
{
    if (b.size() == 4)
        return net::IpAddress::from_bytes(net::Family::V4, b.data());
    if (b.size() == 16)
        return net::IpAddress::from_bytes(net::Family::V6, b.data());
    return {};
}

std::string endpoint_text(const ike::Endpoint& e)
{
    auto a = to_address(e.address);
    if (a.family == net::Family::None)
        return "any";
    // (Appends only: GCC 12 warns -Wrestrict on "x" + std::string.)
    std::string t;
    if (a.is_v6())
        t += '[';
    t += a.to_string();
    if (a.is_v6())
        t += ']';
    t += ':';
    t += std::to_string(e.port);
    return t;
}

std::string hex32(uint32_t v)
{
    char b[16];
    std::snprintf(b, sizeof b, "%08" PRIx32, v);
    return b;
}

std::string hex64(uint64_t v)
{
    char b[24];
    std::snprintf(b, sizeof b, "%016" PRIx64, v);
    return b;
}

// An address range as the fewest prefixes covering exactly it.
using U128 = unsigned __int128;

U128 to_u128(const ike::Bytes& b)
{
    U128 v = 0;
    for (uint8_t x : b)
        v = v << 8 | x;
    return v;
}

net::IpAddress from_u128(U128 v, size_t size)
{
    uint8_t bytes[16];
    for (size_t i = size; i-- > 0;) {
        bytes[i] = static_cast<uint8_t>(v);
        v >>= 8;
    }
    return net::IpAddress::from_bytes(size == 4 ? net::Family::V4 : net::Family::V6, bytes);
}

std::vector<net::IpPrefix> range_prefixes(const ike::TrafficSelector& ts)
{
    std::vector<net::IpPrefix> out;
    size_t size = ts.start_addr.size();
    if ((size != 4 && size != 16) || ts.end_addr.size() != size)
        return out;
    unsigned bits = static_cast<unsigned>(size * 8);
    U128 max = bits == 128 ? ~static_cast<U128>(0) : (static_cast<U128>(1) << bits) - 1;
    U128 lo = to_u128(ts.start_addr), hi = to_u128(ts.end_addr);
    if (lo > hi)
        return out;
    if (lo == 0 && hi == max) {
        out.push_back({from_u128(0, size), 0});
        return out;
    }
    while (true) {
        unsigned host = 0;  // host bits of the largest aligned block at lo that ends by hi
        while (host + 1 < bits) {
            U128 block = static_cast<U128>(1) << (host + 1);
            if ((lo & (block - 1)) != 0 || hi - lo < block - 1)
                break;
            ++host;
        }
        out.push_back({from_u128(lo, size), static_cast<uint8_t>(bits - host)});
        U128 last = lo + ((static_cast<U128>(1) << host) - 1);
        if (last >= hi || out.size() >= kMaxPoliciesPerChild)
            return out;
        lo = last + 1;
    }
}

// PROTECT policies for traffic from `src` selectors to `dst` selectors.
std::vector<gateway::Policy> make_policies(const std::vector<ike::TrafficSelector>& src_ts,
                                           const std::vector<ike::TrafficSelector>& dst_ts, esp::Direction dir,
                                           uint32_t spi, const std::string& base)
{
    std::vector<gateway::Policy> out;
    for (const auto& s : src_ts)
        for (const auto& d : dst_ts) {
            if (s.start_addr.size() != d.start_addr.size())
                continue;
            if (s.ip_protocol && d.ip_protocol && s.ip_protocol != d.ip_protocol)
                continue;
            uint8_t proto = s.ip_protocol ? s.ip_protocol : d.ip_protocol;
            for (const auto& sp : range_prefixes(s))
                for (const auto& dp : range_prefixes(d)) {
                    if (out.size() >= kMaxPoliciesPerChild)
                        return out;
                    gateway::Policy p;
                    p.name = base + ":" + std::to_string(out.size());
                    p.direction = dir;
                    p.selector.family = sp.addr.family;
                    p.selector.src = sp;
                    p.selector.dst = dp;
                    p.selector.proto_lo = proto ? proto : 0;
                    p.selector.proto_hi = proto ? proto : 255;
                    p.selector.sport = {s.start_port, s.end_port};
                    p.selector.dport = {d.start_port, d.end_port};
                    p.priority = kIkePolicyPriority;
                    p.action = gateway::PolicyAction::Protect;
                    p.spi = spi;
                    p.where = {kIkeSourceTag, 0};
                    out.push_back(std::move(p));
                }
        }
    return out;
}

gateway::SaEntry make_sa(const gateway::ConnectionConfig& cc, const ike::ChildSaInfo& ci, bool inbound,
                         const std::string& name)
{
    gateway::SaEntry e;
    e.name = name;
    e.where = {kIkeSourceTag, 0};
    auto& sa = e.sa;
    sa.spi = inbound ? ci.spi_in : ci.spi_out;
    sa.direction = inbound ? esp::Direction::Inbound : esp::Direction::Outbound;
    sa.mode = ci.transport_mode ? esp::Mode::Transport : esp::Mode::Tunnel;
    if (!ci.suite.aead())
        throw CommandError(err::kInvalidArgument, "negotiated ESP suite is not AES-GCM");
    const ike::SecretBytes& keymat = inbound ? ci.encr_in : ci.encr_out;
    if (!sa.set_keymat(keymat.data(), keymat.size()))
        throw CommandError(err::kInvalidArgument, "ESP key material of unexpected length");
    sa.esn = ci.suite.esn;
    sa.replay_window = cc.replay_window;
    auto local = to_address(ci.local.address), remote = to_address(ci.remote.address);
    if (!ci.transport_mode) {
        sa.tunnel_src = inbound ? remote : local;
        sa.tunnel_dst = inbound ? local : remote;
    }
    // RFC 3948: ESP in UDP between our 4500 and the peer's IKE port, which
    // may be a NAT's mapping.
    sa.udp_encap = ci.udp_encapsulation;
    if (sa.udp_encap) {
        // Both directions name the ports from our side (sa_config.hpp).
        sa.encap_src_port = ci.local.port;
        sa.encap_dst_port = ci.remote.port;
    }
    // Time-based rekeying is the engine's (with jitter); the dataplane's
    // seconds limit is only a backstop. Volume limits rekey at 90 %.
    auto& l = e.lifetime;
    l.hard_seconds = cc.child_lifetime + 30;
    l.hard_bytes = cc.child_life_bytes;
    l.soft_bytes = cc.child_life_bytes - cc.child_life_bytes / 10;
    l.hard_packets = cc.child_life_packets;
    l.soft_packets = cc.child_life_packets - cc.child_life_packets / 10;
    return e;
}

// "... notify 24" -> "... notify 24 (AUTHENTICATION_FAILED)": operators
// and scripts look for the RFC 7296 names.
std::string with_notify_names(std::string text)
{
    static const std::map<int, const char*> names = {
        {4, "INVALID_IKE_SPI"},      {5, "INVALID_MAJOR_VERSION"},   {7, "INVALID_SYNTAX"},
        {9, "INVALID_MESSAGE_ID"},   {11, "INVALID_SPI"},            {14, "NO_PROPOSAL_CHOSEN"},
        {17, "INVALID_KE_PAYLOAD"},  {24, "AUTHENTICATION_FAILED"},  {34, "SINGLE_PAIR_REQUIRED"},
        {35, "NO_ADDITIONAL_SAS"},   {36, "INTERNAL_ADDRESS_FAILURE"}, {37, "FAILED_CP_REQUIRED"},
        {38, "TS_UNACCEPTABLE"},     {39, "INVALID_SELECTORS"},      {43, "TEMPORARY_FAILURE"},
        {44, "CHILD_SA_NOT_FOUND"},
    };
    const std::string key = "notify ";
    for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + 1)) {
        size_t b = pos + key.size(), e = b;
        while (e < text.size() && std::isdigit(static_cast<unsigned char>(text[e])) && e - b < 5)
            ++e;
        if (e == b)
            continue;
        auto it = names.find(std::stoi(text.substr(b, e - b)));
        if (it != names.end() && text.compare(e, 2, " (") != 0)
            text.insert(e, std::string(" (") + it->second + ")");
    }
    return text;
}

}  // namespace

IkeService::IkeService(const gateway::IkeConfig& config, SaInstaller& installer, IkeIo& io, FILE* log)
    : installer_(installer), io_(io), log_(log)
{
    ike::EngineConfig ec;
    ec.cookie_threshold = config.cookie_threshold;
    engine_ = std::make_unique<ike::Engine>(ec);
    for (const auto& c : config.connections) {
        engine_->add_peer(gateway::make_peer_config(c));
        conns_[c.name].config = c;
    }
}

IkeService::~IkeService()
{
    for (auto& p : batch_)  // normally empty: poll() publishes every round
        for (auto& s : p.change.add_sas)
            s.sa.wipe();
}

IkeService::Connection& IkeService::connection(const std::string& name)
{
    auto it = conns_.find(name);
    if (it == conns_.end())
        throw CommandError(err::kNotFound, "no connection named '" + name + "'");
    return it->second;
}

const std::string& IkeService::last_error(const std::string& conn) const
{
    static const std::string none;
    auto it = conns_.find(conn);
    return it == conns_.end() ? none : it->second.last_error;
}

void IkeService::fail(const std::string& conn, const std::string& why)
{
    if (log_)
        std::fprintf(log_, "ipsecgw: ike %s: %s\n", conn.c_str(), why.c_str());
    if (auto it = conns_.find(conn); it != conns_.end()) {
        // Keep the specific reason an exchange gave over the generic
        // "exchange failed" that follows it in the same round.
        if (why == "exchange failed" && it->second.last_error_at == now_ && !it->second.last_error.empty())
            return;
        it->second.last_error = why;
        it->second.last_error_at = now_;
    }
}

void IkeService::start(TimePoint now)
{
    now_ = now;
    for (const auto& [name, c] : conns_)
        if (c.config.start == gateway::ConnStart::Initiate)
            engine_->initiate(name, now);
    install_traps();
    poll(now);
}

void IkeService::install_traps()
{
    SaChange change;
    for (const auto& [name, c] : conns_) {
        if (c.config.start != gateway::ConnStart::Trap)
            continue;
        ike::PeerConfig peer = gateway::make_peer_config(c.config);
        for (auto& p : make_policies(peer.child.local_ts, peer.child.remote_ts, esp::Direction::Outbound, 0,
                                     "ike:" + name + ":trap")) {
            p.action = gateway::PolicyAction::Acquire;
            p.priority = kTrapPolicyPriority;
            change.add_policies.push_back(std::move(p));
        }
    }
    try {
        apply(std::move(change));
    } catch (const std::exception& e) {
        if (log_)
            std::fprintf(log_, "ipsecgw: ike: trap policies not installed: %s\n", e.what());
    }
}

void IkeService::on_acquire(const std::string& policy, TimePoint now)
{
    now_ = now;
    // "ike:CONN:trap:N"
    const std::string prefix = "ike:", suffix = ":trap:";
    size_t end = policy.rfind(suffix);
    if (policy.compare(0, prefix.size(), prefix) != 0 || end == std::string::npos || end <= prefix.size())
        return;
    std::string conn = policy.substr(prefix.size(), end - prefix.size());
    auto it = conns_.find(conn);
    if (it == conns_.end() || it->second.config.start != gateway::ConnStart::Trap)
        return;
    auto sas = ike_sas_of(conn);
    if (sas.empty()) {
        if (log_)
            std::fprintf(log_, "ipsecgw: ike %s: traffic without SAs: initiating\n", conn.c_str());
        engine_->initiate(conn, now);
        return;
    }
    // An IKE SA without a CHILD_SA (deleted, or refused): ask for one.
    for (uint64_t h : sas)
        for (const auto& [spi, c] : children_)
            if (c.ike_sa == h)
                return;
    for (uint64_t h : sas)
        if (auto s = engine_->status(h); s && s->state == "established") {
            engine_->create_child(h, now);
            return;
        }
}

void IkeService::poll(TimePoint now)
{
    now_ = now;
    ike::Datagram d;
    for (size_t i = 0; i < kMaxDatagramsPerPoll && io_.receive(d); ++i)
        engine_->receive(d, now);
    engine_->tick(now);
    // SAs first, replies second: a peer may send ESP on a new CHILD_SA as
    // soon as it has our response, so the inbound SA must already be live.
    batching_ = true;
    for (const auto& e : engine_->take_events())
        handle(e, now);
    batching_ = false;
    flush_batch();
    // Handling events can queue exchanges (deleting a CHILD_SA we could not install).
    for (const auto& out : engine_->take_datagrams())
        io_.send(out);
    for (auto& [spi, c] : children_)
        if ((!c.pending_in_policies.empty() || !c.pending_out_policies.empty()) &&
            now - c.installed_at >= kRekeyOverlapLimit)
            finish_rekey(c);
    keepalives(now);
}

void IkeService::keepalives(TimePoint now)
{
    for (const auto& s : engine_->status()) {
        if (!s.nat_here || s.state != "established")
            continue;
        auto it = conns_.find(s.peer);
        if (it == conns_.end() || now - it->second.last_keepalive < kNatKeepaliveInterval)
            continue;
        it->second.last_keepalive = now;
        io_.send_keepalive(s.local, s.remote);
    }
}

void IkeService::apply(SaChange change)
{
    flush_batch();  // changes apply in the order they were made
    if (!change.empty())
        installer_.apply_change(std::move(change));
}

void IkeService::flush_batch()
{
    if (batch_.empty())
        return;
    std::vector<PendingInstall> batch = std::move(batch_);
    batch_.clear();
    if (batch.size() > 1 && apply_merged(batch))
        return;
    for (auto& p : batch) {  // one at a time, so a refused one is found and only it is deleted
        try {
            installer_.apply_change(std::move(p.change));
        } catch (const std::exception& ex) {
            children_.erase(p.spi_in);
            fail(p.conn, "CHILD_SA " + hex32(p.spi_in) + " not installed: " + ex.what());
            engine_->delete_child(p.ike_sa, p.spi_in, now_);
        }
    }
}

bool IkeService::apply_merged(std::vector<PendingInstall>& batch)
{
    SaChange merged;
    for (const auto& p : batch) {
        merged.add_sas.insert(merged.add_sas.end(), p.change.add_sas.begin(), p.change.add_sas.end());
        merged.add_policies.insert(merged.add_policies.end(), p.change.add_policies.begin(),
                                   p.change.add_policies.end());
    }
    try {
        installer_.apply_change(std::move(merged));  // wipes the copies' keys
    } catch (const std::exception&) {
        return false;  // one of them is refused
    }
    for (auto& p : batch)
        for (auto& s : p.change.add_sas)
            s.sa.wipe();
    return true;
}

void IkeService::handle(const ike::SaEvent& e, TimePoint now)
{
    switch (e.type) {
        case ike::EventType::IkeEstablished:
            established_at_[e.ike_sa] = now;
            if (log_)
                std::fprintf(log_, "ipsecgw: ike %s: IKE SA %" PRIu64 " established\n", e.peer.c_str(), e.ike_sa);
            break;
        case ike::EventType::IkeRekeyed:
            if (log_)
                std::fprintf(log_, "ipsecgw: ike %s: IKE SA %" PRIu64 " rekeyed\n", e.peer.c_str(), e.ike_sa);
            break;
        case ike::EventType::IkeDeleted: {
            std::vector<uint32_t> gone;
            for (const auto& [spi, c] : children_)
                if (c.ike_sa == e.ike_sa)
                    gone.push_back(spi);
            for (uint32_t spi : gone)
                remove_child(spi, now);
            established_at_.erase(e.ike_sa);
            if (log_)
                std::fprintf(log_, "ipsecgw: ike %s: IKE SA %" PRIu64 " deleted (%s)\n", e.peer.c_str(), e.ike_sa,
                             e.reason.c_str());
            break;
        }
        case ike::EventType::ChildInstalled:
            install_child(e, now);
            break;
        case ike::EventType::ChildDeleted:
            remove_child(e.deleted_spi_in, now);
            break;
        case ike::EventType::Failed:
            fail(e.peer, e.reason.empty() ? "exchange failed" : with_notify_names(e.reason));
            break;
    }
}

void IkeService::install_child(const ike::SaEvent& e, TimePoint now)
{
    if (!e.child)
        return;
    const ike::ChildSaInfo& ci = *e.child;
    auto cit = conns_.find(e.peer);
    if (cit == conns_.end())
        return;
    const auto& cc = cit->second.config;
    Child c;
    c.conn = e.peer;
    c.ike_sa = e.ike_sa;
    c.spi_in = ci.spi_in;
    c.spi_out = ci.spi_out;
    c.installed_at = now;
    c.local_ts = ci.local_ts;
    c.remote_ts = ci.remote_ts;
    c.udp_encap = ci.udp_encapsulation;
    c.sa_in = "ike:" + c.conn + ":in:" + hex32(c.spi_in);
    c.sa_out = "ike:" + c.conn + ":out:" + hex32(c.spi_out);
    SaChange change;
    try {
        change.add_sas.push_back(make_sa(cc, ci, true, c.sa_in));
        change.add_sas.push_back(make_sa(cc, ci, false, c.sa_out));
        auto out = make_policies(ci.local_ts, ci.remote_ts, esp::Direction::Outbound, c.spi_out, c.sa_out);
        auto in = make_policies(ci.remote_ts, ci.local_ts, esp::Direction::Inbound, c.spi_in, c.sa_in);
        if (out.empty() || in.empty())
            throw CommandError(err::kInvalidArgument, "traffic selectors give no usable policy");
        Child* old = nullptr;
        if (e.replaces_spi_in)
            if (auto it = children_.find(e.replaces_spi_in); it != children_.end())
                old = &it->second;
        const bool switch_out_now = !old || e.we_initiated || !old->pending_out_policies.empty();
        if (switch_out_now) {
            for (const auto& p : out)
                c.out_policies.push_back(p.name);
            change.add_policies = std::move(out);
        } else {
            c.pending_out_policies = std::move(out);
        }
        if (old) {
            // Inbound keeps both SAs until the old one is deleted; outbound
            // moves now or when the peer deletes the old SA (see the header).
            change.remove_policies.insert(change.remove_policies.end(), old->in_policies.begin(),
                                          old->in_policies.end());
            if (switch_out_now) {
                change.remove_policies.insert(change.remove_policies.end(), old->out_policies.begin(),
                                              old->out_policies.end());
                if (!old->sa_out.empty())
                    change.remove_sas.push_back(old->sa_out);
            }
            c.pending_in_policies = std::move(in);
            c.replaced_spi_in = old->spi_in;
        } else {
            for (const auto& p : in)
                c.in_policies.push_back(p.name);
            change.add_policies.insert(change.add_policies.end(), in.begin(), in.end());
        }
        if (!old && batching_)
            batch_.push_back({std::move(change), c.conn, c.ike_sa, c.spi_in});  // published at the end of the round
        else
            apply(std::move(change));
        if (old) {
            old->in_policies.clear();
            if (switch_out_now) {
                old->out_policies.clear();
                old->sa_out.clear();
            }
            old->pending_in_policies.clear();  // a rekey of a rekey: the newest SA's policies win
            old->pending_out_policies.clear();
        }
    } catch (const std::exception& ex) {
        for (auto& s : change.add_sas)
            s.sa.wipe();
        fail(c.conn, "CHILD_SA " + hex32(c.spi_in) + "/" + hex32(c.spi_out) + " not installed: " + ex.what());
        engine_->delete_child(e.ike_sa, ci.spi_in, now);
        return;
    }
    if (log_)
        std::fprintf(log_, "ipsecgw: ike %s: CHILD_SA installed, SPIs in %s out %s%s%s\n", c.conn.c_str(),
                     hex32(c.spi_in).c_str(), hex32(c.spi_out).c_str(), c.udp_encap ? ", UDP-encapsulated" : "",
                     c.replaced_spi_in ? (", rekeys " + hex32(c.replaced_spi_in)).c_str() : "");
    children_[c.spi_in] = std::move(c);
}

// The rekeyed SA outlived kRekeyOverlapLimit: the new SA takes over its
// selectors (and, for a peer's rekey, our outbound traffic) anyway.
void IkeService::finish_rekey(Child& c)
{
    SaChange change;
    change.add_policies = c.pending_in_policies;
    change.add_policies.insert(change.add_policies.end(), c.pending_out_policies.begin(),
                               c.pending_out_policies.end());
    Child* old = nullptr;
    if (auto it = children_.find(c.replaced_spi_in); it != children_.end() && !c.pending_out_policies.empty()) {
        old = &it->second;
        change.remove_policies = old->out_policies;
        if (!old->sa_out.empty())
            change.remove_sas.push_back(old->sa_out);
    }
    try {
        apply(std::move(change));
    } catch (const std::exception& e) {
        fail(c.conn, std::string("policies after a rekey not installed: ") + e.what());
        c.pending_in_policies.clear();  // given up (logged), not retried every round
        c.pending_out_policies.clear();
        return;
    }
    if (old) {
        old->out_policies.clear();
        old->sa_out.clear();
    }
    for (const auto* pending : {&c.pending_in_policies, &c.pending_out_policies})
        for (const auto& p : *pending)
            (pending == &c.pending_in_policies ? c.in_policies : c.out_policies).push_back(p.name);
    c.pending_in_policies.clear();
    c.pending_out_policies.clear();
    c.replaced_spi_in = 0;
}

void IkeService::remove_child(uint32_t spi_in, TimePoint)
{
    auto it = children_.find(spi_in);
    if (it == children_.end())
        return;
    Child& c = it->second;
    SaChange change;
    change.remove_sas.push_back(c.sa_in);
    if (!c.sa_out.empty())
        change.remove_sas.push_back(c.sa_out);
    change.remove_policies = c.in_policies;
    change.remove_policies.insert(change.remove_policies.end(), c.out_policies.begin(), c.out_policies.end());
    // The SA that rekeyed this one takes over its inbound selectors now.
    Child* successor = nullptr;
    for (auto& [spi, s] : children_)
        if (s.replaced_spi_in == spi_in)
            successor = &s;
    if (successor) {
        change.add_policies = successor->pending_in_policies;
        change.add_policies.insert(change.add_policies.end(), successor->pending_out_policies.begin(),
                                   successor->pending_out_policies.end());
    }
    try {
        apply(std::move(change));
    } catch (const std::exception& e) {
        // The entries stay; the dataplane's hard lifetime still ends them.
        fail(c.conn, "CHILD_SA " + hex32(spi_in) + " not removed: " + e.what());
        return;
    }
    if (log_)
        std::fprintf(log_, "ipsecgw: ike %s: CHILD_SA %s removed\n", c.conn.c_str(), hex32(spi_in).c_str());
    if (successor) {
        for (const auto& p : successor->pending_in_policies)
            successor->in_policies.push_back(p.name);
        for (const auto& p : successor->pending_out_policies)
            successor->out_policies.push_back(p.name);
        successor->pending_in_policies.clear();
        successor->pending_out_policies.clear();
        successor->replaced_spi_in = 0;
    }
    children_.erase(it);
}

void IkeService::on_lifetime_event(esp::Direction dir, uint32_t spi, SaLifetimeEvent what, TimePoint now)
{
    now_ = now;
    Child* c = nullptr;
    if (dir == esp::Direction::Inbound) {
        if (auto it = children_.find(spi); it != children_.end())
            c = &it->second;
    } else {
        for (auto& [_, x] : children_)
            if (x.spi_out == spi && !x.sa_out.empty())
                c = &x;
    }
    if (!c)
        return;
    bool superseded = c->sa_out.empty();  // already rekeyed: the engine deletes it
    if (what == SaLifetimeEvent::Soft) {
        if (!superseded)
            engine_->rekey_child(c->ike_sa, c->spi_in, now);
    } else {
        fail(c->conn, "CHILD_SA " + hex32(c->spi_in) + " reached its hard lifetime");
        uint64_t ike_sa = c->ike_sa;
        uint32_t spi_in = c->spi_in;
        remove_child(spi_in, now);
        engine_->delete_child(ike_sa, spi_in, now);
    }
    for (const auto& out : engine_->take_datagrams())
        io_.send(out);
}

std::vector<uint64_t> IkeService::ike_sas_of(const std::string& conn) const
{
    std::vector<uint64_t> out;
    for (const auto& s : engine_->status())
        if (s.peer == conn && (s.state == "established" || s.state == "connecting") &&
            std::find(out.begin(), out.end(), s.handle) == out.end())
            out.push_back(s.handle);
    return out;
}

void IkeService::initiate(const std::string& conn, TimePoint now)
{
    auto& c = connection(conn);
    if (!c.config.remote)
        throw CommandError(err::kConflict, "connection '" + conn + "' has remote any: it can only respond");
    for (uint64_t h : ike_sas_of(conn))
        if (auto s = engine_->status(h); s && s->state == "established") {
            // Up already: ask for another CHILD_SA only when it has none.
            if (!s->children.empty())
                throw CommandError(err::kConflict, "connection '" + conn + "' is up already");
            engine_->create_child(h, now);
            poll(now);
            return;
        }
    if (!engine_->initiate(conn, now))
        throw CommandError(err::kInternal, "the engine refused to initiate '" + conn + "'");
    poll(now);
}

void IkeService::terminate(const std::string& conn, TimePoint now)
{
    connection(conn);
    auto sas = ike_sas_of(conn);
    if (sas.empty())
        throw CommandError(err::kConflict, "connection '" + conn + "' has no IKE SA");
    for (uint64_t h : sas)
        engine_->delete_ike(h, now);
    poll(now);
}

void IkeService::rekey(const std::string& conn, bool ike_sa, TimePoint now)
{
    connection(conn);
    bool any = false;
    for (uint64_t h : ike_sas_of(conn)) {
        if (ike_sa) {
            any |= engine_->rekey_ike(h, now);
            continue;
        }
        for (const auto& [spi, c] : children_)
            if (c.ike_sa == h && !c.sa_out.empty())
                any |= engine_->rekey_child(h, spi, now);
    }
    if (!any)
        throw CommandError(err::kConflict, "connection '" + conn + "' has no established " +
                                               (ike_sa ? "IKE SA" : "CHILD_SA") + " to rekey");
    poll(now);
}

Json IkeService::show(TimePoint now) const
{
    auto seconds = [&](TimePoint t) { return static_cast<int64_t>((t - now).count() / 1000); };
    Json conns = Json::array();
    auto status = engine_->status();
    for (const auto& [name, conn] : conns_) {
        const auto& cc = conn.config;
        Json c = Json::object();
        c.set("name", name);
        c.set("local", cc.local.to_string());
        c.set("remote", cc.remote ? cc.remote->to_string() : std::string("any"));
        c.set("local_id", gateway::ike_id_text(cc.local_id));
        c.set("remote_id", gateway::ike_id_text(cc.remote_id));
        c.set("auth", cc.auth == gateway::ConnAuth::Psk ? "psk" : "pubkey");
        c.set("last_error", conn.last_error);
        Json sas = Json::array();
        for (const auto& s : status) {
            if (s.peer != name || s.state == "dead")
                continue;
            Json j = Json::object();
            j.set("handle", s.handle);
            j.set("state", s.state);
            j.set("role", s.initiator ? "initiator" : "responder");
            j.set("spi_i", hex64(s.spi_i));
            j.set("spi_r", hex64(s.spi_r));
            j.set("local", endpoint_text(s.local));
            j.set("peer", endpoint_text(s.remote));
            j.set("algorithms", gateway::suite_text(s.suite, false));
            j.set("nat", s.nat_here ? "behind NAT" : s.nat_there ? "peer behind NAT" : "none");
            j.set("udp_encap", s.udp_encapsulation);
            auto est = established_at_.find(s.handle);
            j.set("established_s_ago", est == established_at_.end() ? Json() : Json(-seconds(est->second)));
            j.set("rekey_in_s", s.rekey_at.count() ? Json(seconds(s.rekey_at)) : Json());
            j.set("expires_in_s", s.expire_at.count() ? Json(seconds(s.expire_at)) : Json());
            Json children = Json::array();
            for (const auto& ci : s.children) {
                Json k = Json::object();
                k.set("spi_in", hex32(ci.spi_in));
                k.set("spi_out", hex32(ci.spi_out));
                k.set("algorithms", gateway::suite_text(ci.suite, true));
                k.set("udp_encap", ci.udp_encapsulation);
                auto ts_text = [](const std::vector<ike::TrafficSelector>& v) {
                    std::string t;
                    for (const auto& ts : v)
                        for (const auto& p : range_prefixes(ts)) {
                            if (!t.empty())
                                t += ',';
                            t += p.to_string();
                        }
                    return t;
                };
                k.set("local_ts", ts_text(ci.local_ts));
                k.set("remote_ts", ts_text(ci.remote_ts));
                auto ours = children_.find(ci.spi_in);
                k.set("installed", ours != children_.end());
                uint64_t pk = 0, by = 0;
                if (ours != children_.end() && installer_.sa_counters(ours->second.sa_in, pk, by)) {
                    k.set("in_packets", pk);
                    k.set("in_bytes", by);
                }
                if (ours != children_.end() && !ours->second.sa_out.empty() &&
                    installer_.sa_counters(ours->second.sa_out, pk, by)) {
                    k.set("out_packets", pk);
                    k.set("out_bytes", by);
                }
                children.push(std::move(k));
            }
            j.set("children", std::move(children));
            sas.push(std::move(j));
        }
        c.set("ike_sas", std::move(sas));
        conns.push(std::move(c));
    }
    Json r = Json::object();
    r.set("connections", std::move(conns));
    r.set("half_open", engine_->half_open_count());
    return r;
}

void IkeService::register_commands(Dispatcher& d)
{
    auto show = [this](const Request&) { return this->show(now_); };
    d.add("show.ike", "IKE connections, IKE SAs and CHILD_SAs", show);
    d.add("ike.show", "IKE connections, IKE SAs and CHILD_SAs", show);
    auto done = [](const std::string& what) {
        Json r = Json::object();
        r.set("done", what);
        return r;
    };
    d.add("ike.initiate", "start IKE_SA_INIT (or a CHILD_SA) for a connection", [this, done](const Request& r) {
        auto name = r.string_arg("name");
        initiate(name, now_);
        return done("initiating " + name);
    });
    d.add("ike.terminate", "delete a connection's IKE SAs (and their CHILD_SAs)", [this, done](const Request& r) {
        auto name = r.string_arg("name");
        terminate(name, now_);
        return done("terminating " + name);
    });
    d.add("ike.rekey", "rekey a connection's CHILD_SAs (or its IKE SA with ike=true)",
          [this, done](const Request& r) {
              auto name = r.string_arg("name");
              bool ike_sa = r.bool_arg("ike");
              rekey(name, ike_sa, now_);
              return done(std::string("rekeying ") + (ike_sa ? "the IKE SA of " : "the CHILD_SAs of ") + name);
          });
}

}  // namespace ipsecgw::control
