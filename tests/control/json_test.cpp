#include <gtest/gtest.h>

#include "control/json.hpp"

using ipsecgw::control::Json;
using ipsecgw::control::JsonError;

TEST(Json, RoundTripKeepsOrderAndTypes)
{
    const char* text = R"({"z":1,"a":[true,false,null,-5,2.5,"x\"y\\\n\u0001"],"m":{"k":"v"}})";
    Json j = Json::parse(text);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.as_object()[0].first, "z");
    EXPECT_EQ(j.find("a")->as_array()[3].as_int(), -5);
    EXPECT_DOUBLE_EQ(j.find("a")->as_array()[4].as_double(), 2.5);
    EXPECT_EQ(j.find("a")->as_array()[5].as_string(), "x\"y\\\n\x01");
    Json again = Json::parse(j.dump());
    EXPECT_EQ(again, j);
    EXPECT_EQ(Json::parse(j.pretty()), j);
    EXPECT_EQ(j.dump().find('\n'), std::string::npos);
}

TEST(Json, UnicodeEscapes)
{
    EXPECT_EQ(Json::parse(R"("\u00e9\u20ac\ud83d\ude00")").as_string(), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    EXPECT_THROW(Json::parse(R"("\ud83d")"), JsonError);
    EXPECT_THROW(Json::parse(R"("\ude00")"), JsonError);
}

TEST(Json, BigIntegersAndCounters)
{
    EXPECT_EQ(Json::parse("9223372036854775807").as_int(), INT64_MAX);
    EXPECT_EQ(Json::parse("-9223372036854775808").as_int(), INT64_MIN);
    EXPECT_TRUE(Json::parse("18446744073709551615").is_number());
    EXPECT_EQ(Json(uint64_t{1} << 40).dump(), "1099511627776");
}

TEST(Json, RejectsMalformed)
{
    for (const char* bad : {"", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "tru", "nul", "01", "1.", "-", "1e",
                            "\"abc", "\"\t\"", "{\"a\":1,\"a\":2}", "[1] x", "{'a':1}", "\"\\x\"", "+1", "NaN"}) {
        EXPECT_THROW(Json::parse(bad), JsonError) << bad;
    }
}

TEST(Json, DepthLimit)
{
    std::string deep(100, '[');
    deep += std::string(100, ']');
    EXPECT_THROW(Json::parse(deep, 32), JsonError);
    std::string ok(20, '[');
    ok += std::string(20, ']');
    EXPECT_NO_THROW(Json::parse(ok, 32));
}

TEST(Json, AccessorsCheckTypes)
{
    Json j = Json::parse(R"({"s":"x","n":3})");
    EXPECT_THROW(j.find("s")->as_int(), JsonError);
    EXPECT_THROW(j.find("n")->as_string(), JsonError);
    EXPECT_EQ(j.find("missing"), nullptr);
    Json o;
    o.set("a", 1).set("b", "c").set("a", 2);
    EXPECT_EQ(o.dump(), R"({"a":2,"b":"c"})");
}
