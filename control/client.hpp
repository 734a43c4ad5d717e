// Client side of the control protocol (used by gwctl and the tests): one
// connection, one request at a time, every wait bounded by a timeout.
#pragma once

#include <string>

#include "control/json.hpp"

namespace ipsecgw::control {

class ClientError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The gateway answered with "ok":false.
class RemoteError : public std::runtime_error {
public:
    RemoteError(std::string code, const std::string& msg) : std::runtime_error(msg), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

class ControlClient {
public:
    // Connects; throws ClientError naming the path and the reason.
    ControlClient(const std::string& path, int timeout_ms = 10000);
    ~ControlClient();
    ControlClient(const ControlClient&) = delete;
    ControlClient& operator=(const ControlClient&) = delete;

    // Sends a request and returns its "result"; throws RemoteError for an
    // error response, ClientError for transport problems or timeouts.
    Json call(const std::string& cmd, const Json& args = Json::object());
    // Raw access for tests: sends bytes as they are / reads one line.
    void send_raw(const std::string& bytes);
    std::string read_line();

private:
    int fd_ = -1;
    int timeout_ms_;
    std::string path_;
    std::string buf_;
    long next_id_ = 1;
};

}  // namespace ipsecgw::control
