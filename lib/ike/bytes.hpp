// Byte buffers and bounds-checked big-endian readers/writers for the IKEv2 codec.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace ipsecgw::ike {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline Bytes to_bytes(std::string_view s) { return Bytes(s.begin(), s.end()); }
inline Bytes concat(std::initializer_list<ByteView> parts) {
    Bytes out;
    for (auto p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

// Every read is checked against the remaining input; a failed read leaves the
// reader in a sticky failed state so callers can check once at the end.
class Reader {
public:
    explicit Reader(ByteView in) : in_(in) {}

    bool ok() const { return ok_; }
    std::size_t remaining() const { return ok_ ? in_.size() - pos_ : 0; }
    std::size_t position() const { return pos_; }

    std::uint8_t u8() {
        if (!need(1)) return 0;
        return in_[pos_++];
    }
    std::uint16_t u16() {
        if (!need(2)) return 0;
        std::uint16_t v = static_cast<std::uint16_t>(in_[pos_] << 8 | in_[pos_ + 1]);
        pos_ += 2;
        return v;
    }
    std::uint32_t u32() {
        std::uint32_t hi = u16();
        return hi << 16 | u16();
    }
    std::uint64_t u64() {
        std::uint64_t hi = u32();
        return hi << 32 | u32();
    }
    ByteView view(std::size_t n) {
        if (!need(n)) return {};
        ByteView v = in_.subspan(pos_, n);
        pos_ += n;
        return v;
    }
    Bytes bytes(std::size_t n) {
        ByteView v = view(n);
        return Bytes(v.begin(), v.end());
    }
    ByteView rest() { return view(remaining()); }
    void skip(std::size_t n) { view(n); }

private:
    bool need(std::size_t n) {
        if (!ok_ || in_.size() - pos_ < n) {
            ok_ = false;
            return false;
        }
        return true;
    }
    ByteView in_;
    std::size_t pos_ = 0;
    bool ok_ = true;
};

class Writer {
public:
    explicit Writer(Bytes& out) : out_(out) {}
    std::size_t position() const { return out_.size(); }
    void u8(std::uint8_t v) { out_.push_back(v); }
    void u16(std::uint16_t v) {
        out_.push_back(static_cast<std::uint8_t>(v >> 8));
        out_.push_back(static_cast<std::uint8_t>(v));
    }
    void u32(std::uint32_t v) {
        u16(static_cast<std::uint16_t>(v >> 16));
        u16(static_cast<std::uint16_t>(v));
    }
    void u64(std::uint64_t v) {
        u32(static_cast<std::uint32_t>(v >> 32));
        u32(static_cast<std::uint32_t>(v));
    }
    void bytes(ByteView v) { out_.insert(out_.end(), v.begin(), v.end()); }
    void zeros(std::size_t n) { out_.insert(out_.end(), n, 0); }
    void patch_u16(std::size_t at, std::uint16_t v) {
        out_[at] = static_cast<std::uint8_t>(v >> 8);
        out_[at + 1] = static_cast<std::uint8_t>(v);
    }
    void patch_u32(std::size_t at, std::uint32_t v) {
        patch_u16(at, static_cast<std::uint16_t>(v >> 16));
        patch_u16(at + 2, static_cast<std::uint16_t>(v));
    }

private:
    Bytes& out_;
};

}  // namespace ipsecgw::ike
