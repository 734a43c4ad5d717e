#include <gtest/gtest.h>

#include "control/format.hpp"

using namespace ipsecgw::control;

TEST(Format, TableAlignsColumnsAndRightAlignsNumbers)
{
    Json rows = Json::parse(R"([{"name":"a","spi":4096,"dir":"in"},{"name":"long-name","spi":7,"dir":"out"}])");
    std::string t = render_table(rows);
    EXPECT_EQ(t,
              "NAME       SPI   DIR\n"
              "a          4096  in\n"
              "long-name     7  out\n");
}

TEST(Format, HumanRendersScalarsTablesAndText)
{
    Json r = Json::parse(R"({"version":"0.1","uptime_s":12,"ports":[{"port":0,"link":"up"}]})");
    std::string s = render_human(r);
    EXPECT_NE(s.find("version:  0.1"), std::string::npos) << s;
    EXPECT_NE(s.find("uptime s: 12"), std::string::npos) << s;
    EXPECT_NE(s.find("PORT  LINK"), std::string::npos) << s;
    EXPECT_EQ(render_human(Json::parse(R"({"text":"a 1\n"})")), "a 1\n");
    EXPECT_EQ(render_human(Json::parse(R"({"sas":[]})")), "(none)\n");
}

#include "control/prometheus.hpp"

TEST(Prometheus, FamiliesDeclaredOnceAndLabelsEscaped)
{
    PromWriter w;
    w.sample("x_total", "counter", "Things.", {{"a", "1"}}, 5);
    w.sample("x_total", "counter", "Things.", {{"a", "q\"b\\c\nd"}}, 6);
    w.sample("up", "gauge", "Up.", {}, 1);
    EXPECT_EQ(w.text(),
              "# HELP x_total Things.\n# TYPE x_total counter\nx_total{a=\"1\"} 5\n"
              "x_total{a=\"q\\\"b\\\\c\\nd\"} 6\n# HELP up Up.\n# TYPE up gauge\nup 1\n");
}
