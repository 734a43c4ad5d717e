// Helpers shared by the IKE tests.
#pragma once

#include <string>

#include "ike/bytes.hpp"

namespace ike_test {

inline ipsecgw::ike::Bytes hex(std::string s) {
    std::string clean;
    for (char c : s)
        if (std::isxdigit(static_cast<unsigned char>(c))) clean += c;
    ipsecgw::ike::Bytes out;
    for (std::size_t i = 0; i + 1 < clean.size(); i += 2) out.push_back(static_cast<std::uint8_t>(std::stoi(clean.substr(i, 2), nullptr, 16)));
    return out;
}

template <class C>
ipsecgw::ike::Bytes plain(const C& c) {
    return ipsecgw::ike::Bytes(c.begin(), c.end());
}

}  // namespace ike_test
