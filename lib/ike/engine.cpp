// Dispatch of datagrams to IKE SAs, responder-side IKE_SA_INIT admission
// (COOKIE), and the control-core API.
#include "ike/engine.hpp"

#include <openssl/crypto.h>

#include <algorithm>
#include <utility>

#include "ike/child_create_task.hpp"
#include "ike/ike_init_task.hpp"
#include "ike/ike_rekey_task.hpp"
#include "ike/ike_sa.hpp"
#include "ike/informational_task.hpp"
#include "ike/prf.hpp"

namespace ipsecgw::ike {

Engine::Engine(EngineConfig config) : config_(config), cookie_secret_(to_secret(random_bytes(32))) {}

Engine::~Engine() = default;

void Engine::add_peer(PeerConfig peer) { peers_.push_back(std::move(peer)); }

void Engine::emit(SaEvent event) { events_.push_back(std::move(event)); }
void Engine::send(Datagram datagram) { out_.push_back(std::move(datagram)); }

std::vector<Datagram> Engine::take_datagrams() { return std::exchange(out_, {}); }
std::vector<SaEvent> Engine::take_events() { return std::exchange(events_, {}); }

std::uint32_t Engine::allocate_child_spi() {
    // Unique among our CHILD_SAs and never in the reserved range 0-255.
    for (;;) {
        std::uint32_t spi = random_u32();
        if (spi < 256) continue;
        bool used = false;
        for (const auto& [_, sa] : sas_)
            for (const auto& c : sa->children) used |= c->spi_in == spi;
        if (!used) return spi;
    }
}

std::uint64_t Engine::allocate_ike_spi() {
    for (;;) {
        std::uint64_t spi = random_u64();
        if (spi != 0 && !sas_.count(spi) &&
            std::none_of(adopted_.begin(), adopted_.end(), [&](const auto& sa) { return sa->local_spi() == spi; }))
            return spi;
    }
}

void Engine::adopt(std::unique_ptr<IkeSa> sa) { adopted_.push_back(std::move(sa)); }

void Engine::reap() {
    for (auto& sa : adopted_) {
        std::uint64_t spi = sa->local_spi();
        sas_[spi] = std::move(sa);
    }
    adopted_.clear();
    for (auto it = sas_.begin(); it != sas_.end();)
        it = it->second->state == IkeSa::State::Dead ? sas_.erase(it) : std::next(it);
}

void Engine::initial_contact(IkeSa& sa) {
    for (auto& [_, other] : sas_) {
        if (other.get() == &sa || other->handle == sa.handle) continue;
        if (other->state == IkeSa::State::Connecting || other->state == IkeSa::State::Dead) continue;
        if (other->peer_id == sa.peer_id && other->cfg.local_id == sa.cfg.local_id)
            other->terminate("replaced: the peer sent INITIAL_CONTACT", false);
    }
}

bool Engine::has_other_ike_sa(const IkeSa& sa) const {
    return std::any_of(sas_.begin(), sas_.end(), [&](const auto& kv) {
        const IkeSa& o = *kv.second;
        return &o != &sa && o.handle != sa.handle && o.cfg.name == sa.cfg.name && o.established();
    });
}

IkeSa* Engine::live_sa(std::uint64_t handle) {
    for (auto& [_, sa] : sas_)
        if (sa->handle == handle && sa->usable()) return sa.get();
    return nullptr;
}

const IkeSa* Engine::live_sa(std::uint64_t handle) const { return const_cast<Engine*>(this)->live_sa(handle); }

std::uint64_t Engine::initiate(const std::string& peer, TimePoint now) {
    auto it = std::find_if(peers_.begin(), peers_.end(), [&](const PeerConfig& p) { return p.name == peer; });
    if (it == peers_.end() || it->ike_suites.empty() || it->child.esp_suites.empty()) return 0;
    auto sa = std::make_unique<IkeSa>(core(), next_handle_++, *it, true, now);
    IkeSa& ref = *sa;
    sa->spi_i = allocate_ike_spi();
    std::uint64_t handle = sa->handle;
    sas_[sa->spi_i] = std::move(sa);
    ref.queue_task(std::make_unique<IkeInitTask>(), now);
    reap();
    return handle;
}

const PeerConfig* Engine::match_peer(const Datagram& dg) const {
    for (const auto& p : peers_) {
        bool remote_ok = p.remote.address.empty() || p.remote.address == dg.remote.address;
        bool local_ok = p.local.address.empty() || p.local.address == dg.local.address;
        if (remote_ok && local_ok && !p.ike_suites.empty()) return &p;
    }
    return nullptr;
}

std::size_t Engine::half_open_count() const {
    return static_cast<std::size_t>(std::count_if(sas_.begin(), sas_.end(), [](const auto& kv) {
        return !kv.second->original_initiator && kv.second->state == IkeSa::State::Connecting;
    }));
}

// §2.6: Cookie = Hash(Ni | IPi | SPIi | secret); stateless to verify.
Bytes Engine::make_cookie(ByteView ni, const Endpoint& from, std::uint64_t spi_i) const {
    Bytes in;
    Writer w(in);
    w.bytes(ni);
    w.bytes(from.address);
    w.u64(spi_i);
    SecretBytes mac = hmac("SHA256", cookie_secret_, in);
    return Bytes(mac.begin(), mac.end());
}

void Engine::receive(const Datagram& dg, TimePoint now) {
    ParseResult parsed = parse_message(dg.data);
    const Header& h = parsed.message.header;
    if (parsed.error == ParseError::Truncated || parsed.error == ParseError::TooLarge) return;
    bool init_request = h.exchange == ExchangeType::IkeSaInit && !h.is_response() && h.spi_r == 0;
    if (init_request) {
        receive_init_request(dg, parsed, now);
        reap();
        return;
    }
    if (!parsed.ok()) return;  // outer structure broken: nothing authenticated to answer
    // The I flag says who is the original initiator, and so whose SPI is ours.
    std::uint64_t ours = h.from_initiator() ? h.spi_r : h.spi_i;
    auto it = sas_.find(ours);
    if (it == sas_.end()) {
        if (!h.is_response()) reply_invalid_ike_spi(dg, h, now);  // never answer a response
        return;
    }
    IkeSa& sa = *it->second;
    std::uint64_t theirs = h.from_initiator() ? h.spi_i : h.spi_r;
    std::uint64_t expected = sa.original_initiator ? sa.spi_r : sa.spi_i;
    // The initiator learns SPIr from the IKE_SA_INIT response itself.
    bool init_response = h.exchange == ExchangeType::IkeSaInit && h.is_response();
    if (!init_response && theirs != expected) return;
    if (h.from_initiator() == sa.original_initiator) return;  // reflected message
    sa.on_datagram(dg, parsed, now);
    reap();
}

// §1.5 / §2.21.4: a request for an IKE SA we do not know (we may have lost
// it in a restart) MAY get an unprotected INVALID_IKE_SPI notification with
// the SPIs, exchange type and message ID copied, sent back to where it came
// from. It is no larger than the request, and rate-limited, so it can
// neither amplify nor flood.
void Engine::reply_invalid_ike_spi(const Datagram& dg, const Header& h, TimePoint now) {
    if (config_.invalid_spi_replies_per_second == 0) return;
    if (now - invalid_spi_window_ >= Duration(std::chrono::seconds(1)) || now < invalid_spi_window_) {
        invalid_spi_window_ = now;
        invalid_spi_replies_ = 0;
    }
    if (invalid_spi_replies_ >= config_.invalid_spi_replies_per_second) return;
    ++invalid_spi_replies_;
    Header r;
    r.spi_i = h.spi_i;
    r.spi_r = h.spi_r;
    r.exchange = h.exchange;
    r.message_id = h.message_id;
    // A response, from the other party than the one that sent the request.
    r.flags = static_cast<std::uint8_t>(header_flags::kResponse | (h.from_initiator() ? 0 : header_flags::kInitiator));
    send(Datagram{dg.local, dg.remote, build_message(r, {make_notify(NotifyType::InvalidIkeSpi)})});
}

void Engine::receive_init_request(const Datagram& dg, ParseResult& parsed, TimePoint now) {
    const Header& h = parsed.message.header;
    // A retransmitted IKE_SA_INIT goes to the half-open SA it created.
    for (auto& [_, sa] : sas_)
        if (!sa->original_initiator && sa->spi_i == h.spi_i && sa->remote == dg.remote && sa->usable()) {
            sa->on_datagram(dg, parsed, now);
            return;
        }
    auto reply_plain = [&](std::vector<Payload> payloads) {
        Header r;
        r.spi_i = h.spi_i;
        r.exchange = ExchangeType::IkeSaInit;
        r.flags = header_flags::kResponse;
        r.message_id = 0;
        send(Datagram{dg.local, dg.remote, build_message(r, payloads)});
    };
    if (parsed.error == ParseError::UnsupportedCritical) {
        reply_plain({make_notify(NotifyType::UnsupportedCriticalPayload, Bytes{parsed.unsupported_type})});
        return;
    }
    if (parsed.error == ParseError::UnsupportedVersion) {
        reply_plain({make_notify(NotifyType::InvalidMajorVersion)});
        return;
    }
    if (!parsed.ok() || h.message_id != 0 || h.spi_i == 0) return;
    const PeerConfig* peer = match_peer(dg);
    if (!peer) return;
    const Message& m = parsed.message;
    auto* nonce = m.find<NoncePayload>(PayloadType::Nonce);
    if (!nonce) return;

    if (half_open_count() >= config_.cookie_threshold) {
        Bytes expected = make_cookie(nonce->data, dg.remote, h.spi_i);
        auto* cookie = m.notify(NotifyType::Cookie);
        if (!cookie || cookie->data.size() != expected.size() ||
            CRYPTO_memcmp(cookie->data.data(), expected.data(), expected.size()) != 0) {
            reply_plain({make_notify(NotifyType::Cookie, expected)});
            return;
        }
    }
    auto sa = std::make_unique<IkeSa>(core(), next_handle_++, *peer, false, now);
    sa->spi_i = h.spi_i;
    sa->spi_r = allocate_ike_spi();
    sa->local = dg.local;
    sa->remote = dg.remote;
    IkeSa& ref = *sa;
    sas_[sa->spi_r] = std::move(sa);
    ref.on_datagram(dg, parsed, now);
}

void Engine::tick(TimePoint now) {
    std::vector<IkeSa*> all;
    for (auto& [_, sa] : sas_) all.push_back(sa.get());
    for (IkeSa* sa : all) sa->tick(now);
    reap();
}

bool Engine::create_child(std::uint64_t ike_sa, TimePoint now) {
    IkeSa* sa = live_sa(ike_sa);
    if (!sa || !sa->established()) return false;
    sa->queue_task(std::make_unique<ChildCreateTask>(), now);
    reap();
    return true;
}

bool Engine::rekey_child(std::uint64_t ike_sa, std::uint32_t spi_in, TimePoint now) {
    IkeSa* sa = live_sa(ike_sa);
    if (!sa || !sa->established() || !sa->child_by_spi_in(spi_in)) return false;
    sa->queue_task(std::make_unique<ChildCreateTask>(spi_in), now);
    reap();
    return true;
}

bool Engine::delete_child(std::uint64_t ike_sa, std::uint32_t spi_in, TimePoint now) {
    IkeSa* sa = live_sa(ike_sa);
    if (!sa || !sa->established() || !sa->child_by_spi_in(spi_in)) return false;
    sa->queue_task(std::make_unique<ChildDeleteTask>(spi_in), now);
    reap();
    return true;
}

bool Engine::rekey_ike(std::uint64_t ike_sa, TimePoint now) {
    IkeSa* sa = live_sa(ike_sa);
    if (!sa || !sa->established()) return false;
    sa->queue_task(std::make_unique<IkeRekeyTask>(), now);
    reap();
    return true;
}

bool Engine::delete_ike(std::uint64_t ike_sa, TimePoint now) {
    IkeSa* sa = live_sa(ike_sa);
    if (!sa) return false;
    if (!sa->established()) {
        sa->terminate("deleted before it was established", false);
    } else {
        sa->queue_task(std::make_unique<IkeDeleteTask>(), now);
    }
    reap();
    return true;
}

bool Engine::check_liveness(std::uint64_t ike_sa, TimePoint now) {
    IkeSa* sa = live_sa(ike_sa);
    if (!sa || !sa->established()) return false;
    sa->queue_task(std::make_unique<LivenessTask>(), now);
    reap();
    return true;
}

std::vector<Engine::IkeSaStatus> Engine::status() const {
    std::vector<IkeSaStatus> out;
    for (const auto& [_, sa] : sas_) {
        IkeSaStatus s;
        s.handle = sa->handle;
        s.peer = sa->cfg.name;
        s.state = to_string(sa->state);
        s.spi_i = sa->spi_i;
        s.spi_r = sa->spi_r;
        s.initiator = sa->original_initiator;
        s.udp_encapsulation = sa->udp_encapsulation();
        s.nat_here = sa->nat_here;
        s.nat_there = sa->nat_there;
        s.local = sa->local;
        s.remote = sa->remote;
        s.created_at = sa->created_at;
        s.rekey_at = sa->rekey_at;
        s.expire_at = sa->expire_at;
        s.suite = sa->suite;
        for (const auto& c : sa->children) s.children.push_back(sa->child_info(*c));
        out.push_back(std::move(s));
    }
    return out;
}

std::optional<Engine::IkeSaStatus> Engine::status(std::uint64_t ike_sa) const {
    const IkeSa* sa = live_sa(ike_sa);
    if (!sa) return std::nullopt;
    for (auto& s : status())
        if (s.spi_i == sa->spi_i && s.spi_r == sa->spi_r) return s;
    return std::nullopt;
}

}  // namespace ipsecgw::ike
