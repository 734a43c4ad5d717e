// The IKE PRF (HMAC-SHA2, RFC 4868) and prf+ (RFC 7296 §2.13).
#pragma once

#include "ike/algorithms.hpp"
#include "ike/secret.hpp"

namespace ipsecgw::ike {

// HMAC over `data` with `digest` ("SHA256", ...): full-length output.
SecretBytes hmac(const char* digest, ByteView key, ByteView data);

class Prf {
public:
    explicit Prf(PrfId id) : id_(id) {}
    PrfId id() const { return id_; }
    std::size_t size() const { return prf_output_size(id_); }
    SecretBytes operator()(ByteView key, ByteView data) const;
    // prf+ (K, S) = T1 | T2 | ...; Tn = prf(K, Tn-1 | S | n), truncated to `length`.
    SecretBytes plus(ByteView key, ByteView seed, std::size_t length) const;

private:
    PrfId id_;
};

}  // namespace ipsecgw::ike
