// https_client and policy_fetcher against a real HTTPS server (Python's
// http.server + ssl, integration/https_server.py) with a certificate from a
// CA made here: a good policy; the certificate checked against the trust
// store and the host name; no redirect followed; the 64 KiB limit; the
// content type; the total deadline; a refused connection; a POST upload.
#define BOOST_TEST_MODULE https
#include "proxy/net/policy_fetcher.hpp"
#include "tests/sts/printers.hpp"
#include "tests/support/process.hpp"
#include "tests/tls/test_pki.hpp"
#include "tls/pem_io.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include <ctime>
#include <filesystem>
#include <fstream>

namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace n = dsproxy::net;
namespace s = dsproxy::sts;
namespace t = dsproxy::tls;
namespace tt = dsproxy::tls::test;
using s::fetch_error;

namespace {

const std::string policy = "version: STSv1\nmode: enforce\nmx: *.example.test\nmax_age: 86400\n";

void write(const fs::path& path, const std::string& content) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << content;
}

// The server, its files and the trust that goes with its certificate.
struct fixture {
    tt::temp_dir dir;
    tt::pki pki;
    tt::pki other_pki;  // a CA the client does not trust
    std::unique_ptr<dsproxy::test::child_process> server;
    std::uint16_t port = 0;
    t::trust_store trust = t::trust_store::from({pki.root.cert.get()});
    std::optional<t::client_context> client;

    fixture() {
        const auto leaf = pki.leaf({"mta-sts.example.test",
                                    {"mta-sts.example.test", "mta-sts.moved.test", "mta-sts.big.test",
                                     "mta-sts.html.test", "mta-sts.broken.test", "mta-sts.slow.test"}});
        write(dir.file("cert.pem"), t::certificate_pem(*leaf.cert) + t::certificate_pem(*pki.intermediate.cert));
        write(dir.file("key.pem"), t::private_key_pem(*leaf.key));
        const std::string root = dir.file("www");
        write(root + "/mta-sts.example.test/.well-known/mta-sts.txt", policy);
        write(root + "/mta-sts.moved.test/.well-known/mta-sts.txt", "moved\n");
        write(root + "/mta-sts.moved.test/.well-known/mta-sts.txt.json",
              R"({"status": 301, "location": "https://mta-sts.example.test/.well-known/mta-sts.txt"})");
        write(root + "/mta-sts.big.test/.well-known/mta-sts.txt", policy + std::string(70 * 1024, '#'));
        write(root + "/mta-sts.html.test/.well-known/mta-sts.txt", policy);
        write(root + "/mta-sts.html.test/.well-known/mta-sts.txt.json", R"({"content_type": "text/html"})");
        write(root + "/mta-sts.broken.test/.well-known/mta-sts.txt", "version: STSv1\nmode: enforce\n");
        write(root + "/mta-sts.slow.test/.well-known/mta-sts.txt", policy);
        write(root + "/mta-sts.slow.test/.well-known/mta-sts.txt.json", R"({"delay": 4})");
        server = std::make_unique<dsproxy::test::child_process>(std::vector<std::string>{
            "python3", DSPROXY_HTTPS_SERVER, "--cert", dir.file("cert.pem"), "--key", dir.file("key.pem"), "--root",
            root, "--ready", dir.file("port")});
        port = static_cast<std::uint16_t>(std::stoi(dsproxy::test::wait_for_file(dir.file("port"), std::chrono::seconds(20))));
        std::string error;
        client = t::client_context::create({}, error);
        BOOST_REQUIRE_MESSAGE(client, error);
    }

    template <class T>
    T run(asio::awaitable<T> a) {
        asio::io_context io;
        auto f = asio::co_spawn(io, std::move(a), asio::use_future);
        io.run();
        return f.get();
    }

    s::policy_judgement fetch(const std::string& domain, const t::trust_store& with,
                              std::chrono::seconds deadline = std::chrono::seconds(10)) {
        // The server's hosts all live on 127.0.0.1.
        return run(n::fetch_policy(domain, "id1", 1'800'000'000, {"127.0.0.1"}, {*client, with}, deadline, port));
    }
    s::policy_judgement fetch(const std::string& domain) { return fetch(domain, trust); }

    std::string requests() {
        std::ifstream in(dir.file("www") + "/requests.log");
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }
};

}  // namespace

BOOST_FIXTURE_TEST_SUITE(https, fixture)

BOOST_AUTO_TEST_CASE(a_good_policy_is_fetched_whole) {
    const auto j = fetch("example.test");
    BOOST_TEST_REQUIRE(j.error == fetch_error::none, j.detail);
    BOOST_TEST(j.policy->body == policy);
    BOOST_TEST(j.policy->id == "id1");
    BOOST_TEST(j.policy->policy.mode == s::sts_mode::enforce);
    BOOST_TEST(j.policy->expires_at == 1'800'000'000 + 86400);
    BOOST_TEST(requests().find("GET mta-sts.example.test /.well-known/mta-sts.txt") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(certificate_must_chain_to_the_trust_store_and_name_the_host) {
    const auto untrusted = t::trust_store::from({other_pki.root.cert.get()});
    auto j = fetch("example.test", untrusted);
    BOOST_TEST(j.error == fetch_error::certificate);
    BOOST_TEST(!j.policy.has_value());
    // The server's certificate does not name mta-sts.moved.test... nor this one:
    j = fetch("wrong-name.test");
    BOOST_TEST(j.error == fetch_error::certificate, j.detail);
    BOOST_TEST(requests().find("wrong-name") == std::string::npos);  // nothing was asked of it
}

BOOST_AUTO_TEST_CASE(no_redirect_is_followed) {
    const auto j = fetch("moved.test");
    BOOST_TEST(j.error == fetch_error::http_status);
    BOOST_TEST(j.detail == "HTTP status 301 (only 200 is a policy)");
    BOOST_TEST(requests().find("mta-sts.example.test") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_body_over_64_kib_is_refused) {
    const auto j = fetch("big.test");
    BOOST_TEST(j.error == fetch_error::too_large, j.detail);
}

BOOST_AUTO_TEST_CASE(text_plain_is_required) {
    const auto j = fetch("html.test");
    BOOST_TEST(j.error == fetch_error::content_type);
    BOOST_TEST(j.detail == "Content-Type 'text/html' is not text/plain");
}

BOOST_AUTO_TEST_CASE(a_syntax_error_is_policy_invalid) {
    const auto j = fetch("broken.test");
    BOOST_TEST(j.error == fetch_error::invalid);
    BOOST_TEST(j.detail == "policy invalid: no max_age");
}

BOOST_AUTO_TEST_CASE(the_total_deadline_ends_a_slow_answer) {
    const auto started = std::chrono::steady_clock::now();
    const auto j = fetch("slow.test", trust, std::chrono::seconds(1));
    BOOST_TEST(j.error == fetch_error::timeout);
    BOOST_TEST((std::chrono::steady_clock::now() - started < std::chrono::seconds(3)));
}

BOOST_AUTO_TEST_CASE(a_refused_connection_is_a_connect_error) {
    asio::io_context io;
    auto f = asio::co_spawn(io,
                            n::fetch_policy("example.test", "id1", 0, {"127.0.0.1"}, {*client, trust},
                                            std::chrono::seconds(5), dsproxy::test::free_port()),
                            asio::use_future);
    io.run();
    BOOST_TEST(f.get().error == fetch_error::connect);
}

BOOST_AUTO_TEST_CASE(a_post_carries_its_body_and_type) {
    n::https_request r;
    r.url = {"mta-sts.example.test", port, "/report"};
    r.post = true;
    r.content_type = "application/tlsrpt+gzip";
    r.body = std::string("\x1f\x8b binary \0 body", 17);
    const auto response = run(n::https_exchange(r, {"127.0.0.1"}, {*client, trust}, {}));
    BOOST_TEST_REQUIRE(response.error == fetch_error::none, response.detail);
    BOOST_TEST(response.status == 200u);
    std::ifstream body(dir.file("www") + "/posts/1.body", std::ios::binary);
    BOOST_TEST(std::string(std::istreambuf_iterator<char>(body), std::istreambuf_iterator<char>()) == r.body);
    std::ifstream meta(dir.file("www") + "/posts/1.json");
    const std::string headers((std::istreambuf_iterator<char>(meta)), std::istreambuf_iterator<char>());
    BOOST_TEST(headers.find("\"Content-Type\": \"application/tlsrpt+gzip\"") != std::string::npos, headers);
}

BOOST_AUTO_TEST_SUITE_END()
