// domain_table — values keyed by domain, looked up exact-then-nearest-parent.
//
// Owns: the key syntax of docs/design.md §6.1 (`contoso.com` for that domain only,
// `.contoso.com` for every subdomain of it, never a wildcard) and a lookup
// whose cost is O(labels of the name), whatever the number of entries: one
// hash probe for the exact name, then one per parent suffix, nearest first.
// Must not: decide what a miss means (the caller has a `default`).
//
// Keys are normalised once, when the table is built (case, one trailing dot,
// IDN -> A-label via matching::reference_name), so `Contoso.COM.` and
// `contoso.com` are the same entry. Names looked up must already be in that
// canonical form (reference_name::text()); lookup never allocates.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace dsproxy::config {

struct domain_key {
    std::string name;         // canonical A-label form, without the leading dot
    bool subdomains = false;  // written `.name`: matches every name below `name`, not `name` itself

    friend bool operator==(const domain_key&, const domain_key&) = default;
};

// `contoso.com` / `.contoso.com`. Wildcards (`*.contoso.com`, `*`) are refused
// with a hint to write `.contoso.com`, as Exchange refuses them in its Domain
// Secure lists.
std::optional<domain_key> parse_domain_key(std::string_view text, std::string* error = nullptr);
// `contoso.com` or `.contoso.com`.
std::string to_string(const domain_key& key);

enum class match_kind { exact, parent };

template <class T>
class domain_table {
public:
    struct hit {
        const T* value = nullptr;
        match_kind kind = match_kind::exact;
        std::string_view key;  // the name of the entry that matched, without a leading dot
    };

    // Adds an entry. When the key is already present returns the existing
    // value (and leaves the table unchanged), so the caller can name both places.
    const T* insert(const domain_key& key, T value) {
        auto& map = key.subdomains ? parents_ : exact_;
        const auto [it, inserted] = map.try_emplace(key.name, static_cast<index>(values_.size()));
        if (!inserted) return &values_[it->second];
        values_.push_back(std::move(value));
        return nullptr;
    }

    // `name` in canonical form. Exact entry, else the nearest `.parent` entry.
    std::optional<hit> lookup(std::string_view name) const {
        if (auto it = exact_.find(name); it != exact_.end())
            return hit{&values_[it->second], match_kind::exact, it->first};
        if (parents_.empty()) return std::nullopt;
        for (auto dot = name.find('.'); dot != std::string_view::npos; dot = name.find('.', dot + 1)) {
            const auto parent = name.substr(dot + 1);
            if (auto it = parents_.find(parent); it != parents_.end())
                return hit{&values_[it->second], match_kind::parent, it->first};
        }
        return std::nullopt;
    }

    std::size_t size() const noexcept { return values_.size(); }
    bool empty() const noexcept { return size() == 0; }

    // Every entry sorted by printed key, for printing the effective config.
    std::vector<std::pair<domain_key, const T*>> sorted() const {
        std::vector<std::pair<domain_key, const T*>> out;
        out.reserve(size());
        for (const auto& [name, i] : exact_) out.push_back({domain_key{name, false}, &values_[i]});
        for (const auto& [name, i] : parents_) out.push_back({domain_key{name, true}, &values_[i]});
        std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
            return std::pair(a.first.name, a.first.subdomains) < std::pair(b.first.name, b.first.subdomains);
        });
        return out;
    }

private:
    // Transparent hashing so that lookups by string_view do not allocate.
    // Deliberately not noexcept: libstdc++ then stores each node's hash code,
    // so walking a bucket compares cached hashes instead of re-hashing the
    // keys of other nodes (a cache miss each) — measured by
    // bench/policy_lookup_bench.
    struct string_hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    // The maps hold small nodes (name -> index) and the values live apart, so
    // that probing touches as little memory as possible at 100,000 entries.
    using index = std::uint32_t;
    using map = std::unordered_map<std::string, index, string_hash, std::equal_to<>>;
    map exact_;
    map parents_;  // keyed by the name without its leading dot
    std::vector<T> values_;
};

}  // namespace dsproxy::config
