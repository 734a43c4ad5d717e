// X.509 certificate authentication: RFC 7427 digital signatures (RSA
// PKCS#1 v1.5 and ECDSA over SHA-2) and chain validation against the
// configured trust anchors.
#pragma once

#include <optional>
#include <vector>

#include "ike/engine_types.hpp"

namespace ipsecgw::ike {

// AUTH data for method 14: length of the AlgorithmIdentifier, its DER, then
// the signature over `octets` made with our private key.
// CERTREQ Certification Authority data (§3.7): the SHA-1 hashes of each
// trusted CA's SubjectPublicKeyInfo (DER), concatenated; certificates that
// do not decode are skipped.
Bytes ca_key_hashes(const std::vector<Bytes>& cas_der);

std::optional<Bytes> sign_digital_signature(const CertificateAuth& ours, ByteView octets);

// Validates `chain` (end-entity first, then intermediates) against
// `trusted_cas` at `unix_time_ms`, checks that the end-entity certificate
// names `peer_id`, and verifies `auth_data` (method 14) over `octets`.
bool verify_digital_signature(const std::vector<Bytes>& chain, const std::vector<Bytes>& trusted_cas,
                              std::int64_t unix_time_ms, const IdPayload& peer_id, ByteView auth_data,
                              ByteView octets);

}  // namespace ipsecgw::ike
