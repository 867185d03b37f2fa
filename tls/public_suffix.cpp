// public_suffix — see public_suffix.hpp.
#include "tls/public_suffix.hpp"

#include <libpsl.h>

#include <string>

namespace dsproxy::tls {

namespace {

const psl_ctx_t* context() {
    // psl_latest(NULL): the built-in list, or the system's when that is newer.
    // Made once and never freed: the list is read-only after loading.
    static const psl_ctx_t* psl = [] {
        const psl_ctx_t* p = psl_latest(nullptr);
        return p ? p : psl_builtin();
    }();
    return psl;
}

}  // namespace

bool is_public_suffix(std::string_view name) {
    const psl_ctx_t* psl = context();
    if (!psl) return false;
    const std::string text(name);
    return psl_is_public_suffix2(psl, text.c_str(), PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE) != 0;
}

}  // namespace dsproxy::tls
