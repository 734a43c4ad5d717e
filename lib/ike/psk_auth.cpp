#include "ike/psk_auth.hpp"

#include <openssl/crypto.h>

#include "ike/prf.hpp"

namespace ipsecgw::ike {

Bytes signed_octets(PrfId prf, ByteView real_message, ByteView peer_nonce, ByteView sk_p, const IdPayload& id) {
    SecretBytes maced_id = Prf(prf)(sk_p, id.body());
    return concat({real_message, peer_nonce, maced_id});
}

SecretBytes psk_auth_data(PrfId prf_id, ByteView psk, ByteView octets) {
    static constexpr std::string_view kKeyPad = "Key Pad for IKEv2";
    Prf prf(prf_id);
    SecretBytes padded = prf(psk, ByteView(reinterpret_cast<const std::uint8_t*>(kKeyPad.data()), kKeyPad.size()));
    return prf(padded, octets);
}

bool psk_auth_verify(PrfId prf, ByteView psk, ByteView octets, ByteView received) {
    SecretBytes expected = psk_auth_data(prf, psk, octets);
    return received.size() == expected.size() && CRYPTO_memcmp(expected.data(), received.data(), received.size()) == 0;
}

}  // namespace ipsecgw::ike
