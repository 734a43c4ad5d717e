#include "control/prometheus.hpp"

namespace ipsecgw::control {

std::string prom_escape(const std::string& v)
{
    std::string o;
    for (char c : v) {
        if (c == '\\') o += "\\\\";
        else if (c == '"') o += "\\\"";
        else if (c == '\n') o += "\\n";
        else o += c;
    }
    return o;
}

void PromWriter::sample(const std::string& name, const char* type, const char* help, Labels labels, uint64_t value)
{
    if (declared_.insert(name).second) {
        out_ += "# HELP " + name + " " + help + "\n";
        out_ += "# TYPE " + name + " " + type + "\n";
    }
    out_ += name;
    if (labels.size()) {
        out_ += '{';
        bool first = true;
        for (const auto& [k, v] : labels) {
            if (!first)
                out_ += ',';
            first = false;
            out_ += k;
            out_ += "=\"";
            out_ += prom_escape(v);
            out_ += '"';
        }
        out_ += '}';
    }
    out_ += ' ';
    out_ += std::to_string(value);
    out_ += '\n';
}

}  // namespace ipsecgw::control
