#include "esp/sa_config.hpp"

#include <cstring>

namespace ipsecgw::esp {

bool SaConfig::set_keymat(const uint8_t* keymat, size_t len)
{
    // RFC 4106 §8.1: KEYMAT is the AES key followed by the 4-byte salt.
    if (len != 16 + 4 && len != 32 + 4)
        return false;
    aead = len == 36 ? Aead::AesGcm256 : Aead::AesGcm128;
    key.fill(0);
    std::memcpy(key.data(), keymat, len - 4);
    std::memcpy(salt.data(), keymat + len - 4, 4);
    return true;
}

void SaConfig::wipe()
{
    explicit_bzero(key.data(), key.size());
    explicit_bzero(salt.data(), salt.size());
}

}  // namespace ipsecgw::esp
