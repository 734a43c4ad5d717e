// Diffie-Hellman for IKE: MODP 14/15, ECP 19/20 (RFC 5903 x|y encoding),
// Curve25519 (RFC 8031), on OpenSSL 3 EVP_PKEY.
#pragma once

#include <memory>
#include <optional>

#include "ike/constants.hpp"
#include "ike/secret.hpp"

typedef struct evp_pkey_st EVP_PKEY;

namespace ipsecgw::ike {

// Size of the KE payload data for a group (the public value on the wire).
std::size_t dh_public_size(DhId group);

class DhKeyPair {
public:
    // A fresh ephemeral key pair.
    static std::unique_ptr<DhKeyPair> generate(DhId group);
    // A fixed key pair, for known-answer tests. `public_value` is the wire
    // form; for MODP and ECP it must match the private key.
    static std::unique_ptr<DhKeyPair> from_private(DhId group, ByteView private_key, ByteView public_value);

    ~DhKeyPair();
    DhKeyPair(const DhKeyPair&) = delete;
    DhKeyPair& operator=(const DhKeyPair&) = delete;

    DhId group() const { return group_; }
    const Bytes& public_value() const { return public_value_; }
    // g^ir in IKE's representation; nullopt if the peer's value is invalid
    // (wrong size, not on the curve, out of range, all-zero X25519 result).
    std::optional<SecretBytes> shared_secret(ByteView peer_public) const;

private:
    DhKeyPair(DhId g, EVP_PKEY* key);
    DhId group_;
    EVP_PKEY* key_;
    Bytes public_value_;
};

}  // namespace ipsecgw::ike
