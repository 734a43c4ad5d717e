// Message machinery shared by every exchange on one IKE SA.
#include "ike/ike_sa.hpp"

#include <algorithm>

#include "ike/child_create_task.hpp"
#include "ike/ike_auth_task.hpp"
#include "ike/ike_init_task.hpp"
#include "ike/ike_rekey_task.hpp"
#include "ike/informational_task.hpp"
#include "ike/sk_cipher.hpp"

namespace ipsecgw::ike {

const char* to_string(IkeSa::State s) {
    switch (s) {
        case IkeSa::State::Connecting: return "connecting";
        case IkeSa::State::Established: return "established";
        case IkeSa::State::Rekeyed: return "rekeyed";
        case IkeSa::State::Deleting: return "deleting";
        case IkeSa::State::Dead: return "dead";
    }
    return "?";
}

const char* to_string(EventType t) {
    switch (t) {
        case EventType::IkeEstablished: return "ike-established";
        case EventType::IkeRekeyed: return "ike-rekeyed";
        case EventType::IkeDeleted: return "ike-deleted";
        case EventType::ChildInstalled: return "child-installed";
        case EventType::ChildDeleted: return "child-deleted";
        case EventType::Failed: return "failed";
    }
    return "?";
}

IkeSa::IkeSa(EngineCore& c, std::uint64_t h, PeerConfig config, bool initiator, TimePoint now)
    : core(c), handle(h), cfg(std::move(config)), original_initiator(initiator), created_at(now), last_received(now) {
    local = cfg.local;
    remote = cfg.remote;
}

IkeSa::~IkeSa() = default;  // keys live in SecretBytes and are wiped with them

SkKeys IkeSa::send_keys() const { return original_initiator ? keys->initiator_sk() : keys->responder_sk(); }
SkKeys IkeSa::receive_keys() const { return original_initiator ? keys->responder_sk() : keys->initiator_sk(); }

SaEvent IkeSa::event(EventType type) const {
    SaEvent e;
    e.type = type;
    e.ike_sa = handle;
    e.peer = cfg.name;
    return e;
}

Bytes IkeSa::wrap(ExchangeType exchange, bool response, std::uint32_t message_id,
                  const std::vector<Payload>& payloads) const {
    Header h;
    h.spi_i = spi_i;
    h.spi_r = spi_r;
    h.exchange = exchange;
    h.flags = static_cast<std::uint8_t>((original_initiator ? header_flags::kInitiator : 0) |
                                        (response ? header_flags::kResponse : 0));
    h.message_id = message_id;
    if (exchange == ExchangeType::IkeSaInit || !keys) return build_message(h, payloads);
    Bytes inner;
    Writer w(inner);
    PayloadType first = encode_payload_chain(w, payloads);
    return seal_message(h, first, inner, send_keys());
}

void IkeSa::transmit(const std::vector<Bytes>& packets) {
    for (const auto& p : packets) core.send(Datagram{local, remote, p});
}

std::vector<Bytes> IkeSa::packetize(ExchangeType exchange, bool response, std::uint32_t message_id,
                                    const std::vector<Payload>& payloads) const {
    Bytes whole = wrap(exchange, response, message_id, payloads);
    if (!fragmentation || !keys || exchange == ExchangeType::IkeSaInit || cfg.fragment_size == 0 ||
        whole.size() <= cfg.fragment_size)
        return {whole};
    Header h;
    h.spi_i = spi_i;
    h.spi_r = spi_r;
    h.exchange = exchange;
    h.flags = static_cast<std::uint8_t>((original_initiator ? header_flags::kInitiator : 0) |
                                        (response ? header_flags::kResponse : 0));
    h.message_id = message_id;
    Bytes inner;
    Writer w(inner);
    PayloadType first = encode_payload_chain(w, payloads);
    std::size_t overhead = kHeaderSize + 4 + sk_overhead(suite);
    std::size_t chunk = cfg.fragment_size > overhead + 64 ? cfg.fragment_size - overhead : 64;
    auto total = static_cast<std::uint16_t>((inner.size() + chunk - 1) / chunk);
    std::vector<Bytes> out;
    for (std::uint16_t n = 1; n <= total; ++n) {
        std::size_t from = (n - 1) * chunk;
        ByteView part = ByteView(inner).subspan(from, std::min(chunk, inner.size() - from));
        out.push_back(seal_fragment(h, n, total, first, part, send_keys()));
    }
    return out;
}

std::optional<SecretBytes> IkeSa::reassemble(const Header& h, const EncryptedFragmentPayload& f, SecretBytes part) {
    constexpr std::uint16_t kMaxFragments = 64;
    if (f.total > kMaxFragments) return std::nullopt;
    if (!reassembly_ || reassembly_->message_id != h.message_id || reassembly_->response != h.is_response() ||
        reassembly_->total != f.total) {
        reassembly_ = Reassembly{h.message_id, h.is_response(), f.total, PayloadType::None, {}, 0};
        reassembly_->parts.resize(f.total);
    }
    Reassembly& r = *reassembly_;
    auto& slot = r.parts[f.number - 1];
    if (slot) return std::nullopt;  // duplicate fragment
    if (r.bytes + part.size() > kMaxMessageSize) {
        reassembly_.reset();
        return std::nullopt;
    }
    if (f.number == 1) r.first_inner = f.first_inner;
    r.bytes += part.size();
    slot = std::move(part);
    if (std::any_of(r.parts.begin(), r.parts.end(), [](const auto& p) { return !p.has_value(); })) return std::nullopt;
    SecretBytes whole;
    for (auto& p : r.parts) whole.insert(whole.end(), p->begin(), p->end());
    reassembly_first_inner_ = r.first_inner;
    reassembly_.reset();
    return whole;
}

void IkeSa::queue_task(std::unique_ptr<Task> task, TimePoint now) {
    queue_.push_back(std::move(task));
    start_next(now);
}

void IkeSa::queue_task_front(std::unique_ptr<Task> task) { queue_.push_front(std::move(task)); }

bool IkeSa::has_queued(const char* task_name) const {
    if (active_ && std::string_view(active_->name()) == task_name) return true;
    return std::any_of(queue_.begin(), queue_.end(),
                       [&](const auto& t) { return std::string_view(t->name()) == task_name; });
}

void IkeSa::drop_queued_if(const std::function<bool(const Task&)>& pred) {
    queue_.erase(std::remove_if(queue_.begin(), queue_.end(), [&](const auto& t) { return pred(*t); }), queue_.end());
}

void IkeSa::start_next(TimePoint now) {
    while (!active_ && !queue_.empty() && state != State::Dead) {
        std::unique_ptr<Task> next = std::move(queue_.front());
        queue_.pop_front();
        if (!next->ready(*this)) continue;
        active_ = std::move(next);
        active_request_id_ = next_request_id_++;
        send_active_request(now);
    }
}

void IkeSa::send_active_request(TimePoint now) {
    std::vector<Payload> payloads = active_->build_request(*this, now);
    request_packets_ = packetize(active_->exchange(), false, active_request_id_, payloads);
    tries_ = 1;
    timeout_ = cfg.retransmit.initial_timeout;
    retransmit_at_ = now + timeout_;
    transmit(request_packets_);
}

void IkeSa::on_datagram(const Datagram& dg, ParseResult& parsed, TimePoint now) {
    if (state == State::Dead) return;
    const Header& h = parsed.message.header;
    bool response = h.is_response();
    if (response) {
        if (!active_ || h.message_id != active_request_id_ || h.exchange != active_->exchange()) return;
    } else {
        // Retransmitted request: resend the cached response (§2.1).
        if (cached_response_id_ && h.message_id == *cached_response_id_) {
            // For a fragmented request, answer only its first fragment (RFC 7383 §2.6.1).
            auto* skf = parsed.message.payloads.empty()
                            ? nullptr
                            : std::get_if<EncryptedFragmentPayload>(&parsed.message.payloads.front().body);
            if (!skf || skf->number == 1) transmit(cached_response_);
            return;
        }
        if (h.message_id != expected_request_id_) return;
    }

    Message msg;
    msg.header = h;
    if (h.exchange == ExchangeType::IkeSaInit) {
        msg.payloads = std::move(parsed.message.payloads);
    } else {
        if (!keys || parsed.message.payloads.size() != 1) return;  // unprotected: drop
        Payload& outer = parsed.message.payloads.front();
        std::optional<SecretBytes> plain;
        PayloadType first_inner = PayloadType::None;
        if (auto* sk = std::get_if<EncryptedPayload>(&outer.body)) {
            plain = open_message(dg.data, parsed.encrypted_offset, PayloadType::Encrypted, receive_keys());
            first_inner = sk->first_inner;
        } else if (auto* skf = std::get_if<EncryptedFragmentPayload>(&outer.body); skf && fragmentation) {
            auto part = open_message(dg.data, parsed.encrypted_offset, PayloadType::EncryptedFragment, receive_keys());
            if (!part) return;  // each fragment is authenticated on its own
            plain = reassemble(h, *skf, std::move(*part));
            if (!plain) return;  // more fragments to come
            first_inner = reassembly_first_inner_;
        } else {
            return;
        }
        if (!plain) return;  // integrity check failed: silently discard (§2.21)
        ParseResult inner = parse_payload_chain(first_inner, *plain);
        if (!inner.ok()) {
            if (!response) {
                // Authenticated but malformed request: answer with the error (§2.21.2).
                if (inner.error == ParseError::UnsupportedCritical)
                    reply_error(h.exchange, h.message_id, NotifyType::UnsupportedCriticalPayload,
                                Bytes{inner.unsupported_type});
                else
                    reply_error(h.exchange, h.message_id, NotifyType::InvalidSyntax, {});
            }
            return;
        }
        msg.payloads = std::move(inner.message.payloads);
        last_received = now;
        // Behind a NAT the peer's address may change; follow authenticated traffic.
        if (udp_encapsulation()) {
            remote = dg.remote;
            local = dg.local;
        }
    }
    if (response)
        handle_response(msg, dg.data, now);
    else
        handle_request(dg, msg, dg.data, now);
}

void IkeSa::reply_error(ExchangeType ex, std::uint32_t mid, NotifyType type, Bytes data) {
    cached_response_ = {wrap(ex, true, mid, {make_notify(type, std::move(data))})};
    cached_response_id_ = mid;
    expected_request_id_ = mid + 1;
    transmit(cached_response_);
}

void IkeSa::handle_request(const Datagram&, const Message& msg, ByteView raw, TimePoint now) {
    Reply reply = dispatch_request(msg, raw, now);
    std::vector<Bytes> wire = packetize(msg.header.exchange, true, msg.header.message_id, reply.payloads);
    if (msg.header.exchange == ExchangeType::IkeSaInit) init_response_raw = wire.front();
    cached_response_ = wire;
    cached_response_id_ = msg.header.message_id;
    expected_request_id_ = msg.header.message_id + 1;
    transmit(wire);
    if (reply.after_send) reply.after_send();
    start_next(now);
}

Reply IkeSa::dispatch_request(const Message& msg, ByteView raw, TimePoint now) {
    auto error = [](NotifyType t) { return Reply{{make_notify(t)}, {}}; };
    switch (msg.header.exchange) {
        case ExchangeType::IkeSaInit:
            if (original_initiator || state != State::Connecting) return error(NotifyType::InvalidSyntax);
            return IkeInitTask::respond(*this, msg, raw, now);
        case ExchangeType::IkeAuth:
            if (original_initiator || state != State::Connecting || !keys) return error(NotifyType::InvalidSyntax);
            return IkeAuthTask::respond(*this, msg, raw, now);
        case ExchangeType::CreateChildSa: {
            if (state != State::Established) return error(NotifyType::TemporaryFailure);
            auto* sa = msg.find<SaPayload>(PayloadType::SecurityAssociation);
            if (sa && !sa->proposals.empty() && sa->proposals.front().protocol == ProtocolId::Ike)
                return IkeRekeyTask::respond(*this, msg, raw, now);
            return ChildCreateTask::respond(*this, msg, raw, now);
        }
        case ExchangeType::Informational:
            return respond_informational(*this, msg, now);
    }
    return error(NotifyType::InvalidSyntax);
}

void IkeSa::handle_response(const Message& msg, ByteView raw, TimePoint now) {
    TaskStatus status = active_->on_response(*this, msg, raw, now);
    switch (status) {
        case TaskStatus::Done:
            active_.reset();
            break;
        case TaskStatus::Again:
            // IKE_SA_INIT restarts keep message ID 0; later exchanges take a new one.
            if (active_->exchange() != ExchangeType::IkeSaInit) active_request_id_ = next_request_id_++;
            send_active_request(now);
            return;
        case TaskStatus::Failed:
            active_.reset();
            terminate("exchange failed", true);
            break;
    }
    start_next(now);
}

void IkeSa::tick(TimePoint now) {
    if (state == State::Dead) return;
    if (!original_initiator && state == State::Connecting && now - created_at >= core.config().half_open_timeout) {
        state = State::Dead;  // half-open responder state expires quietly
        return;
    }
    // A superseded SA whose delete never came is dropped quietly.
    if (state == State::Rekeyed && !active_ && now - superseded_at >= core.config().half_open_timeout) {
        terminate("superseded", false);
        return;
    }
    if (active_ && now >= retransmit_at_) {
        if (tries_ >= cfg.retransmit.max_tries) {
            active_->on_abort(*this);
            std::string what = std::string(active_->name()) + ": no response after " + std::to_string(tries_) + " tries";
            terminate(what, true);
            return;
        }
        transmit(request_packets_);
        ++tries_;
        timeout_ = Duration(static_cast<Duration::rep>(static_cast<double>(timeout_.count()) * cfg.retransmit.backoff));
        retransmit_at_ = now + timeout_;
    }
    maybe_schedule_work(now);
}

void IkeSa::maybe_schedule_work(TimePoint now) {
    if (state != State::Established) return;
    if (expire_at.count() && now >= expire_at) {
        if (!has_queued("ike_delete")) queue_task(std::make_unique<IkeDeleteTask>(), now);
        return;
    }
    if (rekey_at.count() && now >= rekey_at) {
        rekey_at = TimePoint{0};
        if (!has_queued("ike_rekey")) queue_task(std::make_unique<IkeRekeyTask>(), now);
    }
    for (auto& c : children) {
        if (c->state != ChildSa::State::Installed && c->state != ChildSa::State::Rekeying) continue;
        if (c->expire_at.count() && now >= c->expire_at && c->state == ChildSa::State::Installed) {
            c->state = ChildSa::State::Deleting;
            queue_task(std::make_unique<ChildDeleteTask>(c->spi_in), now);
        } else if (c->rekey_at.count() && now >= c->rekey_at && c->state == ChildSa::State::Installed) {
            c->rekey_at = TimePoint{0};
            queue_task(std::make_unique<ChildCreateTask>(c->spi_in), now);
        }
    }
    if (cfg.liveness_interval.count() && !busy() && queue_.empty() && now - last_received >= cfg.liveness_interval)
        queue_task(std::make_unique<LivenessTask>(), now);
}

void IkeSa::terminate(const std::string& reason, bool failed) {
    if (state == State::Dead) return;
    bool superseded = state == State::Rekeyed;
    bool was_up = state == State::Established || state == State::Deleting;
    if (!superseded) {
        while (!children.empty()) remove_child(children.back()->spi_in);
        if (failed) {
            SaEvent e = event(EventType::Failed);
            e.reason = reason;
            core.emit(std::move(e));
        }
        if (was_up) {
            SaEvent e = event(EventType::IkeDeleted);
            e.reason = reason;
            core.emit(std::move(e));
        }
    }
    state = State::Dead;
    queue_.clear();
}

ChildSa* IkeSa::child_by_spi_in(std::uint32_t spi) {
    for (auto& c : children)
        if (c->spi_in == spi) return c.get();
    return nullptr;
}

ChildSa* IkeSa::child_by_spi_out(std::uint32_t spi) {
    for (auto& c : children)
        if (c->spi_out == spi) return c.get();
    return nullptr;
}

ChildSaInfo IkeSa::child_info(const ChildSa& c) const {
    ChildSaInfo i;
    i.spi_in = c.spi_in;
    i.spi_out = c.spi_out;
    i.suite = c.suite;
    i.encr_in = c.encr_in();
    i.integ_in = c.integ_in();
    i.encr_out = c.encr_out();
    i.integ_out = c.integ_out();
    i.local_ts = c.local_ts;
    i.remote_ts = c.remote_ts;
    i.local = local;
    i.remote = remote;
    i.udp_encapsulation = udp_encapsulation();
    i.transport_mode = c.transport_mode;
    i.virtual_ip = c.virtual_ip;
    return i;
}

namespace {
TimePoint jittered(TimePoint now, const LifetimePolicy& p) {
    auto margin = p.rekey_margin.count();
    auto jitter = static_cast<Duration::rep>(static_cast<double>(margin) * p.jitter);
    auto offset = jitter > 0 ? static_cast<Duration::rep>(random_u64() % static_cast<std::uint64_t>(jitter + 1)) : 0;
    auto at = p.lifetime.count() - margin - offset;
    return now + Duration(std::max<Duration::rep>(at, 1));
}
}  // namespace

void IkeSa::schedule_ike_lifetime(TimePoint now) {
    rekey_at = jittered(now, cfg.ike_lifetime);
    expire_at = now + cfg.ike_lifetime.lifetime;
}

void IkeSa::schedule_child_lifetime(ChildSa& c, TimePoint now) const {
    c.rekey_at = jittered(now, cfg.child.lifetime);
    c.expire_at = now + cfg.child.lifetime.lifetime;
}

void IkeSa::install_child(std::unique_ptr<ChildSa> child, std::uint32_t replaces_spi_in, bool we_initiated) {
    SaEvent e = event(EventType::ChildInstalled);
    e.child = child_info(*child);
    e.replaces_spi_in = replaces_spi_in;
    e.we_initiated = we_initiated;
    children.push_back(std::move(child));
    core.emit(std::move(e));
}

void IkeSa::remove_child(std::uint32_t spi_in) {
    auto it = std::find_if(children.begin(), children.end(), [&](const auto& c) { return c->spi_in == spi_in; });
    if (it == children.end()) return;
    SaEvent e = event(EventType::ChildDeleted);
    e.deleted_spi_in = (*it)->spi_in;
    e.deleted_spi_out = (*it)->spi_out;
    children.erase(it);
    core.emit(std::move(e));
}

}  // namespace ipsecgw::ike
