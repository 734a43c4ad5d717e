// Negotiated algorithm suites and the key/ICV sizes each implies.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "ike/constants.hpp"
#include "ike/payloads.hpp"

namespace ipsecgw::ike {

struct Suite {
    EncrId encr = EncrId::AesGcm16;
    std::uint16_t encr_key_bits = 256;
    IntegId integ = IntegId::None;  // None for AEAD
    PrfId prf = PrfId::HmacSha2_256;  // unused for ESP
    DhId dh = DhId::Curve25519;       // None: no (PFS) key exchange
    bool esn = false;                 // ESP only

    bool aead() const { return encr == EncrId::AesGcm16; }
    bool operator==(const Suite&) const = default;
};

std::size_t prf_output_size(PrfId prf);
const char* prf_digest_name(PrfId prf);
std::size_t integ_key_size(IntegId integ);
std::size_t integ_icv_size(IntegId integ);
const char* integ_digest_name(IntegId integ);
// Encryption key bytes including the 4-byte salt AES-GCM takes from KEYMAT.
std::size_t encr_keymat_size(EncrId encr, std::uint16_t key_bits);
inline constexpr std::size_t kGcmSaltSize = 4;

bool supported(EncrId e, std::uint16_t key_bits);
bool supported(PrfId p);
bool supported(IntegId i);
bool supported(DhId d);

// Proposal <-> suite. `protocol` Ike includes PRF; Esp includes ESN.
Proposal to_proposal(const Suite& s, ProtocolId protocol, std::uint8_t number, Bytes spi = {});
// Responder selection: the first of our suites (in our order of preference)
// that one of the peer's proposals offers completely. Returns the chosen
// suite and the matching peer proposal (for its number and SPI).
struct Selection {
    Suite suite;
    Proposal proposal;
};
std::optional<Selection> select_proposal(const std::vector<Suite>& ours, const SaPayload& offered,
                                         ProtocolId protocol);
// Initiator check: the responder's single proposal must be one we offered.
std::optional<Suite> accept_chosen(const std::vector<Suite>& ours, const SaPayload& chosen, ProtocolId protocol);

std::string describe(const Suite& s);

}  // namespace ipsecgw::ike
