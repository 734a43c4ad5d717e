#include "control/live_gateway.hpp"

#include <algorithm>
#include <cctype>

#include "gateway/config_lines.hpp"
#include "gateway/native_config.hpp"

namespace ipsecgw::control {

namespace {

using gateway::GatewayConfig;

GatewayConfig clone(const GatewayConfig& c)
{
    GatewayConfig n;
    n.ports = c.ports;
    n.spd = c.spd;
    n.sas = c.sas;
    n.routes = c.routes;
    n.neighbours = c.neighbours;
    n.ike = c.ike;
    return n;
}

// One configuration token from a request argument: no spaces, comments,
// continuations or anything else that could change the statement's shape.
std::string token(const Request& r, const std::string& name, bool required = true)
{
    const Json* v = r.arg(name);
    if (!v || v->is_null()) {
        if (required)
            throw CommandError(err::kInvalidArgument, "missing argument \"" + name + "\"");
        return "";
    }
    std::string s = v->is_string() ? v->as_string() : v->is_int() ? std::to_string(v->as_int()) : "";
    if (s.empty())
        throw CommandError(err::kInvalidArgument, "argument \"" + name + "\" must be a non-empty string or number");
    for (char c : s)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' || c == '/' ||
              c == '-'))
            throw CommandError(err::kInvalidArgument, "argument \"" + name + "\" has a character not allowed here");
    return s;
}

// Parses statements in the configuration file's own grammar, so a change is
// checked exactly as the same line in the file would be.
GatewayConfig parse_statements(std::string text)
{
    try {
        // The parser keeps the text in a buffer it wipes (it may hold a key).
        return gateway::parse_native_config("request", std::move(text), "/", false);
    } catch (const gateway::ConfigError& e) {
        std::string msg = e.what();
        // "request:N: reason" -> "reason"
        auto p = msg.find(": ");
        throw CommandError(err::kInvalidArgument, p == std::string::npos ? msg : msg.substr(p + 2));
    }
}

// (Built with appends only: GCC 12 warns -Wrestrict on "x" + std::string.)
void put(std::string& s, const std::string& word)
{
    s += word;
    s += ' ';
}

std::string routes_text(const GatewayConfig& c)
{
    std::string s;
    for (const auto& r : c.routes.routes()) {
        put(s, r.prefix.to_string());
        put(s, std::to_string(r.port));
        put(s, r.via ? r.via->to_string() : std::string("-"));
        s += '\n';
    }
    for (const auto& n : c.neighbours.entries()) {
        put(s, n.address ? n.address->to_string() : std::string("default"));
        put(s, std::to_string(n.port));
        for (uint8_t b : n.mac)
            put(s, std::to_string(b));
        s += '\n';
    }
    return s;
}

std::string ports_text(const GatewayConfig& c)
{
    std::string s;
    for (const auto& p : c.ports) {
        put(s, std::to_string(p.id));
        put(s, p.role == gateway::PortRole::Protected ? "p" : "u");
        for (const auto& a : p.addresses)
            put(s, a.to_string());
        s += '\n';
    }
    return s;
}

const gateway::SaEntry* sa_by_name(const GatewayConfig& c, const std::string& name)
{
    for (const auto& e : c.sas)
        if (e.name == name)
            return &e;
    return nullptr;
}

Json done(const std::string& what, uint64_t version)
{
    Json r = Json::object();
    r.set("done", what);
    r.set("version", version);
    return r;
}

}  // namespace

LiveGateway::LiveGateway(std::unique_ptr<dataplane::GatewayTables> initial, GatewayConfig model,
                         const std::vector<dataplane::LcoreCounters*>& counters, uint16_t workers, Loader reload)
    : counters_(counters), workers_(workers), loader_(std::move(reload)), model_(std::move(model)),
      live_(initial.release()), rcu_(std::max<unsigned>(workers, 1))
{
    for (size_t i = 0; i < model_.sas.size(); ++i)
        slots_.push_back(static_cast<uint32_t>(i));
    next_slot_ = static_cast<uint32_t>(model_.sas.size());
    for (unsigned i = 0; i < workers; ++i)
        rcu_.register_reader(i);
}

LiveGateway::~LiveGateway()
{
    rcu_.synchronize(std::chrono::milliseconds(100));
    delete live_.load();
}

uint32_t LiveGateway::take_slot()
{
    if (!free_slots_.empty()) {
        uint32_t s = free_slots_.back();
        free_slots_.pop_back();
        return s;
    }
    if (next_slot_ >= kSaSlots)
        throw CommandError(err::kConflict, "no free SA slot (" + std::to_string(kSaSlots) +
                                               " SAs, or deleted ones still in their grace period)");
    return next_slot_++;
}

void LiveGateway::apply(GatewayConfig next, std::vector<uint32_t> slots, bool rebuild_spd, bool rebuild_routes,
                        std::vector<uint32_t> released)
{
    try {
        next.validate();
    } catch (const gateway::ConfigError& e) {
        next.wipe_keys();
        throw CommandError(err::kInvalidArgument, e.what());
    }
    if (rebuild_routes)
        rcu_.synchronize(std::chrono::milliseconds(200));  // LPM tables are large: free retired ones first
    dataplane::TablesBuild how;
    how.previous = &tables();
    how.sa_slots = &slots;
    how.rebuild_spd = rebuild_spd;
    how.rebuild_routes = rebuild_routes;
    how.workers = workers_;
    std::unique_ptr<dataplane::GatewayTables> t;
    try {
        // Everything is built before anything is published (keys wiped by the constructor).
        t = std::make_unique<dataplane::GatewayTables>(next, "gw" + std::to_string(version_ + 1) + "_", how);
    } catch (const std::exception& e) {
        next.wipe_keys();
        throw CommandError(err::kInvalidArgument, std::string("cannot build the new tables: ") + e.what());
    }
    ++version_;
    const dataplane::GatewayTables* old = live_.exchange(t.release(), std::memory_order_acq_rel);
    auto* counters = &counters_;
    auto* free_slots = &free_slots_;
    rcu_.retire([old, released = std::move(released), counters, free_slots] {
        delete old;  // SAs only it held die here: keys wiped by esp::Sa's destructor
        for (uint32_t s : released) {
            for (auto* c : *counters)  // no worker writes this slot any more
                c->sas[s].clear();
            free_slots->push_back(s);
        }
    });
    model_ = std::move(next);
    slots_ = std::move(slots);
    rcu_.reclaim();
}

uint64_t LiveGateway::apply_change(SaChange change)
{
    struct Wipe {
        SaChange& c;
        ~Wipe()
        {
            for (auto& e : c.add_sas)
                e.sa.wipe();
        }
    } wipe{change};
    GatewayConfig next = clone(model_);
    auto slots = slots_;
    std::vector<uint32_t> released, taken;
    bool rebuild_spd = !change.add_policies.empty() || !change.remove_policies.empty();
    if (rebuild_spd) {
        gateway::Spd spd;
        spd.default_action = model_.spd.default_action;
        for (const auto& p : model_.spd.policies())
            if (std::find(change.remove_policies.begin(), change.remove_policies.end(), p.name) ==
                change.remove_policies.end())
                spd.add(p);
        for (const auto& p : change.add_policies)
            spd.add(p);
        next.spd = spd;
    }
    for (const auto& name : change.remove_sas) {
        auto it = std::find_if(next.sas.begin(), next.sas.end(), [&](const auto& e) { return e.name == name; });
        if (it == next.sas.end())
            throw CommandError(err::kNotFound, "no SA named '" + name + "'");
        auto i = it - next.sas.begin();
        released.push_back(slots[static_cast<size_t>(i)]);
        next.sas.erase(it);
        slots.erase(slots.begin() + i);
    }
    try {
        for (const auto& e : change.add_sas) {
            if (sa_by_name(next, e.name))
                throw CommandError(err::kConflict, "an SA named '" + e.name + "' exists");
            slots.push_back(take_slot());
            taken.push_back(slots.back());
            next.sas.push_back(e);
        }
        apply(std::move(next), std::move(slots), rebuild_spd, false, released);
    } catch (...) {
        for (uint32_t s : taken)
            free_slots_.push_back(s);
        throw;
    }
    return version_;
}

bool LiveGateway::sa_counters(const std::string& name, uint64_t& packets, uint64_t& bytes) const
{
    for (size_t i = 0; i < model_.sas.size(); ++i) {
        if (model_.sas[i].name != name)
            continue;
        packets = bytes = 0;
        for (auto* c : counters_) {
            packets += c->sas[slots_[i]].packets.v.load(std::memory_order_relaxed);
            bytes += c->sas[slots_[i]].bytes.v.load(std::memory_order_relaxed);
        }
        return true;
    }
    return false;
}

Json LiveGateway::sa_add(const Request& r)
{
    std::string name = token(r, "name"), dir = token(r, "dir");
    if (dir != "in" && dir != "out")
        throw CommandError(err::kInvalidArgument, "dir must be in or out");
    if (sa_by_name(model_, name))
        throw CommandError(err::kConflict, "an SA named '" + name + "' exists");
    const Json* key = r.arg("key");
    if (!key || !key->is_string() || key->as_string().empty())
        throw CommandError(err::kInvalidArgument, "missing argument \"key\" (hex key material)");
    for (char c : key->as_string())
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            throw CommandError(err::kInvalidArgument, "key material must be hexadecimal");
    // Built in place with room to spare, so no reallocation leaves a copy of the key behind.
    std::string text;
    text.reserve(1024 + key->as_string().size());
    text += "sa " + name + " " + dir + " spi " + token(r, "spi") + " aead " +
            (r.arg("aead") ? token(r, "aead") : std::string("aes128gcm16"));
    text += " key ";
    text += key->as_string();
    std::string mode = r.arg("mode") ? token(r, "mode") : std::string("tunnel");
    text += " mode " + mode;
    if (mode == "tunnel")
        text += " local " + token(r, "local") + " remote " + token(r, "remote");
    if (r.bool_arg("esn"))
        text += " esn";
    for (const char* k : {"replay_window", "ttl", "lifetime_packets", "lifetime_bytes", "lifetime_seconds"})
        if (r.arg(k) && !r.arg(k)->is_null()) {
            std::string kw = k;
            std::replace(kw.begin(), kw.end(), '_', '-');
            text += " " + kw + " " + token(r, k);
        }
    text += "\n";
    GatewayConfig one = parse_statements(std::move(text));
    if (one.sas.size() != 1)
        throw CommandError(err::kInvalidArgument, "not one SA");
    GatewayConfig next = clone(model_);
    auto slots = slots_;
    uint32_t slot = take_slot();
    next.sas.push_back(one.sas[0]);
    one.wipe_keys();
    slots.push_back(slot);
    try {
        apply(std::move(next), std::move(slots), false, false, {});
    } catch (...) {
        free_slots_.push_back(slot);
        throw;
    }
    return done("sa " + name + " added", version_);
}

Json LiveGateway::sa_del(const Request& r)
{
    int64_t spi = r.int_arg("spi", 0, 0xffffffffLL);
    std::string dir = r.string_arg("dir", false);
    std::vector<size_t> hits;
    for (size_t i = 0; i < model_.sas.size(); ++i) {
        const auto& e = model_.sas[i];
        bool in = e.sa.direction == esp::Direction::Inbound;
        if (e.sa.spi == spi && (dir.empty() || (dir == "in") == in))
            hits.push_back(i);
    }
    if (hits.empty())
        throw CommandError(err::kNotFound, "no SA with SPI " + std::to_string(spi));
    if (hits.size() > 1)
        throw CommandError(err::kInvalidArgument, "SPI " + std::to_string(spi) + " is used in both directions: give dir");
    const auto& e = model_.sas[hits[0]];
    for (const auto& p : model_.spd.policies())
        if (p.action == gateway::PolicyAction::Protect && p.spi == e.sa.spi && p.direction == e.sa.direction)
            throw CommandError(err::kConflict, "policy '" + p.name + "' uses SA '" + e.name + "'; delete it first");
    GatewayConfig next = clone(model_);
    auto slots = slots_;
    uint32_t released = slots[hits[0]];
    std::string name = e.name;
    next.sas.erase(next.sas.begin() + static_cast<long>(hits[0]));
    slots.erase(slots.begin() + static_cast<long>(hits[0]));
    apply(std::move(next), std::move(slots), false, false, {released});
    return done("sa " + name + " deleted", version_);
}

Json LiveGateway::policy_add(const Request& r)
{
    std::string name = token(r, "name"), dir = token(r, "dir"), action = token(r, "action");
    for (const auto& p : model_.spd.policies())
        if (p.name == name)
            throw CommandError(err::kConflict, "a policy named '" + name + "' exists");
    std::string text, line = "policy " + name + " " + dir;
    for (const char* k : {"priority", "family", "src", "dst", "proto", "sport", "dport"})
        if (r.arg(k) && !r.arg(k)->is_null())
            line += std::string(" ") + k + " " + token(r, k);
    line += " " + action;
    if (action == "protect") {
        std::string sa = token(r, "sa");
        const gateway::SaEntry* e = sa_by_name(model_, sa);
        if (!e)
            throw CommandError(err::kNotFound, "no SA named '" + sa + "'");
        // A stand-in with the SA's name, direction and SPI, so the parser resolves the reference.
        text = "sa " + sa + " " + (e->sa.direction == esp::Direction::Inbound ? "in" : "out") + " spi " +
               std::to_string(e->sa.spi) + " aead aes128gcm16 key " + std::string(40, '0') + " mode transport\n";
        line += " " + sa;
    }
    GatewayConfig one = parse_statements(text + line + "\n");
    if (one.spd.policies().size() != 1)
        throw CommandError(err::kInvalidArgument, "not one policy");
    GatewayConfig next = clone(model_);
    next.spd.add(one.spd.policies()[0]);
    apply(std::move(next), slots_, true, false, {});
    return done("policy " + name + " added", version_);
}

Json LiveGateway::policy_del(const Request& r)
{
    std::string name = r.string_arg("name");
    GatewayConfig next = clone(model_);
    gateway::Spd spd;
    spd.default_action = model_.spd.default_action;
    bool found = false;
    for (const auto& p : model_.spd.policies()) {
        if (p.name == name && !found) {
            found = true;
            continue;
        }
        spd.add(p);
    }
    if (!found)
        throw CommandError(err::kNotFound, "no policy named '" + name + "'");
    next.spd = spd;
    apply(std::move(next), slots_, true, false, {});
    return done("policy " + name + " deleted", version_);
}

Json LiveGateway::route_add(const Request& r)
{
    std::string line = "route " + token(r, "prefix") + " port " + token(r, "port");
    if (r.arg("via") && !r.arg("via")->is_null())
        line += " via " + token(r, "via");
    GatewayConfig one = parse_statements(line + "\n");
    GatewayConfig next = clone(model_);
    const auto& nr = one.routes.routes().at(0);
    for (const auto& x : model_.routes.routes())
        if (x.prefix == nr.prefix)
            throw CommandError(err::kConflict, "a route for " + nr.prefix.to_string() + " exists; delete it first");
    next.routes.add(nr);
    apply(std::move(next), slots_, false, true, {});
    return done("route " + nr.prefix.to_string() + " added", version_);
}

Json LiveGateway::route_del(const Request& r)
{
    GatewayConfig one = parse_statements("route " + token(r, "prefix") + " port 0\n");
    const auto& want = one.routes.routes().at(0).prefix;
    GatewayConfig next = clone(model_);
    gateway::RouteTable rt;
    bool found = false;
    for (const auto& x : model_.routes.routes()) {
        if (x.prefix == want) {
            found = true;
            continue;
        }
        rt.add(x);
    }
    if (!found)
        throw CommandError(err::kNotFound, "no route for " + want.to_string());
    next.routes = rt;
    apply(std::move(next), slots_, false, true, {});
    return done("route " + want.to_string() + " deleted", version_);
}

Json LiveGateway::neighbor_add(const Request& r)
{
    GatewayConfig one =
        parse_statements("neighbour " + token(r, "ip") + " port " + token(r, "port") + " mac " + token(r, "mac") + "\n");
    const auto& n = one.neighbours.entries().at(0);
    for (const auto& x : model_.neighbours.entries())
        if (x.port == n.port && x.address == n.address)
            throw CommandError(err::kConflict, "that neighbour exists; delete it first");
    GatewayConfig next = clone(model_);
    next.neighbours.add(n);
    apply(std::move(next), slots_, false, true, {});
    return done("neighbor added", version_);
}

Json LiveGateway::neighbor_del(const Request& r)
{
    std::string ip = token(r, "ip");
    std::optional<net::IpAddress> addr;
    if (ip != "default") {
        addr = net::IpAddress::parse(ip);
        if (!addr)
            throw CommandError(err::kInvalidArgument, "bad address '" + ip + "'");
    }
    int64_t port = r.int_arg("port", 0, 65535, false, -1);
    GatewayConfig next = clone(model_);
    gateway::NeighbourTable nt;
    size_t found = 0;
    for (const auto& x : model_.neighbours.entries()) {
        if (x.address == addr && (port < 0 || x.port == port)) {
            ++found;
            continue;
        }
        nt.add(x);
    }
    if (!found)
        throw CommandError(err::kNotFound, "no neighbour " + ip);
    next.neighbours = nt;
    apply(std::move(next), slots_, false, true, {});
    return done("neighbor " + ip + " deleted", version_);
}

Json LiveGateway::reload(const Request&)
{
    if (!loader_)
        throw CommandError(err::kNotSupported, "no configuration file to reload");
    GatewayConfig next;
    try {
        next = loader_();
    } catch (const std::exception& e) {
        throw CommandError(err::kInvalidArgument, std::string("configuration not reloaded, nothing changed: ") + e.what());
    }
    if (ports_text(next) != ports_text(model_)) {
        next.wipe_keys();
        throw CommandError(err::kNotSupported, "port changes need a restart; nothing changed");
    }
    if (!(next.ike == model_.ike)) {
        next.wipe_keys();
        throw CommandError(err::kNotSupported,
                           "IKE connection changes (conn, ike-secrets, ike-cookie-threshold) need a restart; "
                           "nothing changed");
    }
    // What IKE negotiated is not in the file: keep it (same SAs, same policies).
    for (const auto& e : model_.sas)
        if (e.where.file == kIkeSourceTag)
            next.sas.push_back(e);
    {
        gateway::Spd spd;
        spd.default_action = next.spd.default_action;
        for (const auto& p : next.spd.policies())
            spd.add(p);
        for (const auto& p : model_.spd.policies())
            if (p.where.file == kIkeSourceTag)
                spd.add(p);
        next.spd = spd;
    }
    // SAs present before (same direction and SPI) keep their state and slot;
    // to change an SA's key, give it a new SPI (as rekeying does).
    std::vector<uint32_t> slots;
    std::vector<bool> kept(model_.sas.size(), false);
    size_t added = 0;
    std::vector<uint32_t> taken;
    try {
        for (const auto& e : next.sas) {
            size_t j = 0;
            while (j < model_.sas.size() &&
                   !(model_.sas[j].sa.direction == e.sa.direction && model_.sas[j].sa.spi == e.sa.spi))
                ++j;
            if (j < model_.sas.size()) {
                kept[j] = true;
                slots.push_back(slots_[j]);
            } else {
                slots.push_back(take_slot());
                taken.push_back(slots.back());
                ++added;
            }
        }
    } catch (...) {
        for (uint32_t s : taken)
            free_slots_.push_back(s);
        next.wipe_keys();
        throw;
    }
    std::vector<uint32_t> released;
    for (size_t j = 0; j < kept.size(); ++j)
        if (!kept[j])
            released.push_back(slots_[j]);
    bool routes_changed = routes_text(next) != routes_text(model_);
    try {
        apply(std::move(next), std::move(slots), true, routes_changed, released);
    } catch (...) {
        for (uint32_t s : taken)
            free_slots_.push_back(s);
        throw;
    }
    Json r = done("configuration reloaded", version_);
    r.set("sas_added", added);
    r.set("sas_removed", released.size());
    r.set("routes_rebuilt", routes_changed);
    return r;
}

void LiveGateway::register_commands(Dispatcher& d)
{
    struct Entry {
        const char* cmd;
        const char* help;
        Json (LiveGateway::*fn)(const Request&);
    };
    static const Entry table[] = {
        {"sa.add", "install an SA (manual keying)", &LiveGateway::sa_add},
        {"sa.del", "remove an SA", &LiveGateway::sa_del},
        {"policy.add", "add a security policy", &LiveGateway::policy_add},
        {"policy.del", "remove a security policy", &LiveGateway::policy_del},
        {"route.add", "add a route", &LiveGateway::route_add},
        {"route.del", "remove a route", &LiveGateway::route_del},
        {"neighbor.add", "add a static neighbour", &LiveGateway::neighbor_add},
        {"neighbor.del", "remove a static neighbour", &LiveGateway::neighbor_del},
        {"reload", "re-read the configuration file; validate all, apply the difference", &LiveGateway::reload},
    };
    for (const auto& e : table) {
        auto fn = e.fn;
        d.add(e.cmd, e.help, [this, fn](const Request& r) {
            struct Wipe {  // key material in the request never outlives it
                const Request& r;
                ~Wipe()
                {
                    if (const Json* k = r.arg("key"); k && k->is_string()) {
                        auto& s = const_cast<std::string&>(k->as_string());
                        std::fill(s.begin(), s.end(), '\0');
                    }
                }
            } wipe{r};
            return (this->*fn)(r);
        });
    }
}

}  // namespace ipsecgw::control
