// Key derivation for IKE SAs and CHILD SAs (RFC 7296 §2.14, §2.17, §2.18).
#pragma once

#include <cstdint>

#include "ike/algorithms.hpp"
#include "ike/secret.hpp"

namespace ipsecgw::ike {

// Keys protecting one direction of SK payloads.
struct SkKeys {
    Suite suite;
    SecretBytes encr;   // includes the GCM salt
    SecretBytes integ;  // empty for AEAD
};

struct IkeKeys {
    Suite suite;
    SecretBytes sk_d, sk_ai, sk_ar, sk_ei, sk_er, sk_pi, sk_pr;

    SkKeys initiator_sk() const { return {suite, sk_ei, sk_ai}; }
    SkKeys responder_sk() const { return {suite, sk_er, sk_ar}; }
};

// SKEYSEED = prf(Ni | Nr, g^ir); keys = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr).
IkeKeys derive_ike_keys(const Suite& suite, ByteView ni, ByteView nr, ByteView g_ir, std::uint64_t spi_i,
                        std::uint64_t spi_r);

// IKE SA rekey: SKEYSEED = prf(SK_d(old), g^ir(new) | Ni | Nr) with the old
// SA's PRF; the rest with the new suite's PRF.
IkeKeys derive_rekeyed_ike_keys(const Suite& suite, PrfId old_prf, ByteView old_sk_d, ByteView g_ir, ByteView ni,
                                ByteView nr, std::uint64_t spi_i, std::uint64_t spi_r);

// ESP keys for each direction: "i" is initiator-to-responder.
struct ChildKeys {
    SecretBytes encr_i, integ_i, encr_r, integ_r;
};

// KEYMAT = prf+(SK_d, [g^ir(new) |] Ni | Nr); g_ir empty without PFS.
ChildKeys derive_child_keys(const Suite& esp, PrfId prf, ByteView sk_d, ByteView g_ir, ByteView ni, ByteView nr);

}  // namespace ipsecgw::ike
