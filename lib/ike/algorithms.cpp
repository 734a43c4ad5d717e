// Algorithm sizes and proposal matching (RFC 7296 §3.3.6).
#include "ike/algorithms.hpp"

#include <algorithm>

namespace ipsecgw::ike {

std::size_t prf_output_size(PrfId prf) {
    switch (prf) {
        case PrfId::HmacSha2_256: return 32;
        case PrfId::HmacSha2_384: return 48;
        case PrfId::HmacSha2_512: return 64;
    }
    return 0;
}

const char* prf_digest_name(PrfId prf) {
    switch (prf) {
        case PrfId::HmacSha2_256: return "SHA256";
        case PrfId::HmacSha2_384: return "SHA384";
        case PrfId::HmacSha2_512: return "SHA512";
    }
    return nullptr;
}

std::size_t integ_key_size(IntegId integ) {
    switch (integ) {
        case IntegId::None: return 0;
        case IntegId::HmacSha2_256_128: return 32;
        case IntegId::HmacSha2_384_192: return 48;
        case IntegId::HmacSha2_512_256: return 64;
    }
    return 0;
}

// RFC 4868: the ICV is the HMAC truncated to half its length.
std::size_t integ_icv_size(IntegId integ) { return integ_key_size(integ) / 2; }

const char* integ_digest_name(IntegId integ) {
    switch (integ) {
        case IntegId::None: return nullptr;
        case IntegId::HmacSha2_256_128: return "SHA256";
        case IntegId::HmacSha2_384_192: return "SHA384";
        case IntegId::HmacSha2_512_256: return "SHA512";
    }
    return nullptr;
}

std::size_t encr_keymat_size(EncrId encr, std::uint16_t key_bits) {
    return key_bits / 8 + (encr == EncrId::AesGcm16 ? kGcmSaltSize : 0);
}

bool supported(EncrId e, std::uint16_t key_bits) {
    if (e == EncrId::AesGcm16) return key_bits == 128 || key_bits == 256;
    if (e == EncrId::AesCbc) return key_bits == 128 || key_bits == 192 || key_bits == 256;
    return false;
}
bool supported(PrfId p) { return prf_output_size(p) != 0; }
bool supported(IntegId i) { return i == IntegId::None || integ_key_size(i) != 0; }
bool supported(DhId d) {
    switch (d) {
        case DhId::Modp2048:
        case DhId::Modp3072:
        case DhId::Ecp256:
        case DhId::Ecp384:
        case DhId::Curve25519: return true;
        default: return false;
    }
}

Proposal to_proposal(const Suite& s, ProtocolId protocol, std::uint8_t number, Bytes spi) {
    Proposal p;
    p.number = number;
    p.protocol = protocol;
    p.spi = std::move(spi);
    p.transforms.push_back(
        Transform::make(TransformType::Encryption, static_cast<std::uint16_t>(s.encr), s.encr_key_bits));
    if (protocol == ProtocolId::Ike)
        p.transforms.push_back(Transform::make(TransformType::Prf, static_cast<std::uint16_t>(s.prf)));
    if (!s.aead()) p.transforms.push_back(Transform::make(TransformType::Integrity, static_cast<std::uint16_t>(s.integ)));
    if (s.dh != DhId::None) p.transforms.push_back(Transform::make(TransformType::DhGroup, static_cast<std::uint16_t>(s.dh)));
    if (protocol == ProtocolId::Esp)
        p.transforms.push_back(Transform::make(TransformType::Esn, s.esn ? 1 : 0));
    return p;
}

namespace {

// A transform with attributes other than a key length must be ignored (§3.3.6).
bool plain_transform(const Transform& t) {
    return std::all_of(t.attributes.begin(), t.attributes.end(),
                       [](const TransformAttribute& a) { return a.type == kAttrKeyLength && a.tv; });
}

bool offers(const Proposal& p, TransformType type, std::uint16_t id, std::optional<std::uint16_t> key_bits = {}) {
    for (const auto& t : p.transforms)
        if (t.type == type && t.id == id && plain_transform(t) && t.key_length() == key_bits) return true;
    return false;
}

bool has_type(const Proposal& p, TransformType type) {
    return std::any_of(p.transforms.begin(), p.transforms.end(), [&](const Transform& t) { return t.type == type; });
}

bool matches(const Suite& s, const Proposal& p, ProtocolId protocol) {
    if (p.protocol != protocol) return false;
    if (protocol == ProtocolId::Ike && p.spi.size() != 0 && p.spi.size() != 8) return false;
    if (protocol == ProtocolId::Esp && p.spi.size() != 4) return false;
    if (!offers(p, TransformType::Encryption, static_cast<std::uint16_t>(s.encr), s.encr_key_bits)) return false;
    if (protocol == ProtocolId::Ike && !offers(p, TransformType::Prf, static_cast<std::uint16_t>(s.prf))) return false;
    if (s.aead()) {
        // An AEAD proposal carries no integrity transform, or only NONE.
        if (has_type(p, TransformType::Integrity) && !offers(p, TransformType::Integrity, 0)) return false;
    } else if (!offers(p, TransformType::Integrity, static_cast<std::uint16_t>(s.integ))) {
        return false;
    }
    if (s.dh == DhId::None) {
        if (has_type(p, TransformType::DhGroup) && !offers(p, TransformType::DhGroup, 0)) return false;
    } else if (!offers(p, TransformType::DhGroup, static_cast<std::uint16_t>(s.dh))) {
        return false;
    }
    if (protocol == ProtocolId::Esp && has_type(p, TransformType::Esn) &&
        !offers(p, TransformType::Esn, s.esn ? 1 : 0))
        return false;
    return true;
}

}  // namespace

std::optional<Selection> select_proposal(const std::vector<Suite>& ours, const SaPayload& offered,
                                         ProtocolId protocol) {
    for (const auto& s : ours)
        for (const auto& p : offered.proposals)
            if (matches(s, p, protocol)) {
                Selection sel{s, p};
                // The reply lists exactly the chosen transforms.
                Proposal reply = to_proposal(s, protocol, p.number, p.spi);
                sel.proposal = std::move(reply);
                return sel;
            }
    return std::nullopt;
}

std::optional<Suite> accept_chosen(const std::vector<Suite>& ours, const SaPayload& chosen, ProtocolId protocol) {
    if (chosen.proposals.size() != 1) return std::nullopt;
    const Proposal& p = chosen.proposals.front();
    for (const auto& s : ours) {
        // The reply must hold exactly one transform of each type we need.
        Proposal expected = to_proposal(s, protocol, p.number, p.spi);
        if (matches(s, p, protocol) && p.transforms.size() == expected.transforms.size()) return s;
    }
    return std::nullopt;
}

std::string describe(const Suite& s) {
    std::string out = s.aead() ? "aes" + std::to_string(s.encr_key_bits) + "gcm16"
                               : "aes" + std::to_string(s.encr_key_bits) + "-sha" +
                                     std::to_string(integ_key_size(s.integ) * 8);
    out += "-prfsha" + std::to_string(prf_output_size(s.prf) * 8);
    if (s.dh != DhId::None) out += "-dh" + std::to_string(static_cast<int>(s.dh));
    return out;
}

}  // namespace ipsecgw::ike
