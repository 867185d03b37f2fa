// smtp_load — the benchmark's SMTP load generator: full client sessions
// (connect, EHLO, STARTTLS, a full TLS handshake, EHLO, MAIL, RCPT, DATA of
// a given size, QUIT) against one target, with every reply code checked and
// failures counted by reason. Prints one JSON line with the figures.
//
//   smtp_load --connect 127.0.0.1:2525 [--sessions N] [--concurrency C]
//             [--threads T] [--message-size BYTES] [--tls starttls|implicit|none]
//             [--pipelining] [--cert F --key K] [--resume] [--idle N]
//
// --idle N opens N sessions up to the EHLO after TLS and holds them: it
// prints "ready held=H failed=F" on stdout when all are set up, waits for a
// line on stdin (or --hold SECONDS), then QUITs every one of them.
//
// Owns: the threads (one io_context each, so the generator is not the
// bottleneck: use as many as help), the client TLS context, the message.
// Must not: resume TLS sessions unless --resume (mail clients rarely do), or
// verify the server's chain (the benchmark measures the server's cost).
// Exit status: 0 when no session failed, 1 when some did, 2 on bad usage.
#include "bench/load_session.hpp"

#include <CLI/CLI.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <openssl/ssl.h>

#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

namespace {

using namespace dsproxy::bench;

struct args {
    std::string connect = "127.0.0.1:2525";
    std::uint64_t sessions = 1000;
    unsigned concurrency = 16;
    unsigned threads = 1;
    std::size_t message_size = 10 * 1024;
    std::string tls = "starttls";
    bool pipelining = false;
    bool resume = false;
    std::string cert, key;
    std::string tls_max = "1.3";
    std::string groups = "X25519";
    std::string sigalgs;  // empty: OpenSSL's default list (ECDSA and RSA)
    std::string sni;
    std::string to = "postmaster@example.com";
    double timeout = 60;
    std::uint64_t idle = 0;
    double hold = -1;  // idle mode: seconds to hold; negative: until a line on stdin
    double duration = 0;  // stop starting sessions after this many seconds (0: no limit)
};

// A message of `size` bytes in DATA's wire form: headers, 78-octet lines,
// then the final ".\r\n". No line starts with a dot, so no stuffing.
std::string make_message(std::size_t size) {
    std::string m =
        "From: <load@bench.test>\r\nTo: <postmaster@example.com>\r\nSubject: benchmark\r\n"
        "Message-ID: <load@bench.test>\r\n\r\n";
    const std::string line = std::string(76, 'x') + "\r\n";
    while (m.size() + line.size() <= size) m += line;
    if (m.size() + 2 < size) m += std::string(size - m.size() - 2, 'y') + "\r\n";
    while (m.size() < size) m.insert(m.size() - 2, "z");
    return m + ".\r\n";
}

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
           static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool parse_endpoint(const std::string& text, tcp::endpoint& out) {
    const auto colon = text.rfind(':');
    if (colon == std::string::npos) return false;
    std::string host = text.substr(0, colon);
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(host, ec);
    if (ec) return false;
    out = tcp::endpoint(address, static_cast<unsigned short>(std::stoul(text.substr(colon + 1))));
    return true;
}

std::unique_ptr<asio::ssl::context> make_tls(const args& a, std::string& error) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
    SSL_CTX_set_max_proto_version(native, a.tls_max == "1.2" ? TLS1_2_VERSION : TLS1_3_VERSION);
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
    if (SSL_CTX_set1_groups_list(native, a.groups.c_str()) != 1) {
        error = "unknown group in --groups " + a.groups;
        return nullptr;
    }
    if (!a.sigalgs.empty() && SSL_CTX_set1_sigalgs_list(native, a.sigalgs.c_str()) != 1) {
        error = "unknown signature algorithm in --sigalgs " + a.sigalgs;
        return nullptr;
    }
    if (!a.cert.empty()) {
        if (SSL_CTX_use_certificate_chain_file(native, a.cert.c_str()) != 1 ||
            SSL_CTX_use_PrivateKey_file(native, (a.key.empty() ? a.cert : a.key).c_str(), SSL_FILETYPE_PEM) != 1) {
            error = "cannot load the client certificate " + a.cert;
            return nullptr;
        }
    }
    // Tickets are always counted (what a server costs itself by sending
    // them); they are offered again only with --resume.
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(native, remember_session);
    static int resume_mark = 1;
    if (a.resume) SSL_CTX_set_ex_data(native, resume_index(), &resume_mark);
    return ctx;
}

struct worker_thread {
    asio::io_context io{1};
    load_stats stats;
    std::unique_ptr<idle_gate> gate;
    std::thread thread;
};

asio::awaitable<void> session_loop(const run_context& rc, load_stats& stats, std::atomic<std::uint64_t>& next,
                                   std::uint64_t total, std::chrono::steady_clock::time_point until) {
    while (next.fetch_add(1) < total && std::chrono::steady_clock::now() < until) co_await run_session(rc, stats);
}

asio::awaitable<void> idle_loop(const run_context& rc, worker_thread& w, std::atomic<std::uint64_t>& next,
                                std::uint64_t total, std::atomic<std::uint64_t>& settled,
                                std::atomic<std::uint64_t>& held) {
    auto ex = co_await asio::this_coro::executor;
    while (next.fetch_add(1) < total) {
        auto c = co_await open_held(rc, w.stats);
        if (c) held.fetch_add(1);
        settled.fetch_add(1);
        if (c) asio::co_spawn(ex, finish_held(std::move(c), rc, w.stats, *w.gate), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    args a;
    CLI::App app("smtp_load: SMTP STARTTLS load generator of the dsproxy benchmark");
    app.add_option("--connect", a.connect, "Target address:port")->capture_default_str();
    app.add_option("--sessions", a.sessions, "Sessions in total")->capture_default_str();
    app.add_option("--concurrency", a.concurrency, "Sessions in flight")->capture_default_str();
    app.add_option("--threads", a.threads, "Generator threads (one io_context each)")->capture_default_str();
    app.add_option("--message-size", a.message_size, "Bytes of message content")->capture_default_str();
    app.add_option("--tls", a.tls, "starttls, implicit or none")->capture_default_str();
    app.add_flag("--pipelining", a.pipelining, "Send MAIL, RCPT and DATA in one write (RFC 2920)");
    app.add_flag("--resume", a.resume, "Resume TLS sessions with the thread's last ticket");
    app.add_option("--cert", a.cert, "Client certificate (PEM chain)");
    app.add_option("--key", a.key, "Client key (PEM); default: in --cert");
    app.add_option("--tls-max", a.tls_max, "Highest TLS version: 1.2 or 1.3")->capture_default_str();
    app.add_option("--groups", a.groups, "Key exchange groups offered")->capture_default_str();
    app.add_option("--sigalgs", a.sigalgs, "Signature algorithms offered (e.g. rsa_pss_rsae_sha256)");
    app.add_option("--sni", a.sni, "Server name to send (default: none)");
    app.add_option("--to", a.to, "Recipient")->capture_default_str();
    app.add_option("--timeout", a.timeout, "Seconds a session may take")->capture_default_str();
    app.add_option("--idle", a.idle, "Open this many TLS sessions and hold them");
    app.add_option("--hold", a.hold, "Idle mode: seconds to hold (default: until a line on stdin)");
    app.add_option("--duration", a.duration, "Start no session after this many seconds (default: no limit)");
    CLI11_PARSE(app, argc, argv);

    run_context rc;
    if (!parse_endpoint(a.connect, rc.options.target)) {
        std::cerr << "smtp_load: --connect wants IP:PORT, not " << a.connect << '\n';
        return 2;
    }
    if (a.tls == "starttls") rc.options.tls = tls_mode::starttls;
    else if (a.tls == "implicit") rc.options.tls = tls_mode::implicit;
    else if (a.tls == "none") rc.options.tls = tls_mode::none;
    else {
        std::cerr << "smtp_load: --tls wants starttls, implicit or none\n";
        return 2;
    }
    if (a.idle > 0 && rc.options.tls == tls_mode::none) {
        std::cerr << "smtp_load: --idle holds TLS sessions; it needs --tls starttls or implicit\n";
        return 2;
    }
    a.threads = std::max(1u, a.threads);
    a.concurrency = std::max(a.concurrency, a.threads);
    rc.options.pipelining = a.pipelining;
    rc.options.resume = a.resume;
    rc.options.sni = a.sni;
    rc.options.to = a.to;
    rc.options.timeout = std::chrono::milliseconds(static_cast<long long>(a.timeout * 1000));
    rc.message = make_message(a.message_size);
    rc.message_size = rc.message.size() - 3;
    std::string error;
    auto tls = make_tls(a, error);
    if (!tls) {
        std::cerr << "smtp_load: " << error << '\n';
        return 2;
    }
    rc.tls = tls.get();

    std::vector<std::unique_ptr<worker_thread>> workers;
    for (unsigned t = 0; t < a.threads; ++t) {
        auto w = std::make_unique<worker_thread>();
        w->gate = std::make_unique<idle_gate>(w->io.get_executor());
        workers.push_back(std::move(w));
    }
    std::atomic<std::uint64_t> next{0}, settled{0}, held{0};
    const std::uint64_t total = a.idle > 0 ? a.idle : a.sessions;
    const auto until = a.duration > 0 ? std::chrono::steady_clock::now() +
                                            std::chrono::milliseconds(static_cast<long long>(a.duration * 1000))
                                      : std::chrono::steady_clock::time_point::max();
    for (unsigned s = 0; s < a.concurrency; ++s) {
        auto& w = *workers[s % a.threads];
        if (a.idle > 0)
            asio::co_spawn(w.io, idle_loop(rc, w, next, total, settled, held), asio::detached);
        else
            asio::co_spawn(w.io, session_loop(rc, w.stats, next, total, until), asio::detached);
    }
    const double cpu_before = cpu_seconds();
    const auto started = std::chrono::steady_clock::now();
    // Idle mode: the held sessions keep each io_context busy until released.
    for (auto& w : workers) w->thread = std::thread([&io = w->io] { io.run(); });

    if (a.idle > 0) {
        while (settled.load() < total) std::this_thread::sleep_for(std::chrono::milliseconds(20));
        const double setup_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        std::printf("ready held=%llu failed=%llu setup_s=%.2f\n", static_cast<unsigned long long>(held.load()),
                    static_cast<unsigned long long>(total - held.load()), setup_s);
        std::fflush(stdout);
        if (a.hold >= 0) {
            std::this_thread::sleep_for(std::chrono::duration<double>(a.hold));
        } else {
            std::string line;
            std::getline(std::cin, line);
        }
        for (auto& w : workers) asio::post(w->io, [g = w->gate.get()] { g->release(); });
    }
    for (auto& w : workers) w->thread.join();
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    const double cpu = cpu_seconds() - cpu_before;

    load_stats all;
    for (auto& w : workers) all.merge(std::move(w->stats));
    std::printf("%s\n", to_json(all, elapsed, cpu, a.threads).c_str());
    return all.failed() == 0 ? 0 : 1;
}
