// A line-oriented front end to the ESP engine for interoperability tests in
// other languages (scapy). Key material arrives on stdin, never on argv.
//
//   sa SPI in|out tunnel|transport KEYMAT_HEX ESN(0|1) TUNNEL_SRC TUNNEL_DST [FIRST_SEQ [encap SPORT DPORT]]
//      FIRST_SEQ: the first sequence number sent (out) or expected (in)
//      encap: RFC 3948 ESP-in-UDP (SPORT: ours, the port inbound ESP must arrive on)
//   enc SPI PACKET_HEX     -> "ok HEX" | "err REASON"
//   dec SPI PACKET_HEX     -> "ok HEX SEQ" | "err REASON"
#include <iostream>
#include <map>
#include <sstream>

#include "esp/esp_engine.hpp"
#include "test_packets.hpp"

using namespace ipsecgw;
using namespace ipsecgw::esp;

int main()
{
    EspEngine engine;
    std::map<std::pair<uint32_t, bool>, std::unique_ptr<Sa>> sas;  // (spi, outbound)
    std::string line;
    while (std::getline(std::cin, line)) {
        std::istringstream in(line);
        std::string cmd, dir, mode, hex, src, dst;
        uint32_t spi = 0;
        in >> cmd >> spi;
        if (cmd == "sa") {
            int esn = 0;
            uint64_t first = 1;
            std::string encap;
            uint32_t sport = 0, dport = 0;
            in >> dir >> mode >> hex >> esn >> src >> dst >> first >> encap >> sport >> dport;
            test::Bytes km = test::from_hex(hex);
            SaConfig c;
            c.spi = spi;
            c.direction = dir == "out" ? Direction::Outbound : Direction::Inbound;
            c.mode = mode == "tunnel" ? Mode::Tunnel : Mode::Transport;
            c.esn = esn != 0;
            auto s = net::IpAddress::parse(src), d = net::IpAddress::parse(dst);
            if (!c.set_keymat(km.data(), km.size()) || !s || !d) {
                std::cout << "err bad_sa" << std::endl;
                continue;
            }
            c.tunnel_src = *s;
            c.tunnel_dst = *d;
            c.initial_seq = first - 1;
            if (encap == "encap") {
                c.udp_encap = true;
                c.encap_src_port = uint16_t(sport);
                c.encap_dst_port = uint16_t(dport);
            }
            auto sa = Sa::create(c);
            if (c.direction == Direction::Inbound)
                sa->replay().restart_at(first - 1);
            sas[{spi, c.direction == Direction::Outbound}] = std::move(sa);
            c.wipe();
            explicit_bzero(km.data(), km.size());
            std::cout << "ok" << std::endl;
            continue;
        }
        in >> hex;
        bool enc = cmd == "enc";
        auto it = sas.find({spi, enc});
        test::Buffer b(test::from_hex(hex));
        Sa* sa = it == sas.end() ? nullptr : it->second.get();
        Status st;
        uint64_t seq = 0;
        if (enc)
            engine.encrypt_burst(&b.pkt, &sa, 1, &st);
        else
            engine.decrypt_burst(&b.pkt, &sa, 1, &st, &seq);
        if (st != Status::Ok)
            std::cout << "err " << status_name(st) << std::endl;
        else
            std::cout << "ok " << test::to_hex(b.pkt.data, b.pkt.len) << " " << seq << std::endl;
    }
    return 0;
}
