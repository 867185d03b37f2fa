// fuzz_input — reads a fuzz input as a script of small records, front to
// back, for the session state machine targets (fuzz_server_session,
// fuzz_client_session).
//
// Why our own and not clang's FuzzedDataProvider: the session seeds must be
// writable by hand (fuzz/make_session_seeds.py writes them) so that the
// committed corpus really reaches STARTTLS, the handshake events and whole
// transactions, and the corpus replay test (fuzz/replay_main.cpp, built with
// g++ in every CTest run) must read an input exactly as the libFuzzer build
// does, without a clang header.
//
// Format: every value is taken from the front. byte() is one octet (0 when
// the input is used up); pick(n) is byte() % n; text(max) is a length octet
// L followed by min(L, max, what is left) octets. No I/O, no allocation.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dsproxy::fuzz {

class fuzz_input {
public:
    fuzz_input(const std::uint8_t* data, std::size_t size) noexcept
        : data_(reinterpret_cast<const char*>(data)), size_(size) {}

    bool empty() const noexcept { return pos_ >= size_; }

    std::uint8_t byte() noexcept { return empty() ? 0 : static_cast<std::uint8_t>(data_[pos_++]); }

    unsigned pick(unsigned n) noexcept { return n == 0 ? 0 : byte() % n; }

    bool flag() noexcept { return (byte() & 1) != 0; }

    std::string_view text(std::size_t max = 255) noexcept {
        std::size_t n = byte();
        if (n > max) n = max;
        if (n > size_ - pos_) n = size_ - pos_;
        const std::string_view out(data_ + pos_, n);
        pos_ += n;
        return out;
    }

private:
    const char* data_;
    std::size_t size_;
    std::size_t pos_ = 0;
};

}  // namespace dsproxy::fuzz
