// suggest — "did you mean …?" for misspelt keys and enum values.
//
// Owns: the edit distance (optimal string alignment: insertions, deletions,
// substitutions and transpositions of neighbours each cost 1) and the rule
// for when a candidate is close enough to suggest.
// Must not: allocate per candidate beyond one row of the distance table.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string_view>

namespace dsproxy::config {

std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word`, when it is near enough to be a plausible
// typo: at most 2 edits, or a third of the word's length for long words.
// Ties go to the earlier candidate.
std::optional<std::string_view> nearest(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace dsproxy::config
