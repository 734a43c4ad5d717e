// IKEv2 connections in the native configuration (strongSwan terms): who the
// peer is, how both ends authenticate, which proposals and traffic selectors
// apply. Parsed from `conn`, `ike-secrets` and `ike-cookie-threshold` lines
// (grammar: config/README.md); turned into an ike::PeerConfig for the engine.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "gateway/config_error.hpp"
#include "gateway/config_lines.hpp"
#include "ike/engine_types.hpp"
#include "net/ip_address.hpp"

namespace ipsecgw::gateway {

enum class ConnAuth : uint8_t { Psk, Pubkey };
// Initiate: at start. Trap: when traffic first matches the connection's
// selectors (an ACQUIRE policy in the dataplane asks the control core).
enum class ConnStart : uint8_t { None, Initiate, Trap };

// Everything that defines a connection; two definitions compare equal when a
// reload would change nothing for their IKE SAs.
struct ConnectionDefinition {
    std::string name;
    net::IpAddress local;
    std::optional<net::IpAddress> remote;  // nullopt: any (responder only)
    ike::IdPayload local_id;
    ike::IdPayload remote_id;  // empty data: any identity that authenticates
    ConnAuth auth = ConnAuth::Psk;
    ike::SecretBytes psk;  // from the ike-secrets file
    // auth pubkey: DER read from the PEM files named on the line.
    ike::Bytes certificate_der;
    ike::SecretBytes private_key_der;
    std::vector<ike::Bytes> ca_der;
    std::vector<ike::Suite> ike_suites;
    std::vector<ike::Suite> esp_suites;
    std::vector<net::IpPrefix> local_ts, remote_ts;
    bool transport_mode = false;
    ConnStart start = ConnStart::None;
    uint32_t dpd_seconds = 0;
    uint32_t ike_lifetime = 4 * 3600, ike_rekey_margin = 600;
    uint32_t child_lifetime = 3600, child_rekey_margin = 300;
    uint64_t child_life_bytes = 0, child_life_packets = 0;  // 0: no limit
    uint32_t replay_window = 1024;

    bool operator==(const ConnectionDefinition&) const = default;
};

struct ConnectionConfig : ConnectionDefinition {
    SourceLocation where;
};

// The IKE part of a configuration file.
struct IkeConfig {
    std::vector<ConnectionConfig> connections;
    size_t cookie_threshold = 64;  // ike-cookie-threshold: half-open SAs before COOKIEs are demanded
    bool operator==(const IkeConfig& o) const;
};

// Collects the IKE statements of one file; the native parser hands it every
// line whose keyword it does not know itself.
class ConnectionParser {
public:
    // dir: resolves relative file names (secrets, certificates).
    explicit ConnectionParser(std::string dir) : dir_(std::move(dir)) {}
    // False when the keyword is not an IKE statement; throws ConfigError on a bad one.
    bool statement(const ConfigLine& line);
    // Reads the secrets file, fills in PSKs and checks the connections
    // against each other.
    IkeConfig finish();

private:
    void conn(const ConfigLine& line);
    std::string path(std::string_view name) const;

    std::string dir_;
    IkeConfig out_;
    std::string secrets_file_;
    SourceLocation secrets_where_;
};

// strongSwan proposal keywords, comma-separated proposals with '-'-separated
// algorithms. Throw std::invalid_argument naming the bad part.
std::vector<ike::Suite> parse_ike_proposals(std::string_view text);
// ESP: AES-GCM-16 only (the dataplane's AEADs), optional PFS group.
std::vector<ike::Suite> parse_esp_proposals(std::string_view text);
// "fqdn:gw.test", "email:a@b", "ipv4:1.2.3.4", "ipv6:...", "dn:CN=x" (DER);
// bare: an address, else email when it holds '@', else FQDN.
std::optional<ike::IdPayload> parse_ike_id(std::string_view text);
std::string ike_id_text(const ike::IdPayload& id);
// Proposal text of one suite, strongSwan style (for display).
std::string suite_text(const ike::Suite& s, bool esp);

// Secrets file: `psk CONN "string"` or `psk CONN 0xHEX`, '#' comments.
// Errors are "FILE:LINE: reason"; the text is wiped.
struct IkeSecret {
    std::string conn;
    ike::SecretBytes secret;
    SourceLocation where;
};
std::vector<IkeSecret> parse_ike_secrets(const std::string& file_name, std::string text);

// The engine's view of a connection (keys copied; the PeerConfig wipes them).
ike::PeerConfig make_peer_config(const ConnectionConfig& c);

}  // namespace ipsecgw::gateway
