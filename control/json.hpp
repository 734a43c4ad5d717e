// A small JSON value, reader and writer for the control protocol (RFC 8259).
// Objects keep their members in insertion order, so replies list fields in
// the order the gateway wrote them (gwctl prints table columns that way).
// The reader is bounded: nesting depth and input size are limited by the
// caller's request limit, and every error is a JsonError with a byte offset.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ipsecgw::control {

class JsonError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Json {
public:
    using Array = std::vector<Json>;
    using Object = std::vector<std::pair<std::string, Json>>;
    enum class Type { Null, Bool, Int, Double, String, Array, Object };

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : v_(b) {}
    Json(int i) : v_(static_cast<int64_t>(i)) {}
    Json(unsigned i) : v_(static_cast<int64_t>(i)) {}
    Json(long i) : v_(static_cast<int64_t>(i)) {}
    Json(unsigned long i) : v_(static_cast<int64_t>(i)) {}
    Json(long long i) : v_(static_cast<int64_t>(i)) {}
    Json(unsigned long long i) : v_(static_cast<int64_t>(i)) {}
    Json(double d) : v_(d) {}
    Json(const char* s) : v_(std::string(s)) {}
    Json(std::string s) : v_(std::move(s)) {}
    Json(std::string_view s) : v_(std::string(s)) {}
    Json(Array a) : v_(std::move(a)) {}
    Json(Object o) : v_(std::move(o)) {}

    static Json object() { return Json(Object{}); }
    static Json array() { return Json(Array{}); }

    Type type() const { return static_cast<Type>(v_.index()); }
    bool is_null() const { return type() == Type::Null; }
    bool is_bool() const { return type() == Type::Bool; }
    bool is_int() const { return type() == Type::Int; }
    bool is_number() const { return type() == Type::Int || type() == Type::Double; }
    bool is_string() const { return type() == Type::String; }
    bool is_array() const { return type() == Type::Array; }
    bool is_object() const { return type() == Type::Object; }

    // Accessors throw JsonError on a type mismatch.
    bool as_bool() const;
    int64_t as_int() const;
    double as_double() const;
    const std::string& as_string() const;
    const Array& as_array() const;
    Array& as_array();
    const Object& as_object() const;
    Object& as_object();

    // Object members: find() returns nullptr when absent (or not an object).
    const Json* find(std::string_view key) const;
    // Sets (or replaces) a member; turns a null value into an object.
    Json& set(std::string key, Json value);
    // Appends to an array; turns a null value into an array.
    Json& push(Json value);
    size_t size() const;

    // Compact single-line text (never contains a raw newline).
    std::string dump() const;
    // Indented text for people.
    std::string pretty(int indent = 2) const;

    // Parses exactly one value (surrounding whitespace allowed).
    static Json parse(std::string_view text, unsigned max_depth = 32);

    bool operator==(const Json& o) const { return v_ == o.v_; }

private:
    void write(std::string& out, int indent, int level) const;
    std::variant<std::monostate, bool, int64_t, double, std::string, Array, Object> v_;
};

// Appends s as a JSON string literal (quoted, escaped) to out.
void json_quote(std::string& out, std::string_view s);

}  // namespace ipsecgw::control
