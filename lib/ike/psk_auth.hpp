// AUTH payload data for pre-shared keys and the signed octets every AUTH
// method covers (RFC 7296 §2.15).
#pragma once

#include "ike/algorithms.hpp"
#include "ike/payloads.hpp"
#include "ike/secret.hpp"

namespace ipsecgw::ike {

// RealMessage | peer's Nonce data | prf(SK_p, ID payload body).
Bytes signed_octets(PrfId prf, ByteView real_message, ByteView peer_nonce, ByteView sk_p, const IdPayload& id);

// prf(prf(Shared Secret, "Key Pad for IKEv2"), signed octets).
SecretBytes psk_auth_data(PrfId prf, ByteView psk, ByteView octets);

// Constant-time comparison against the expected value.
bool psk_auth_verify(PrfId prf, ByteView psk, ByteView octets, ByteView received);

}  // namespace ipsecgw::ike
