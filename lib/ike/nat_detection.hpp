// NAT_DETECTION_SOURCE/DESTINATION_IP hashes (RFC 7296 §2.23).
#pragma once

#include "ike/engine_types.hpp"

namespace ipsecgw::ike {

// SHA-1(SPIi | SPIr | IP address | port).
Bytes nat_detection_hash(std::uint64_t spi_i, std::uint64_t spi_r, const Endpoint& ep);

}  // namespace ipsecgw::ike
