// Key material that wipes itself: every buffer a SecretBytes ever owned is
// cleansed before it goes back to the heap, including on reallocation.
#pragma once

#include <openssl/crypto.h>

#include <cstdint>
#include <new>
#include <vector>

#include "ike/bytes.hpp"

namespace ipsecgw::ike {

template <class T>
struct WipingAllocator {
    using value_type = T;
    WipingAllocator() = default;
    template <class U>
    WipingAllocator(const WipingAllocator<U>&) {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) {
        OPENSSL_cleanse(p, n * sizeof(T));
        ::operator delete(p);
    }
    template <class U>
    bool operator==(const WipingAllocator<U>&) const { return true; }
};

using SecretBytes = std::vector<std::uint8_t, WipingAllocator<std::uint8_t>>;

inline SecretBytes to_secret(ByteView v) { return SecretBytes(v.begin(), v.end()); }
inline Bytes to_plain(ByteView v) { return Bytes(v.begin(), v.end()); }

// Fresh random bytes from OpenSSL's DRBG.
Bytes random_bytes(std::size_t n);
std::uint64_t random_u64();
std::uint32_t random_u32();

}  // namespace ipsecgw::ike
