#include "ip_address.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ipsecgw::net {

IpAddress IpAddress::v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    IpAddress r;
    r.family = Family::V4;
    r.bytes[0] = a, r.bytes[1] = b, r.bytes[2] = c, r.bytes[3] = d;
    return r;
}

IpAddress IpAddress::from_bytes(Family f, const uint8_t* p)
{
    IpAddress r;
    r.family = f;
    std::memcpy(r.bytes.data(), p, f == Family::V4 ? 4 : 16);
    return r;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text)
{
    if (text.empty() || text.size() > INET6_ADDRSTRLEN)
        return std::nullopt;
    char buf[INET6_ADDRSTRLEN + 1];
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    IpAddress r;
    if (inet_pton(AF_INET, buf, r.bytes.data()) == 1) {
        r.family = Family::V4;
        return r;
    }
    if (inet_pton(AF_INET6, buf, r.bytes.data()) == 1) {
        r.family = Family::V6;
        return r;
    }
    return std::nullopt;
}

std::string IpAddress::to_string() const
{
    char buf[INET6_ADDRSTRLEN];
    if (family == Family::V4)
        return inet_ntop(AF_INET, bytes.data(), buf, sizeof buf);
    if (family == Family::V6)
        return inet_ntop(AF_INET6, bytes.data(), buf, sizeof buf);
    return "none";
}

std::optional<IpPrefix> IpPrefix::parse(std::string_view text)
{
    auto slash = text.find('/');
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr)
        return std::nullopt;
    unsigned max = addr->is_v4() ? 32 : 128;
    unsigned len = max;
    if (slash != std::string_view::npos) {
        auto digits = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), len);
        if (ec != std::errc() || end != digits.data() + digits.size() || digits.empty() || len > max)
            return std::nullopt;
    }
    IpPrefix p{*addr, static_cast<uint8_t>(len)};
    for (unsigned bit = len; bit < max; ++bit)
        if (p.addr.bytes[bit / 8] & (0x80 >> (bit % 8)))
            return std::nullopt;
    return p;
}

bool IpPrefix::contains(const IpAddress& a) const
{
    if (a.family != addr.family)
        return false;
    unsigned full = len / 8, rest = len % 8;
    if (std::memcmp(a.bytes.data(), addr.bytes.data(), full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
    return (a.bytes[full] & mask) == (addr.bytes[full] & mask);
}

std::string IpPrefix::to_string() const
{
    return addr.to_string() + "/" + std::to_string(len);
}

}  // namespace ipsecgw::net
