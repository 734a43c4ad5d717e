#include "control/client.hpp"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include "control/protocol.hpp"

namespace ipsecgw::control {

ControlClient::ControlClient(const std::string& path, int timeout_ms) : timeout_ms_(timeout_ms), path_(path)
{
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        throw ClientError("socket path '" + path + "' is empty or too long");
    fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
        throw ClientError(std::string("socket(): ") + std::strerror(errno));
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        int e = errno;
        ::close(fd_);
        fd_ = -1;
        std::string hint;
        if (e == ENOENT || e == ECONNREFUSED)
            hint = " (is ipsecgw running with this --socket?)";
        else if (e == EACCES)
            hint = " (not in the socket's group? try sudo)";
        throw ClientError("cannot connect to " + path + ": " + std::strerror(e) + hint);
    }
}

ControlClient::~ControlClient()
{
    if (fd_ >= 0)
        ::close(fd_);
}

void ControlClient::send_raw(const std::string& bytes)
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
    size_t off = 0;
    while (off < bytes.size()) {
        ssize_t w = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w > 0) {
            off += static_cast<size_t>(w);
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            throw ClientError(std::string("sending to the gateway: ") + std::strerror(errno));
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw ClientError("timed out sending to the gateway");
        pollfd p{fd_, POLLOUT, 0};
        ::poll(&p, 1, static_cast<int>(left.count()));
    }
}

std::string ControlClient::read_line()
{
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
    for (;;) {
        auto nl = buf_.find('\n');
        if (nl != std::string::npos) {
            std::string line = buf_.substr(0, nl);
            buf_.erase(0, nl + 1);
            return line;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            throw ClientError("timed out waiting for the gateway's reply (" + std::to_string(timeout_ms_) + " ms)");
        pollfd p{fd_, POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(left.count()));
        if (rc < 0 && errno != EINTR)
            throw ClientError(std::string("poll(): ") + std::strerror(errno));
        if (rc <= 0)
            continue;
        char buf[65536];
        ssize_t r = ::recv(fd_, buf, sizeof buf, MSG_DONTWAIT);
        if (r == 0)
            throw ClientError("the gateway closed the connection");
        if (r < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            throw ClientError(std::string("reading from the gateway: ") + std::strerror(errno));
        }
        buf_.append(buf, static_cast<size_t>(r));
        if (buf_.size() > (256u << 20))
            throw ClientError("reply larger than 256 MiB");
    }
}

Json ControlClient::call(const std::string& cmd, const Json& args)
{
    long id = next_id_++;
    std::string req = make_request(cmd, args, Json(id));
    try {
        send_raw(req);
    } catch (...) {
        std::fill(req.begin(), req.end(), '\0');
        throw;
    }
    std::fill(req.begin(), req.end(), '\0');  // it may carry key material (sa.add)
    std::string line = read_line();
    Json r;
    try {
        r = Json::parse(line, 64);
    } catch (const JsonError& e) {
        throw ClientError(std::string("unreadable reply from the gateway: ") + e.what());
    }
    const Json* ok = r.find("ok");
    if (!ok || !ok->is_bool())
        throw ClientError("reply without \"ok\" from the gateway");
    if (!ok->as_bool()) {
        const Json* e = r.find("error");
        std::string code = "unknown", msg = "unspecified error";
        if (e) {
            if (const Json* c = e->find("code"); c && c->is_string())
                code = c->as_string();
            if (const Json* m = e->find("message"); m && m->is_string())
                msg = m->as_string();
        }
        throw RemoteError(code, msg);
    }
    const Json* res = r.find("result");
    return res ? *res : Json::object();
}

}  // namespace ipsecgw::control
