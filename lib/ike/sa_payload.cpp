// SA payload: proposals, transforms and transform attributes (RFC 7296 §3.3).
#include "ike/payloads.hpp"

namespace ipsecgw::ike {
namespace {

constexpr std::uint8_t kLastSubstructure = 0;
constexpr std::uint8_t kMoreProposals = 2;
constexpr std::uint8_t kMoreTransforms = 3;
constexpr std::uint16_t kAttrFormatTv = 0x8000;

void encode_transform(Writer& w, const Transform& t, bool last) {
    std::size_t start = w.position();
    w.u8(last ? kLastSubstructure : kMoreTransforms);
    w.u8(0);
    w.u16(0);  // length, patched below
    w.u8(static_cast<std::uint8_t>(t.type));
    w.u8(0);
    w.u16(t.id);
    for (const auto& a : t.attributes) {
        if (a.tv) {
            w.u16(static_cast<std::uint16_t>(kAttrFormatTv | a.type));
            w.bytes(a.value);
        } else {
            w.u16(a.type & 0x7fff);
            w.u16(static_cast<std::uint16_t>(a.value.size()));
            w.bytes(a.value);
        }
    }
    w.patch_u16(start + 2, static_cast<std::uint16_t>(w.position() - start));
}

bool decode_attributes(ByteView in, std::vector<TransformAttribute>& out) {
    Reader r(in);
    while (r.ok() && r.remaining() > 0) {
        if (out.size() >= 16) return false;
        TransformAttribute a;
        std::uint16_t t = r.u16();
        a.tv = (t & kAttrFormatTv) != 0;
        a.type = t & 0x7fff;
        if (a.tv) {
            a.value = r.bytes(2);
        } else {
            std::uint16_t len = r.u16();
            a.value = r.bytes(len);
        }
        if (!r.ok()) return false;
        out.push_back(std::move(a));
    }
    return r.ok();
}

bool decode_transform(Reader& r, Transform& t, bool& last) {
    std::uint8_t more = r.u8();
    r.u8();
    std::uint16_t len = r.u16();
    if (!r.ok() || len < 8 || (more != kLastSubstructure && more != kMoreTransforms)) return false;
    last = more == kLastSubstructure;
    t.type = static_cast<TransformType>(r.u8());
    r.u8();
    t.id = r.u16();
    ByteView attrs = r.view(len - 8u);
    return r.ok() && decode_attributes(attrs, t.attributes);
}

bool decode_proposal(Reader& r, Proposal& p, bool& last) {
    std::uint8_t more = r.u8();
    r.u8();
    std::uint16_t len = r.u16();
    if (!r.ok() || len < 8 || (more != kLastSubstructure && more != kMoreProposals)) return false;
    last = more == kLastSubstructure;
    Reader body(r.view(len - 4u));
    if (!r.ok()) return false;
    p.number = body.u8();
    p.protocol = static_cast<ProtocolId>(body.u8());
    std::uint8_t spi_size = body.u8();
    std::uint8_t count = body.u8();
    p.spi = body.bytes(spi_size);
    if (!body.ok() || count > kMaxTransforms) return false;
    bool last_transform = false;
    for (unsigned i = 0; i < count; ++i) {
        if (last_transform) return false;  // substructure says "last" before the count is reached
        Transform t;
        if (!decode_transform(body, t, last_transform)) return false;
        p.transforms.push_back(std::move(t));
    }
    return body.ok() && body.remaining() == 0 && (count == 0 || last_transform);
}

}  // namespace

std::optional<std::uint16_t> Transform::key_length() const {
    for (const auto& a : attributes)
        if (a.type == kAttrKeyLength && a.tv && a.value.size() == 2)
            return static_cast<std::uint16_t>(a.value[0] << 8 | a.value[1]);
    return std::nullopt;
}

Transform Transform::make(TransformType t, std::uint16_t id, std::optional<std::uint16_t> key_bits) {
    Transform tr;
    tr.type = t;
    tr.id = id;
    if (key_bits)
        tr.attributes.push_back({kAttrKeyLength, true,
                                 {static_cast<std::uint8_t>(*key_bits >> 8), static_cast<std::uint8_t>(*key_bits)}});
    return tr;
}

void SaPayload::encode(Writer& w) const {
    for (std::size_t i = 0; i < proposals.size(); ++i) {
        const Proposal& p = proposals[i];
        std::size_t start = w.position();
        w.u8(i + 1 == proposals.size() ? kLastSubstructure : kMoreProposals);
        w.u8(0);
        w.u16(0);
        w.u8(p.number);
        w.u8(static_cast<std::uint8_t>(p.protocol));
        w.u8(static_cast<std::uint8_t>(p.spi.size()));
        w.u8(static_cast<std::uint8_t>(p.transforms.size()));
        w.bytes(p.spi);
        for (std::size_t t = 0; t < p.transforms.size(); ++t)
            encode_transform(w, p.transforms[t], t + 1 == p.transforms.size());
        w.patch_u16(start + 2, static_cast<std::uint16_t>(w.position() - start));
    }
}

bool SaPayload::decode(ByteView in) {
    proposals.clear();
    Reader r(in);
    bool last = false;
    while (r.ok() && r.remaining() > 0) {
        if (last || proposals.size() >= kMaxProposals) return false;
        Proposal p;
        if (!decode_proposal(r, p, last)) return false;
        proposals.push_back(std::move(p));
    }
    return r.ok() && last;
}

}  // namespace ipsecgw::ike
