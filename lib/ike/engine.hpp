// The IKEv2 engine: owns the IKE SAs of one gateway. No sockets, no clock:
// the control core feeds it received datagrams and timer ticks (with the
// current time) and collects datagrams to send and SA events.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ike/engine_core.hpp"
#include "ike/engine_types.hpp"

namespace ipsecgw::ike {

class IkeSa;

class Engine : private EngineCore {
public:
    explicit Engine(EngineConfig config = {});
    ~Engine() override;
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    void add_peer(PeerConfig peer);

    // Starts IKE_SA_INIT towards a configured peer; returns the IKE SA handle
    // (0 if the peer is unknown). The handle survives IKE SA rekeys.
    std::uint64_t initiate(const std::string& peer, TimePoint now);

    void receive(const Datagram& datagram, TimePoint now);
    // Retransmissions, lifetimes, liveness checks, half-open expiry.
    void tick(TimePoint now);

    // Operator/control-core requests; false if the SA is unknown or not up.
    bool create_child(std::uint64_t ike_sa, TimePoint now);
    bool rekey_child(std::uint64_t ike_sa, std::uint32_t spi_in, TimePoint now);
    bool delete_child(std::uint64_t ike_sa, std::uint32_t spi_in, TimePoint now);
    bool rekey_ike(std::uint64_t ike_sa, TimePoint now);
    bool delete_ike(std::uint64_t ike_sa, TimePoint now);
    bool check_liveness(std::uint64_t ike_sa, TimePoint now);

    std::vector<Datagram> take_datagrams();
    std::vector<SaEvent> take_events();

    // Introspection (CLI, tests).
    struct IkeSaStatus {
        std::uint64_t handle = 0;
        std::string peer;
        std::string state;
        std::uint64_t spi_i = 0, spi_r = 0;
        bool initiator = false;
        bool udp_encapsulation = false;
        bool nat_here = false, nat_there = false;  // which side a NAT was detected on
        Endpoint local, remote;
        TimePoint created_at{0}, rekey_at{0}, expire_at{0};
        Suite suite;
        std::vector<ChildSaInfo> children;
    };
    std::vector<IkeSaStatus> status() const;
    std::optional<IkeSaStatus> status(std::uint64_t ike_sa) const;
    std::size_t half_open_count() const;

private:
    void emit(SaEvent event) override;
    void send(Datagram datagram) override;
    std::uint32_t allocate_child_spi() override;
    std::uint64_t allocate_ike_spi() override;
    void adopt(std::unique_ptr<IkeSa> sa) override;
    const EngineConfig& config() const override { return config_; }
    void initial_contact(IkeSa& sa) override;
    bool has_other_ike_sa(const IkeSa& sa) const override;

    EngineCore& core() { return *this; }
    IkeSa* live_sa(std::uint64_t handle);
    const IkeSa* live_sa(std::uint64_t handle) const;
    void receive_init_request(const Datagram& dg, struct ParseResult& parsed, TimePoint now);
    const PeerConfig* match_peer(const Datagram& dg) const;
    Bytes make_cookie(ByteView ni, const Endpoint& from, std::uint64_t spi_i) const;
    void reply_invalid_ike_spi(const Datagram& dg, const struct Header& h, TimePoint now);
    void reap();

    EngineConfig config_;
    std::vector<PeerConfig> peers_;
    std::map<std::uint64_t, std::unique_ptr<IkeSa>> sas_;  // by our SPI
    std::vector<std::unique_ptr<IkeSa>> adopted_;          // added during a call, merged after it
    std::vector<Datagram> out_;
    std::vector<SaEvent> events_;
    std::uint64_t next_handle_ = 1;
    SecretBytes cookie_secret_;
    TimePoint invalid_spi_window_{0};      // start of the current one-second window
    std::size_t invalid_spi_replies_ = 0;  // sent in it
};

}  // namespace ipsecgw::ike
