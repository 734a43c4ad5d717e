// Traffic selector narrowing (RFC 7296 §2.9).
#pragma once

#include <optional>
#include <vector>

#include "ike/payloads.hpp"

namespace ipsecgw::ike {

TrafficSelector ts_from_prefix(ByteView address, unsigned prefix_len, std::uint8_t protocol = 0,
                               std::uint16_t start_port = 0, std::uint16_t end_port = 65535);
TrafficSelector ts_single_address(ByteView address);

std::optional<TrafficSelector> intersect(const TrafficSelector& a, const TrafficSelector& b);
// Every pairwise intersection of what the peer proposed with what we allow.
std::vector<TrafficSelector> narrow(const std::vector<TrafficSelector>& proposed,
                                    const std::vector<TrafficSelector>& allowed);
// True if each of `inner` lies within one of `outer` (initiator's check of a reply).
bool all_within(const std::vector<TrafficSelector>& inner, const std::vector<TrafficSelector>& outer);

}  // namespace ipsecgw::ike
