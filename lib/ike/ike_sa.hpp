// An IKE SA: identity, keys, CHILD_SAs, and the message machinery every
// exchange shares (message IDs, SK protection, retransmission, response
// cache, task queue). Exchange-specific logic lives in the task classes.
#pragma once

#include <deque>
#include <memory>
#include <optional>

#include "ike/child_sa.hpp"
#include "ike/dh.hpp"
#include "ike/engine_core.hpp"
#include "ike/task.hpp"

namespace ipsecgw::ike {

class IkeSa {
public:
    enum class State { Connecting, Established, Rekeyed, Deleting, Dead };

    IkeSa(EngineCore& core, std::uint64_t handle, PeerConfig cfg, bool original_initiator, TimePoint now);
    ~IkeSa();
    IkeSa(const IkeSa&) = delete;
    IkeSa& operator=(const IkeSa&) = delete;

    EngineCore& core;
    const std::uint64_t handle;
    PeerConfig cfg;
    bool original_initiator;
    std::uint64_t spi_i = 0, spi_r = 0;
    Endpoint local, remote;
    bool nat_here = false, nat_there = false;
    State state = State::Connecting;
    TimePoint created_at;

    Suite suite;
    std::optional<IkeKeys> keys;
    Bytes ni, nr;
    Bytes init_request_raw, init_response_raw;  // signed in AUTH
    IdPayload peer_id;                          // as authenticated in IKE_AUTH
    std::vector<std::unique_ptr<ChildSa>> children;
    std::optional<Bytes> virtual_ip;
    TimePoint rekey_at{0}, expire_at{0}, last_received{0};
    TimePoint superseded_at{0};  // when a rekey replaced this SA
    // §2.8.2: the IKE SA the peer's rekey of this one created while our own
    // rekey was in flight, and the lowest nonce of that exchange; the
    // response to ours decides which of the two new SAs survives.
    std::unique_ptr<IkeSa> peer_rekey;
    Bytes peer_rekey_min_nonce;

    std::uint64_t local_spi() const { return original_initiator ? spi_i : spi_r; }
    bool udp_encapsulation() const { return nat_here || nat_there; }
    bool established() const { return state == State::Established; }
    bool usable() const { return state == State::Connecting || state == State::Established; }

    // Exchanges we initiate run one at a time (window size 1).
    void queue_task(std::unique_ptr<Task> task, TimePoint now);
    void queue_task_front(std::unique_ptr<Task> task);
    // Queued without starting: for responders, whose reply must go first.
    void defer_task(std::unique_ptr<Task> task) { queue_.push_back(std::move(task)); }
    bool busy() const { return active_ != nullptr; }
    const Task* active_task() const { return active_.get(); }
    bool has_queued(const char* task_name) const;
    void drop_queued_if(const std::function<bool(const Task&)>& pred);

    // A datagram addressed to this SA (already parsed once).
    void on_datagram(const Datagram& dg, ParseResult& parsed, TimePoint now);
    void tick(TimePoint now);

    // Tears the SA down: CHILD_SAs and the IKE SA are reported deleted (or
    // failed) unless the SA has been superseded by a rekey.
    void terminate(const std::string& reason, bool failed);

    // Helpers for tasks.
    ChildSa* child_by_spi_in(std::uint32_t spi);
    ChildSa* child_by_spi_out(std::uint32_t spi);
    void install_child(std::unique_ptr<ChildSa> child, std::uint32_t replaces_spi_in, bool we_initiated = false);
    void remove_child(std::uint32_t spi_in);
    ChildSaInfo child_info(const ChildSa& c) const;
    void schedule_ike_lifetime(TimePoint now);
    void schedule_child_lifetime(ChildSa& c, TimePoint now) const;
    SaEvent event(EventType type) const;
    SkKeys send_keys() const;
    SkKeys receive_keys() const;
    const Bytes& last_request_wire() const { return request_packets_.front(); }
    // Sends an unencrypted IKE_SA_INIT reply outside any SA state (COOKIE,
    // INVALID_KE_PAYLOAD, NO_PROPOSAL_CHOSEN).
    Bytes wrap(ExchangeType exchange, bool response, std::uint32_t message_id,
               const std::vector<Payload>& payloads) const;
    // wrap(), or SKF fragments (RFC 7383) when both ends support them and
    // the message would exceed cfg.fragment_size.
    std::vector<Bytes> packetize(ExchangeType exchange, bool response, std::uint32_t message_id,
                                 const std::vector<Payload>& payloads) const;
    bool fragmentation = false;  // both ends sent IKEV2_FRAGMENTATION_SUPPORTED

private:
    void start_next(TimePoint now);
    void send_active_request(TimePoint now);
    void transmit(const std::vector<Bytes>& packets);
    // Collects SKF fragments; returns the whole inner chain once complete.
    std::optional<SecretBytes> reassemble(const Header& h, const EncryptedFragmentPayload& f, SecretBytes part);
    void handle_request(const Datagram& dg, const Message& msg, ByteView raw, TimePoint now);
    void handle_response(const Message& msg, ByteView raw, TimePoint now);
    void maybe_schedule_work(TimePoint now);
    Reply dispatch_request(const Message& msg, ByteView raw, TimePoint now);
    void reply_error(ExchangeType ex, std::uint32_t mid, NotifyType type, Bytes data);

    std::unique_ptr<Task> active_;
    std::deque<std::unique_ptr<Task>> queue_;
    std::uint32_t next_request_id_ = 0;
    std::uint32_t active_request_id_ = 0;
    std::vector<Bytes> request_packets_;
    int tries_ = 0;
    Duration timeout_{0};
    TimePoint retransmit_at_{0};
    std::uint32_t expected_request_id_ = 0;
    std::optional<std::uint32_t> cached_response_id_;
    std::vector<Bytes> cached_response_;
    struct Reassembly {
        std::uint32_t message_id = 0;
        bool response = false;
        std::uint16_t total = 0;
        PayloadType first_inner = PayloadType::None;
        std::vector<std::optional<SecretBytes>> parts;
        std::size_t bytes = 0;
    };
    std::optional<Reassembly> reassembly_;
    PayloadType reassembly_first_inner_ = PayloadType::None;
};

const char* to_string(IkeSa::State s);

}  // namespace ipsecgw::ike
