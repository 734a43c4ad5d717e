#include "control/rcu.hpp"

#include <rte_errno.h>

#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace ipsecgw::control {

RcuDomain::RcuDomain(unsigned max_readers)
{
    size_t sz = rte_rcu_qsbr_get_memsize(max_readers);
    if (sz == static_cast<size_t>(1))  // DPDK returns 1 on invalid input
        throw std::runtime_error("rcu: bad reader count");
    sz = (sz + RTE_CACHE_LINE_SIZE - 1) / RTE_CACHE_LINE_SIZE * RTE_CACHE_LINE_SIZE;
    v_ = static_cast<rte_rcu_qsbr*>(std::aligned_alloc(RTE_CACHE_LINE_SIZE, sz));
    if (!v_)
        throw std::runtime_error("rcu: out of memory");
    if (rte_rcu_qsbr_init(v_, max_readers) != 0) {
        std::free(v_);
        throw std::runtime_error("rcu: rte_rcu_qsbr_init failed");
    }
}

RcuDomain::~RcuDomain()
{
    // Workers have stopped by now; nobody can hold a pointer any more.
    for (auto& r : retired_)
        r.free_fn();
    retired_.clear();
    std::free(v_);
}

void RcuDomain::register_reader(unsigned id)
{
    if (rte_rcu_qsbr_thread_register(v_, id) != 0)
        throw std::runtime_error("rcu: cannot register reader " + std::to_string(id));
}

void RcuDomain::retire(std::function<void()> free_fn)
{
    // The token marks "after the swap"; readers that report past it no longer
    // hold the old pointer.
    retired_.push_back({rte_rcu_qsbr_start(v_), std::move(free_fn)});
}

size_t RcuDomain::reclaim()
{
    size_t n = 0;
    // Tokens increase, so stop at the first one still in its grace period.
    while (!retired_.empty() && rte_rcu_qsbr_check(v_, retired_.front().token, false) == 1) {
        auto fn = std::move(retired_.front().free_fn);
        retired_.pop_front();
        fn();
        ++n;
    }
    return n;
}

bool RcuDomain::synchronize(std::chrono::milliseconds limit)
{
    auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        reclaim();
        if (retired_.empty())
            return true;
        if (std::chrono::steady_clock::now() >= end)
            return false;
        std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
}

const char* event_name(EventType t)
{
    switch (t) {
    case EventType::SoftLifetime: return "soft_lifetime";
    case EventType::HardLifetime: return "hard_lifetime";
    case EventType::SeqNearExhaustion: return "seq_near_exhaustion";
    case EventType::SeqExhausted: return "seq_exhausted";
    case EventType::Punt: return "punt";
    }
    return "unknown";
}

EventRing::EventRing(const std::string& name, unsigned size)
{
    r_ = rte_ring_create_elem(name.c_str(), sizeof(Event), size, SOCKET_ID_ANY, RING_F_SC_DEQ);
    if (!r_)
        throw std::runtime_error("cannot create event ring " + name + ": " + rte_strerror(rte_errno));
}

EventRing::~EventRing() { rte_ring_free(r_); }

unsigned EventRing::drain(const std::function<void(const Event&)>& fn, unsigned max)
{
    Event buf[64];
    unsigned total = 0;
    while (total < max) {
        unsigned want = std::min<unsigned>(64, max - total);
        unsigned n = rte_ring_sc_dequeue_burst_elem(r_, buf, sizeof(Event), want, nullptr);
        for (unsigned i = 0; i < n; ++i)
            fn(buf[i]);
        total += n;
        if (n < want)
            break;
    }
    return total;
}

}  // namespace ipsecgw::control
