#include "gateway/inner_check.hpp"

#include <algorithm>

namespace ipsecgw::gateway {
namespace {

uint32_t host_order_v4(const net::IpAddress& a)
{
    return uint32_t(a.bytes[0]) << 24 | uint32_t(a.bytes[1]) << 16 | uint32_t(a.bytes[2]) << 8 | a.bytes[3];
}

uint32_t prefix_mask(uint8_t len)
{
    return len == 0 ? 0 : ~uint32_t(0) << (32 - len);
}

// Two IPv4 prefixes share an address when they agree on the shorter length.
bool prefixes_overlap(const net::IpPrefix& a, const net::IpPrefix& b)
{
    uint32_t m = prefix_mask(std::min(a.len, b.len));
    return (host_order_v4(a.addr) & m) == (host_order_v4(b.addr) & m);
}

}  // namespace

std::vector<InnerCheck4> inner_checks(const Spd& spd, const std::vector<uint32_t>& sa_of_policy, size_t n_sas)
{
    std::vector<InnerCheck4> checks(n_sas);
    const auto& ps = spd.policies();
    std::vector<size_t> in;
    for (size_t i = 0; i < ps.size(); ++i)
        if (ps[i].direction == esp::Direction::Inbound)
            in.push_back(i);
    if (in.empty() || in.size() > kInnerCheckMaxRules)
        return checks;
    auto protects = [&](size_t i) {
        return ps[i].action == PolicyAction::Protect && i < sa_of_policy.size() && sa_of_policy[i] < n_sas;
    };
    std::vector<uint32_t> uses(n_sas, 0);
    for (size_t i : in)
        if (protects(i))
            ++uses[sa_of_policy[i]];
    std::vector<uint32_t> rank = spd.precedence_ranks();
    for (size_t i : in) {
        const Selector& sel = ps[i].selector;
        if (!protects(i) || uses[sa_of_policy[i]] != 1 || sel.family != net::Family::V4 || sel.proto_lo != 0 ||
            sel.proto_hi != 255 || !sel.sport.any() || !sel.dport.any())
            continue;
        // Protocol and ports of the others are ignored: any address overlap
        // with a policy that wins counts (conservative).
        bool first_match = std::none_of(in.begin(), in.end(), [&](size_t j) {
            const Selector& o = ps[j].selector;
            return rank[j] > rank[i] && o.family == net::Family::V4 && prefixes_overlap(o.src, sel.src) &&
                   prefixes_overlap(o.dst, sel.dst);
        });
        if (!first_match)
            continue;
        InnerCheck4& c = checks[sa_of_policy[i]];
        c.valid = true;
        c.src_mask = prefix_mask(sel.src.len);
        c.src = host_order_v4(sel.src.addr) & c.src_mask;
        c.dst_mask = prefix_mask(sel.dst.len);
        c.dst = host_order_v4(sel.dst.addr) & c.dst_mask;
    }
    return checks;
}

}  // namespace ipsecgw::gateway
