// Producing and checking AUTH payloads: PSK (RFC 7296 §2.15) or X.509
// signatures (RFC 7427), whichever the peer configuration names.
#pragma once

#include <optional>

#include "ike/engine_types.hpp"
#include "ike/message.hpp"

namespace ipsecgw::ike {

class IkeSa;

// Payloads that go before AUTH (our CERT chain), for certificate auth.
std::vector<Payload> certificate_payloads(const IkeSa& sa);

std::optional<AuthPayload> build_auth(const IkeSa& sa, ByteView signed_octets);

// Checks the peer's AUTH over `signed_octets`; for signatures the peer's
// certificate comes from the CERT payloads in `m` and must chain to a CA
// we trust and name the peer's ID. `now` is Unix-epoch milliseconds when
// certificates are used (their validity is checked at that time).
bool verify_auth(const IkeSa& sa, const Message& m, const IdPayload& peer_id, const AuthPayload& auth,
                 ByteView signed_octets, TimePoint now);

}  // namespace ipsecgw::ike
