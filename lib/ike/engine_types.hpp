// What the control core gives the engine (configuration, datagrams, time)
// and what it gets back (datagrams to send, SA events).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ike/algorithms.hpp"
#include "ike/keymat.hpp"
#include "ike/payloads.hpp"
#include "ike/secret.hpp"

namespace ipsecgw::ike {

// Milliseconds since an epoch of the caller's choosing; the engine never
// reads a clock itself.
using TimePoint = std::chrono::milliseconds;
using Duration = std::chrono::milliseconds;

struct Endpoint {
    Bytes address;  // 4 or 16 bytes, network order
    std::uint16_t port = 500;
    bool operator==(const Endpoint&) const = default;
};

inline constexpr std::uint16_t kIkePort = 500;
inline constexpr std::uint16_t kIkeNatTPort = 4500;

// An IKE message on the wire. On port 4500 the control core strips/adds the
// four-byte non-ESP marker; `data` is always the bare IKE message.
struct Datagram {
    Endpoint local;
    Endpoint remote;
    Bytes data;
};

struct RetransmitPolicy {
    Duration initial_timeout{1000};
    double backoff = 2.0;  // exponential: timeout *= backoff after every try
    int max_tries = 5;     // sends in total before the exchange fails
};

struct LifetimePolicy {
    Duration lifetime{std::chrono::hours(1)};  // hard expiry
    Duration rekey_margin{std::chrono::minutes(5)};  // rekey this long before expiry
    // Up to this fraction of the margin is subtracted at random, so both
    // ends do not rekey at the same moment (RFC 7296 §2.8).
    double jitter = 0.5;
};

struct ChildConfig {
    std::vector<TrafficSelector> local_ts;
    std::vector<TrafficSelector> remote_ts;
    // ESP proposals; a suite's dh is the PFS group used on rekeys and
    // CREATE_CHILD_SA (None: no PFS). The first CHILD_SA never does DH.
    std::vector<Suite> esp_suites;
    LifetimePolicy lifetime;
    bool transport_mode = false;
};

struct CertificateAuth {
    Bytes certificate_der;       // our end-entity certificate
    SecretBytes private_key_der;  // PKCS#8 or traditional DER; wiped with the config
    std::vector<Bytes> intermediates_der;
    std::vector<Bytes> trusted_cas_der;  // anchors for the peer's chain
};

struct PeerConfig {
    std::string name;
    Endpoint local;
    Endpoint remote;       // for a responder: the address it accepts (empty address: any)
    IdPayload local_id;
    IdPayload remote_id;   // empty data: accept any identity that authenticates
    SecretBytes psk;       // PSK authentication when non-empty...
    std::optional<CertificateAuth> certificate;  // ...X.509 signatures when set (takes precedence)
    std::vector<Suite> ike_suites;
    ChildConfig child;
    LifetimePolicy ike_lifetime{std::chrono::hours(4), std::chrono::minutes(10), 0.5};
    RetransmitPolicy retransmit;
    Duration liveness_interval{0};  // 0: no automatic liveness checks
    // Largest IKE message sent unfragmented once both ends announced RFC 7383
    // support; 0 disables fragmentation.
    std::size_t fragment_size = 1280;
    // Remote access: the initiator asks for a virtual IPv4 address; the
    // responder hands out the next one from its pool.
    bool request_virtual_ip = false;
    std::vector<Bytes> virtual_ip_pool;
};

struct EngineConfig {
    // Above this many half-open IKE SAs, IKE_SA_INIT needs a valid COOKIE.
    std::size_t cookie_threshold = 64;
    // Half-open responder SAs are dropped after this long.
    Duration half_open_timeout{std::chrono::seconds(30)};
    // Unprotected INVALID_IKE_SPI answers to requests for IKE SAs we do not
    // know (§1.5, §2.21.4), at most this many per second; 0: stay silent.
    std::size_t invalid_spi_replies_per_second = 10;
};

struct ChildSaInfo {
    std::uint32_t spi_in = 0;   // the SPI we receive on (we allocated it)
    std::uint32_t spi_out = 0;  // the SPI we send with
    Suite suite;
    SecretBytes encr_in, integ_in, encr_out, integ_out;
    std::vector<TrafficSelector> local_ts, remote_ts;
    Endpoint local, remote;
    bool udp_encapsulation = false;  // NAT detected: ESP in UDP/4500
    bool transport_mode = false;
    std::optional<Bytes> virtual_ip;
};

enum class EventType {
    IkeEstablished,
    IkeRekeyed,
    IkeDeleted,
    ChildInstalled,  // a new CHILD_SA; `replaces_spi_in` set when it rekeys one
    ChildDeleted,
    Failed,          // an exchange failed (`reason` says why)
};

struct SaEvent {
    EventType type = EventType::Failed;
    std::uint64_t ike_sa = 0;  // stable handle, kept across IKE SA rekeys
    std::string peer;
    std::optional<ChildSaInfo> child;
    std::uint32_t replaces_spi_in = 0;
    bool we_initiated = false;  // ChildInstalled: we sent the request that created it
    std::uint32_t deleted_spi_in = 0, deleted_spi_out = 0;
    std::string reason;
};

const char* to_string(EventType t);

}  // namespace ipsecgw::ike
