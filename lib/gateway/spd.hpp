// Security Policy Database model (RFC 4301 §4.4.1): ordered rules with
// 5-tuple selectors (address prefixes, protocol, port ranges), an action, and a
// configurable default for unmatched traffic. This is the reference the fast
// classifier in dataplane/ is checked against.
//
// Precedence: the higher `priority` wins (as in ipsec-secgw and rte_acl); among
// equal priorities the rule defined first wins.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "esp/sa_config.hpp"
#include "gateway/config_error.hpp"
#include "net/ip_address.hpp"

namespace ipsecgw::gateway {

// Acquire: no SA yet; the packet is dropped and the control core asked to
// negotiate one (installed by the IKE service for `start trap` connections).
enum class PolicyAction : uint8_t { Protect, Bypass, Discard, Acquire };
const char* policy_action_name(PolicyAction a);

constexpr uint16_t kAnyProtocol = 0xffff;

struct PortRange {
    uint16_t lo = 0;
    uint16_t hi = 65535;
    bool contains(uint16_t p) const { return p >= lo && p <= hi; }
    bool any() const { return lo == 0 && hi == 65535; }
};

// What a packet offers to the SPD. Ports are 0 for protocols without ports.
struct FiveTuple {
    net::IpAddress src;
    net::IpAddress dst;
    uint8_t proto = 0;
    uint16_t sport = 0;
    uint16_t dport = 0;
};

struct Selector {
    net::Family family = net::Family::V4;
    net::IpPrefix src;  // len 0 = any
    net::IpPrefix dst;
    uint16_t proto_lo = 0, proto_hi = 255;  // 0..255 = any
    PortRange sport;
    PortRange dport;

    bool matches(const FiveTuple& t) const;
};

struct Policy {
    std::string name;
    esp::Direction direction = esp::Direction::Outbound;
    Selector selector;
    uint32_t priority = 0;
    PolicyAction action = PolicyAction::Discard;
    uint32_t spi = 0;  // PROTECT: the SA (outbound: to use; inbound: that must have decrypted)
    SourceLocation where;
};

class Spd {
public:
    void add(Policy p) { policies_.push_back(std::move(p)); }
    const std::vector<Policy>& policies() const { return policies_; }

    // The rule that applies to t, or nullptr (then default_action applies).
    const Policy* lookup(esp::Direction dir, const FiveTuple& t) const;
    // Action for t including the default.
    PolicyAction decide(esp::Direction dir, const FiveTuple& t, uint32_t* spi) const;

    // Ranks consistent with lookup(): rank[i] > rank[j] when rule i wins over rule j.
    // Values 1..n, usable directly as rte_acl priorities.
    std::vector<uint32_t> precedence_ranks() const;

    PolicyAction default_action = PolicyAction::Discard;

private:
    std::vector<Policy> policies_;
};

}  // namespace ipsecgw::gateway
