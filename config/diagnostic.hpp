// diagnostic — where a configuration problem is and what was expected.
//
// Owns: the source position of every configuration value (file, line,
// column; 1-based) and the error value the loader returns instead of throwing.
// Must not: print or log — the caller decides where diagnostics go.
//
// A configuration error is data: the loader collects every diagnostic of
// every file and returns them together, so an administrator fixes them all in
// one pass instead of one per run.
#pragma once

#include <string>
#include <vector>

namespace dsproxy::config {

// A place in a configuration file. `line` 0 means "the file as a whole"
// (e.g. it could not be opened).
struct source_location {
    std::string file;
    int line = 0;
    int column = 0;

    friend bool operator==(const source_location&, const source_location&) = default;
};

// "FILE:LINE:COLUMN", or "FILE" when the location is the whole file.
std::string to_string(const source_location& where);

struct diagnostic {
    source_location where;
    std::string message;  // one sentence, no trailing newline
};

// "FILE:LINE:COLUMN: error: MESSAGE" — the compiler format that editors jump to.
std::string format(const diagnostic& d);

using diagnostics = std::vector<diagnostic>;

}  // namespace dsproxy::config
