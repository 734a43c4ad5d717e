// A stand-in gateway for gwctl's tests: the real control server and protocol,
// with canned tables shaped like the gateway's replies. It records the last
// sa.add request (minus the key, whose length it keeps) for the test to check.
// Exits on "shutdown" or after 60 s, whichever comes first.
#include <chrono>
#include <cstdio>
#include <string>

#include "control/server.hpp"

using namespace ipsecgw::control;

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s SOCKET\n", argv[0]);
        return 2;
    }
    bool stop = false;
    Json last_add;
    Dispatcher d;
    d.add("show.status", "", [](const Request&) {
        return Json::parse(R"({"version":"0.1.0","protocol":1,"uptime_s":5,"lcores":[{"lcore":0,"role":"worker"}],
            "ports":2,"sas":2,"policies":1})");
    });
    d.add("show.sa", "", [](const Request& r) {
        Json all = Json::parse(R"([
          {"name":"a-out","dir":"out","spi":4096,"aead":"aes128gcm16","mode":"tunnel","local":"192.0.2.1","remote":"198.51.100.1","seq":17,"packets":17,"bytes":1700,"state":"active"},
          {"name":"a-in","dir":"in","spi":8192,"aead":"aes256gcm16","mode":"tunnel","local":"192.0.2.1","remote":"198.51.100.1","seq":3,"packets":3,"bytes":300,"state":"active"}])");
        Json out = Json::array();
        int64_t spi = r.int_arg("spi", 0, 0xffffffff, false, -1);
        for (const auto& s : all.as_array())
            if (spi < 0 || s.find("spi")->as_int() == spi)
                out.push(s);
        if (spi >= 0 && out.size() == 0)
            throw CommandError(err::kNotFound, "no SA with SPI " + std::to_string(spi));
        Json res;
        res.set("sas", std::move(out));
        return res;
    });
    d.add("show.stats", "", [](const Request& r) {
        if (r.string_arg("format", false) == "prometheus") {
            Json t;
            t.set("text", "# TYPE ipsecgw_drops_total counter\nipsecgw_drops_total{reason=\"no_route\"} 4\n");
            return t;
        }
        return Json::parse(R"({"lcores":[{"lcore":1,"rx_packets":10,"tx_packets":9}],"drops":[{"reason":"no_route","packets":4}]})");
    });
    d.add("sa.add", "", [&](const Request& r) {
        last_add = r.args;
        std::string key = r.string_arg("key");
        std::string shown = "<";  // (not "<" + ...: GCC 12 -Wrestrict false positive)
        shown += std::to_string(key.size());
        shown += " hex digits>";
        last_add.set("key", shown);
        Json res;
        res.set("installed", r.string_arg("name"));
        return res;
    });
    d.add("debug.last_add", "", [&](const Request&) { return last_add; });
    d.add("shutdown", "", [&](const Request&) {
        stop = true;
        Json res;
        res.set("stopping", true);
        return res;
    });
    ServerOptions o;
    o.path = argv[1];
    ControlServer s(o, d);
    std::printf("ready\n");
    std::fflush(stdout);
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!stop && std::chrono::steady_clock::now() < end)
        s.poll(50);
    for (int i = 0; i < 5; ++i)
        s.poll(10);  // deliver the last reply
    return 0;
}
