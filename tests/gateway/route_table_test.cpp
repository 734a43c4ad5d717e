// Route and neighbour model: longest prefix, later equal prefix overrides, defaults.
#include <gtest/gtest.h>

#include "gateway/route_table.hpp"

using namespace ipsecgw;
using namespace ipsecgw::gateway;

namespace {
net::IpAddress ip(const char* s) { return *net::IpAddress::parse(s); }
Route route(const char* p, uint16_t port, const char* via = nullptr)
{
    Route r;
    r.prefix = *parse_prefix(p, false);
    r.port = port;
    if (via)
        r.via = ip(via);
    return r;
}
}  // namespace

TEST(RouteTable, LongestPrefixMatch)
{
    RouteTable t;
    t.add(route("0.0.0.0/0", 1, "172.16.0.1"));
    t.add(route("10.0.0.0/8", 0));
    t.add(route("10.1.0.0/16", 2, "10.0.0.254"));
    t.add(route("2001:db8::/32", 3));
    EXPECT_EQ(t.lookup(ip("8.8.8.8"))->port, 1);
    EXPECT_EQ(t.lookup(ip("8.8.8.8"))->next_hop, ip("172.16.0.1"));
    EXPECT_EQ(t.lookup(ip("10.9.0.1"))->port, 0);
    EXPECT_EQ(t.lookup(ip("10.9.0.1"))->next_hop, ip("10.9.0.1"));
    EXPECT_EQ(t.lookup(ip("10.1.0.1"))->port, 2);
    EXPECT_EQ(t.lookup(ip("2001:db8::5"))->port, 3);
    EXPECT_FALSE(t.lookup(ip("2001:db9::5")));
    t.add(route("10.0.0.0/8", 4));
    EXPECT_EQ(t.lookup(ip("10.9.0.1"))->port, 4);
}

TEST(NeighbourTable, ExactThenPortDefault)
{
    NeighbourTable n;
    n.add({ip("10.0.0.1"), 0, {2, 0, 0, 0, 0, 1}, {}});
    n.add({std::nullopt, 0, {2, 0, 0, 0, 0, 9}, {}});
    EXPECT_EQ(n.resolve(0, ip("10.0.0.1")).value()[5], 1);
    EXPECT_EQ(n.resolve(0, ip("10.0.0.2")).value()[5], 9);
    EXPECT_FALSE(n.resolve(1, ip("10.0.0.1")));
}
