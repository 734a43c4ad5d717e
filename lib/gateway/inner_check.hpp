// The inbound inner-selector check (RFC 4301 §5.2: a decrypted packet must
// match the SA it arrived on) reduced to two prefix compares where that is
// exact, so the dataplane need not classify every decrypted packet again.
//
// Exact when the SA's only inbound policy is an IPv4 prefix pair with any
// protocol and ports, and no inbound policy of higher precedence overlaps
// it: that policy is then the first match for exactly the packets inside
// its prefixes, and no other policy can send a packet to this SA.
#pragma once

#include <cstdint>
#include <vector>

#include "gateway/spd.hpp"

namespace ipsecgw::gateway {

struct InnerCheck4 {
    bool valid = false;  // false: the SPD must decide
    uint32_t src = 0, src_mask = 0, dst = 0, dst_mask = 0;  // host byte order

    bool matches(uint32_t src_addr, uint32_t dst_addr) const
    {
        return (src_addr & src_mask) == src && (dst_addr & dst_mask) == dst;
    }
};

// Found by comparing inbound policies pairwise, so only for SPDs with at most
// this many inbound rules (site-to-site gateways); larger ones get none.
constexpr size_t kInnerCheckMaxRules = 64;

// sa_of_policy[i]: the SA id (0..n_sas-1) policy i PROTECTs with; ignored
// for other actions. Returns one check per SA id.
std::vector<InnerCheck4> inner_checks(const Spd& spd, const std::vector<uint32_t>& sa_of_policy, size_t n_sas);

}  // namespace ipsecgw::gateway
