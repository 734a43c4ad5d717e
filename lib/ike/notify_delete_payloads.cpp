// Notify (RFC 7296 §3.10) and Delete (§3.11) payloads.
#include "ike/payloads.hpp"

namespace ipsecgw::ike {

void NotifyPayload::encode(Writer& w) const {
    w.u8(static_cast<std::uint8_t>(protocol));
    w.u8(static_cast<std::uint8_t>(spi.size()));
    w.u16(type);
    w.bytes(spi);
    w.bytes(data);
}
bool NotifyPayload::decode(ByteView in) {
    Reader r(in);
    protocol = static_cast<ProtocolId>(r.u8());
    std::uint8_t spi_size = r.u8();
    type = r.u16();
    spi = r.bytes(spi_size);
    data = r.bytes(r.remaining());
    return r.ok();
}

void DeletePayload::encode(Writer& w) const {
    w.u8(static_cast<std::uint8_t>(protocol));
    w.u8(spi_size);
    w.u16(static_cast<std::uint16_t>(spis.size()));
    for (const auto& s : spis) w.bytes(s);
}
bool DeletePayload::decode(ByteView in) {
    Reader r(in);
    protocol = static_cast<ProtocolId>(r.u8());
    spi_size = r.u8();
    std::uint16_t count = r.u16();
    if (!r.ok()) return false;
    // IKE SA deletes carry no SPIs; child deletes carry 4-byte SPIs.
    if (protocol == ProtocolId::Ike) return spi_size == 0 && count == 0 && r.remaining() == 0;
    if (spi_size != 4 || r.remaining() != std::size_t{count} * spi_size) return false;
    spis.clear();
    for (unsigned i = 0; i < count; ++i) spis.push_back(r.bytes(spi_size));
    return r.ok();
}

Payload make_notify(NotifyType type, Bytes data, ProtocolId proto, Bytes spi) {
    NotifyPayload n;
    n.type = static_cast<std::uint16_t>(type);
    n.data = std::move(data);
    n.protocol = proto;
    n.spi = std::move(spi);
    return Payload{PayloadType::Notify, std::move(n)};
}

}  // namespace ipsecgw::ike
