// Anti-replay window (RFC 4303 §3.4.3 and Appendix A) as a ring of 64-bit
// blocks (the RFC 6479 layout): sliding forward clears whole blocks instead of
// shifting the bitmap. check() runs before decryption and changes nothing;
// accept() runs only after the ICV verified and re-checks, so two copies of one
// packet in the same burst cannot both pass.
//
// Not thread-safe: one writer per SA (the dataplane keeps inbound SAs on one
// lcore or serialises them).
#pragma once

#include <cstdint>
#include <memory>

namespace ipsecgw::esp {

enum class ReplayVerdict : uint8_t { Ok, Replayed, OutsideWindow };

class ReplayWindow {
public:
    // size: packets covered below the highest accepted number; 0 disables the
    // check (sequence numbers are still tracked so ESN inference works).
    // Rounded up to a multiple of 64.
    explicit ReplayWindow(uint32_t size = 1024, bool esn = false);

    // Inbound check on the 32 low-order bits carried in the packet. With ESN,
    // infers the high-order bits (RFC 4303 Appendix A2.2) into *full.
    ReplayVerdict check(uint32_t seq_low, uint64_t* full) const;
    // Marks `full` as received after its ICV verified. Returns Replayed or
    // OutsideWindow if another packet got there first.
    ReplayVerdict accept(uint64_t full);

    // Restarts the window as if `highest` had just been received and nothing
    // else (SA handover, tests that start near the end of a sequence space).
    void restart_at(uint64_t highest);

    uint32_t size() const { return size_; }
    bool enabled() const { return enabled_; }
    uint64_t highest() const { return top_; }
    // Whether `full` is marked as received (for display and tests).
    bool seen(uint64_t full) const;

private:
    uint64_t infer(uint32_t seq_low) const;
    ReplayVerdict test(uint64_t full) const;

    uint32_t size_;
    bool enabled_;
    bool esn_;
    uint64_t top_ = 0;           // highest accepted sequence number, 0 = none yet
    uint32_t block_mask_;        // blocks - 1 (blocks is a power of two)
    std::unique_ptr<uint64_t[]> bits_;
};

}  // namespace ipsecgw::esp
