// enums — see enums.hpp.
#include "config/enums.hpp"

#include "config/suggest.hpp"

namespace dsproxy::config {

std::string describe_choices(std::span<const std::string_view> names) {
    std::string out;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
        out += '`';
        out += names[i];
        out += '`';
    }
    return out;
}

std::string enum_error(std::string_view text, std::span<const std::string_view> names) {
    std::string message = "expected " + describe_choices(names) + ", got `" + std::string(text) + "`";
    if (const auto near = nearest(text, names)) message += "; did you mean `" + std::string(*near) + "`?";
    return message;
}

}  // namespace dsproxy::config
