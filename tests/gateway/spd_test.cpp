// SPD model: selectors, priorities, default action.
#include <gtest/gtest.h>

#include "gateway/spd.hpp"
#include "gateway/value_parsers.hpp"

using namespace ipsecgw;
using namespace ipsecgw::gateway;

namespace {

Policy rule(esp::Direction dir, const char* src, const char* dst, uint32_t pri, PolicyAction a, uint32_t spi = 0)
{
    Policy p;
    p.direction = dir;
    p.selector.src = *parse_prefix(src, false);
    p.selector.dst = *parse_prefix(dst, false);
    p.selector.family = p.selector.dst.addr.family;
    p.priority = pri;
    p.action = a;
    p.spi = spi;
    return p;
}

FiveTuple tuple(const char* s, const char* d, uint8_t proto = 17, uint16_t sp = 1000, uint16_t dp = 2000)
{
    return {*net::IpAddress::parse(s), *net::IpAddress::parse(d), proto, sp, dp};
}

constexpr auto Out = esp::Direction::Outbound;
constexpr auto In = esp::Direction::Inbound;

}  // namespace

TEST(Spd, HigherPriorityWinsThenFirstDefined)
{
    Spd spd;
    spd.add(rule(Out, "0.0.0.0/0", "10.0.0.0/8", 1, PolicyAction::Protect, 5));
    spd.add(rule(Out, "0.0.0.0/0", "10.1.0.0/16", 10, PolicyAction::Bypass));
    spd.add(rule(Out, "0.0.0.0/0", "10.1.2.0/24", 10, PolicyAction::Discard));
    uint32_t spi = 0;
    EXPECT_EQ(spd.decide(Out, tuple("1.1.1.1", "10.9.9.9"), &spi), PolicyAction::Protect);
    EXPECT_EQ(spi, 5u);
    EXPECT_EQ(spd.decide(Out, tuple("1.1.1.1", "10.1.9.9"), nullptr), PolicyAction::Bypass);
    // Equal priority 10: the earlier rule wins even though the later is more specific.
    EXPECT_EQ(spd.decide(Out, tuple("1.1.1.1", "10.1.2.3"), nullptr), PolicyAction::Bypass);
    auto ranks = spd.precedence_ranks();
    EXPECT_GT(ranks[1], ranks[2]);
    EXPECT_GT(ranks[2], ranks[0]);
}

TEST(Spd, DirectionFamilyAndDefault)
{
    Spd spd;
    spd.add(rule(In, "0.0.0.0/0", "10.0.0.0/8", 1, PolicyAction::Bypass));
    EXPECT_EQ(spd.decide(Out, tuple("1.1.1.1", "10.0.0.1"), nullptr), PolicyAction::Discard);
    EXPECT_EQ(spd.decide(In, tuple("1.1.1.1", "10.0.0.1"), nullptr), PolicyAction::Bypass);
    EXPECT_EQ(spd.decide(In, tuple("2001:db8::1", "2001:db8::2"), nullptr), PolicyAction::Discard);
    spd.default_action = PolicyAction::Bypass;
    EXPECT_EQ(spd.decide(Out, tuple("1.1.1.1", "10.0.0.1"), nullptr), PolicyAction::Bypass);
}

TEST(Spd, ProtocolAndPortRanges)
{
    Spd spd;
    Policy p = rule(Out, "2001:db8:1::/48", "2001:db8:2::/48", 1, PolicyAction::Bypass);
    p.selector.proto_lo = p.selector.proto_hi = 6;
    p.selector.dport = {80, 443};
    spd.add(p);
    EXPECT_EQ(spd.decide(Out, tuple("2001:db8:1::1", "2001:db8:2::1", 6, 1, 443), nullptr), PolicyAction::Bypass);
    EXPECT_EQ(spd.decide(Out, tuple("2001:db8:1::1", "2001:db8:2::1", 6, 1, 444), nullptr), PolicyAction::Discard);
    EXPECT_EQ(spd.decide(Out, tuple("2001:db8:1::1", "2001:db8:2::1", 17, 1, 80), nullptr), PolicyAction::Discard);
    EXPECT_EQ(spd.decide(Out, tuple("2001:db8:3::1", "2001:db8:2::1", 6, 1, 80), nullptr), PolicyAction::Discard);
}
