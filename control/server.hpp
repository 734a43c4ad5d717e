// The control socket: a Unix stream socket served from one thread with epoll.
//
// * Path: configurable (default kDefaultSocketPath); the parent directory is
//   created (0750) when missing. The socket file gets mode 0660 (configurable)
//   and, when a group is given, that group.
// * One gateway per path: an flock()ed "<path>.lock" beside the socket is
//   held for the server's lifetime. A second server on the same path fails with
//   a clear error; a socket left by a crashed run (lock free) is replaced. A
//   path that exists and is not a socket is never removed.
// * Clients: up to max_clients at once, non-blocking. A request is one line of
//   at most max_request bytes; a longer line gets "request_too_large" and the
//   connection is closed (there is no way to resynchronise). A request not
//   completed within read_timeout_ms gets "timeout" and the connection is
//   closed; idle connections are closed after idle_timeout_ms. A client that
//   does not read its responses (more than max_output queued) is dropped.
//   Nothing a client sends can block the thread that polls the server.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "control/protocol.hpp"

namespace ipsecgw::control {

inline constexpr const char* kDefaultSocketPath = "/run/ipsecgw/ipsecgw.sock";

struct ServerOptions {
    std::string path = kDefaultSocketPath;
    std::string group;            // name or numeric gid; empty: keep the process's group
    mode_t mode = 0660;
    size_t max_request = 64 * 1024;
    size_t max_output = 16 * 1024 * 1024;
    unsigned max_clients = 64;
    int read_timeout_ms = 5000;   // from the first byte of a request to its newline
    int idle_timeout_ms = 300000; // connection without a pending request
};

struct ServerStats {
    uint64_t accepted = 0, requests = 0, errors = 0, timeouts = 0, oversized = 0, refused = 0, dropped = 0;
};

class ControlServer {
public:
    // Binds and listens; throws std::runtime_error with a reason on failure.
    ControlServer(ServerOptions opts, const Dispatcher& dispatcher);
    ~ControlServer();  // closes clients, removes the socket and the lock file
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;

    // Waits up to timeout_ms for activity and handles everything ready; also
    // enforces timeouts. Returns the number of requests answered.
    int poll(int timeout_ms);

    const std::string& path() const { return opts_.path; }
    size_t clients() const { return clients_.size(); }
    const ServerStats& stats() const { return stats_; }
    int epoll_fd() const { return ep_; }

private:
    using Clock = std::chrono::steady_clock;
    struct Client {
        int fd = -1;
        std::string in, out;
        bool closing = false;     // close once `out` is flushed
        bool partial = false;     // bytes of an unfinished request are buffered
        Clock::time_point request_start, last_activity;
    };

    void accept_all();
    void on_readable(Client& c);
    void flush(Client& c);
    void update_events(Client& c);
    void close_client(int fd);
    void fail_client(Client& c, const std::string& code, const std::string& msg);
    void check_timeouts();

    ServerOptions opts_;
    const Dispatcher& dispatcher_;
    int listen_fd_ = -1;
    int lock_fd_ = -1;
    int ep_ = -1;
    std::string lock_path_;
    std::map<int, Client> clients_;
    ServerStats stats_;
    int answered_ = 0;
};

}  // namespace ipsecgw::control
