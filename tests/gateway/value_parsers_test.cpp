// Single-value parsers used by both configuration formats.
#include <gtest/gtest.h>

#include "gateway/value_parsers.hpp"

using namespace ipsecgw::gateway;

TEST(ValueParsers, Numbers)
{
    EXPECT_EQ(parse_uint("42", 100), 42u);
    EXPECT_EQ(parse_uint("0x1f", 100), 31u);
    EXPECT_FALSE(parse_uint("101", 100));
    EXPECT_FALSE(parse_uint("4x", 100));
    EXPECT_FALSE(parse_uint("", 100));
    EXPECT_EQ(parse_range("10:20", 65535)->second, 20u);
    EXPECT_EQ(parse_range("10-20", 65535)->first, 10u);
    EXPECT_EQ(parse_range("7", 65535)->second, 7u);
    EXPECT_FALSE(parse_range("20:10", 65535));
}

TEST(ValueParsers, MacAndKeys)
{
    auto m = parse_mac("02:0a:00:00:00:ff");
    ASSERT_TRUE(m);
    EXPECT_EQ((*m)[1], 0x0a);
    EXPECT_EQ((*m)[5], 0xff);
    EXPECT_FALSE(parse_mac("02:0a:00:00:00"));
    EXPECT_FALSE(parse_mac("02:0a:00:00:00:fff"));
    std::vector<uint8_t> k;
    EXPECT_TRUE(parse_key_bytes("0:a0:ff", k));
    EXPECT_EQ(k, (std::vector<uint8_t>{0, 0xa0, 0xff}));
    EXPECT_TRUE(parse_key_bytes("0x00a0ff", k));
    EXPECT_EQ(k, (std::vector<uint8_t>{0, 0xa0, 0xff}));
    EXPECT_FALSE(parse_key_bytes("0a0", k));
    EXPECT_FALSE(parse_key_bytes("a0::ff", k));
}

TEST(ValueParsers, Prefixes)
{
    EXPECT_EQ(parse_prefix("10.1.2.3/8", true)->to_string(), "10.0.0.0/8");
    EXPECT_FALSE(parse_prefix("10.1.2.3/8", false));
    EXPECT_EQ(parse_prefix("10.1.2.3", false)->len, 32);
    EXPECT_EQ(parse_prefix("2001:db8::/32", false)->len, 32);
    EXPECT_FALSE(parse_prefix("10.0.0.0/33", true));
}
