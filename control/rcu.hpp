// Safe publication of control-built tables and SAs to worker lcores with
// DPDK's QSBR RCU (rte_rcu_qsbr), and the worker -> control event ring.
//
// Writer (control thread only):
//   Published<T>::publish(new)  one release store of the pointer; the old
//                               object is retired, not freed.
//   RcuDomain::reclaim()        frees retired objects whose grace period is
//                               over: every registered, online worker reported
//                               a quiescent state after the swap. Non-blocking.
//   RcuDomain::synchronize(ms)  bounded wait for every grace period.
// Readers (workers): read() the pointer at most once per burst and call
// quiescent(id) between bursts, when they hold no pointer. They never block
// and never see a half-built object: it is fully constructed before the
// release store. Objects are freed by their own destructor (esp::Sa's wipes
// its key), on the control thread.
#pragma once

#include <rte_rcu_qsbr.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

namespace ipsecgw::control {

class RcuDomain {
public:
    explicit RcuDomain(unsigned max_readers);  // throws std::runtime_error
    ~RcuDomain();                              // frees what is still retired (workers must be stopped)
    RcuDomain(const RcuDomain&) = delete;
    RcuDomain& operator=(const RcuDomain&) = delete;

    // Reader side, from the reader's own thread.
    void register_reader(unsigned id);  // once, before the reader starts
    void online(unsigned id) { rte_rcu_qsbr_thread_online(v_, id); }
    void offline(unsigned id) { rte_rcu_qsbr_thread_offline(v_, id); }
    void quiescent(unsigned id) { rte_rcu_qsbr_quiescent(v_, id); }

    // Writer side.
    void retire(std::function<void()> free_fn);
    size_t reclaim();                                   // returns how many were freed
    bool synchronize(std::chrono::milliseconds limit);  // true when nothing is left retired
    size_t pending() const { return retired_.size(); }
    rte_rcu_qsbr* qsbr() { return v_; }

private:
    struct Retired {
        uint64_t token;
        std::function<void()> free_fn;
    };
    rte_rcu_qsbr* v_ = nullptr;
    std::deque<Retired> retired_;
};

template <class T>
class Published {
public:
    explicit Published(RcuDomain& d, std::unique_ptr<T> initial = nullptr) : d_(d), cur_(initial.release()) {}
    ~Published()
    {
        d_.synchronize(std::chrono::milliseconds(1000));
        delete cur_.load();
    }
    Published(const Published&) = delete;
    Published& operator=(const Published&) = delete;

    // Workers: the current object, valid until their next quiescent().
    T* read() const { return cur_.load(std::memory_order_acquire); }
    // Control thread: swaps in `next` (fully built) and retires the old one.
    void publish(std::unique_ptr<T> next)
    {
        T* old = cur_.exchange(next.release(), std::memory_order_acq_rel);
        if (old)
            d_.retire([old] { delete old; });
    }
    // Control thread: the current object for reading or cloning.
    const T* current() const { return cur_.load(std::memory_order_relaxed); }

private:
    RcuDomain& d_;
    std::atomic<T*> cur_;
};

// Worker -> control events. Multi-producer (workers), single consumer
// (control). post() never blocks: a full ring counts the event as lost.
enum class EventType : uint16_t { SoftLifetime = 1, HardLifetime, SeqNearExhaustion, SeqExhausted, Punt };
const char* event_name(EventType t);

struct Event {
    EventType type;
    uint16_t worker;
    uint32_t sa_slot;
    uint64_t value;
};
static_assert(sizeof(Event) == 16);

class EventRing {
public:
    EventRing(const std::string& name, unsigned size);  // size: power of two
    ~EventRing();
    EventRing(const EventRing&) = delete;
    EventRing& operator=(const EventRing&) = delete;
    bool post(const Event& e)
    {
        if (rte_ring_mp_enqueue_elem(r_, const_cast<Event*>(&e), sizeof(Event)) == 0)
            return true;
        lost_.fetch_add(1, std::memory_order_relaxed);
        return false;
    }
    // Control thread: drains up to max events into fn; returns how many.
    unsigned drain(const std::function<void(const Event&)>& fn, unsigned max = 1024);
    uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }

private:
    rte_ring* r_ = nullptr;
    std::atomic<uint64_t> lost_{0};
};

}  // namespace ipsecgw::control
