#include "esp/replay_window.hpp"

#include <algorithm>
#include <bit>

#include "esp/sa_config.hpp"

namespace ipsecgw::esp {

namespace {
// Window used to infer ESN high bits when the replay check is disabled.
constexpr uint32_t kInferenceWindow = 1024;
}

ReplayWindow::ReplayWindow(uint32_t size, bool esn)
    : size_(std::min((size + 63) / 64 * 64, kMaxReplayWindow)), enabled_(size != 0), esn_(esn)
{
    // One spare block beyond the window, so the block being filled never
    // overlaps the oldest block still inside the window.
    uint32_t blocks = std::bit_ceil(std::max(size_, 64u) / 64 + 1);
    block_mask_ = blocks - 1;
    bits_ = std::make_unique<uint64_t[]>(blocks);
    if (!enabled_)
        size_ = 0;
}

uint64_t ReplayWindow::infer(uint32_t seq) const
{
    // RFC 4303 Appendix A2.2, with Tl/Th the halves of the highest accepted
    // number and W the window size.
    if (!esn_)
        return seq;
    uint64_t w = enabled_ ? size_ : kInferenceWindow;
    uint32_t tl = uint32_t(top_), th = uint32_t(top_ >> 32);
    uint32_t bottom = uint32_t(tl - w + 1);  // modulo 2^32
    if (tl >= w - 1) {
        // Window within one subspace: below it means the next subspace.
        if (seq >= bottom)
            return uint64_t(th) << 32 | seq;
        if (th == UINT32_MAX)
            return UINT64_MAX;  // would wrap the 64-bit space: rejected as outside
        return uint64_t(th + 1) << 32 | seq;
    }
    // Window spans two subspaces: numbers above `bottom` belong to the previous one.
    if (seq >= bottom) {
        if (th == 0)
            return 0;  // before the first subspace: outside the window
        return uint64_t(th - 1) << 32 | seq;
    }
    return uint64_t(th) << 32 | seq;
}

ReplayVerdict ReplayWindow::test(uint64_t full) const
{
    if (full == 0 || full == UINT64_MAX)
        return ReplayVerdict::OutsideWindow;  // 0 is never sent; MAX marks a wrap
    if (!enabled_ || full > top_)
        return ReplayVerdict::Ok;
    if (top_ - full >= size_)
        return ReplayVerdict::OutsideWindow;
    return seen(full) ? ReplayVerdict::Replayed : ReplayVerdict::Ok;
}

ReplayVerdict ReplayWindow::check(uint32_t seq_low, uint64_t* full) const
{
    *full = infer(seq_low);
    return test(*full);
}

void ReplayWindow::restart_at(uint64_t highest)
{
    std::fill(bits_.get(), bits_.get() + block_mask_ + 1, 0);
    top_ = highest;
    if (enabled_ && highest)
        bits_[(highest >> 6) & block_mask_] |= 1ull << (highest & 63);
}

bool ReplayWindow::seen(uint64_t full) const
{
    uint64_t block = full >> 6;
    return bits_[block & block_mask_] >> (full & 63) & 1;
}

ReplayVerdict ReplayWindow::accept(uint64_t full)
{
    ReplayVerdict v = test(full);
    if (v != ReplayVerdict::Ok)
        return v;
    if (full > top_) {
        // Clear the blocks the window slides over (all of them at most once).
        uint64_t old_block = top_ >> 6, new_block = full >> 6;
        uint64_t n = std::min<uint64_t>(new_block - old_block, block_mask_ + 1);
        for (uint64_t i = 1; i <= n; ++i)
            bits_[(old_block + i) & block_mask_] = 0;
        top_ = full;
    }
    if (enabled_)
        bits_[(full >> 6) & block_mask_] |= 1ull << (full & 63);
    return ReplayVerdict::Ok;
}

}  // namespace ipsecgw::esp
