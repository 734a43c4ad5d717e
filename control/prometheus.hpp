// Prometheus text exposition format (version 0.0.4): HELP/TYPE once per
// metric family, then samples with escaped label values.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <set>
#include <string>
#include <utility>

namespace ipsecgw::control {

class PromWriter {
public:
    using Labels = std::initializer_list<std::pair<const char*, std::string>>;
    // Declares a family (first use only) and writes one sample.
    void sample(const std::string& name, const char* type, const char* help, Labels labels, uint64_t value);
    const std::string& text() const { return out_; }

private:
    std::string out_;
    std::set<std::string> declared_;
};

std::string prom_escape(const std::string& v);

}  // namespace ipsecgw::control
