#include "control/protocol.hpp"

namespace ipsecgw::control {

std::string Request::string_arg(const std::string& name, bool required, const std::string& def) const
{
    const Json* v = args.find(name);
    if (!v || v->is_null()) {
        if (required)
            throw CommandError(err::kInvalidArgument, "missing argument \"" + name + "\"");
        return def;
    }
    if (!v->is_string())
        throw CommandError(err::kInvalidArgument, "argument \"" + name + "\" must be a string");
    return v->as_string();
}

int64_t Request::int_arg(const std::string& name, int64_t lo, int64_t hi, bool required, int64_t def) const
{
    const Json* v = args.find(name);
    if (!v || v->is_null()) {
        if (required)
            throw CommandError(err::kInvalidArgument, "missing argument \"" + name + "\"");
        return def;
    }
    int64_t n;
    try {
        n = v->as_int();
    } catch (const JsonError&) {
        throw CommandError(err::kInvalidArgument, "argument \"" + name + "\" must be an integer");
    }
    if (n < lo || n > hi)
        throw CommandError(err::kInvalidArgument, "argument \"" + name + "\" must be in " + std::to_string(lo) +
                                                      ".." + std::to_string(hi));
    return n;
}

bool Request::bool_arg(const std::string& name, bool def) const
{
    const Json* v = args.find(name);
    if (!v || v->is_null())
        return def;
    if (!v->is_bool())
        throw CommandError(err::kInvalidArgument, "argument \"" + name + "\" must be true or false");
    return v->as_bool();
}

Request parse_request(const std::string& line, Json* id_out)
{
    Json doc;
    try {
        doc = Json::parse(line, 16);
    } catch (const JsonError& e) {
        throw CommandError(err::kBadRequest, e.what());
    }
    if (!doc.is_object())
        throw CommandError(err::kBadRequest, "a request must be a JSON object");
    Request r;
    if (const Json* id = doc.find("id")) {
        if (id->is_array() || id->is_object())
            throw CommandError(err::kBadRequest, "\"id\" must be a scalar");
        r.id = *id;
        if (id_out)
            *id_out = *id;
    }
    const Json* v = doc.find("v");
    if (!v || !v->is_int())
        throw CommandError(err::kBadRequest, "missing integer \"v\" (protocol version, 1)");
    if (v->as_int() != kProtocolVersion)
        throw CommandError(err::kUnsupportedVersion, "protocol version " + std::to_string(v->as_int()) +
                                                         " not supported (this gateway speaks 1)");
    const Json* cmd = doc.find("cmd");
    if (!cmd || !cmd->is_string() || cmd->as_string().empty())
        throw CommandError(err::kBadRequest, "missing string \"cmd\"");
    r.cmd = cmd->as_string();
    const Json* args = doc.find("args");
    if (args && !args->is_null()) {
        if (!args->is_object())
            throw CommandError(err::kBadRequest, "\"args\" must be an object");
        r.args = std::move(*const_cast<Json*>(args));  // moved, not copied: it may hold a key the handler wipes
    } else {
        r.args = Json::object();
    }
    return r;
}

std::string make_request(const std::string& cmd, const Json& args, const Json& id)
{
    Json r = Json::object();
    r.set("v", kProtocolVersion);
    if (!id.is_null())
        r.set("id", id);
    r.set("cmd", cmd);
    r.set("args", args.is_null() ? Json::object() : args);
    return r.dump() + "\n";
}

std::string make_ok(const Json& id, Json result)
{
    Json r = Json::object();
    r.set("v", kProtocolVersion);
    r.set("id", id);
    r.set("ok", true);
    r.set("result", std::move(result));
    return r.dump() + "\n";
}

std::string make_error(const Json& id, const std::string& code, const std::string& message)
{
    Json e = Json::object();
    e.set("code", code);
    e.set("message", message);
    Json r = Json::object();
    r.set("v", kProtocolVersion);
    r.set("id", id);
    r.set("ok", false);
    r.set("error", std::move(e));
    return r.dump() + "\n";
}

Dispatcher::Dispatcher()
{
    add("hello", "protocol version and the commands this gateway knows", [this](const Request&) {
        Json r = Json::object();
        r.set("protocol", kProtocolVersion);
        r.set("server", "ipsecgw");
        Json cmds = Json::array();
        for (const auto& [name, e] : table_)
            cmds.push(name);
        r.set("commands", std::move(cmds));
        return r;
    });
    add("help", "one line per command", [this](const Request&) {
        Json rows = Json::array();
        for (const auto& [name, e] : table_) {
            Json row = Json::object();
            row.set("command", name);
            row.set("description", e.help);
            rows.push(std::move(row));
        }
        Json r = Json::object();
        r.set("commands", std::move(rows));
        return r;
    });
}

void Dispatcher::add(const std::string& cmd, std::string help, Handler h)
{
    table_[cmd] = Entry{std::move(h), std::move(help)};
}

std::string Dispatcher::handle_line(const std::string& line) const
{
    Json id;
    try {
        Request r = parse_request(line, &id);
        auto it = table_.find(r.cmd);
        if (it == table_.end())
            throw CommandError(err::kUnknownCommand, "unknown command \"" + r.cmd + "\"");
        return make_ok(r.id, it->second.handler(r));
    } catch (const CommandError& e) {
        return make_error(id, e.code(), e.what());
    } catch (const JsonError& e) {
        return make_error(id, err::kInvalidArgument, e.what());
    } catch (const std::exception& e) {
        return make_error(id, err::kInternal, e.what());
    } catch (...) {
        return make_error(id, err::kInternal, "unexpected failure");
    }
}

}  // namespace ipsecgw::control
