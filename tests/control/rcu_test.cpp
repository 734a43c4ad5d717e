// RCU publication and the event ring under EAL (--no-huge --no-pci). Readers
// are plain threads standing in for worker lcores: they must never observe a
// half-built or retired table, and nothing is freed while a reader may hold it.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "control/rcu.hpp"

using namespace ipsecgw::control;
using namespace std::chrono_literals;

namespace {

// A table whose every word equals its version. Its destructor poisons it and
// its operator delete parks the memory (freed at the end of the test), so a
// reader still using a retired table sees the poison, not undefined behaviour.
std::vector<void*> g_graveyard;
std::atomic<uint64_t> g_freed{0};

struct Table {
    std::array<uint64_t, 64> words;
    std::atomic<bool> retired{false};
    explicit Table(uint64_t v) { words.fill(v); }
    ~Table()
    {
        retired.store(true);
        words.fill(0xdeadbeefdeadbeefull);
        g_freed.fetch_add(1);
    }
    static void* operator new(size_t n) { return ::operator new(n); }
    static void operator delete(void* p) { g_graveyard.push_back(p); }  // control thread only
};

class RcuTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::string prefix = "gwctlrcu";
        prefix += std::to_string(getpid());
        const char* argv[] = {"test", "-l", "0", "--no-pci", "--no-huge", "-m", "128", "--file-prefix",
                              prefix.c_str(), "--log-level", "lib.eal:error", "--no-telemetry"};
        ASSERT_GE(rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)), 0);
    }
    static void TearDownTestSuite() { rte_eal_cleanup(); }
};

}  // namespace

TEST_F(RcuTest, ReadersNeverSeeRetiredOrHalfBuiltTables)
{
    constexpr unsigned kReaders = 3;
    RcuDomain rcu(kReaders);
    Published<Table> pub(rcu, std::make_unique<Table>(0));
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> bad{0}, reads{0};
    for (unsigned i = 0; i < kReaders; ++i)
        rcu.register_reader(i);
    std::vector<std::thread> readers;
    for (unsigned id = 0; id < kReaders; ++id)
        readers.emplace_back([&, id] {
            rcu.online(id);
            auto end = std::chrono::steady_clock::now() + 20s;  // hard bound
            while (!stop.load(std::memory_order_relaxed) && std::chrono::steady_clock::now() < end) {
                const Table* t = pub.read();
                uint64_t v = t->words[0];
                for (int spin = 0; spin < 3; ++spin)  // hold it a little, like a burst
                    for (uint64_t w : t->words)
                        if (w != v || t->retired.load(std::memory_order_relaxed))
                            bad.fetch_add(1);
                reads.fetch_add(1, std::memory_order_relaxed);
                rcu.quiescent(id);
            }
            rcu.offline(id);
        });
    constexpr uint64_t kVersions = 3000;
    for (uint64_t v = 1; v <= kVersions; ++v) {
        pub.publish(std::make_unique<Table>(v));
        rcu.reclaim();
        if (v % 500 == 0)
            std::this_thread::sleep_for(1ms);
    }
    EXPECT_TRUE(rcu.synchronize(5000ms));
    stop.store(true);
    for (auto& t : readers)
        t.join();
    EXPECT_EQ(bad.load(), 0u);
    EXPECT_GT(reads.load(), 0u);
    EXPECT_EQ(rcu.pending(), 0u);
    EXPECT_EQ(pub.read()->words[0], kVersions);
    EXPECT_EQ(g_freed.load(), kVersions);  // every retired version was freed, none twice
    pub.publish(nullptr);                   // retire the last one too
    EXPECT_TRUE(rcu.synchronize(1000ms));
    EXPECT_EQ(g_freed.load(), kVersions + 1);
    for (void* p : g_graveyard)
        ::operator delete(p);
    g_graveyard.clear();
}

TEST_F(RcuTest, NothingIsFreedWhileAReaderHoldsIt)
{
    RcuDomain rcu(2);
    rcu.register_reader(0);
    rcu.register_reader(1);
    rcu.online(0);
    rcu.online(1);
    bool freed = false;
    rcu.retire([&] { freed = true; });
    rcu.quiescent(0);  // reader 1 has not passed a quiescent state yet
    EXPECT_EQ(rcu.reclaim(), 0u);
    EXPECT_FALSE(freed);
    EXPECT_FALSE(rcu.synchronize(20ms));  // bounded: gives up, frees nothing
    EXPECT_FALSE(freed);
    rcu.quiescent(1);
    EXPECT_EQ(rcu.reclaim(), 1u);
    EXPECT_TRUE(freed);
    // An offline reader (a stopped worker) does not hold anything up.
    bool freed2 = false;
    rcu.offline(1);
    rcu.retire([&] { freed2 = true; });
    rcu.quiescent(0);
    EXPECT_EQ(rcu.reclaim(), 1u);
    EXPECT_TRUE(freed2);
    rcu.offline(0);
}

TEST_F(RcuTest, EventRingNeverBlocksAndCountsLosses)
{
    EventRing ring("ctl_ev_test", 64);
    std::atomic<uint64_t> posted{0};
    std::vector<std::thread> ws;
    for (uint16_t w = 0; w < 2; ++w)
        ws.emplace_back([&, w] {
            for (uint32_t i = 0; i < 200; ++i)
                if (ring.post({EventType::SoftLifetime, w, i, i * 10ull}))
                    posted.fetch_add(1);
        });
    for (auto& t : ws)
        t.join();
    EXPECT_EQ(posted.load() + ring.lost(), 400u);
    EXPECT_LE(posted.load(), 63u);  // ring of 64 holds 63
    uint64_t seen = 0;
    bool sane = true;
    ring.drain([&](const Event& e) {
        ++seen;
        sane = sane && e.type == EventType::SoftLifetime && e.worker < 2 && e.value == e.sa_slot * 10ull;
    });
    EXPECT_EQ(seen, posted.load());
    EXPECT_TRUE(sane);
    EXPECT_STREQ(event_name(EventType::SeqNearExhaustion), "seq_near_exhaustion");
}
