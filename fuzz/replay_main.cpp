// replay_main — runs a fuzz target's entry point over files, without
// libFuzzer: `replay_TARGET PATH...` where each PATH is a file or a
// directory of inputs (read in name order). Linked with each fuzz_*.cpp in
// the normal g++ build, so CTest replays every committed corpus — the seeds
// and the inputs of crashes that were fixed — and a regression fails the
// suite (under the ASan+UBSan pass of scripts/test.sh too) even where clang
// is not used. A target signals a broken invariant with abort(); the input
// that did it is named on stderr first.
#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

namespace fs = std::filesystem;

// The input being run, for the abort handler (async-signal-safe write only).
char current[4096];

extern "C" void on_abort(int sig) {
    const char prefix[] = "replay: this input broke an invariant: ";
    (void)!write(2, prefix, sizeof prefix - 1);
    (void)!write(2, current, std::strlen(current));
    (void)!write(2, "\n", 1);
    std::signal(sig, SIG_DFL);
    std::raise(sig);
}

void run_one(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.eof() && in.fail()) {
        std::fprintf(stderr, "replay: cannot read %s\n", file.c_str());
        std::exit(2);
    }
    std::snprintf(current, sizeof current, "%s", file.c_str());
    // A copy of exactly `size` bytes, as libFuzzer gives, so ASan sees any overread.
    std::vector<std::uint8_t> data(bytes.begin(), bytes.end());
    LLVMFuzzerTestOneInput(data.empty() ? nullptr : data.data(), data.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s FILE|DIRECTORY...\n", argv[0]);
        return 2;
    }
    std::signal(SIGABRT, on_abort);
    std::size_t count = 0;
    for (int i = 1; i < argc; ++i) {
        const fs::path arg(argv[i]);
        std::vector<fs::path> files;
        if (fs::is_directory(arg)) {
            for (const auto& e : fs::directory_iterator(arg))
                if (e.is_regular_file()) files.push_back(e.path());
            std::sort(files.begin(), files.end());
        } else if (fs::is_regular_file(arg)) {
            files.push_back(arg);
        } else {
            std::fprintf(stderr, "replay: no such file or directory: %s\n", argv[i]);
            return 2;
        }
        for (const auto& f : files) run_one(f);
        count += files.size();
    }
    if (count == 0) {
        std::fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    std::printf("replayed %zu input(s) without a failure\n", count);
    return 0;
}
