// IKEv2 in the running gateway: owns the ike::Engine (one peer per `conn`),
// moves datagrams between it and IkeIo, and turns its SA events into ESP SAs
// and policies published through SaInstaller. Control thread only; nothing
// here blocks (IkeIo and SaInstaller never wait on workers).
//
// Per CHILD_SA it installs an inbound SA (spi_in, named ike:CONN:in:SPI), an
// outbound SA (spi_out, ike:CONN:out:SPI), outbound PROTECT policies from the
// negotiated selectors (local-ts -> remote-ts) and inbound PROTECT policies
// (remote-ts -> local-ts), all at priority kIkePolicyPriority, in one version.
//
// Rekey without loss: the new SAs are installed before the response to a
// peer's CREATE_CHILD_SA leaves. When we initiated the rekey, the outbound
// policies move to the new outbound SA at once (the peer installed its
// inbound SA before answering) and the old outbound SA goes in the same
// version. When the peer initiated it, outbound stays on the old SA until the
// peer deletes it (as strongSwan does), since our first packets on the new SA
// could otherwise overtake our response. The old inbound SA stays until the
// engine reports it deleted.
// Because the dataplane accepts a decrypted packet only when the inbound
// policy it matches names the very SA that decrypted it, the inbound policies
// of the old SA are withdrawn during that overlap and the new SA's inbound
// policies are installed when the old SA is gone (or after
// kRekeyOverlapLimit): meanwhile both SAs decrypt, without the selector check.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "control/ike_io.hpp"
#include "control/protocol.hpp"
#include "control/sa_installer.hpp"
#include "gateway/connection_config.hpp"
#include "ike/engine.hpp"

namespace ipsecgw::control {

inline constexpr uint32_t kIkePolicyPriority = 1000;
// `start trap`: ACQUIRE policies just below the CHILD_SAs' PROTECT policies,
// so they only see traffic while no CHILD_SA covers it.
inline constexpr uint32_t kTrapPolicyPriority = kIkePolicyPriority - 1;
inline constexpr ike::Duration kNatKeepaliveInterval{20000};
inline constexpr ike::Duration kRekeyOverlapLimit{10000};

enum class SaLifetimeEvent : uint8_t {
    Soft,  // soft bytes/packets/seconds reached, or sequence numbers running out: rekey
    Hard,  // hard limit or sequence numbers exhausted: the SA is dead, delete the CHILD_SA
};

class IkeService {
public:
    IkeService(const gateway::IkeConfig& config, SaInstaller& installer, IkeIo& io, FILE* log = stderr);
    ~IkeService();
    IkeService(const IkeService&) = delete;
    IkeService& operator=(const IkeService&) = delete;

    // Initiates every `start initiate` connection.
    void start(ike::TimePoint now);
    // One control-loop round: drains IkeIo (bounded), ticks the engine,
    // sends, applies SA events, sends NAT keepalives.
    void poll(ike::TimePoint now);
    // From the dataplane's lifetime monitor, for any SA: ignored when it is
    // not one of ours.
    void on_lifetime_event(esp::Direction dir, uint32_t spi, SaLifetimeEvent what, ike::TimePoint now);
    // Traffic matched the ACQUIRE policy `policy` (installed by start() for a
    // `start trap` connection): negotiate SAs unless that is under way.
    void on_acquire(const std::string& policy, ike::TimePoint now);

    // Operator requests (throw CommandError: not_found for an unknown
    // connection, conflict when there is nothing to act on).
    void initiate(const std::string& conn, ike::TimePoint now);
    void terminate(const std::string& conn, ike::TimePoint now);
    void rekey(const std::string& conn, bool ike_sa, ike::TimePoint now);
    Json show(ike::TimePoint now) const;

    // ike.show, ike.initiate, ike.terminate, ike.rekey (and show.ike). The
    // handlers use the time of the last poll().
    void register_commands(Dispatcher& d);

    const std::string& last_error(const std::string& conn) const;
    ike::Engine& engine() { return *engine_; }

private:
    struct Child {
        std::string conn;
        uint64_t ike_sa = 0;
        uint32_t spi_in = 0, spi_out = 0;
        std::string sa_in, sa_out;  // SA names
        std::vector<std::string> in_policies, out_policies;
        std::vector<gateway::Policy> pending_in_policies;  // installed once the rekeyed SA is gone
        // Rekeys the peer initiated: our outbound stays on the old SA until
        // the peer deletes it (by then it has installed the new inbound SA).
        std::vector<gateway::Policy> pending_out_policies;
        uint32_t replaced_spi_in = 0;                      // the SA this one rekeyed, while it lives
        ike::TimePoint installed_at{0};
        std::vector<ike::TrafficSelector> local_ts, remote_ts;
        bool udp_encap = false;
    };
    struct Connection {
        gateway::ConnectionConfig config;
        std::string last_error;
        ike::TimePoint last_error_at{0};
        ike::TimePoint last_keepalive{0};
    };

    void handle(const ike::SaEvent& e, ike::TimePoint now);
    void install_child(const ike::SaEvent& e, ike::TimePoint now);
    void remove_child(uint32_t spi_in, ike::TimePoint now);
    void finish_rekey(Child& c);
    void apply(SaChange change);
    void flush_batch();
    struct PendingInstall;
    bool apply_merged(std::vector<PendingInstall>& batch);
    void fail(const std::string& conn, const std::string& why);
    void keepalives(ike::TimePoint now);
    void install_traps();
    Connection& connection(const std::string& name);
    std::vector<uint64_t> ike_sas_of(const std::string& conn) const;

    SaInstaller& installer_;
    IkeIo& io_;
    FILE* log_;
    std::unique_ptr<ike::Engine> engine_;
    std::map<std::string, Connection> conns_;
    std::map<uint32_t, Child> children_;  // by spi_in
    // New CHILD_SAs (not rekeys) of one poll() round, published as ONE table
    // version at the end of the round: each version costs a rebuild of the
    // dataplane tables, so under a flood of setups this is what scales.
    struct PendingInstall {
        SaChange change;
        std::string conn;
        uint64_t ike_sa = 0;
        uint32_t spi_in = 0;
    };
    std::vector<PendingInstall> batch_;
    bool batching_ = false;
    std::map<uint64_t, ike::TimePoint> established_at_;  // by IKE SA handle
    ike::TimePoint now_{0};
};

}  // namespace ipsecgw::control
