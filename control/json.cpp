#include "control/json.hpp"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace ipsecgw::control {

namespace {

const char* type_name(Json::Type t)
{
    switch (t) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "boolean";
    case Json::Type::Int:
    case Json::Type::Double: return "number";
    case Json::Type::String: return "string";
    case Json::Type::Array: return "array";
    case Json::Type::Object: return "object";
    }
    return "?";
}

[[noreturn]] void mismatch(Json::Type have, const char* want)
{
    throw JsonError(std::string("expected ") + want + ", got " + type_name(have));
}

class Reader {
public:
    Reader(std::string_view s, unsigned max_depth) : s_(s), max_depth_(max_depth) {}

    Json document()
    {
        ws();
        Json v = value(0);
        ws();
        if (p_ != s_.size())
            fail("trailing characters after the value");
        return v;
    }

private:
    [[noreturn]] void fail(const std::string& why) const
    {
        throw JsonError("invalid JSON at byte " + std::to_string(p_) + ": " + why);
    }
    void ws()
    {
        while (p_ < s_.size() && (s_[p_] == ' ' || s_[p_] == '\t' || s_[p_] == '\n' || s_[p_] == '\r'))
            ++p_;
    }
    bool eat(char c)
    {
        if (p_ < s_.size() && s_[p_] == c) {
            ++p_;
            return true;
        }
        return false;
    }
    void literal(std::string_view word)
    {
        if (s_.substr(p_, word.size()) != word)
            fail("unexpected character");
        p_ += word.size();
    }

    Json value(unsigned depth)
    {
        if (depth > max_depth_)
            fail("nesting deeper than " + std::to_string(max_depth_));
        if (p_ >= s_.size())
            fail("unexpected end of input");
        char c = s_[p_];
        switch (c) {
        case '{': return object(depth);
        case '[': return array(depth);
        case '"': return Json(string());
        case 't': literal("true"); return Json(true);
        case 'f': literal("false"); return Json(false);
        case 'n': literal("null"); return Json();
        default:
            if (c == '-' || (c >= '0' && c <= '9'))
                return number();
            fail("unexpected character");
        }
    }

    Json object(unsigned depth)
    {
        ++p_;
        Json o = Json::object();
        ws();
        if (eat('}'))
            return o;
        for (;;) {
            ws();
            if (p_ >= s_.size() || s_[p_] != '"')
                fail("expected a member name");
            std::string key = string();
            ws();
            if (!eat(':'))
                fail("expected ':'");
            ws();
            Json v = value(depth + 1);
            if (o.find(key))
                fail("duplicate member \"" + key + "\"");
            o.as_object().emplace_back(std::move(key), std::move(v));
            ws();
            if (eat('}'))
                return o;
            if (!eat(','))
                fail("expected ',' or '}'");
        }
    }

    Json array(unsigned depth)
    {
        ++p_;
        Json a = Json::array();
        ws();
        if (eat(']'))
            return a;
        for (;;) {
            ws();
            a.as_array().push_back(value(depth + 1));
            ws();
            if (eat(']'))
                return a;
            if (!eat(','))
                fail("expected ',' or ']'");
        }
    }

    unsigned hex4()
    {
        if (p_ + 4 > s_.size())
            fail("truncated \\u escape");
        unsigned v = 0;
        for (int i = 0; i < 4; ++i) {
            char c = s_[p_++];
            v <<= 4;
            if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
            else fail("bad hex digit in \\u escape");
        }
        return v;
    }

    static void utf8(std::string& out, unsigned cp)
    {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xc0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xe0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
            out += static_cast<char>(0x80 | (cp & 0x3f));
        }
    }

    std::string string()
    {
        ++p_;  // opening quote
        std::string out;
        for (;;) {
            if (p_ >= s_.size())
                fail("unterminated string");
            auto c = static_cast<unsigned char>(s_[p_++]);
            if (c == '"')
                return out;
            if (c < 0x20)
                fail("control character in string");
            if (c != '\\') {
                out += static_cast<char>(c);
                continue;
            }
            if (p_ >= s_.size())
                fail("unterminated escape");
            char e = s_[p_++];
            switch (e) {
            case '"': out += '"'; break;
            case '\\': out += '\\'; break;
            case '/': out += '/'; break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': {
                unsigned cp = hex4();
                if (cp >= 0xd800 && cp < 0xdc00) {
                    if (p_ + 2 > s_.size() || s_[p_] != '\\' || s_[p_ + 1] != 'u')
                        fail("unpaired surrogate");
                    p_ += 2;
                    unsigned lo = hex4();
                    if (lo < 0xdc00 || lo >= 0xe000)
                        fail("bad low surrogate");
                    cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                } else if (cp >= 0xdc00 && cp < 0xe000) {
                    fail("unpaired surrogate");
                }
                utf8(out, cp);
                break;
            }
            default: fail("unknown escape");
            }
        }
    }

    Json number()
    {
        size_t start = p_;
        bool integral = true;
        eat('-');
        if (eat('0')) {
        } else if (p_ < s_.size() && s_[p_] >= '1' && s_[p_] <= '9') {
            while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9')
                ++p_;
        } else {
            fail("bad number");
        }
        if (eat('.')) {
            integral = false;
            if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9')
                fail("bad fraction");
            while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9')
                ++p_;
        }
        if (p_ < s_.size() && (s_[p_] == 'e' || s_[p_] == 'E')) {
            integral = false;
            ++p_;
            if (!eat('+'))
                eat('-');
            if (p_ >= s_.size() || s_[p_] < '0' || s_[p_] > '9')
                fail("bad exponent");
            while (p_ < s_.size() && s_[p_] >= '0' && s_[p_] <= '9')
                ++p_;
        }
        std::string text(s_.substr(start, p_ - start));
        if (integral) {
            errno = 0;
            char* end = nullptr;
            long long v = std::strtoll(text.c_str(), &end, 10);
            if (errno == 0 && end == text.c_str() + text.size())
                return Json(static_cast<int64_t>(v));
            // Out of int64 range (e.g. a u64 counter): keep it as a double.
        }
        return Json(std::strtod(text.c_str(), nullptr));
    }

    std::string_view s_;
    size_t p_ = 0;
    unsigned max_depth_;
};

}  // namespace

bool Json::as_bool() const
{
    if (!is_bool()) mismatch(type(), "boolean");
    return std::get<bool>(v_);
}

int64_t Json::as_int() const
{
    if (is_int())
        return std::get<int64_t>(v_);
    if (type() == Type::Double) {
        double d = std::get<double>(v_);
        if (std::trunc(d) == d && d >= -9.2e18 && d <= 9.2e18)
            return static_cast<int64_t>(d);
    }
    mismatch(type(), "integer");
}

double Json::as_double() const
{
    if (is_int()) return static_cast<double>(std::get<int64_t>(v_));
    if (type() == Type::Double) return std::get<double>(v_);
    mismatch(type(), "number");
}

const std::string& Json::as_string() const
{
    if (!is_string()) mismatch(type(), "string");
    return std::get<std::string>(v_);
}

const Json::Array& Json::as_array() const
{
    if (!is_array()) mismatch(type(), "array");
    return std::get<Array>(v_);
}

Json::Array& Json::as_array()
{
    if (!is_array()) mismatch(type(), "array");
    return std::get<Array>(v_);
}

const Json::Object& Json::as_object() const
{
    if (!is_object()) mismatch(type(), "object");
    return std::get<Object>(v_);
}

Json::Object& Json::as_object()
{
    if (!is_object()) mismatch(type(), "object");
    return std::get<Object>(v_);
}

const Json* Json::find(std::string_view key) const
{
    if (!is_object())
        return nullptr;
    for (const auto& [k, v] : std::get<Object>(v_))
        if (k == key)
            return &v;
    return nullptr;
}

Json& Json::set(std::string key, Json value)
{
    if (is_null())
        v_ = Object{};
    for (auto& [k, v] : as_object())
        if (k == key) {
            v = std::move(value);
            return *this;
        }
    as_object().emplace_back(std::move(key), std::move(value));
    return *this;
}

Json& Json::push(Json value)
{
    if (is_null())
        v_ = Array{};
    as_array().push_back(std::move(value));
    return *this;
}

size_t Json::size() const
{
    if (is_array()) return std::get<Array>(v_).size();
    if (is_object()) return std::get<Object>(v_).size();
    return 0;
}

void json_quote(std::string& out, std::string_view s)
{
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += ch;
            }
        }
    }
    out += '"';
}

void Json::write(std::string& out, int indent, int level) const
{
    auto newline = [&](int lvl) {
        if (indent > 0) {
            out += '\n';
            out.append(static_cast<size_t>(indent * lvl), ' ');
        }
    };
    switch (type()) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += std::get<bool>(v_) ? "true" : "false"; break;
    case Type::Int: out += std::to_string(std::get<int64_t>(v_)); break;
    case Type::Double: {
        double d = std::get<double>(v_);
        if (!std::isfinite(d)) {
            out += "null";
        } else {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", d);
            out += buf;
        }
        break;
    }
    case Type::String: json_quote(out, std::get<std::string>(v_)); break;
    case Type::Array: {
        const auto& a = std::get<Array>(v_);
        out += '[';
        for (size_t i = 0; i < a.size(); ++i) {
            if (i)
                out += ',';
            newline(level + 1);
            a[i].write(out, indent, level + 1);
        }
        if (!a.empty())
            newline(level);
        out += ']';
        break;
    }
    case Type::Object: {
        const auto& o = std::get<Object>(v_);
        out += '{';
        for (size_t i = 0; i < o.size(); ++i) {
            if (i)
                out += ',';
            newline(level + 1);
            json_quote(out, o[i].first);
            out += indent > 0 ? ": " : ":";
            o[i].second.write(out, indent, level + 1);
        }
        if (!o.empty())
            newline(level);
        out += '}';
        break;
    }
    }
}

std::string Json::dump() const
{
    std::string out;
    write(out, 0, 0);
    return out;
}

std::string Json::pretty(int indent) const
{
    std::string out;
    write(out, indent, 0);
    return out;
}

Json Json::parse(std::string_view text, unsigned max_depth)
{
    return Reader(text, max_depth).document();
}

}  // namespace ipsecgw::control
