#include "dataplane/app_options.hpp"

#include <boost/program_options.hpp>

#include <iostream>
#include <regex>
#include <stdexcept>

namespace po = boost::program_options;

namespace ipsecgw::dataplane {
namespace {

uint64_t parse_mask(const std::string& name, const std::string& v)
{
    try {
        size_t used = 0;
        uint64_t m = std::stoull(v, &used, 16);
        if (used != v.size())
            throw std::invalid_argument(v);
        return m;
    } catch (const std::exception&) {
        throw std::runtime_error("option " + name + ": '" + v + "' is not a hexadecimal port mask");
    }
}

po::options_description describe()
{
    po::options_description d("Application options (after `--`)");
    // clang-format off
    d.add_options()
        ("help,h", "show this help and exit")
        ("conf", po::value<std::string>()->value_name("FILE"),
         "native ipsecgw configuration file (ports, SAs, policies, routes, neighbours; see config/README.md)")
        (",f", po::value<std::string>()->value_name("FILE"),
         "ipsec-secgw configuration file (sp/sa/rt/neigh lines); port roles then come from -p/-u")
        (",p", po::value<std::string>()->value_name("PORTMASK"), "hexadecimal mask of the ports to use")
        (",u", po::value<std::string>()->value_name("PORTMASK"),
         "hexadecimal mask of the unprotected (public, ESP) ports; the others are protected")
        (",P", po::bool_switch(), "put the ports in promiscuous mode")
        ("config", po::value<std::string>()->value_name("(P,Q,L),..."),
         "RX queue Q of port P is polled by lcore L (default: queue 0 of every port on the first worker lcore)")
        (",w", po::value<uint32_t>()->value_name("N"),
         "anti-replay window for the -f file's inbound SAs (0 = off, the default there)")
        (",e", po::bool_switch(), "extended sequence numbers for the -f file's SAs")
        (",j", po::value<uint32_t>()->value_name("FRAMESIZE"), "mbuf data size / largest frame")
        ("mtu", po::value<uint32_t>()->value_name("MTU"), "port MTU")
        ("rxoffload", po::value<std::string>()->value_name("MASK"), "RX offloads to enable (masked by what the port supports)")
        ("txoffload", po::value<std::string>()->value_name("MASK"), "TX offloads to enable (masked by what the port supports)")
        (",s", po::value<uint32_t>()->value_name("N"), "mbufs in the packet pool")
        (",t", po::value<uint32_t>()->value_name("SECONDS"), "print counters every SECONDS (0 = only at exit)")
        ("socket", po::value<std::string>()->value_name("PATH"),
         "control socket for gwctl (default /run/ipsecgw/ipsecgw.sock, or /run/ipsecgw/PREFIX.sock with EAL "
         "--file-prefix PREFIX; \"none\": no socket)")
        ("socket-group", po::value<std::string>()->value_name("GROUP"),
         "group (name or gid) given the control socket; its members may use gwctl")
        ("socket-mode", po::value<std::string>()->value_name("MODE"), "control socket permissions, octal (default 0660)")
        (",l", po::bool_switch(), "ipsec-secgw: use librte_ipsec (accepted, ignored: ipsecgw has one ESP path)")
        (",a", po::bool_switch(), "ipsec-secgw: atomic SQN (accepted, ignored: sequence numbers are always atomic)")
        (",c", po::value<uint32_t>(), "ipsec-secgw: SAD cache size (accepted, ignored)")
        ("cryptodev_mask", po::value<std::string>(), "ipsec-secgw: crypto devices (accepted, ignored: software ESP)")
        ("desc-nb", po::value<uint32_t>(), "ipsec-secgw: crypto queue descriptors (accepted, ignored)")
        ("per-port-pool", po::bool_switch(), "ipsec-secgw: mbuf pool per port (accepted, ignored)")
        ("transfer-mode", po::value<std::string>(), "ipsec-secgw: only \"poll\" is supported")
        ("single-sa", po::value<std::string>(), "ipsec-secgw: not supported")
        ("event-schedule-type", po::value<std::string>(), "ipsec-secgw: event mode, not supported")
        ("reassemble", po::value<uint32_t>(), "ipsec-secgw: only 0 (no reassembly) is supported")
        ("frag-ttl", po::value<std::string>(), "ipsec-secgw: fragmentation, not supported")
        ("event-vector", po::bool_switch(), "ipsec-secgw: event mode, not supported")
        ("vector-size", po::value<std::string>(), "ipsec-secgw: event mode, not supported")
        ("vector-tmo", po::value<std::string>(), "ipsec-secgw: event mode, not supported")
        ("vector-pool-sz", po::value<std::string>(), "ipsec-secgw: event mode, not supported");
    // clang-format on
    return d;
}

}  // namespace

std::vector<QueueAssignment> parse_queue_config(const std::string& text)
{
    std::vector<QueueAssignment> out;
    static const std::regex item(R"(\s*\(\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*\)\s*(,|$))");
    auto begin = text.cbegin();
    std::smatch m;
    while (begin != text.cend()) {
        if (!std::regex_search(begin, text.cend(), m, item, std::regex_constants::match_continuous))
            throw std::runtime_error("--config: expected (port,queue,lcore)[,(port,queue,lcore)...], got '" + text + "'");
        unsigned long p = std::stoul(m[1]), q = std::stoul(m[2]), l = std::stoul(m[3]);
        if (p > 65535 || q > 65535 || l > 1023)
            throw std::runtime_error("--config: value out of range in '" + m.str() + "'");
        out.push_back({uint16_t(p), uint16_t(q), unsigned(l)});
        begin = m[0].second;
    }
    if (out.empty())
        throw std::runtime_error("--config: empty");
    return out;
}

void print_app_help(const char* prog)
{
    std::cout << "usage: " << prog << " <EAL options> -- <application options>\n\n"
              << "IPsec (ESP, AES-GCM) security gateway on DPDK ports. Accepts ipsec-secgw's options and\n"
              << "configuration files. EAL options (before --) are DPDK's: -l CORES, --vdev, -a PCI, ...\n\n"
              << describe() << "\nExamples:\n"
              << "  " << prog << " -l 0 --no-pci --vdev net_pcap0,... --vdev net_pcap1,... -- --conf site-a.conf\n"
              << "  " << prog << " -l 1 -- -p 0x3 -u 0x2 -P --config \"(0,0,1),(1,0,1)\" -f ep0.cfg\n";
}

std::optional<AppOptions> parse_app_options(int argc, char** argv)
{
    po::variables_map vm;
    try {
        po::store(po::command_line_parser(argc, argv)
                      .options(describe())
                      .style(po::command_line_style::default_style & ~po::command_line_style::allow_guessing)
                      .run(),
                  vm);
        po::notify(vm);
    } catch (const po::error& e) {
        throw std::runtime_error(e.what());
    }
    if (vm.count("help")) {
        print_app_help(argc > 0 ? argv[0] : "ipsecgw");
        return std::nullopt;
    }
    AppOptions o;
    if (vm.count("-p"))
        o.port_mask = parse_mask("-p", vm["-p"].as<std::string>());
    if (vm.count("-u"))
        o.unprotected_mask = parse_mask("-u", vm["-u"].as<std::string>());
    o.promiscuous = vm["-P"].as<bool>();
    if (vm.count("-f"))
        o.secgw_config = vm["-f"].as<std::string>();
    if (vm.count("conf"))
        o.native_config = vm["conf"].as<std::string>();
    if (o.secgw_config.empty() == o.native_config.empty())
        throw std::runtime_error("give exactly one configuration: --conf FILE (native) or -f FILE (ipsec-secgw)");
    if (vm.count("-w")) {
        o.replay_window = vm["-w"].as<uint32_t>();
        if (o.replay_window > 65536)
            throw std::runtime_error("-w: replay window above 65536");
    }
    o.esn = vm["-e"].as<bool>();
    if (vm.count("-j"))
        o.frame_size = vm["-j"].as<uint32_t>();
    if (vm.count("mtu"))
        o.mtu = vm["mtu"].as<uint32_t>();
    if (vm.count("rxoffload"))
        o.rx_offload = parse_mask("--rxoffload", vm["rxoffload"].as<std::string>());
    if (vm.count("txoffload"))
        o.tx_offload = parse_mask("--txoffload", vm["txoffload"].as<std::string>());
    if (vm.count("-s"))
        o.nb_mbufs = vm["-s"].as<uint32_t>();
    if (vm.count("-t"))
        o.stats_interval = vm["-t"].as<uint32_t>();
    if (vm.count("config"))
        o.queues = parse_queue_config(vm["config"].as<std::string>());
    if (vm.count("socket"))
        o.socket_path = vm["socket"].as<std::string>();
    if (vm.count("socket-group"))
        o.socket_group = vm["socket-group"].as<std::string>();
    if (vm.count("socket-mode")) {
        const std::string& m = vm["socket-mode"].as<std::string>();
        size_t used = 0;
        unsigned long v = 0;
        try {
            v = std::stoul(m, &used, 8);
        } catch (const std::exception&) {
            used = 0;
        }
        if (used != m.size() || m.empty() || v > 0777 || (v & 0007))
            throw std::runtime_error("--socket-mode: '" + m + "' is not an octal mode without permissions for others");
        o.socket_mode = static_cast<uint32_t>(v);
    }
    if (!o.native_config.empty() && (vm.count("-w") || o.esn))
        throw std::runtime_error("-w and -e apply to -f files; set replay-window/esn per SA in the native file");

    for (const char* ignored : {"-l", "-a", "per-port-pool"})
        if (vm[ignored].as<bool>())
            o.warnings.push_back(std::string("option ") + ignored + " accepted and ignored");
    for (const char* ignored : {"-c", "cryptodev_mask", "desc-nb"})
        if (vm.count(ignored))
            o.warnings.push_back(std::string("option ") + ignored + " accepted and ignored");
    if (vm.count("transfer-mode") && vm["transfer-mode"].as<std::string>() != "poll")
        throw std::runtime_error("--transfer-mode: only \"poll\" is supported");
    if (vm.count("reassemble") && vm["reassemble"].as<uint32_t>() != 0)
        throw std::runtime_error("--reassemble: reassembly is not supported");
    for (const char* unsupported : {"single-sa", "event-schedule-type", "frag-ttl", "vector-size", "vector-tmo",
                                    "vector-pool-sz"})
        if (vm.count(unsupported))
            throw std::runtime_error(std::string("--") + unsupported + " is not supported by ipsecgw");
    if (vm["event-vector"].as<bool>())
        throw std::runtime_error("--event-vector is not supported by ipsecgw");
    return o;
}

}  // namespace ipsecgw::dataplane
