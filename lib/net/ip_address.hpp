// IPv4/IPv6 addresses and prefixes in network byte order, shared by every layer
// (ESP engine, configuration, tables, control plane).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ipsecgw::net {

enum class Family : uint8_t { None = 0, V4 = 4, V6 = 6 };

struct IpAddress {
    Family family = Family::None;
    std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses bytes[0..3]

    static IpAddress v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d);
    static IpAddress from_bytes(Family f, const uint8_t* p);
    // "192.0.2.1" or "2001:db8::1"; nullopt when neither.
    static std::optional<IpAddress> parse(std::string_view text);

    std::string to_string() const;
    size_t size() const { return family == Family::V4 ? 4 : family == Family::V6 ? 16 : 0; }
    bool is_v4() const { return family == Family::V4; }
    bool is_v6() const { return family == Family::V6; }
    bool operator==(const IpAddress&) const = default;
};

struct IpPrefix {
    IpAddress addr;   // host bits are zero
    uint8_t len = 0;  // 0..32 or 0..128

    // "10.0.0.0/8", "2001:db8::/32"; a bare address is a host prefix.
    // Host bits set in the address are rejected (a likely typo).
    static std::optional<IpPrefix> parse(std::string_view text);
    bool contains(const IpAddress& a) const;
    std::string to_string() const;
    bool operator==(const IpPrefix&) const = default;
};

}  // namespace ipsecgw::net
