#include "gateway/config_lines.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ipsecgw::gateway {

void wipe_string(std::string& s)
{
    if (!s.empty())
        explicit_bzero(s.data(), s.size());
    s.clear();
}

std::string read_config_file(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throw ConfigError({path, 0}, std::string("cannot open: ") + std::strerror(errno));
    std::string text;
    char buf[4096];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            int err = errno;
            ::close(fd);
            explicit_bzero(buf, sizeof buf);
            wipe_string(text);
            throw ConfigError({path, 0}, std::string("cannot read: ") + std::strerror(err));
        }
        if (n == 0)
            break;
        text.append(buf, static_cast<size_t>(n));
    }
    ::close(fd);
    explicit_bzero(buf, sizeof buf);
    return text;
}

ConfigLines::ConfigLines(std::string file_name, std::string text) : text_(std::move(text))
{
    std::vector<unsigned> first_line;
    std::string pending;
    unsigned pending_line = 0;
    unsigned line_no = 0;
    size_t pos = 0;
    while (pos < text_.size()) {
        size_t end = text_.find('\n', pos);
        if (end == std::string::npos)
            end = text_.size();
        std::string_view line(text_.data() + pos, end - pos);
        pos = end + 1;
        ++line_no;
        if (auto hash = line.find('#'); hash != std::string_view::npos)
            line = line.substr(0, hash);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t'))
            line.remove_suffix(1);
        if (pending.empty())
            pending_line = line_no;
        if (!line.empty() && line.back() == '\\') {
            line.remove_suffix(1);
            pending.append(line);
            continue;
        }
        pending.append(line);
        joined_.push_back(std::move(pending));
        first_line.push_back(pending_line);
        pending = std::string();
    }
    if (!pending.empty()) {
        joined_.push_back(std::move(pending));
        first_line.push_back(pending_line);
    }
    for (size_t i = 0; i < joined_.size(); ++i) {
        ConfigLine cl{{file_name, first_line[i]}, {}};
        std::string_view s = joined_[i];
        size_t p = 0;
        while (p < s.size()) {
            while (p < s.size() && (s[p] == ' ' || s[p] == '\t' || s[p] == '\r'))
                ++p;
            size_t b = p;
            while (p < s.size() && s[p] != ' ' && s[p] != '\t' && s[p] != '\r')
                ++p;
            if (p > b)
                cl.tokens.push_back(s.substr(b, p - b));
        }
        if (!cl.tokens.empty())
            lines_.push_back(std::move(cl));
    }
}

ConfigLines::~ConfigLines()
{
    wipe_string(text_);
    for (auto& j : joined_)
        wipe_string(j);
}

}  // namespace ipsecgw::gateway
