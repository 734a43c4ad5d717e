// Configuration payload for remote-access virtual IPs (RFC 7296 §3.15).
#include "ike/payloads.hpp"

namespace ipsecgw::ike {

void CpPayload::encode(Writer& w) const {
    w.u8(static_cast<std::uint8_t>(cfg_type));
    w.zeros(3);
    for (const auto& a : attributes) {
        w.u16(a.type & 0x7fff);
        w.u16(static_cast<std::uint16_t>(a.value.size()));
        w.bytes(a.value);
    }
}

bool CpPayload::decode(ByteView in) {
    Reader r(in);
    cfg_type = static_cast<CfgType>(r.u8());
    r.skip(3);
    attributes.clear();
    while (r.ok() && r.remaining() > 0) {
        if (attributes.size() >= 64) return false;
        ConfigAttribute a;
        a.type = r.u16() & 0x7fff;
        std::uint16_t len = r.u16();
        a.value = r.bytes(len);
        if (!r.ok()) return false;
        attributes.push_back(std::move(a));
    }
    return r.ok();
}

}  // namespace ipsecgw::ike
