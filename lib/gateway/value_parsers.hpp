// Parsers for single configuration values (numbers, ranges, MAC addresses,
// prefixes, key bytes). Each returns nullopt/false on malformed input so the
// caller can report the file and line.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "net/ip_address.hpp"

namespace ipsecgw::gateway {

using MacAddress = std::array<uint8_t, 6>;

// Decimal, or hexadecimal with a 0x prefix.
std::optional<uint64_t> parse_uint(std::string_view text, uint64_t max);
// "lo:hi" (ipsec-secgw) or "lo-hi" (native) or a single number.
std::optional<std::pair<uint64_t, uint64_t>> parse_range(std::string_view text, uint64_t max);
// "02:00:00:00:00:01"
std::optional<MacAddress> parse_mac(std::string_view text);
// "10.1.0.0/16", "2001:db8::/32" or a bare address (host prefix). Host bits
// are cleared when `lenient` (ipsec-secgw accepts them) and rejected otherwise.
std::optional<net::IpPrefix> parse_prefix(std::string_view text, bool lenient);
// Key bytes: "a0:b1:..." (ipsec-secgw) or plain hex, optional 0x prefix.
// Writes into `out` (wiped by the caller); false when malformed.
bool parse_key_bytes(std::string_view text, std::vector<uint8_t>& out);
// Clears host bits beyond `len`.
net::IpAddress mask_address(const net::IpAddress& a, uint8_t len);

}  // namespace ipsecgw::gateway
