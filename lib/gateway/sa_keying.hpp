// Turns RFC 4106 keying material (AES key || 4-byte salt) into an SaConfig's
// key and salt, checking the length against the algorithm.
#pragma once

#include <cstdint>
#include <vector>

#include "esp/sa_config.hpp"

namespace ipsecgw::gateway {

// False when keymat is not key_bytes(aead) + 4 bytes long.
bool apply_keymat(esp::SaConfig& sa, const std::vector<uint8_t>& keymat);
// Overwrites a byte buffer before it is released.
void wipe_bytes(std::vector<uint8_t>& v);

}  // namespace ipsecgw::gateway
