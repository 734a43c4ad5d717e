// gwctl: the operator's client for a running ipsecgw.
//   gwctl [--socket PATH] [--json] [--timeout MS] COMMAND [ARGS...]
// Exit status: 0 success, 1 the gateway refused or failed the command,
// 2 usage error, 3 cannot talk to the gateway. Reasons go to stderr.
// Key material is read from a file or stdin (--key-file PATH|-), never argv,
// and is never printed.
#include <boost/program_options.hpp>

#include <chrono>
#include <thread>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "control/client.hpp"
#include "control/format.hpp"
#include "control/protocol.hpp"
#include "control/server.hpp"

namespace po = boost::program_options;
using namespace ipsecgw::control;

namespace {

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct Command {
    std::vector<std::string> words;  // e.g. {"show", "sa"}
    std::string cmd;                 // protocol command
    std::string positional;          // usage of positional arguments
    std::string description;
    std::function<void(po::options_description&)> options;           // may be null
    std::vector<std::string> pos_names;                              // names bound to positionals, in order
    std::function<void(const po::variables_map&, Json&)> build;      // may be null: copy options generically
    bool raw_text = false;  // result {"text":...} printed verbatim even with --json? (no)
};

std::string read_key(const std::string& from)
{
    std::string text;
    if (from == "-") {
        std::getline(std::cin, text, '\0');
    } else {
        std::ifstream f(from);
        if (!f)
            throw UsageError("cannot read key file " + from);
        text.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
    }
    std::string hex;
    std::istringstream in(text);
    std::string tok;
    // Accept "HEX", "0xHEX", "aa:bb:..." or a key-file line "NAME HEX" (last token wins).
    while (in >> tok)
        hex = tok;
    std::fill(text.begin(), text.end(), '\0');
    std::fill(tok.begin(), tok.end(), '\0');
    if (hex.rfind("0x", 0) == 0)
        hex.erase(0, 2);
    std::string clean;
    for (char c : hex)
        if (c != ':')
            clean += c;
    std::fill(hex.begin(), hex.end(), '\0');
    if (clean.empty())
        throw UsageError("no key material in " + (from == "-" ? std::string("stdin") : from));
    for (char c : clean)
        if (!std::isxdigit(static_cast<unsigned char>(c)))
            throw UsageError("key material must be hexadecimal");
    return clean;
}

template <class T>
void copy_opt(const po::variables_map& vm, Json& args, const std::string& opt, const std::string& key)
{
    if (vm.count(opt))
        args.set(key, Json(vm[opt].as<T>()));
}

std::vector<Command> commands()
{
    std::vector<Command> c;
    c.push_back({{"show", "status"}, "show.status", "", "version, uptime, lcores, ports, SA/policy counts", nullptr, {}, nullptr});
    c.push_back({{"show", "ports"}, "show.ports", "", "per port: link, packets, bytes, rates, drops", nullptr, {}, nullptr});
    c.push_back({{"show", "sa"}, "show.sa", "[SPI]",
                 "SAs: direction, algorithm, mode, endpoints, selectors, sequence number, replay window, "
                 "packets, bytes, lifetime left, drops (never keys)",
                 [](po::options_description& d) {
                     d.add_options()("spi", po::value<std::string>(), "only this SPI (decimal or 0x hex)")(
                         "dir", po::value<std::string>(), "only this direction: in|out");
                 },
                 {"spi"},
                 [](const po::variables_map& vm, Json& a) {
                     if (vm.count("spi"))
                         a.set("spi", static_cast<long long>(std::stoull(vm["spi"].as<std::string>(), nullptr, 0)));
                     copy_opt<std::string>(vm, a, "dir", "dir");
                 }});
    c.push_back({{"show", "policy"}, "show.policy", "", "security policies in match order", nullptr, {}, nullptr});
    c.push_back({{"show", "routes"}, "show.routes", "", "routes (longest prefix match)", nullptr, {}, nullptr});
    c.push_back({{"show", "neighbors"}, "show.neighbors", "", "static neighbour MAC addresses", nullptr, {}, nullptr});
    c.push_back({{"show", "stats"}, "show.stats", "", "counters per lcore and per drop reason",
                 [](po::options_description& d) {
                     d.add_options()("prometheus", po::bool_switch(), "Prometheus text exposition format");
                 },
                 {},
                 [](const po::variables_map& vm, Json& a) {
                     if (vm["prometheus"].as<bool>())
                         a.set("format", "prometheus");
                 }});
    c.push_back({{"show", "ike"}, "show.ike", "",
                 "IKE connections: IKE SAs (SPIs, state, peer, algorithms, NAT, times), CHILD_SAs, last error",
                 nullptr, {}, nullptr});
    c.push_back({{"ike", "initiate"}, "ike.initiate", "NAME", "bring a connection up (IKE_SA_INIT, or a CHILD_SA)",
                 [](po::options_description& d) { d.add_options()("name", po::value<std::string>()->required(), "connection"); },
                 {"name"}, nullptr});
    c.push_back({{"ike", "terminate"}, "ike.terminate", "NAME", "delete a connection's IKE SAs and CHILD_SAs",
                 [](po::options_description& d) { d.add_options()("name", po::value<std::string>()->required(), "connection"); },
                 {"name"}, nullptr});
    c.push_back({{"ike", "rekey"}, "ike.rekey", "NAME", "rekey a connection's CHILD_SAs (--ike: its IKE SA)",
                 [](po::options_description& d) {
                     d.add_options()("name", po::value<std::string>()->required(), "connection")(
                         "ike", po::bool_switch(), "rekey the IKE SA instead of the CHILD_SAs");
                 },
                 {"name"}, nullptr});
    c.push_back({{"sa", "add"}, "sa.add", "",
                 "install an SA (manual keying); key material from --key-file PATH or '-' for stdin",
                 [](po::options_description& d) {
                     d.add_options()("name", po::value<std::string>()->required(), "SA name")(
                         "dir", po::value<std::string>()->required(), "in|out")(
                         "spi", po::value<std::string>()->required(), "SPI (>= 256, decimal or 0x hex)")(
                         "aead", po::value<std::string>()->default_value("aes128gcm16"), "aes128gcm16|aes256gcm16")(
                         "mode", po::value<std::string>()->default_value("tunnel"), "tunnel|transport")(
                         "local", po::value<std::string>(), "tunnel: this gateway's address")(
                         "remote", po::value<std::string>(), "tunnel: the peer's address")(
                         "esn", po::bool_switch(), "64-bit extended sequence numbers")(
                         "replay-window", po::value<unsigned>(), "inbound: window size (0 = off)")(
                         "ttl", po::value<unsigned>(), "outer TTL / hop limit")(
                         "lifetime-packets", po::value<std::string>(), "SOFT:HARD")(
                         "lifetime-bytes", po::value<std::string>(), "SOFT:HARD")(
                         "lifetime-seconds", po::value<std::string>(), "SOFT:HARD")(
                         "key-file", po::value<std::string>()->required(),
                         "file holding the hex key+salt (20 or 36 bytes), '-' = stdin");
                 },
                 {},
                 [](const po::variables_map& vm, Json& a) {
                     copy_opt<std::string>(vm, a, "name", "name");
                     copy_opt<std::string>(vm, a, "dir", "dir");
                     a.set("spi", static_cast<long long>(std::stoull(vm["spi"].as<std::string>(), nullptr, 0)));
                     copy_opt<std::string>(vm, a, "aead", "aead");
                     copy_opt<std::string>(vm, a, "mode", "mode");
                     copy_opt<std::string>(vm, a, "local", "local");
                     copy_opt<std::string>(vm, a, "remote", "remote");
                     a.set("esn", vm["esn"].as<bool>());
                     copy_opt<unsigned>(vm, a, "replay-window", "replay_window");
                     copy_opt<unsigned>(vm, a, "ttl", "ttl");
                     copy_opt<std::string>(vm, a, "lifetime-packets", "lifetime_packets");
                     copy_opt<std::string>(vm, a, "lifetime-bytes", "lifetime_bytes");
                     copy_opt<std::string>(vm, a, "lifetime-seconds", "lifetime_seconds");
                     a.set("key", read_key(vm["key-file"].as<std::string>()));
                 }});
    c.push_back({{"sa", "del"}, "sa.del", "SPI", "remove an SA (after every worker stopped using it)",
                 [](po::options_description& d) {
                     d.add_options()("spi", po::value<std::string>()->required(), "SPI")(
                         "dir", po::value<std::string>(), "in|out (needed when both directions use the SPI)");
                 },
                 {"spi"},
                 [](const po::variables_map& vm, Json& a) {
                     a.set("spi", static_cast<long long>(std::stoull(vm["spi"].as<std::string>(), nullptr, 0)));
                     copy_opt<std::string>(vm, a, "dir", "dir");
                 }});
    c.push_back({{"policy", "add"}, "policy.add", "",
                 "add a security policy (the policy table is rebuilt and swapped atomically)",
                 [](po::options_description& d) {
                     d.add_options()("name", po::value<std::string>()->required(), "policy name")(
                         "dir", po::value<std::string>()->required(), "in|out")(
                         "priority", po::value<int>(), "higher wins")(
                         "family", po::value<std::string>(), "ipv4|ipv6")(
                         "src", po::value<std::string>(), "source prefix")(
                         "dst", po::value<std::string>(), "destination prefix")(
                         "proto", po::value<std::string>(), "tcp|udp|icmp|icmpv6|sctp|esp|N|any")(
                         "sport", po::value<std::string>(), "P or LO-HI")(
                         "dport", po::value<std::string>(), "P or LO-HI")(
                         "action", po::value<std::string>()->required(), "protect|bypass|discard")(
                         "sa", po::value<std::string>(), "protect: the SA's name");
                 },
                 {},
                 [](const po::variables_map& vm, Json& a) {
                     for (const char* k : {"name", "dir", "family", "src", "dst", "proto", "sport", "dport", "action", "sa"})
                         copy_opt<std::string>(vm, a, k, k);
                     copy_opt<int>(vm, a, "priority", "priority");
                 }});
    c.push_back({{"policy", "del"}, "policy.del", "NAME", "remove a security policy",
                 [](po::options_description& d) { d.add_options()("name", po::value<std::string>()->required(), "policy name"); },
                 {"name"}, nullptr});
    c.push_back({{"route", "add"}, "route.add", "PREFIX", "add a route",
                 [](po::options_description& d) {
                     d.add_options()("prefix", po::value<std::string>()->required(), "destination prefix")(
                         "port", po::value<unsigned>()->required(), "output port")(
                         "via", po::value<std::string>(), "next hop (default: on link)");
                 },
                 {"prefix"}, nullptr});
    c.push_back({{"route", "del"}, "route.del", "PREFIX", "remove a route",
                 [](po::options_description& d) { d.add_options()("prefix", po::value<std::string>()->required(), "prefix"); },
                 {"prefix"}, nullptr});
    c.push_back({{"neighbor", "add"}, "neighbor.add", "IP", "add a static neighbour",
                 [](po::options_description& d) {
                     d.add_options()("ip", po::value<std::string>()->required(), "address, or 'default'")(
                         "port", po::value<unsigned>()->required(), "port")(
                         "mac", po::value<std::string>()->required(), "MAC address");
                 },
                 {"ip"}, nullptr});
    c.push_back({{"neighbor", "del"}, "neighbor.del", "IP", "remove a static neighbour",
                 [](po::options_description& d) {
                     d.add_options()("ip", po::value<std::string>()->required(), "address, or 'default'")(
                         "port", po::value<unsigned>(), "port (for 'default')");
                 },
                 {"ip"}, nullptr});
    c.push_back({{"reload"}, "reload", "",
                 "re-read the configuration file; all of it is validated first, only the difference is applied, "
                 "the old state stays on any error",
                 nullptr, {}, nullptr});
    c.push_back({{"trace"}, "trace", "N",
                 "record the decisions taken for the next N packets and print them (waits up to --wait seconds)",
                 [](po::options_description& d) {
                     d.add_options()("count", po::value<unsigned>()->required(), "N")(
                         "wait", po::value<unsigned>()->default_value(5), "seconds to wait for N packets");
                 },
                 {"count"},
                 [](const po::variables_map& vm, Json& a) { a.set("count", vm["count"].as<unsigned>()); }});
    c.push_back({{"log-level"}, "log-level", "LEVEL", "set the log level (error|warning|notice|info|debug)",
                 [](po::options_description& d) { d.add_options()("level", po::value<std::string>()->required(), "LEVEL"); },
                 {"level"}, nullptr});
    c.push_back({{"shutdown"}, "shutdown", "", "stop the gateway cleanly", nullptr, {}, nullptr});
    return c;
}

std::string joined(const std::vector<std::string>& w)
{
    std::string s;
    for (const auto& x : w)
        s += (s.empty() ? "" : " ") + x;
    return s;
}

void print_usage(std::ostream& os, const po::options_description& global, const std::vector<Command>& cmds)
{
    os << "usage: gwctl [--socket PATH] [--json] [--timeout MS] COMMAND [ARGS...]\n"
          "       gwctl COMMAND --help\n\n"
       << global << "\ncommands:\n";
    for (const auto& c : cmds) {
        std::string u = joined(c.words) + (c.positional.empty() ? "" : " " + c.positional);
        if (u.size() < 26)
            u.resize(26, ' ');
        os << "  " << u << " " << c.description << "\n";
    }
    os << "\nexit status: 0 ok, 1 the gateway refused the command, 2 usage error, 3 cannot reach the gateway\n";
}

// Generic copy of every option given (names with '-' become '_').
void copy_all(const po::variables_map& vm, Json& args)
{
    for (const auto& [name, val] : vm) {
        if (val.defaulted() && false)
            continue;
        std::string key = name;
        std::replace(key.begin(), key.end(), '-', '_');
        const auto& v = val.value();
        if (auto s = boost::any_cast<std::string>(&v))
            args.set(key, *s);
        else if (auto u = boost::any_cast<unsigned>(&v))
            args.set(key, *u);
        else if (auto i = boost::any_cast<int>(&v))
            args.set(key, *i);
        else if (auto b = boost::any_cast<bool>(&v))
            args.set(key, *b);
    }
}

int run(int argc, char** argv)
{
    std::string socket_path = std::getenv("IPSECGW_SOCKET") ? std::getenv("IPSECGW_SOCKET") : kDefaultSocketPath;
    bool json = false;
    int timeout_ms = 10000;
    po::options_description global("options");
    global.add_options()("socket,s", po::value<std::string>(&socket_path),
                         ("control socket (default $IPSECGW_SOCKET or " + std::string(kDefaultSocketPath) + ")").c_str())(
        "json,j", po::bool_switch(&json), "machine-readable JSON output (the protocol's result object)")(
        "timeout", po::value<int>(&timeout_ms), "reply timeout in milliseconds (default 10000)")(
        "help,h", "this help");
    // Global options come before the command; everything from the first
    // non-option word on belongs to the command.
    int first = 1;
    std::vector<std::string> head;
    while (first < argc) {
        std::string a = argv[first];
        if (a.empty() || a[0] != '-')
            break;
        head.push_back(a);
        ++first;
        if ((a == "--socket" || a == "-s" || a == "--timeout") && first < argc)
            head.push_back(argv[first++]);
    }
    po::variables_map gvm;
    po::store(po::command_line_parser(head).options(global).run(), gvm);
    po::notify(gvm);
    auto cmds = commands();
    if (gvm.count("help") || first >= argc) {
        print_usage(gvm.count("help") ? std::cout : std::cerr, global, cmds);
        return gvm.count("help") ? 0 : 2;
    }
    std::vector<std::string> rest(argv + first, argv + argc);
    const Command* cmd = nullptr;
    size_t used = 0;
    for (const auto& c : cmds) {
        if (c.words.size() > rest.size() || c.words.size() <= used)
            continue;
        if (std::equal(c.words.begin(), c.words.end(), rest.begin())) {
            cmd = &c;
            used = c.words.size();
        }
    }
    if (!cmd)
        throw UsageError("unknown command '" + joined(rest) + "' (gwctl --help lists the commands)");
    std::vector<std::string> cargs(rest.begin() + static_cast<long>(used), rest.end());
    po::options_description desc("options of '" + joined(cmd->words) + "'");
    desc.add_options()("help,h", "this help");
    if (cmd->options)
        cmd->options(desc);
    po::positional_options_description pos;
    for (const auto& p : cmd->pos_names)
        pos.add(p.c_str(), 1);
    po::variables_map vm;
    po::store(po::command_line_parser(cargs).options(desc).positional(pos).run(), vm);
    if (vm.count("help")) {
        std::cout << "usage: gwctl [--socket PATH] [--json] " << joined(cmd->words)
                  << (cmd->positional.empty() ? "" : " " + cmd->positional) << (cmd->options ? " [OPTIONS]" : "")
                  << "\n\n"
                  << cmd->description << "\n\n"
                  << desc;
        return 0;
    }
    po::notify(vm);
    Json args = Json::object();
    if (cmd->build) {
        cmd->build(vm, args);
    } else {
        copy_all(vm, args);
    }
    struct WipeKey {  // key material leaves memory however the call ends
        Json& args;
        ~WipeKey()
        {
            if (const Json* k = args.find("key"); k && k->is_string()) {
                std::string& s = const_cast<std::string&>(k->as_string());
                std::fill(s.begin(), s.end(), '\0');
            }
        }
    } wipe{args};
    Json result;
    {
        ControlClient client(socket_path, timeout_ms);
        result = client.call(cmd->cmd, args);
        if (cmd->cmd == "trace") {
            // Armed: collect until N decisions are recorded or the wait ends.
            auto end = std::chrono::steady_clock::now() + std::chrono::seconds(vm["wait"].as<unsigned>());
            for (;;) {
                result = client.call("trace.show");
                const Json* p = result.find("pending");
                if ((p && p->is_int() && p->as_int() == 0) || std::chrono::steady_clock::now() >= end)
                    break;
                std::this_thread::sleep_for(std::chrono::milliseconds(100));
            }
        }
    }
    if (json) {
        std::cout << result.pretty() << "\n";
    } else {
        std::cout << (cmd->cmd == "show.ike" ? render_ike(result) : render_human(result));
    }
    std::cout.flush();
    return std::cout.good() ? 0 : 3;
}

}  // namespace

int main(int argc, char** argv)
{
    try {
        return run(argc, argv);
    } catch (const UsageError& e) {
        std::cerr << "gwctl: " << e.what() << "\n";
        return 2;
    } catch (const po::error& e) {
        std::cerr << "gwctl: " << e.what() << " (see --help)\n";
        return 2;
    } catch (const std::invalid_argument& e) {
        std::cerr << "gwctl: invalid number\n";
        return 2;
    } catch (const std::out_of_range& e) {
        std::cerr << "gwctl: number out of range\n";
        return 2;
    } catch (const RemoteError& e) {
        std::cerr << "gwctl: " << e.what() << " (" << e.code() << ")\n";
        return 1;
    } catch (const ClientError& e) {
        std::cerr << "gwctl: " << e.what() << "\n";
        return 3;
    } catch (const std::exception& e) {
        std::cerr << "gwctl: " << e.what() << "\n";
        return 3;
    }
}
