// Chooses PSK or certificate authentication from the peer configuration.
#include "ike/authenticator.hpp"

#include "ike/certificate_auth.hpp"
#include "ike/ike_sa.hpp"
#include "ike/psk_auth.hpp"

namespace ipsecgw::ike {

std::vector<Payload> certificate_payloads(const IkeSa& sa) {
    std::vector<Payload> out;
    if (!sa.cfg.certificate) return out;
    out.push_back({PayloadType::Certificate, CertPayload{kCertX509Signature, sa.cfg.certificate->certificate_der}});
    for (const auto& der : sa.cfg.certificate->intermediates_der)
        out.push_back({PayloadType::Certificate, CertPayload{kCertX509Signature, der}});
    return out;
}

std::optional<AuthPayload> build_auth(const IkeSa& sa, ByteView octets) {
    if (sa.cfg.certificate) {
        auto sig = sign_digital_signature(*sa.cfg.certificate, octets);
        if (!sig) return std::nullopt;
        return AuthPayload{AuthMethod::DigitalSignature, std::move(*sig)};
    }
    if (sa.cfg.psk.empty()) return std::nullopt;
    SecretBytes mac = psk_auth_data(sa.suite.prf, sa.cfg.psk, octets);
    return AuthPayload{AuthMethod::SharedKeyMic, Bytes(mac.begin(), mac.end())};
}

bool verify_auth(const IkeSa& sa, const Message& m, const IdPayload& peer_id, const AuthPayload& auth,
                 ByteView octets, TimePoint now) {
    switch (auth.method) {
        case AuthMethod::SharedKeyMic:
            return !sa.cfg.psk.empty() && psk_auth_verify(sa.suite.prf, sa.cfg.psk, octets, auth.data);
        case AuthMethod::DigitalSignature: {
            if (!sa.cfg.certificate) return false;
            std::vector<Bytes> chain;
            for (const auto& p : m.payloads)
                if (auto* c = std::get_if<CertPayload>(&p.body); c && c->encoding == kCertX509Signature)
                    chain.push_back(c->data);
            return verify_digital_signature(chain, sa.cfg.certificate->trusted_cas_der, now.count(), peer_id,
                                            auth.data, octets);
        }
        default:
            return false;  // legacy RSA/ECDSA methods 1, 9-11 are not accepted
    }
}

}  // namespace ipsecgw::ike
