#include "ike/nat_detection.hpp"

#include <openssl/evp.h>

#include <stdexcept>

namespace ipsecgw::ike {

Bytes nat_detection_hash(std::uint64_t spi_i, std::uint64_t spi_r, const Endpoint& ep) {
    Bytes in;
    Writer w(in);
    w.u64(spi_i);
    w.u64(spi_r);
    w.bytes(ep.address);
    w.u16(ep.port);
    Bytes out(20);
    unsigned len = 0;
    if (EVP_Digest(in.data(), in.size(), out.data(), &len, EVP_sha1(), nullptr) != 1 || len != 20)
        throw std::runtime_error("SHA-1 failed");
    return out;
}

}  // namespace ipsecgw::ike
