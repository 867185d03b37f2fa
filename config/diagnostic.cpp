// diagnostic — see diagnostic.hpp.
#include "config/diagnostic.hpp"

namespace dsproxy::config {

std::string to_string(const source_location& where) {
    if (where.line <= 0) return where.file;
    return where.file + ':' + std::to_string(where.line) + ':' + std::to_string(where.column);
}

std::string format(const diagnostic& d) { return to_string(d.where) + ": error: " + d.message; }

}  // namespace dsproxy::config
