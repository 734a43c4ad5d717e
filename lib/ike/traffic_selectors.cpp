#include "ike/traffic_selectors.hpp"

#include <algorithm>

namespace ipsecgw::ike {

TrafficSelector ts_from_prefix(ByteView address, unsigned prefix_len, std::uint8_t protocol, std::uint16_t start_port,
                               std::uint16_t end_port) {
    TrafficSelector ts;
    ts.type = address.size() == 4 ? TsType::Ipv4AddrRange : TsType::Ipv6AddrRange;
    ts.ip_protocol = protocol;
    ts.start_port = start_port;
    ts.end_port = end_port;
    ts.start_addr.assign(address.begin(), address.end());
    ts.end_addr.assign(address.begin(), address.end());
    for (std::size_t bit = prefix_len; bit < address.size() * 8; ++bit) {
        std::uint8_t mask = static_cast<std::uint8_t>(0x80u >> (bit % 8));
        ts.start_addr[bit / 8] &= static_cast<std::uint8_t>(~mask);
        ts.end_addr[bit / 8] |= mask;
    }
    return ts;
}

TrafficSelector ts_single_address(ByteView address) { return ts_from_prefix(address, static_cast<unsigned>(address.size() * 8)); }

std::optional<TrafficSelector> intersect(const TrafficSelector& a, const TrafficSelector& b) {
    if (a.type != b.type || a.start_addr.size() != b.start_addr.size()) return std::nullopt;
    TrafficSelector r;
    r.type = a.type;
    if (a.ip_protocol != 0 && b.ip_protocol != 0 && a.ip_protocol != b.ip_protocol) return std::nullopt;
    r.ip_protocol = a.ip_protocol ? a.ip_protocol : b.ip_protocol;
    r.start_port = std::max(a.start_port, b.start_port);
    r.end_port = std::min(a.end_port, b.end_port);
    if (r.start_port > r.end_port) return std::nullopt;
    // Same-length big-endian addresses compare correctly byte-wise.
    r.start_addr = std::max(a.start_addr, b.start_addr);
    r.end_addr = std::min(a.end_addr, b.end_addr);
    if (r.start_addr > r.end_addr) return std::nullopt;
    return r;
}

std::vector<TrafficSelector> narrow(const std::vector<TrafficSelector>& proposed,
                                    const std::vector<TrafficSelector>& allowed) {
    std::vector<TrafficSelector> out;
    for (const auto& p : proposed)
        for (const auto& a : allowed)
            if (auto r = intersect(p, a); r && std::find(out.begin(), out.end(), *r) == out.end())
                out.push_back(*r);
    return out;
}

bool all_within(const std::vector<TrafficSelector>& inner, const std::vector<TrafficSelector>& outer) {
    return !inner.empty() && std::all_of(inner.begin(), inner.end(), [&](const TrafficSelector& t) {
        return std::any_of(outer.begin(), outer.end(), [&](const TrafficSelector& o) {
            auto r = intersect(t, o);
            return r && *r == t;
        });
    });
}

}  // namespace ipsecgw::ike
