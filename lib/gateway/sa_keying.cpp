#include "gateway/sa_keying.hpp"

#include <cstring>

namespace ipsecgw::gateway {

bool apply_keymat(esp::SaConfig& sa, const std::vector<uint8_t>& keymat)
{
    size_t klen = esp::key_bytes(sa.aead);
    if (keymat.size() != klen + 4)
        return false;
    std::memcpy(sa.key.data(), keymat.data(), klen);
    std::memcpy(sa.salt.data(), keymat.data() + klen, 4);
    return true;
}

void wipe_bytes(std::vector<uint8_t>& v)
{
    if (!v.empty())
        explicit_bzero(v.data(), v.size());
    v.clear();
}

}  // namespace ipsecgw::gateway
