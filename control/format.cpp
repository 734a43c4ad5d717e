#include "control/format.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <vector>

namespace ipsecgw::control {

namespace {

bool is_table(const Json& v)
{
    if (!v.is_array() || v.size() == 0)
        return false;
    for (const auto& e : v.as_array())
        if (!e.is_object())
            return false;
    return true;
}

std::string label(const std::string& key)
{
    std::string s = key;
    std::replace(s.begin(), s.end(), '_', ' ');
    return s;
}

void render(std::string& out, const Json& v, int level)
{
    std::string pad(static_cast<size_t>(level * 2), ' ');
    size_t width = 0;
    for (const auto& [k, m] : v.as_object())
        if (!m.is_object() && !is_table(m))
            width = std::max(width, k.size());
    for (const auto& [k, m] : v.as_object()) {
        if (m.is_object()) {
            out += pad + label(k) + ":\n";
            render(out, m, level + 1);
        } else if (is_table(m)) {
            out += "\n" + pad + label(k) + ":\n";
            std::string t = render_table(m);
            size_t pos = 0;
            while (pos < t.size()) {
                size_t nl = t.find('\n', pos);
                out += pad + "  " + t.substr(pos, nl - pos) + "\n";
                pos = nl + 1;
            }
        } else {
            std::string name = label(k) + ":";
            name.resize(width + 2, ' ');
            out += pad + name + scalar_text(m) + "\n";
        }
    }
}

}  // namespace

std::string scalar_text(const Json& v)
{
    switch (v.type()) {
    case Json::Type::Null: return "-";
    case Json::Type::Bool: return v.as_bool() ? "yes" : "no";
    case Json::Type::Int: return std::to_string(v.as_int());
    case Json::Type::Double: {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", v.as_double());
        return buf;
    }
    case Json::Type::String: return v.as_string().empty() ? "-" : v.as_string();
    case Json::Type::Array: {
        std::string s;
        for (const auto& e : v.as_array()) {
            if (!s.empty())
                s += ",";
            s += e.is_array() || e.is_object() ? e.dump() : scalar_text(e);
        }
        return s.empty() ? "-" : s;
    }
    case Json::Type::Object: {
        // A flat object in a table cell (e.g. an SA's drops by reason): k=v,k=v.
        std::string s;
        for (const auto& [k, e] : v.as_object()) {
            if (e.is_array() || e.is_object())
                return v.dump();
            s += (s.empty() ? "" : ",") + k + "=" + scalar_text(e);
        }
        return s.empty() ? "-" : s;
    }
    }
    return "";
}

std::string render_table(const Json& rows)
{
    std::vector<std::string> cols;
    for (const auto& r : rows.as_array())
        for (const auto& [k, v] : r.as_object())
            if (std::find(cols.begin(), cols.end(), k) == cols.end())
                cols.push_back(k);
    std::vector<std::vector<std::string>> cells;
    std::vector<size_t> width(cols.size());
    std::vector<bool> numeric(cols.size(), true);
    std::vector<std::string> head;
    for (size_t c = 0; c < cols.size(); ++c) {
        std::string h = cols[c];
        std::transform(h.begin(), h.end(), h.begin(), [](char ch) { return ch == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch))); });
        head.push_back(h);
        width[c] = h.size();
    }
    for (const auto& r : rows.as_array()) {
        std::vector<std::string> line;
        for (size_t c = 0; c < cols.size(); ++c) {
            const Json* v = r.find(cols[c]);
            std::string s = v ? scalar_text(*v) : "-";
            if (v && !v->is_number() && !v->is_null())
                numeric[c] = false;
            width[c] = std::max(width[c], s.size());
            line.push_back(std::move(s));
        }
        cells.push_back(std::move(line));
    }
    auto emit = [&](std::string& out, const std::vector<std::string>& line, bool header) {
        std::string l;
        for (size_t c = 0; c < cols.size(); ++c) {
            const std::string& s = line[c];
            std::string fill(width[c] - s.size(), ' ');
            bool last = c + 1 == cols.size();
            if (numeric[c] && !header)
                l += fill + s;
            else
                l += last ? s : s + fill;
            if (!last)
                l += "  ";
        }
        while (!l.empty() && l.back() == ' ')
            l.pop_back();
        out += l + "\n";
    };
    std::string out;
    emit(out, head, true);
    for (const auto& line : cells)
        emit(out, line, false);
    return out;
}

std::string render_human(const Json& result)
{
    if (result.is_object() && result.size() == 1 && result.find("text") && result.find("text")->is_string())
        return result.find("text")->as_string();
    if (is_table(result))
        return render_table(result);
    if (!result.is_object())
        return scalar_text(result) + "\n";
    // An object whose only member is a table prints as just that table.
    if (result.size() == 1 && is_table(result.as_object()[0].second))
        return render_table(result.as_object()[0].second);
    if (result.size() == 1 && result.as_object()[0].second.is_array() && result.as_object()[0].second.size() == 0)
        return "(none)\n";
    std::string out;
    render(out, result, 0);
    return out;
}

std::string render_ike(const Json& result)
{
    const Json* conns = result.find("connections");
    if (!conns || !conns->is_array())
        return render_human(result);
    Json ike_rows = Json::array(), child_rows = Json::array();
    auto copy = [](Json& row, const Json& from, const char* key, const char* as) {
        const Json* v = from.find(key);
        row.set(as, v ? *v : Json());
    };
    for (const auto& c : conns->as_array()) {
        const Json* name = c.find("name");
        const Json* sas = c.find("ike_sas");
        const Json* error = c.find("last_error");
        bool any = false;
        for (const auto& sa : sas && sas->is_array() ? sas->as_array() : Json::Array{}) {
            any = true;
            Json r = Json::object();
            r.set("connection", name ? *name : Json());
            for (const char* k : {"handle", "state", "role", "peer", "spi_i", "spi_r", "algorithms", "nat",
                                  "established_s_ago", "rekey_in_s", "expires_in_s"})
                copy(r, sa, k, k);
            r.set("last_error", error ? *error : Json());
            ike_rows.push(std::move(r));
            const Json* children = sa.find("children");
            for (const auto& ch : children && children->is_array() ? children->as_array() : Json::Array{}) {
                Json k = Json::object();
                k.set("connection", name ? *name : Json());
                copy(k, sa, "handle", "ike_sa");
                for (const char* f : {"spi_in", "spi_out", "algorithms", "udp_encap", "local_ts", "remote_ts",
                                      "in_packets", "in_bytes", "out_packets", "out_bytes"})
                    copy(k, ch, f, f);
                child_rows.push(std::move(k));
            }
        }
        if (!any) {
            Json r = Json::object();
            r.set("connection", name ? *name : Json());
            r.set("state", "down");
            r.set("last_error", error ? *error : Json());
            ike_rows.push(std::move(r));
        }
    }
    std::string out = ike_rows.size() ? render_table(ike_rows) : "(no connections)\n";
    if (child_rows.size())
        out += "\nCHILD_SAs\n" + render_table(child_rows);
    return out;
}

}  // namespace ipsecgw::control
