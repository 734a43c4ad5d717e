#include "gateway/value_parsers.hpp"

#include <charconv>

namespace ipsecgw::gateway {

std::optional<uint64_t> parse_uint(std::string_view text, uint64_t max)
{
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        text.remove_prefix(2);
        base = 16;
    }
    if (text.empty())
        return std::nullopt;
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v, base);
    if (ec != std::errc() || p != text.data() + text.size() || v > max)
        return std::nullopt;
    return v;
}

std::optional<std::pair<uint64_t, uint64_t>> parse_range(std::string_view text, uint64_t max)
{
    size_t sep = text.find_first_of(":-");
    if (sep == std::string_view::npos) {
        auto v = parse_uint(text, max);
        if (!v)
            return std::nullopt;
        return std::pair{*v, *v};
    }
    auto lo = parse_uint(text.substr(0, sep), max);
    auto hi = parse_uint(text.substr(sep + 1), max);
    if (!lo || !hi || *lo > *hi)
        return std::nullopt;
    return std::pair{*lo, *hi};
}

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

std::optional<MacAddress> parse_mac(std::string_view text)
{
    MacAddress mac{};
    size_t i = 0;
    for (unsigned b = 0; b < 6; ++b) {
        if (b > 0) {
            if (i >= text.size() || text[i] != ':')
                return std::nullopt;
            ++i;
        }
        int v = 0, digits = 0;
        while (i < text.size() && text[i] != ':' && digits < 3) {
            int d = hex_digit(text[i]);
            if (d < 0)
                return std::nullopt;
            v = v * 16 + d, ++digits, ++i;
        }
        if (digits == 0 || digits > 2)
            return std::nullopt;
        mac[b] = static_cast<uint8_t>(v);
    }
    if (i != text.size())
        return std::nullopt;
    return mac;
}

net::IpAddress mask_address(const net::IpAddress& a, uint8_t len)
{
    net::IpAddress r = a;
    for (size_t i = 0; i < r.size(); ++i) {
        unsigned bit = static_cast<unsigned>(i) * 8;
        if (bit >= len)
            r.bytes[i] = 0;
        else if (bit + 8 > len)
            r.bytes[i] &= static_cast<uint8_t>(0xff00u >> (len - bit));
    }
    return r;
}

std::optional<net::IpPrefix> parse_prefix(std::string_view text, bool lenient)
{
    size_t slash = text.find('/');
    auto addr = net::IpAddress::parse(text.substr(0, slash));
    if (!addr)
        return std::nullopt;
    unsigned max = addr->is_v4() ? 32 : 128;
    uint64_t len = max;
    if (slash != std::string_view::npos) {
        auto l = parse_uint(text.substr(slash + 1), max);
        if (!l)
            return std::nullopt;
        len = *l;
    }
    net::IpPrefix p{mask_address(*addr, static_cast<uint8_t>(len)), static_cast<uint8_t>(len)};
    if (!lenient && !(p.addr == *addr))
        return std::nullopt;
    return p;
}

bool parse_key_bytes(std::string_view text, std::vector<uint8_t>& out)
{
    out.clear();
    out.reserve(64);  // no reallocation: freed buffers would keep key bytes
    if (text.find(':') != std::string_view::npos) {
        size_t i = 0;
        while (i <= text.size()) {
            size_t end = text.find(':', i);
            if (end == std::string_view::npos)
                end = text.size();
            std::string_view byte = text.substr(i, end - i);
            if (byte.empty() || byte.size() > 2)
                return false;
            int v = 0;
            for (char c : byte) {
                int d = hex_digit(c);
                if (d < 0)
                    return false;
                v = v * 16 + d;
            }
            out.push_back(static_cast<uint8_t>(v));
            i = end + 1;
        }
        return !out.empty();
    }
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X'))
        text.remove_prefix(2);
    if (text.empty() || text.size() % 2 != 0)
        return false;
    for (size_t i = 0; i < text.size(); i += 2) {
        int h = hex_digit(text[i]), l = hex_digit(text[i + 1]);
        if (h < 0 || l < 0)
            return false;
        out.push_back(static_cast<uint8_t>(h * 16 + l));
    }
    return true;
}

}  // namespace ipsecgw::gateway
