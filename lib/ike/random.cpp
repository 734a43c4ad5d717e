// Randomness for SPIs, nonces, IVs and jitter (OpenSSL DRBG).
#include <openssl/rand.h>

#include <stdexcept>

#include "ike/secret.hpp"

namespace ipsecgw::ike {

Bytes random_bytes(std::size_t n) {
    Bytes out(n);
    if (n > 0 && RAND_bytes(out.data(), static_cast<int>(n)) != 1) throw std::runtime_error("RAND_bytes failed");
    return out;
}

std::uint64_t random_u64() {
    Bytes b = random_bytes(8);
    std::uint64_t v = 0;
    for (auto x : b) v = v << 8 | x;
    return v;
}

std::uint32_t random_u32() { return static_cast<std::uint32_t>(random_u64()); }

}  // namespace ipsecgw::ike
