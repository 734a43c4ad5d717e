#include "control/server.hpp"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <stdexcept>
#include <vector>

namespace ipsecgw::control {

namespace {

std::runtime_error sys_error(const std::string& what)
{
    return std::runtime_error(what + ": " + std::strerror(errno));
}

gid_t resolve_group(const std::string& g)
{
    char* end = nullptr;
    unsigned long n = std::strtoul(g.c_str(), &end, 10);
    if (!g.empty() && end && *end == '\0')
        return static_cast<gid_t>(n);
    std::vector<char> buf(16384);
    group grp{};
    group* res = nullptr;
    if (getgrnam_r(g.c_str(), &grp, buf.data(), buf.size(), &res) != 0 || !res)
        throw std::runtime_error("control socket: unknown group '" + g + "'");
    return res->gr_gid;
}

std::string parent_dir(const std::string& path)
{
    auto slash = path.rfind('/');
    if (slash == std::string::npos)
        return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

}  // namespace

ControlServer::ControlServer(ServerOptions opts, const Dispatcher& dispatcher)
    : opts_(std::move(opts)), dispatcher_(dispatcher)
{
    const std::string& path = opts_.path;
    sockaddr_un addr{};
    if (path.empty() || path.size() >= sizeof addr.sun_path)
        throw std::runtime_error("control socket path '" + path + "' is empty or longer than " +
                                 std::to_string(sizeof addr.sun_path - 1) + " bytes");
    std::string dir = parent_dir(path);
    if (::mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST)
        throw sys_error("control socket: cannot create directory " + dir);

    // One gateway per path: hold an exclusive lock for our lifetime.
    lock_path_ = path + ".lock";
    lock_fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (lock_fd_ < 0)
        throw sys_error("control socket: cannot open lock file " + lock_path_);
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        ::close(lock_fd_);
        lock_fd_ = -1;
        if (e == EWOULDBLOCK)
            throw std::runtime_error("control socket " + path +
                                     " is in use by another running ipsecgw (lock " + lock_path_ +
                                     " held); give this one another --socket");
        errno = e;
        throw sys_error("control socket: cannot lock " + lock_path_);
    }
    try {
        struct stat st{};
        if (::lstat(path.c_str(), &st) == 0) {
            if (!S_ISSOCK(st.st_mode))
                throw std::runtime_error("control socket path " + path +
                                         " exists and is not a socket; not removing it");
            // We hold the lock, so this socket is a leftover of a run that died.
            if (::unlink(path.c_str()) != 0)
                throw sys_error("control socket: cannot remove stale socket " + path);
        }
        listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (listen_fd_ < 0)
            throw sys_error("control socket: socket()");
        addr.sun_family = AF_UNIX;
        std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
        // Create the file with no permission for others from the start; the
        // exact mode and group follow right after, before listen().
        mode_t old = ::umask(0177);
        int rc = ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
        int e = errno;
        ::umask(old);
        if (rc != 0) {
            errno = e;
            throw sys_error("control socket: cannot bind " + path);
        }
        if (!opts_.group.empty() && ::chown(path.c_str(), static_cast<uid_t>(-1), resolve_group(opts_.group)) != 0)
            throw sys_error("control socket: cannot give " + path + " to group " + opts_.group);
        if (::chmod(path.c_str(), opts_.mode) != 0)
            throw sys_error("control socket: cannot chmod " + path);
        if (::listen(listen_fd_, 64) != 0)
            throw sys_error("control socket: listen()");
        ep_ = ::epoll_create1(EPOLL_CLOEXEC);
        if (ep_ < 0)
            throw sys_error("control socket: epoll_create1()");
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = listen_fd_;
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0)
            throw sys_error("control socket: epoll_ctl()");
    } catch (...) {
        if (listen_fd_ >= 0) {
            ::close(listen_fd_);
            ::unlink(path.c_str());
        }
        if (ep_ >= 0)
            ::close(ep_);
        ::close(lock_fd_);
        throw;
    }
}

ControlServer::~ControlServer()
{
    while (!clients_.empty())
        close_client(clients_.begin()->first);
    if (ep_ >= 0)
        ::close(ep_);
    if (listen_fd_ >= 0) {
        ::close(listen_fd_);
        ::unlink(opts_.path.c_str());
    }
    if (lock_fd_ >= 0) {
        ::unlink(lock_path_.c_str());
        ::close(lock_fd_);
    }
}

int ControlServer::poll(int timeout_ms)
{
    answered_ = 0;
    // Wake up in time for the nearest client deadline.
    if (!clients_.empty() && (timeout_ms < 0 || timeout_ms > 100))
        timeout_ms = 100;
    epoll_event evs[32];
    int n = ::epoll_wait(ep_, evs, 32, timeout_ms);
    for (int i = 0; i < n; ++i) {
        int fd = evs[i].data.fd;
        if (fd == listen_fd_) {
            accept_all();
            continue;
        }
        auto it = clients_.find(fd);
        if (it == clients_.end())
            continue;
        Client& c = it->second;
        if (evs[i].events & (EPOLLERR)) {
            close_client(fd);
            continue;
        }
        if (evs[i].events & EPOLLOUT)
            flush(c);
        if (clients_.count(fd) && (evs[i].events & (EPOLLIN | EPOLLHUP)))
            on_readable(c);
    }
    check_timeouts();
    return answered_;
}

void ControlServer::accept_all()
{
    for (int i = 0; i < 64; ++i) {
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;  // EAGAIN, or a transient error: try again on the next event
        if (clients_.size() >= opts_.max_clients) {
            std::string msg = make_error(Json(), err::kBusy, "too many control clients; try again later");
            [[maybe_unused]] ssize_t w = ::send(fd, msg.data(), msg.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
            ::close(fd);
            ++stats_.refused;
            continue;
        }
        Client c;
        c.fd = fd;
        c.last_activity = Clock::now();
        epoll_event ev{};
        ev.events = EPOLLIN | EPOLLRDHUP;
        ev.data.fd = fd;
        if (::epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev) != 0) {
            ::close(fd);
            continue;
        }
        clients_.emplace(fd, std::move(c));
        ++stats_.accepted;
    }
}

void ControlServer::fail_client(Client& c, const std::string& code, const std::string& msg)
{
    c.out += make_error(Json(), code, msg);
    c.in.clear();
    c.partial = false;
    c.closing = true;
    ++stats_.errors;
    flush(c);
}

void ControlServer::on_readable(Client& c)
{
    if (c.closing) {
        // Discard anything more; we only wait to flush the last reply.
        char sink[4096];
        ssize_t r = ::recv(c.fd, sink, sizeof sink, 0);
        if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
            close_client(c.fd);
        return;
    }
    char buf[8192];
    // Bounded: read at most a few buffers per event so one client cannot starve others.
    for (int round = 0; round < 16; ++round) {
        ssize_t r = ::recv(c.fd, buf, sizeof buf, 0);
        if (r == 0) {
            close_client(c.fd);  // peer closed; pending replies cannot be delivered anyway
            return;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            close_client(c.fd);
            return;
        }
        auto now = Clock::now();
        c.last_activity = now;
        size_t start = 0;
        for (size_t i = 0; i < static_cast<size_t>(r); ++i) {
            if (buf[i] != '\n')
                continue;
            c.in.append(buf + start, i - start);
            start = i + 1;
            if (c.in.size() > opts_.max_request) {
                ++stats_.oversized;
                fail_client(c, err::kTooLarge, "request longer than " + std::to_string(opts_.max_request) + " bytes");
                return;
            }
            if (!c.in.empty() && c.in.back() == '\r')
                c.in.pop_back();
            if (c.in.find_first_not_of(" \t") != std::string::npos) {
                ++stats_.requests;
                ++answered_;
                std::string reply = dispatcher_.handle_line(c.in);
                if (reply.find("\"ok\":false") != std::string::npos)
                    ++stats_.errors;
                c.out += reply;
            }
            std::fill(c.in.begin(), c.in.end(), '\0');  // requests may carry key material (sa.add)
            c.in.clear();
            c.partial = false;
            if (c.out.size() > opts_.max_output) {
                ++stats_.dropped;
                close_client(c.fd);
                return;
            }
        }
        if (start < static_cast<size_t>(r)) {
            if (!c.partial) {
                c.partial = true;
                c.request_start = now;
            }
            c.in.append(buf + start, static_cast<size_t>(r) - start);
            if (c.in.size() > opts_.max_request) {
                ++stats_.oversized;
                fail_client(c, err::kTooLarge, "request longer than " + std::to_string(opts_.max_request) + " bytes");
                return;
            }
        }
    }
    std::fill(std::begin(buf), std::end(buf), '\0');
    flush(c);
}

void ControlServer::flush(Client& c)
{
    int fd = c.fd;
    while (!c.out.empty()) {
        ssize_t w = ::send(fd, c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            close_client(fd);
            return;
        }
        c.out.erase(0, static_cast<size_t>(w));
    }
    if (c.out.empty() && c.closing) {
        close_client(fd);
        return;
    }
    update_events(c);
}

void ControlServer::update_events(Client& c)
{
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | (c.out.empty() ? 0u : static_cast<uint32_t>(EPOLLOUT));
    ev.data.fd = c.fd;
    ::epoll_ctl(ep_, EPOLL_CTL_MOD, c.fd, &ev);
}

void ControlServer::close_client(int fd)
{
    auto it = clients_.find(fd);
    if (it == clients_.end())
        return;
    ::epoll_ctl(ep_, EPOLL_CTL_DEL, fd, nullptr);
    ::close(fd);
    clients_.erase(it);
}

void ControlServer::check_timeouts()
{
    auto now = Clock::now();
    std::vector<int> expired, idle;
    for (auto& [fd, c] : clients_) {
        if (c.closing) {
            // A client that will not take its last reply gets a grace period, then goes.
            if (now - c.last_activity > std::chrono::milliseconds(opts_.read_timeout_ms))
                idle.push_back(fd);
        } else if (c.partial && now - c.request_start > std::chrono::milliseconds(opts_.read_timeout_ms)) {
            expired.push_back(fd);
        } else if (!c.partial && c.out.empty() &&
                   now - c.last_activity > std::chrono::milliseconds(opts_.idle_timeout_ms)) {
            idle.push_back(fd);
        }
    }
    for (int fd : expired) {
        auto it = clients_.find(fd);
        if (it == clients_.end())
            continue;
        ++stats_.timeouts;
        it->second.last_activity = now;
        fail_client(it->second, err::kTimeout,
                    "request not completed within " + std::to_string(opts_.read_timeout_ms) + " ms");
    }
    for (int fd : idle)
        close_client(fd);
}

}  // namespace ipsecgw::control
