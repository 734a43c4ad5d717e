// Traffic selector payloads TSi/TSr with IPv4 and IPv6 ranges (RFC 7296 §3.13).
#include "ike/payloads.hpp"

namespace ipsecgw::ike {

void TsPayload::encode(Writer& w) const {
    w.u8(static_cast<std::uint8_t>(selectors.size()));
    w.zeros(3);
    for (const auto& ts : selectors) {
        w.u8(static_cast<std::uint8_t>(ts.type));
        w.u8(ts.ip_protocol);
        w.u16(static_cast<std::uint16_t>(8 + ts.start_addr.size() + ts.end_addr.size()));
        w.u16(ts.start_port);
        w.u16(ts.end_port);
        w.bytes(ts.start_addr);
        w.bytes(ts.end_addr);
    }
}

bool TsPayload::decode(ByteView in) {
    Reader r(in);
    std::uint8_t count = r.u8();
    r.skip(3);
    if (!r.ok() || count == 0 || count > kMaxSelectors) return false;
    selectors.clear();
    for (unsigned i = 0; i < count; ++i) {
        TrafficSelector ts;
        ts.type = static_cast<TsType>(r.u8());
        ts.ip_protocol = r.u8();
        std::uint16_t len = r.u16();
        std::size_t addr_len;
        if (ts.type == TsType::Ipv4AddrRange)
            addr_len = 4;
        else if (ts.type == TsType::Ipv6AddrRange)
            addr_len = 16;
        else
            return false;  // unknown TS types cannot be honoured
        if (!r.ok() || len != 8 + 2 * addr_len) return false;
        ts.start_port = r.u16();
        ts.end_port = r.u16();
        ts.start_addr = r.bytes(addr_len);
        ts.end_addr = r.bytes(addr_len);
        if (!r.ok()) return false;
        selectors.push_back(std::move(ts));
    }
    return r.remaining() == 0;
}

}  // namespace ipsecgw::ike
