// SK and SKF payload protection: AES-GCM-16 (RFC 5282) and AES-CBC with
// HMAC-SHA2 truncated ICVs (RFC 3602, RFC 4868), per RFC 7296 §3.14.
#pragma once

#include <optional>

#include "ike/keymat.hpp"
#include "ike/message.hpp"

namespace ipsecgw::ike {

// Bytes SK adds around the inner chain at most (IV, padding, pad length, ICV).
std::size_t sk_overhead(const Suite& suite);

// A whole message whose only payload is SK, holding `inner_chain`.
Bytes seal_message(Header header, PayloadType first_inner, ByteView inner_chain, const SkKeys& keys);

// One SKF fragment (RFC 7383): fragment fields are covered by the ICV.
Bytes seal_fragment(Header header, std::uint16_t number, std::uint16_t total, PayloadType first_inner,
                    ByteView chunk, const SkKeys& keys);

// Verifies the ICV over the datagram and decrypts the SK/SKF payload found at
// `encrypted_offset` (type Encrypted or EncryptedFragment); returns the
// inner plaintext without padding, or nullopt on any failure.
std::optional<SecretBytes> open_message(ByteView datagram, std::size_t encrypted_offset, PayloadType type,
                                        const SkKeys& keys);

}  // namespace ipsecgw::ike
