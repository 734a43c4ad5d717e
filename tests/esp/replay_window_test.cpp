// Anti-replay window (RFC 4303 §3.4.3, Appendix A): edges, reordering,
// duplicates, large jumps, ESN inference across the 2^32 boundary.
#include <gtest/gtest.h>

#include <random>
#include <set>

#include "esp/replay_window.hpp"

using namespace ipsecgw::esp;

namespace {
ReplayVerdict feed(ReplayWindow& w, uint32_t low, uint64_t* full = nullptr)
{
    uint64_t f;
    ReplayVerdict v = w.check(low, &f);
    if (full)
        *full = f;
    return v == ReplayVerdict::Ok ? w.accept(f) : v;
}
}  // namespace

TEST(ReplayWindow, EdgesOfTheWindow)
{
    for (uint32_t size : {64u, 1024u, 4096u}) {
        ReplayWindow w(size);
        EXPECT_EQ(feed(w, 0), ReplayVerdict::OutsideWindow) << "0 is never sent";
        EXPECT_EQ(feed(w, 10000), ReplayVerdict::Ok);
        EXPECT_EQ(feed(w, 10000 - size), ReplayVerdict::OutsideWindow) << size;
        EXPECT_EQ(feed(w, 10000 - size + 1), ReplayVerdict::Ok) << "oldest slot";
        EXPECT_EQ(feed(w, 10000 - size + 1), ReplayVerdict::Replayed);
        EXPECT_EQ(feed(w, 10000), ReplayVerdict::Replayed);
        EXPECT_EQ(feed(w, 10001), ReplayVerdict::Ok);
        EXPECT_EQ(feed(w, 10000 - size + 1), ReplayVerdict::OutsideWindow) << "slid out";
    }
}

TEST(ReplayWindow, SizeIsRoundedAndBounded)
{
    EXPECT_EQ(ReplayWindow(1).size(), 64u);
    EXPECT_EQ(ReplayWindow(100).size(), 128u);
    EXPECT_EQ(ReplayWindow(4096).size(), 4096u);
    EXPECT_EQ(ReplayWindow(1u << 30).size(), 65536u);
    ReplayWindow off(0);
    EXPECT_FALSE(off.enabled());
    EXPECT_EQ(feed(off, 5), ReplayVerdict::Ok);
    EXPECT_EQ(feed(off, 5), ReplayVerdict::Ok) << "disabled: duplicates pass";
}

TEST(ReplayWindow, CheckDoesNotChangeStateAcceptRechecks)
{
    ReplayWindow w(64);
    uint64_t a, b;
    ASSERT_EQ(w.check(7, &a), ReplayVerdict::Ok);
    ASSERT_EQ(w.check(7, &b), ReplayVerdict::Ok) << "check alone marks nothing";
    EXPECT_EQ(w.accept(a), ReplayVerdict::Ok);
    EXPECT_EQ(w.accept(b), ReplayVerdict::Replayed) << "second copy of one burst";
    uint64_t c;
    ASSERT_EQ(w.check(8, &c), ReplayVerdict::Ok);
    EXPECT_EQ(feed(w, 200), ReplayVerdict::Ok);
    EXPECT_EQ(w.accept(c), ReplayVerdict::OutsideWindow) << "window moved between check and accept";
}

TEST(ReplayWindow, RandomReorderingMatchesAReferenceModel)
{
    // Reference: a set of accepted numbers and the highest one.
    std::mt19937_64 rng(42);
    for (uint32_t size : {64u, 1024u, 4096u}) {
        ReplayWindow w(size);
        std::set<uint64_t> seen;
        uint64_t top = 0;
        uint64_t next = 1;
        for (int i = 0; i < 200000; ++i) {
            uint64_t s;
            switch (rng() % 4) {
            case 0: s = next + rng() % 200; break;                          // ahead
            case 1: s = next > size * 2 ? next - rng() % (size * 2) : 1; break;  // around the left edge
            case 2: s = seen.empty() ? 1 : *seen.rbegin() - rng() % 8; break;  // duplicates
            default: s = next++; break;
            }
            if (s == 0)
                s = 1;
            ReplayVerdict want = s > top ? ReplayVerdict::Ok
                                 : top - s >= size ? ReplayVerdict::OutsideWindow
                                 : seen.count(s) ? ReplayVerdict::Replayed : ReplayVerdict::Ok;
            ASSERT_EQ(feed(w, uint32_t(s)), want) << "seq " << s << " top " << top << " size " << size;
            if (want == ReplayVerdict::Ok) {
                seen.insert(s);
                top = std::max(top, s);
                next = std::max(next, s + 1);
            }
            while (!seen.empty() && *seen.begin() + size * 2 < top)
                seen.erase(seen.begin());
        }
    }
}

TEST(ReplayWindow, EsnInfersHighBitsAcrossTheBoundary)
{
    ReplayWindow w(1024, true);
    uint64_t full;
    EXPECT_EQ(feed(w, 0xfffffff0u, &full), ReplayVerdict::OutsideWindow)
        << "before anything, a huge low value would be subspace -1";
    EXPECT_EQ(feed(w, 5, &full), ReplayVerdict::Ok);
    EXPECT_EQ(feed(w, 0x80000000u, &full), ReplayVerdict::Ok);  // a jump of < 2^32 - W is unambiguous
    // Walk up to the boundary and across it.
    for (uint64_t s = 0xffffff00ull; s < 0x100000100ull; s += 0x40) {
        ASSERT_EQ(feed(w, uint32_t(s), &full), ReplayVerdict::Ok) << std::hex << s;
        ASSERT_EQ(full, s);
    }
    // Late packets from below the boundary are still placed in the old subspace.
    EXPECT_EQ(feed(w, 0xfffffff1u, &full), ReplayVerdict::Ok);
    EXPECT_EQ(full, 0xfffffff1ull);
    EXPECT_EQ(feed(w, 0xfffffff1u, &full), ReplayVerdict::Replayed);
    // A low number far ahead lands in the next subspace.
    EXPECT_EQ(feed(w, 0x00000400u + 0x200, &full), ReplayVerdict::Ok);
    EXPECT_EQ(full, 0x100000600ull);
    EXPECT_EQ(w.highest(), 0x100000600ull);
}

TEST(ReplayWindow, EsnWindowInsideOneSubspace)
{
    ReplayWindow w(64, true);
    uint64_t full;
    ASSERT_EQ(feed(w, 1000, &full), ReplayVerdict::Ok);
    // Below Tl - W + 1: RFC 4303 A2.2 places it in the next subspace. It passes
    // the check; the ICV (computed with the wrong high bits) then rejects it,
    // which is why accept() runs only after the ICV verified.
    EXPECT_EQ(w.check(500, &full), ReplayVerdict::Ok);
    EXPECT_EQ(full, (1ull << 32) | 500);
    EXPECT_EQ(w.highest(), 1000u) << "check moved nothing";
    EXPECT_EQ(w.check(990, &full), ReplayVerdict::Ok);
    EXPECT_EQ(full, 990u);
}
