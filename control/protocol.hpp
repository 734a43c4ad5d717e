// The control protocol, version 1 (documented in control/PROTOCOL.md).
//
// A client sends one request per line (UTF-8 JSON object, '\n'-terminated):
//   {"v":1,"id":7,"cmd":"show.sa","args":{"spi":4096}}
// and gets exactly one response line per request, in order:
//   {"v":1,"id":7,"ok":true,"result":{...}}
//   {"v":1,"id":7,"ok":false,"error":{"code":"bad_request","message":"..."}}
// "id" is optional and echoed back unchanged (any JSON scalar); "args" is
// optional (an object). Unknown members are ignored, so later versions can add
// fields; a request with a different "v" gets error "unsupported_version".
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "control/json.hpp"

namespace ipsecgw::control {

constexpr int kProtocolVersion = 1;

// Error codes (stable strings; scripts may match on them).
namespace err {
inline constexpr const char* kBadRequest = "bad_request";          // not JSON / not an object / bad fields
inline constexpr const char* kTooLarge = "request_too_large";      // line longer than the limit
inline constexpr const char* kTimeout = "timeout";                 // request not completed in time
inline constexpr const char* kUnsupportedVersion = "unsupported_version";
inline constexpr const char* kUnknownCommand = "unknown_command";
inline constexpr const char* kInvalidArgument = "invalid_argument";  // args rejected by the command
inline constexpr const char* kNotFound = "not_found";
inline constexpr const char* kConflict = "conflict";               // e.g. SA already exists
inline constexpr const char* kBusy = "busy";                       // too many clients
inline constexpr const char* kNotSupported = "not_supported";      // command known, feature absent
inline constexpr const char* kInternal = "internal_error";
}  // namespace err

// Thrown by command handlers; becomes an error response.
class CommandError : public std::runtime_error {
public:
    CommandError(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
    const std::string& code() const { return code_; }

private:
    std::string code_;
};

struct Request {
    Json id;       // echoed back
    std::string cmd;
    Json args;     // always an object (empty when absent)

    // Argument helpers: throw CommandError(invalid_argument) on a wrong type.
    const Json* arg(const std::string& name) const { return args.find(name); }
    std::string string_arg(const std::string& name, bool required = true, const std::string& def = "") const;
    int64_t int_arg(const std::string& name, int64_t lo, int64_t hi, bool required = true, int64_t def = 0) const;
    bool bool_arg(const std::string& name, bool def = false) const;
};

// Parses one request line; throws CommandError (bad_request /
// unsupported_version) with `id` filled in as far as it could be read.
Request parse_request(const std::string& line, Json* id_out);

std::string make_request(const std::string& cmd, const Json& args, const Json& id = Json());
std::string make_ok(const Json& id, Json result);
std::string make_error(const Json& id, const std::string& code, const std::string& message);

// Command name -> handler. Handlers run on the thread that polls the server
// (the control thread); they return the "result" member or throw CommandError.
class Dispatcher {
public:
    using Handler = std::function<Json(const Request&)>;
    struct Entry {
        Handler handler;
        std::string help;
    };

    Dispatcher();  // registers "hello" and "help"
    void add(const std::string& cmd, std::string help, Handler h);
    bool has(const std::string& cmd) const { return table_.count(cmd) != 0; }
    // Never throws: turns every failure into an error line.
    std::string handle_line(const std::string& line) const;

private:
    std::map<std::string, Entry> table_;
};

}  // namespace ipsecgw::control
