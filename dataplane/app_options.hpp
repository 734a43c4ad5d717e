// Application options (after `--` on the command line). A superset of DPDK
// ipsec-secgw's options, so its command lines run unchanged; options that
// only tune ipsec-secgw internals are accepted and reported as ignored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ipsecgw::dataplane {

struct QueueAssignment {
    uint16_t port;
    uint16_t queue;
    unsigned lcore;
};

struct AppOptions {
    uint64_t port_mask = 0;         // -p (0: every port the configuration names / every port)
    uint64_t unprotected_mask = 0;  // -u
    bool promiscuous = false;       // -P
    std::string secgw_config;       // -f
    std::string native_config;      // --conf
    uint32_t replay_window = 0;     // -w
    bool esn = false;               // -e
    uint32_t frame_size = 0;        // -j (0: default mbuf size)
    uint32_t mtu = 0;               // --mtu
    uint64_t rx_offload = 0;        // --rxoffload
    uint64_t tx_offload = 0;        // --txoffload
    uint32_t nb_mbufs = 0;          // -s
    uint32_t stats_interval = 0;    // -t seconds
    std::vector<QueueAssignment> queues;  // --config
    // Control socket (see control/PROTOCOL.md). Empty: the default,
    // /run/ipsecgw/ipsecgw.sock, or /run/ipsecgw/PREFIX.sock with --file-prefix
    // PREFIX; "none": no socket.
    std::string socket_path;              // --socket
    std::string socket_group;             // --socket-group
    uint32_t socket_mode = 0660;          // --socket-mode (octal)
    std::vector<std::string> warnings;    // ignored options, for the log
};

// Throws std::runtime_error with a message naming the bad option. Returns
// nullopt when --help was given (help already printed to stdout).
std::optional<AppOptions> parse_app_options(int argc, char** argv);
// Parses "(port,queue,lcore),(port,queue,lcore)..."; throws on error.
std::vector<QueueAssignment> parse_queue_config(const std::string& text);
void print_app_help(const char* prog);

}  // namespace ipsecgw::dataplane
