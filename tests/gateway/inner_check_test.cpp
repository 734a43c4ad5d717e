// The inner-selector shortcut against the SPD model: wherever a check is
// given for an SA, it must accept exactly the packets whose first-matching
// inbound policy PROTECTs with that SA (RFC 4301 §5.2), on random SPDs and
// random traffic in a small address space where rules overlap often.
#include <gtest/gtest.h>

#include <random>

#include "gateway/inner_check.hpp"
#include "gateway/value_parsers.hpp"

using namespace ipsecgw;
using namespace ipsecgw::gateway;

namespace {

constexpr uint32_t kSpiBase = 100;

net::IpAddress v4(uint32_t host)
{
    return net::IpAddress::v4(uint8_t(host >> 24), uint8_t(host >> 16), uint8_t(host >> 8), uint8_t(host));
}

net::IpPrefix prefix(const char* text)
{
    return *net::IpPrefix::parse(text);
}

Policy inbound(net::IpPrefix src, net::IpPrefix dst, PolicyAction action, uint32_t sa = 0, uint32_t priority = 0)
{
    Policy p;
    p.direction = esp::Direction::Inbound;
    p.selector.src = src;
    p.selector.dst = dst;
    p.action = action;
    p.spi = kSpiBase + sa;
    p.priority = priority;
    return p;
}

std::vector<uint32_t> sa_ids(const Spd& spd)
{
    std::vector<uint32_t> ids;
    for (const Policy& p : spd.policies())
        ids.push_back(p.spi - kSpiBase);
    return ids;
}

// Addresses 10.0.0.0 - 10.0.0.15: prefixes of every length overlap often.
uint32_t random_addr(std::mt19937& rng)
{
    return 0x0a000000u | (rng() % 16);
}

net::IpPrefix random_prefix(std::mt19937& rng)
{
    uint8_t len = static_cast<uint8_t>(rng() % 3 == 0 ? rng() % 29 : 28 + rng() % 5);
    return {mask_address(v4(random_addr(rng)), len), len};
}

}  // namespace

TEST(InnerCheck, SiteToSiteTunnelsGetPrefixCompares)
{
    Spd spd;
    spd.add(inbound(prefix("192.168.2.0/24"), prefix("192.168.1.0/24"), PolicyAction::Protect, 0));
    spd.add(inbound(prefix("192.168.3.0/24"), prefix("192.168.1.0/24"), PolicyAction::Protect, 1));
    auto c = inner_checks(spd, sa_ids(spd), 2);
    ASSERT_TRUE(c[0].valid && c[1].valid);
    EXPECT_TRUE(c[0].matches(0xc0a80205, 0xc0a80107));
    EXPECT_FALSE(c[0].matches(0xc0a80305, 0xc0a80107));  // the other tunnel's source
    EXPECT_FALSE(c[1].matches(0xc0a80205, 0xc0a80107));
    EXPECT_FALSE(c[0].matches(0xc0a80205, 0xc0a80207));
}

TEST(InnerCheck, NoShortcutWhereTheSpdMustDecide)
{
    {
        // A DISCARD of higher precedence carves a hole in the tunnel's space.
        Spd spd;
        spd.add(inbound(prefix("192.168.2.0/24"), prefix("192.168.1.0/24"), PolicyAction::Protect, 0, 1));
        spd.add(inbound(prefix("192.168.2.7/32"), prefix("0.0.0.0/0"), PolicyAction::Discard, 0, 10));
        EXPECT_FALSE(inner_checks(spd, sa_ids(spd), 1)[0].valid);
    }
    {
        // Two policies name the SA.
        Spd spd;
        spd.add(inbound(prefix("192.168.2.0/24"), prefix("192.168.1.0/24"), PolicyAction::Protect, 0));
        spd.add(inbound(prefix("192.168.4.0/24"), prefix("192.168.1.0/24"), PolicyAction::Protect, 0));
        EXPECT_FALSE(inner_checks(spd, sa_ids(spd), 1)[0].valid);
    }
    {
        // Ports or protocol in the selector.
        Spd spd;
        Policy p = inbound(prefix("192.168.2.0/24"), prefix("192.168.1.0/24"), PolicyAction::Protect, 0);
        p.selector.dport = {443, 443};
        spd.add(p);
        EXPECT_FALSE(inner_checks(spd, sa_ids(spd), 1)[0].valid);
    }
    {
        // Too many inbound rules to compare pairwise.
        Spd spd;
        for (uint32_t i = 0; i <= kInnerCheckMaxRules; ++i)
            spd.add(inbound({v4(0x0a000000u + (i << 8)), 24}, prefix("192.168.1.0/24"), PolicyAction::Protect, i));
        auto c = inner_checks(spd, sa_ids(spd), kInnerCheckMaxRules + 1);
        for (const auto& x : c)
            EXPECT_FALSE(x.valid);
    }
}

TEST(InnerCheck, AgreesWithTheSpdModelOnRandomPolicies)
{
    std::mt19937 rng(20261123);
    const uint32_t n_sas = 6;
    unsigned checked = 0, valid_seen = 0;
    for (int round = 0; round < 400; ++round) {
        Spd spd;
        unsigned n = 1 + rng() % 10;
        for (unsigned i = 0; i < n; ++i) {
            PolicyAction a = rng() % 4 == 0 ? (rng() % 2 ? PolicyAction::Discard : PolicyAction::Bypass)
                                             : PolicyAction::Protect;
            Policy p = inbound(random_prefix(rng), random_prefix(rng), a, rng() % n_sas, rng() % 4);
            if (rng() % 8 == 0)
                p.selector.sport = {0, 1023};
            if (rng() % 8 == 0)
                p.direction = esp::Direction::Outbound;  // must be ignored
            spd.add(p);
        }
        auto checks = inner_checks(spd, sa_ids(spd), n_sas);
        for (uint32_t sa = 0; sa < n_sas; ++sa) {
            if (!checks[sa].valid)
                continue;
            ++valid_seen;
            for (int k = 0; k < 64; ++k) {
                FiveTuple t;
                uint32_t s = random_addr(rng), d = random_addr(rng);
                t.src = v4(s), t.dst = v4(d);
                t.proto = static_cast<uint8_t>(rng() % 3 == 0 ? 6 : 17);
                t.sport = static_cast<uint16_t>(rng() % 2048), t.dport = static_cast<uint16_t>(rng() % 2048);
                const Policy* p = spd.lookup(esp::Direction::Inbound, t);
                bool expect = p && p->action == PolicyAction::Protect && p->spi == kSpiBase + sa;
                ASSERT_EQ(checks[sa].matches(s, d), expect) << "round " << round << " sa " << sa;
                ++checked;
            }
        }
    }
    // The random SPDs must exercise the shortcut, not only refuse it.
    EXPECT_GT(valid_seen, 200u);
    EXPECT_GT(checked, 10000u);
}
