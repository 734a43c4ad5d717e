// The control socket against hostile and numerous clients, without EAL.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <thread>
#include <vector>

#include "control/client.hpp"
#include "control/server.hpp"

using namespace ipsecgw::control;
using namespace std::chrono_literals;

namespace {

std::string temp_dir()
{
    char tmpl[] = "/tmp/ctltest-XXXXXX";
    const char* d = mkdtemp(tmpl);
    if (!d)
        throw std::runtime_error("mkdtemp");
    return d;
}

Dispatcher& test_dispatcher()
{
    static Dispatcher d = [] {
        Dispatcher x;
        x.add("echo", "returns args", [](const Request& r) { return r.args; });
        x.add("fail", "always fails", [](const Request&) -> Json { throw CommandError(err::kNotFound, "nothing here"); });
        x.add("throw", "throws a std exception", [](const Request&) -> Json { throw std::runtime_error("boom"); });
        x.add("big", "large reply", [](const Request& r) {
            Json a = Json::array();
            for (int64_t i = 0; i < r.int_arg("n", 0, 1000000); ++i)
                a.push(i);
            Json o;
            o.set("items", std::move(a));
            return o;
        });
        return x;
    }();
    return d;
}

// Runs a server on its own thread, polled as the gateway's control thread does.
struct ServerThread {
    explicit ServerThread(ServerOptions o)
    {
        server = std::make_unique<ControlServer>(std::move(o), test_dispatcher());
        thread = std::thread([this] {
            while (!stop.load())
                server->poll(20);
        });
    }
    ~ServerThread()
    {
        stop.store(true);
        thread.join();
    }
    std::unique_ptr<ControlServer> server;
    std::atomic<bool> stop{false};
    std::thread thread;
};

int raw_connect(const std::string& path)
{
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

class ServerTest : public ::testing::Test {
protected:
    void SetUp() override
    {
        dir = temp_dir();
        opts.path = dir + "/gw.sock";
        opts.read_timeout_ms = 400;
        opts.max_request = 4096;
    }
    void TearDown() override { std::filesystem::remove_all(dir); }
    std::string dir;
    ServerOptions opts;
};

Json reply_of(const std::string& line) { return Json::parse(line); }

}  // namespace

TEST_F(ServerTest, AnswersRequestsInOrderAndEchoesIds)
{
    ServerThread st(opts);
    ControlClient c(opts.path, 3000);
    Json args;
    args.set("x", 42);
    EXPECT_EQ(c.call("echo", args).find("x")->as_int(), 42);
    Json hello = c.call("hello");
    EXPECT_EQ(hello.find("protocol")->as_int(), 1);
    // Pipelined requests: answered in order, ids echoed.
    c.send_raw("{\"v\":1,\"id\":\"a\",\"cmd\":\"echo\"}\n{\"v\":1,\"id\":2,\"cmd\":\"fail\"}\r\n\n");
    Json r1 = reply_of(c.read_line()), r2 = reply_of(c.read_line());
    EXPECT_EQ(r1.find("id")->as_string(), "a");
    EXPECT_TRUE(r1.find("ok")->as_bool());
    EXPECT_EQ(r2.find("id")->as_int(), 2);
    EXPECT_FALSE(r2.find("ok")->as_bool());
    EXPECT_EQ(r2.find("error")->find("code")->as_string(), "not_found");
}

TEST_F(ServerTest, MalformedRequestsGetErrorsAndTheConnectionStaysUsable)
{
    ServerThread st(opts);
    ControlClient c(opts.path, 3000);
    struct Case {
        const char* line;
        const char* code;
    } cases[] = {
        {"not json", "bad_request"},
        {"[1,2]", "bad_request"},
        {"{\"cmd\":\"echo\"}", "bad_request"},
        {"{\"v\":2,\"cmd\":\"echo\"}", "unsupported_version"},
        {"{\"v\":1}", "bad_request"},
        {"{\"v\":1,\"cmd\":\"nope\"}", "unknown_command"},
        {"{\"v\":1,\"cmd\":\"echo\",\"args\":[1]}", "bad_request"},
        {"{\"v\":1,\"cmd\":\"big\",\"args\":{\"n\":\"x\"}}", "invalid_argument"},
        {"{\"v\":1,\"cmd\":\"big\",\"args\":{\"n\":-1}}", "invalid_argument"},
        {"{\"v\":1,\"cmd\":\"throw\"}", "internal_error"},
        {"{\"v\":1,\"id\":{},\"cmd\":\"echo\"}", "bad_request"},
        {"\x01\x02\xff\xfe", "bad_request"},
        {"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "bad_request"},
    };
    for (const auto& k : cases) {
        c.send_raw(std::string(k.line) + "\n");
        Json r = reply_of(c.read_line());
        EXPECT_FALSE(r.find("ok")->as_bool()) << k.line;
        EXPECT_EQ(r.find("error")->find("code")->as_string(), k.code) << k.line;
    }
    EXPECT_EQ(c.call("hello").find("protocol")->as_int(), 1);
}

TEST_F(ServerTest, RandomBytesNeverCrashOrStall)
{
    ServerThread st(opts);
    srand(7);
    for (int round = 0; round < 50; ++round) {
        int fd = raw_connect(opts.path);
        ASSERT_GE(fd, 0);
        std::string junk;
        size_t n = static_cast<size_t>(rand() % 600);
        for (size_t i = 0; i < n; ++i)
            junk += static_cast<char>(rand() % 256);
        [[maybe_unused]] auto w = send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
        close(fd);
    }
    ControlClient c(opts.path, 3000);
    EXPECT_EQ(c.call("hello").find("protocol")->as_int(), 1);
}

TEST_F(ServerTest, OversizedRequestGetsAnErrorAndIsClosed)
{
    ServerThread st(opts);
    ControlClient c(opts.path, 3000);
    std::string huge = "{\"v\":1,\"cmd\":\"echo\",\"args\":{\"x\":\"" + std::string(10000, 'a') + "\"}}\n";
    try {
        c.send_raw(huge);
    } catch (const ClientError&) {
        // The server may close before taking every byte.
    }
    Json r = reply_of(c.read_line());
    EXPECT_EQ(r.find("error")->find("code")->as_string(), "request_too_large");
    EXPECT_THROW(c.read_line(), ClientError);  // closed
    // Without a newline at all, too.
    ControlClient d(opts.path, 3000);
    try {
        d.send_raw(std::string(20000, 'x'));
    } catch (const ClientError&) {
    }
    EXPECT_EQ(reply_of(d.read_line()).find("error")->find("code")->as_string(), "request_too_large");
    ControlClient e(opts.path, 3000);
    EXPECT_EQ(e.call("hello").find("protocol")->as_int(), 1);
}

TEST_F(ServerTest, SlowClientTimesOutWithoutBlockingOthers)
{
    ServerThread st(opts);
    ControlClient slow(opts.path, 3000);
    slow.send_raw("{\"v\":1,\"cmd\":");  // and then nothing
    // Others are served meanwhile, promptly.
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
        ControlClient c(opts.path, 1000);
        EXPECT_EQ(c.call("hello").find("protocol")->as_int(), 1);
    }
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
    Json r = reply_of(slow.read_line());
    EXPECT_EQ(r.find("error")->find("code")->as_string(), "timeout");
    EXPECT_THROW(slow.read_line(), ClientError);
}

TEST_F(ServerTest, ByteByByteClientWithinTheTimeoutIsServed)
{
    opts.read_timeout_ms = 2000;
    ServerThread st(opts);
    ControlClient c(opts.path, 3000);
    std::string req = make_request("echo", Json::parse("{\"k\":1}"));
    for (char ch : req) {
        c.send_raw(std::string(1, ch));
        std::this_thread::sleep_for(1ms);
    }
    EXPECT_TRUE(reply_of(c.read_line()).find("ok")->as_bool());
}

TEST_F(ServerTest, ClientThatNeverReadsIsDroppedNotWaitedFor)
{
    opts.max_output = 256 * 1024;
    ServerThread st(opts);
    int fd = raw_connect(opts.path);
    ASSERT_GE(fd, 0);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    std::string req = make_request("big", Json::parse("{\"n\":20000}"));
    // Keep asking for large replies and never read: bounded number of tries.
    for (int i = 0; i < 200; ++i)
        if (send(fd, req.data(), req.size(), MSG_NOSIGNAL) < 0)
            break;
    std::this_thread::sleep_for(200ms);
    ControlClient c(opts.path, 2000);
    EXPECT_EQ(c.call("hello").find("protocol")->as_int(), 1);
    close(fd);
}

TEST_F(ServerTest, ManyConcurrentClients)
{
    opts.max_clients = 128;
    ServerThread st(opts);
    constexpr int kThreads = 32, kCalls = 25;
    std::atomic<int> good{0};
    std::vector<std::thread> ts;
    for (int t = 0; t < kThreads; ++t)
        ts.emplace_back([&, t] {
            try {
                ControlClient c(opts.path, 10000);
                for (int i = 0; i < kCalls; ++i) {
                    Json a;
                    a.set("t", t).set("i", i);
                    Json r = c.call("echo", a);
                    if (r.find("t")->as_int() == t && r.find("i")->as_int() == i)
                        ++good;
                }
            } catch (const std::exception&) {
            }
        });
    for (auto& t : ts)
        t.join();
    EXPECT_EQ(good.load(), kThreads * kCalls);
}

TEST_F(ServerTest, ClientsBeyondTheLimitGetBusy)
{
    opts.max_clients = 4;
    ServerThread st(opts);
    std::vector<std::unique_ptr<ControlClient>> held;
    for (int i = 0; i < 4; ++i) {
        held.push_back(std::make_unique<ControlClient>(opts.path, 3000));
        held.back()->call("hello");
    }
    ControlClient extra(opts.path, 3000);
    Json r = reply_of(extra.read_line());
    EXPECT_EQ(r.find("error")->find("code")->as_string(), "busy");
    held.pop_back();
    std::this_thread::sleep_for(100ms);
    ControlClient again(opts.path, 3000);
    EXPECT_EQ(again.call("hello").find("protocol")->as_int(), 1);
}

TEST_F(ServerTest, SocketModeAndGroup)
{
    opts.group = std::to_string(getgid());
    {
        ServerThread st(opts);
        struct stat s{};
        ASSERT_EQ(lstat(opts.path.c_str(), &s), 0);
        EXPECT_TRUE(S_ISSOCK(s.st_mode));
        EXPECT_EQ(s.st_mode & 07777, 0660u);
        EXPECT_EQ(s.st_gid, getgid());
    }
    // Removed on clean shutdown (socket and lock).
    EXPECT_FALSE(std::filesystem::exists(opts.path));
    EXPECT_FALSE(std::filesystem::exists(opts.path + ".lock"));
    opts.mode = 0600;
    ServerThread st(opts);
    struct stat s{};
    ASSERT_EQ(lstat(opts.path.c_str(), &s), 0);
    EXPECT_EQ(s.st_mode & 07777, 0600u);
}

TEST_F(ServerTest, GroupByNameAndUnknownGroup)
{
    group* g = getgrgid(getgid());
    ASSERT_NE(g, nullptr);
    opts.group = g->gr_name;
    { ServerThread st(opts); }
    opts.group = "no-such-group-ipsecgw";
    EXPECT_THROW(ControlServer(opts, test_dispatcher()), std::runtime_error);
    EXPECT_FALSE(std::filesystem::exists(opts.path));
}

TEST_F(ServerTest, UnprivilegedPeerIsRefusedByPermissions)
{
    if (geteuid() != 0)
        GTEST_SKIP() << "needs root to switch to another uid";
    opts.group = "0";
    std::filesystem::permissions(dir, std::filesystem::perms::all);  // only the socket's own mode protects it
    ServerThread st(opts);
    // A child with another uid and gid must not be able to connect.
    pid_t pid = fork();
    if (pid == 0) {
        if (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
            _exit(10);
        int fd = raw_connect(opts.path);
        _exit(fd < 0 && errno == EACCES ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
    // The same uid in the socket's group may.
    pid = fork();
    if (pid == 0) {
        gid_t g0 = 0;
        if (setgroups(1, &g0) != 0 || setgid(0) != 0 || setuid(65534) != 0)
            _exit(10);
        int fd = raw_connect(opts.path);
        _exit(fd >= 0 ? 0 : 1);
    }
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(ServerTest, StaleSocketIsReplaced)
{
    // A socket file left by a crashed run: bound, never cleaned up.
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::snprintf(a.sun_path, sizeof a.sun_path, "%s", opts.path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    close(fd);
    ASSERT_TRUE(std::filesystem::exists(opts.path));
    {
        // A stale lock file too (flock dies with the process).
        int l = open((opts.path + ".lock").c_str(), O_CREAT | O_RDWR, 0600);
        close(l);
    }
    ServerThread st(opts);
    ControlClient c(opts.path, 3000);
    EXPECT_EQ(c.call("hello").find("protocol")->as_int(), 1);
}

TEST_F(ServerTest, SecondServerOnTheSamePathIsRefused)
{
    ServerThread st(opts);
    try {
        ControlServer second(opts, test_dispatcher());
        FAIL() << "second server started";
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("in use by another running ipsecgw"), std::string::npos) << e.what();
    }
    // The first one still works and still owns its socket.
    ControlClient c(opts.path, 3000);
    EXPECT_EQ(c.call("hello").find("protocol")->as_int(), 1);
}

TEST_F(ServerTest, SecondServerInAnotherProcessIsRefused)
{
    ServerThread st(opts);
    pid_t pid = fork();
    if (pid == 0) {
        try {
            ControlServer second(opts, test_dispatcher());
            _exit(1);
        } catch (const std::runtime_error&) {
            _exit(0);
        }
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    ControlClient c(opts.path, 3000);
    EXPECT_EQ(c.call("hello").find("protocol")->as_int(), 1);
}

TEST_F(ServerTest, NonSocketAtThePathIsNeverRemoved)
{
    {
        FILE* f = std::fopen(opts.path.c_str(), "w");
        std::fputs("precious", f);
        std::fclose(f);
    }
    EXPECT_THROW(ControlServer(opts, test_dispatcher()), std::runtime_error);
    EXPECT_TRUE(std::filesystem::is_regular_file(opts.path));
}

TEST_F(ServerTest, BadPaths)
{
    opts.path = dir + "/" + std::string(200, 'x');
    EXPECT_THROW(ControlServer(opts, test_dispatcher()), std::runtime_error);
    opts.path = dir + "/missing-parent/deeper/gw.sock";
    EXPECT_THROW(ControlServer(opts, test_dispatcher()), std::runtime_error);
    EXPECT_THROW(ControlClient(dir + "/nobody.sock", 1000), ClientError);
}

TEST_F(ServerTest, CreatesMissingParentDirectory)
{
    opts.path = dir + "/run/gw.sock";
    ServerThread st(opts);
    struct stat s{};
    ASSERT_EQ(stat((dir + "/run").c_str(), &s), 0);
    EXPECT_EQ(s.st_mode & 0777, 0750u);
}
